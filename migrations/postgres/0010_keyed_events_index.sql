-- The unique index on events' idempotency keys holds keyed events alone. As a UNIQUE
-- constraint it took an entry for every event, and nearly all events come without a
-- key: each paid for a NULL's index insertion (a descent and, as the NULLs piled up
-- on one page, deduplication passes) that no lookup ever reads. Lookups by key
-- (`idempotency_key = $1`) imply the predicate, so they use the partial index; the
-- keyed insert names it in `ON CONFLICT (idempotency_key) WHERE idempotency_key IS
-- NOT NULL`.
CREATE UNIQUE INDEX events_by_idempotency_key ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
ALTER TABLE events DROP CONSTRAINT events_idempotency_key_key;
