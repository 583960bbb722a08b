-- Retention deletes succeeded deliveries by when they finished, and nothing else read
-- the index on (status, created_at): listings filter by status beside their order by
-- id. Every new version of a delivery's row (stored, claimed, finished) wrote an entry
-- into that index; a partial index on the succeeded ones gets only the last.
DROP INDEX IF EXISTS deliveries_by_status_created;
CREATE INDEX IF NOT EXISTS deliveries_succeeded_by_update ON deliveries (updated_at)
    WHERE status = 'succeeded';
