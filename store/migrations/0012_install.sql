-- 0012: the install's ID, made once: every container, network and cluster object slipway makes carries it, so two
-- installs on one Docker Engine or cluster never touch each other's.
CREATE TABLE install (
    one        INTEGER NOT NULL PRIMARY KEY CHECK (one = 1),
    id         TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
