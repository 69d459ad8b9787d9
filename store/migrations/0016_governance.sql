-- 0016: release governance — environments' release rules, stopped lines, quarantined builds, promotion
-- requests with their approvers' decisions, and the audit log.
--
-- environments.rules: the approval rule, freeze windows and freeze mode (JSON, api.ReleaseRules without its
-- stopped line); NULL means the defaults.
ALTER TABLE environments ADD COLUMN rules TEXT;

-- line_stops: a stopped line. environment '' stops the whole project's. Nothing is promoted or deployed into
-- a stopped environment (or any of a stopped project's) until the row is deleted.
CREATE TABLE line_stops (
    project     {{text}} NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    environment {{text}} NOT NULL,
    reason      TEXT     NOT NULL,
    actor       TEXT     NOT NULL,
    at          BIGINT   NOT NULL,
    PRIMARY KEY (project, environment)
);

-- build_quarantines: a build that is never deployed or promoted again, anywhere.
CREATE TABLE build_quarantines (
    build_id {{text}} NOT NULL PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
    reason   TEXT     NOT NULL,
    actor    TEXT     NOT NULL,
    at       BIGINT   NOT NULL
);

-- promotions: a request to deploy a build into an environment under its rules, run by a Promotion workflow
-- (or, with no rule to wait for, queued at once). source_env is '' for a deploy. diff and rescan are JSON
-- (api.PromotionDiff, scan.Summary); deployment_id is '' until the deployment is queued.
CREATE TABLE promotions (
    id            {{text}} NOT NULL PRIMARY KEY,
    project       {{text}} NOT NULL,
    component     {{text}} NOT NULL,
    environment   {{text}} NOT NULL,
    source_env    TEXT     NOT NULL DEFAULT '',
    build_id      TEXT     NOT NULL,
    digest        TEXT     NOT NULL,
    requester     TEXT     NOT NULL,
    status        TEXT     NOT NULL,
    message       TEXT     NOT NULL DEFAULT '',
    min_approvals INTEGER  NOT NULL DEFAULT 0,
    break_glass   TEXT     NOT NULL DEFAULT '',
    waiting_until BIGINT,
    deployment_id TEXT     NOT NULL DEFAULT '',
    diff          TEXT,
    rescan        TEXT,
    workflow_id   TEXT     NOT NULL DEFAULT '',
    created_at    BIGINT   NOT NULL,
    updated_at    BIGINT   NOT NULL,
    expires_at    BIGINT,
    FOREIGN KEY (project, component) REFERENCES components (project, name) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, name) ON DELETE CASCADE
);
CREATE INDEX promotions_project_created ON promotions (project, created_at);

-- promotion_votes: one approver's decision on a request; one per approver.
CREATE TABLE promotion_votes (
    promotion_id {{text}} NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
    actor        {{text}} NOT NULL,
    decision     TEXT     NOT NULL,
    comment      TEXT     NOT NULL DEFAULT '',
    at           BIGINT   NOT NULL,
    PRIMARY KEY (promotion_id, actor)
);

-- audit_log: who did what to what, when, why and how it went; never a secret's value. Kept when what it names
-- is deleted. Read newest first by (at, id).
CREATE TABLE audit_log (
    id          {{text}} NOT NULL PRIMARY KEY,
    at          BIGINT   NOT NULL,
    actor       TEXT     NOT NULL,
    action      TEXT     NOT NULL,
    project     TEXT     NOT NULL DEFAULT '',
    component   TEXT     NOT NULL DEFAULT '',
    environment TEXT     NOT NULL DEFAULT '',
    target      TEXT     NOT NULL DEFAULT '',
    reason      TEXT     NOT NULL DEFAULT '',
    result      TEXT     NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_project_at ON audit_log (project, at);

-- promotion_scans: the re-scan of a promoted digest against the vulnerability database of the day it was
-- promoted into production, kept beside the build's own report (build_scans).
CREATE TABLE promotion_scans (
    promotion_id {{text}} NOT NULL PRIMARY KEY REFERENCES promotions (id) ON DELETE CASCADE,
    build_id     TEXT     NOT NULL,
    report       TEXT     NOT NULL,
    at           BIGINT   NOT NULL
);
