-- 0015: component types, the schedules of scheduled tasks and the runs of tasks.
--
-- components.type: service (the default, what every component was before), web-app, scheduled-task or
-- manual-task (api.ComponentType*).
ALTER TABLE components ADD COLUMN type TEXT NOT NULL DEFAULT 'service';

-- task_schedules: when a scheduled task runs in one environment — a cron expression read in a time zone, and
-- what a run due while the last still runs does (api.Overlap*). A Temporal Schedule of the same name starts
-- the runs; this row is what the API shows and what the Schedule is made from again.
CREATE TABLE task_schedules (
    project     {{text}} NOT NULL,
    component   {{text}} NOT NULL,
    environment {{text}} NOT NULL,
    cron        TEXT     NOT NULL,
    time_zone   TEXT     NOT NULL,
    overlap     TEXT     NOT NULL,
    paused      BOOLEAN  NOT NULL DEFAULT FALSE,
    updated_at  BIGINT   NOT NULL,
    PRIMARY KEY (project, component, environment),
    FOREIGN KEY (project, component) REFERENCES components (project, name) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, name) ON DELETE CASCADE
);

-- task_runs: one run of a task's release in an environment, to completion. trigger is "schedule" or
-- "manual"; exit_code is NULL until the container ended.
CREATE TABLE task_runs (
    id            {{text}} NOT NULL PRIMARY KEY,
    project       {{text}} NOT NULL,
    component     {{text}} NOT NULL,
    environment   {{text}} NOT NULL,
    build_id      TEXT     NOT NULL DEFAULT '',
    deployment_id TEXT     NOT NULL DEFAULT '',
    trigger_kind  TEXT     NOT NULL,
    actor         TEXT     NOT NULL DEFAULT '',
    status        TEXT     NOT NULL,
    exit_code     INTEGER,
    message       TEXT     NOT NULL DEFAULT '',
    workflow_id   TEXT     NOT NULL DEFAULT '',
    created_at    BIGINT   NOT NULL,
    started_at    BIGINT,
    ended_at      BIGINT,
    FOREIGN KEY (project, component) REFERENCES components (project, name) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, name) ON DELETE CASCADE
);
CREATE INDEX task_runs_component_created ON task_runs (project, component, created_at);

-- task_run_logs: what a run wrote (stdout and stderr), one row per line, numbered from 1, as build_logs.
CREATE TABLE task_run_logs (
    run_id {{text}} NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    seq    BIGINT   NOT NULL,
    at     BIGINT   NOT NULL,
    line   TEXT     NOT NULL,
    PRIMARY KEY (run_id, seq)
);
