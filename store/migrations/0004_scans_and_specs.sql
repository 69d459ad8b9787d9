-- 0004: what the scan and spec stages learn about a build, and each project's scan policy.
-- builds.scan (from 0001) holds the scan summary and builds.descriptor the component descriptor, as JSON
-- ('{}' and '' = not yet); the full scan report and each endpoint's API spec are kept beside the build
-- and go with it.
ALTER TABLE projects ADD COLUMN scan_policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE builds ADD COLUMN descriptor TEXT NOT NULL DEFAULT '';
CREATE TABLE build_scans (
    build_id {{text}} PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
    report   TEXT     NOT NULL
);
CREATE TABLE build_specs (
    build_id {{text}} NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    endpoint {{text}} NOT NULL,
    path     TEXT     NOT NULL,
    format   TEXT     NOT NULL,
    body     {{blob}} NOT NULL,
    PRIMARY KEY (build_id, endpoint)
);
