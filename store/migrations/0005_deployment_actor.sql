-- 0005: who asked for a deployment (the token's name, or "auto" for a build's auto-deploy) and when it began.
ALTER TABLE deployments ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN started_at BIGINT;
