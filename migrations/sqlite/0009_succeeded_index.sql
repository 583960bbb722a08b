-- Retention deletes succeeded deliveries by when they finished, and nothing else read
-- the index on (status, created_at): listings filter by status beside their order by
-- id. A partial index on the succeeded ones alone holds only finished rows, so storing
-- a delivery and claiming it write none of its entries, and recording its success
-- writes one where the old index deleted one and inserted another.
DROP INDEX IF EXISTS deliveries_by_status_created;
CREATE INDEX IF NOT EXISTS deliveries_succeeded_by_update ON deliveries (updated_at)
    WHERE status = 'succeeded';
