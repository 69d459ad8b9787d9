-- 0017: automatic release management — a deployment's verification and the holds on auto-promotion.
--
-- deployments.verification: '' (nothing verified), 'verifying', 'passed' or 'failed' (then the deployment is
-- rolled_back); verified_at is when it passed.
ALTER TABLE deployments ADD COLUMN verification TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN verified_at BIGINT;

-- promotion_holds: auto-promotion into an environment is held for a component, since build_id (older than the
-- one serving) was deployed there by hand; until the row is deleted.
CREATE TABLE promotion_holds (
    project     {{text}} NOT NULL,
    component   {{text}} NOT NULL,
    environment {{text}} NOT NULL,
    build_id    TEXT     NOT NULL,
    actor       TEXT     NOT NULL,
    reason      TEXT     NOT NULL,
    at          BIGINT   NOT NULL,
    PRIMARY KEY (project, component, environment),
    FOREIGN KEY (project, component) REFERENCES components (project, name) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, name) ON DELETE CASCADE
);
