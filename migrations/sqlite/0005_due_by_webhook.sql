-- Claims look up each webhook's earliest due deliveries, so a webhook out of room
-- costs nothing instead of a scan past all of its due rows.
CREATE INDEX IF NOT EXISTS deliveries_due_by_webhook ON deliveries (webhook_id, next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
