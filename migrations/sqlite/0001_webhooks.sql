-- Webhooks: the settings of the "Configure WebHook Service" drawer.
-- Times are unix milliseconds (UTC). Credentials live only in auth_sealed,
-- encrypted with the installation's key and bound to the row's id.
CREATE TABLE webhooks (
    id               TEXT    PRIMARY KEY NOT NULL,
    name             TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL CHECK (kind IN ('events', 'alarms')),
    url              TEXT    NOT NULL,
    language         TEXT    NOT NULL,
    auth_type        TEXT    NOT NULL,
    auth_sealed      TEXT    NOT NULL,
    format           TEXT    NOT NULL,
    enabled          INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    disabled_reason  TEXT,
    headers          TEXT    NOT NULL DEFAULT '{}',
    timeout_seconds  INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- Subscriptions, one row per (webhook, event type); the index serves fan-out
-- ("which enabled webhooks take this type?").
CREATE TABLE webhook_event_types (
    webhook_id  TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type  TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
);

CREATE INDEX webhook_event_types_by_type ON webhook_event_types (event_type, webhook_id);
