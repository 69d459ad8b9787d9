-- 0006: how each environment runs a component's release: replicas (0 = 1) and per-instance limits
-- (0 = none): CPU in thousandths of a CPU, memory in bytes.
ALTER TABLE environments ADD COLUMN replicas INTEGER NOT NULL DEFAULT 0;
ALTER TABLE environments ADD COLUMN cpu_millis BIGINT NOT NULL DEFAULT 0;
ALTER TABLE environments ADD COLUMN memory_bytes BIGINT NOT NULL DEFAULT 0;
