-- 0014: how a build from source was built (JSON of api.SourceBuild: language, reason, the generated
-- Dockerfile); '' for a build of the repository's Dockerfile.
ALTER TABLE builds ADD COLUMN source TEXT NOT NULL DEFAULT '';
