CREATE INDEX IF NOT EXISTS deliveries_by_status_created ON deliveries (status, created_at);
CREATE INDEX IF NOT EXISTS attempts_by_start ON attempts (started_at);
