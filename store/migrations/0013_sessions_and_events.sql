-- 0013: the web console's sessions and the change feed its pages (and GET /api/v1/events) follow.
--
-- sessions: one signed-in browser. The cookie holds a random secret; only its SHA-256 is kept. A session acts
-- with its token's role and ends with it (ON DELETE CASCADE), at expires_at, or at sign-out (row deleted).
CREATE TABLE sessions (
    id_hash    {{blob}} NOT NULL PRIMARY KEY,
    token_id   {{text}} NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    csrf       TEXT     NOT NULL, -- the token every write from this session carries
    created_at BIGINT   NOT NULL,
    expires_at BIGINT   NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- events: what changed, in the order it was committed (seq, from 1, no gaps), written in the same transaction
-- as the change. kind is e.g. "build" or "deployment"; ref the build's or deployment's ID; an empty column
-- means "not about one". Old rows are pruned: the feed is for following, not for history.
CREATE TABLE events (
    seq         BIGINT   NOT NULL PRIMARY KEY,
    at          BIGINT   NOT NULL,
    kind        TEXT     NOT NULL,
    project     TEXT     NOT NULL,
    component   TEXT     NOT NULL,
    environment TEXT     NOT NULL,
    ref         TEXT     NOT NULL
);
CREATE INDEX events_at ON events (at);
