-- Events, their deliveries (one per subscribed webhook) and every attempt.
-- Times are unix milliseconds (UTC).

-- Set when a delivery to the webhook first fails after a success; cleared on success.
-- A webhook failing for longer than the configured window is disabled.
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;

CREATE TABLE events (
    id               TEXT    PRIMARY KEY NOT NULL,
    type             TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    severity         TEXT    NOT NULL,
    outcome          TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    occurred_at      INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    attributes       TEXT    NOT NULL,
    idempotency_key  TEXT    UNIQUE
);

CREATE INDEX events_by_type ON events (type, id);

CREATE TABLE deliveries (
    id               TEXT    PRIMARY KEY NOT NULL,
    event_id         TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    webhook_id       TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- When the next try is due. NULL when final, or parked while the webhook is disabled.
    next_attempt_at  INTEGER,
    -- A worker holds the delivery until then; an expired lease is free to claim.
    lease_until      INTEGER,
    lease_owner      TEXT,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- The dispatcher's work queue: due deliveries in due order.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

CREATE TABLE attempts (
    id                TEXT    PRIMARY KEY NOT NULL,
    delivery_id       TEXT    NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number            INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    request           TEXT    NOT NULL,  -- JSON: method, url, headers, body (secrets masked)
    response_status   INTEGER,
    response_headers  TEXT,              -- JSON list of [name, value]
    response_body     TEXT,
    error_kind        TEXT,
    error_message     TEXT
);

CREATE INDEX attempts_by_delivery ON attempts (delivery_id, number);
