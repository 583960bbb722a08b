-- hookcast on PostgreSQL: the same tables as on SQLite, for any number of nodes.
-- Times are unix milliseconds (UTC), as on SQLite, so both stores share one codec.

CREATE TABLE webhooks (
    id                     TEXT    PRIMARY KEY,
    name                   TEXT    NOT NULL UNIQUE,
    kind                   TEXT    NOT NULL CHECK (kind IN ('events', 'alarms')),
    url                    TEXT    NOT NULL,
    language               TEXT    NOT NULL,
    auth_type              TEXT    NOT NULL,
    auth_sealed            TEXT    NOT NULL,
    format                 TEXT    NOT NULL,
    enabled                BOOLEAN NOT NULL,
    disabled_reason        TEXT,
    headers                TEXT    NOT NULL DEFAULT '{}',
    timeout_seconds        BIGINT,
    template_body          TEXT,
    template_content_type  TEXT,
    time_zone              TEXT,
    mentions               TEXT,
    failing_since          BIGINT,
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL
);

CREATE TABLE webhook_event_types (
    webhook_id  TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type  TEXT    NOT NULL,
    position    BIGINT  NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
);
CREATE INDEX webhook_event_types_by_type ON webhook_event_types (event_type, webhook_id);

CREATE TABLE events (
    id               TEXT    PRIMARY KEY,
    type             TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    severity         TEXT    NOT NULL,
    outcome          TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    occurred_at      BIGINT  NOT NULL,
    received_at      BIGINT  NOT NULL,
    attributes       TEXT    NOT NULL,
    idempotency_key  TEXT    UNIQUE
);
CREATE INDEX events_by_type ON events (type, id);

CREATE TABLE deliveries (
    id               TEXT    PRIMARY KEY,
    event_id         TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    webhook_id       TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    status           TEXT    NOT NULL,
    attempts         BIGINT  NOT NULL DEFAULT 0,
    -- When the next try is due; NULL when final or parked (webhook disabled). A claim
    -- moves it to the lease's end, so an unfinished claim comes due again by itself.
    next_attempt_at  BIGINT,
    lease_until      BIGINT,
    lease_owner      TEXT,
    last_error       TEXT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_status_created ON deliveries (status, created_at);

CREATE TABLE attempts (
    id                TEXT    PRIMARY KEY,
    delivery_id       TEXT    NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number            BIGINT  NOT NULL,
    started_at        BIGINT  NOT NULL,
    duration_ms       BIGINT  NOT NULL,
    request           TEXT    NOT NULL,
    response_status   BIGINT,
    response_headers  TEXT,
    response_body     TEXT,
    error_kind        TEXT,
    error_message     TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, number);
CREATE INDEX attempts_by_start ON attempts (started_at);
