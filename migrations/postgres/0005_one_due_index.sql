-- The queue is read through deliveries_due_by_webhook alone (claims per webhook; the
-- earliest due time and the queue depth through it too). The index on next_attempt_at
-- alone cost every ingest, claim and result an index write and served nothing else.
DROP INDEX IF EXISTS deliveries_due;
