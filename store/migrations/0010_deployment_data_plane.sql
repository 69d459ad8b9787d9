-- 0010: the data plane each deployment ran on ('' for those recorded before environments named one: docker), so a
-- rollout after the environment moved to another data plane does not "restore" a release that never ran there.
ALTER TABLE deployments ADD COLUMN data_plane TEXT NOT NULL DEFAULT '';
