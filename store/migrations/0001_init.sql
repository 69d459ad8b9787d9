-- 0001: projects, environments, components, sealed config values, API tokens, builds and deployments.
-- Portable SQL for SQLite and PostgreSQL. Times are BIGINT microseconds since the Unix epoch, UTC.
-- {{blob}} is BLOB on SQLite and BYTEA on PostgreSQL. {{text}} is TEXT compared byte by byte on both (SQLite's
-- default BINARY collation; COLLATE "C" on PostgreSQL, whatever the database's locale): every column that is
-- compared, ordered or paginated on uses it, so both databases list in the same order. JSON columns are TEXT.

CREATE TABLE projects (
    name       {{text}} NOT NULL PRIMARY KEY,
    created_at BIGINT   NOT NULL
);

CREATE TABLE environments (
    project    {{text}} NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    name       {{text}} NOT NULL,
    production BOOLEAN  NOT NULL,
    position   INTEGER  NOT NULL, -- 0-based place in the promotion order
    created_at BIGINT   NOT NULL,
    PRIMARY KEY (project, name),
    UNIQUE (project, position)
);

CREATE TABLE components (
    project     {{text}} NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    name        {{text}} NOT NULL,
    repo        TEXT     NOT NULL,
    branch      TEXT     NOT NULL,
    dockerfile  TEXT     NOT NULL,
    context     TEXT     NOT NULL,
    auto_build  BOOLEAN  NOT NULL,
    auto_deploy BOOLEAN  NOT NULL,
    created_at  BIGINT   NOT NULL,
    updated_at  BIGINT   NOT NULL,
    PRIMARY KEY (project, name)
);

-- configs holds config and secret values, always sealed (secretbox): never a plaintext column.
CREATE TABLE configs (
    project     {{text}} NOT NULL,
    component   {{text}} NOT NULL,
    environment {{text}} NOT NULL,
    key         {{text}} NOT NULL,
    secret      BOOLEAN  NOT NULL,
    kek_id      TEXT     NOT NULL,
    wrapped_key {{blob}} NOT NULL,
    ciphertext  {{blob}} NOT NULL,
    updated_at  BIGINT   NOT NULL,
    PRIMARY KEY (project, component, environment, key),
    FOREIGN KEY (project, component) REFERENCES components (project, name) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, name) ON DELETE CASCADE
);
CREATE INDEX configs_environment ON configs (project, environment);

CREATE TABLE tokens (
    id         {{text}} NOT NULL PRIMARY KEY,
    name       {{text}} NOT NULL UNIQUE,
    role       TEXT     NOT NULL,
    hash       {{blob}} NOT NULL UNIQUE, -- SHA-256 of the token secret
    created_at BIGINT   NOT NULL
);

-- builds: one commit of one component. JSON columns: trigger_detail (object), steps (array), required (array),
-- scan (object). Zero values are '' and 0; started_at and ended_at are NULL until then.
CREATE TABLE builds (
    id             {{text}} NOT NULL PRIMARY KEY,
    project        {{text}} NOT NULL,
    component      {{text}} NOT NULL,
    commit_sha     TEXT     NOT NULL,
    trigger_kind   TEXT     NOT NULL,
    trigger_detail TEXT     NOT NULL DEFAULT '{}',
    status         TEXT     NOT NULL,
    digest         TEXT     NOT NULL DEFAULT '',
    image_size     BIGINT   NOT NULL DEFAULT 0,
    steps          TEXT     NOT NULL DEFAULT '[]',
    required       TEXT     NOT NULL DEFAULT '[]',
    scan           TEXT     NOT NULL DEFAULT '{}',
    error          TEXT     NOT NULL DEFAULT '',
    workflow_id    TEXT     NOT NULL DEFAULT '',
    run_id         TEXT     NOT NULL DEFAULT '',
    created_at     BIGINT   NOT NULL,
    started_at     BIGINT,
    ended_at       BIGINT,
    FOREIGN KEY (project, component) REFERENCES components (project, name) ON DELETE CASCADE
);
CREATE INDEX builds_component_created ON builds (project, component, created_at);

-- deployments: a build released to one environment; history is kept. ended_at is NULL while in progress.
CREATE TABLE deployments (
    id          {{text}} NOT NULL PRIMARY KEY,
    project     {{text}} NOT NULL,
    component   {{text}} NOT NULL,
    environment {{text}} NOT NULL,
    build_id    {{text}} NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    digest      TEXT     NOT NULL,
    status      TEXT     NOT NULL,
    url         TEXT     NOT NULL DEFAULT '',
    config_hash TEXT     NOT NULL DEFAULT '',
    message     TEXT     NOT NULL DEFAULT '',
    created_at  BIGINT   NOT NULL,
    ended_at    BIGINT,
    FOREIGN KEY (project, component) REFERENCES components (project, name) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, name) ON DELETE CASCADE
);
CREATE INDEX deployments_component_environment_created ON deployments (project, component, environment, created_at);
CREATE INDEX deployments_build ON deployments (build_id);
