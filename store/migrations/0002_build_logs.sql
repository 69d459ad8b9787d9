-- build_logs: the log of a build, one row per line, numbered from 1 in the order written. Readers
-- follow a running build by asking for the lines after the last seq they saw.
CREATE TABLE build_logs (
    build_id {{text}} NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    seq      BIGINT   NOT NULL,
    at       BIGINT   NOT NULL,
    line     TEXT     NOT NULL,
    PRIMARY KEY (build_id, seq)
);
