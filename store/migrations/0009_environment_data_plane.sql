-- 0009: each environment's data plane: 'docker' (the worker's Docker Engine) or 'kubernetes', with its binding as a
-- JSON object (NULL for docker), and how long a release may take to get ready (seconds; 0 = the worker's default).
-- A kubernetes environment's kubeconfig is sealed like configs, at most one per environment; deleting the
-- environment deletes it. Each deployment keeps the env vars and files its release got, sealed (NULL = not
-- recorded).
ALTER TABLE environments ADD COLUMN data_plane TEXT NOT NULL DEFAULT 'docker';
ALTER TABLE environments ADD COLUMN kubernetes TEXT;
ALTER TABLE environments ADD COLUMN deploy_timeout_s INTEGER NOT NULL DEFAULT 0;
CREATE TABLE environment_kubeconfigs (
    project     {{text}} NOT NULL,
    environment {{text}} NOT NULL,
    kek_id      TEXT     NOT NULL,
    wrapped_key {{blob}} NOT NULL,
    ciphertext  {{blob}} NOT NULL,
    PRIMARY KEY (project, environment),
    FOREIGN KEY (project, environment) REFERENCES environments (project, name) ON DELETE CASCADE
);
ALTER TABLE deployments ADD COLUMN release_kek_id TEXT;
ALTER TABLE deployments ADD COLUMN release_wrapped_key {{blob}};
ALTER TABLE deployments ADD COLUMN release_ciphertext {{blob}};
