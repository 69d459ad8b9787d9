-- 0018: outgoing notifications — a project's webhooks, their deliveries, and where the notifier is in the feed.
--
-- events.state: the status of the build, deployment or promotion request the event is about, as committed
-- ('' for other kinds), so that a follower knows each state an object went through, not only its last.
ALTER TABLE events ADD COLUMN state TEXT NOT NULL DEFAULT '';

-- notification_hooks: a URL a project's events are POSTed to, signed with its secret (sealed). events is a JSON
-- list of event names; [] means every one.
CREATE TABLE notification_hooks (
    id          {{text}} NOT NULL PRIMARY KEY,
    project     {{text}} NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
    url         TEXT     NOT NULL,
    format      TEXT     NOT NULL,
    events      TEXT     NOT NULL,
    kek_id      TEXT     NOT NULL,
    wrapped_key {{blob}} NOT NULL,
    ciphertext  {{blob}} NOT NULL,
    actor       TEXT     NOT NULL,
    created_at  BIGINT   NOT NULL
);
CREATE INDEX notification_hooks_project ON notification_hooks (project);

-- notification_deliveries: one event to one hook, once (its id comes from both); status pending, delivered or
-- failed, with its attempts and the last answer.
CREATE TABLE notification_deliveries (
    id          {{text}} NOT NULL PRIMARY KEY,
    hook_id     {{text}} NOT NULL REFERENCES notification_hooks (id) ON DELETE CASCADE,
    event       TEXT     NOT NULL,
    subject     TEXT     NOT NULL,
    status      TEXT     NOT NULL,
    attempts    INTEGER  NOT NULL DEFAULT 0,
    last_status INTEGER  NOT NULL DEFAULT 0,
    last_error  TEXT     NOT NULL DEFAULT '',
    created_at  BIGINT   NOT NULL,
    updated_at  BIGINT   NOT NULL
);
CREATE INDEX notification_deliveries_hook ON notification_deliveries (hook_id, created_at);

-- cursors: how far a follower of the change feed has got (the notifier's is 'notifications').
CREATE TABLE cursors (
    name {{text}} NOT NULL PRIMARY KEY,
    seq  BIGINT   NOT NULL
);
