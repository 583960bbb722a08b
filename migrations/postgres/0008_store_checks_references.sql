-- The store keeps deliveries and attempts pointing at rows that exist, instead of
-- foreign keys. PostgreSQL checks a foreign key once per inserted row, each check an
-- SPI query of its own (three per delivery: its event, its webhook, and its attempt's
-- delivery): in the store bench, a third of PostgreSQL's CPU to store events and a
-- fifth of it to record results. The store checks once per statement instead:
-- - a delivery is only ever inserted in the same statement or transaction as its
--   event, and an event is only deleted when no delivery points at it;
-- - ingest locks the webhooks it fans out to (FOR KEY SHARE, once each per statement)
--   and stores nothing if one of them is gone; deleting a webhook deletes its
--   deliveries and their attempts in the same transaction, after the webhook;
-- - an attempt is inserted only while its delivery is locked (FOR KEY SHARE), and
--   deleting deliveries deletes their attempts in the same transaction, after them.
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_event_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_webhook_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT IF EXISTS attempts_delivery_id_fkey;
