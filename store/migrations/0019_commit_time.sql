-- 0019: a build's commit time, for the DORA figures' lead time for changes.
--
-- builds.committed_at: the committer time of the commit built, as the checkout read it from the commit object;
-- NULL for builds made before this migration and for builds whose commit was never checked out (image imports).
ALTER TABLE builds ADD COLUMN committed_at BIGINT;

-- The DORA figures read a project's deployments by when they ended.
CREATE INDEX deployments_project_ended ON deployments (project, ended_at);
