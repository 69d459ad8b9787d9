-- 0003: the Git credentials slipway reads a component's repository with, sealed (secretbox) like configs: never a
-- plaintext column. At most one per component; deleting the component deletes it.
CREATE TABLE repo_credentials (
    project     {{text}} NOT NULL,
    component   {{text}} NOT NULL,
    kek_id      TEXT     NOT NULL,
    wrapped_key {{blob}} NOT NULL,
    ciphertext  {{blob}} NOT NULL,
    updated_at  BIGINT   NOT NULL,
    PRIMARY KEY (project, component),
    FOREIGN KEY (project, component) REFERENCES components (project, name) ON DELETE CASCADE
);
