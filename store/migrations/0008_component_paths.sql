-- 0008: a component's path filters (JSON array of patterns; '[]' = every push builds).
ALTER TABLE components ADD COLUMN paths TEXT NOT NULL DEFAULT '[]';
