-- A counter that moves whenever what ingest reads about webhooks changes, so a node
-- may keep the subscribers it read and still never fan out from a stale copy:
-- ingest's write states the generation its subscribers were read at, and writes
-- nothing if the counter has moved since or if a webhook it fans out to is gone or
-- disabled (the node then reads them again).
--
-- So the counter moves on creating or deleting a webhook, on any change to the event
-- types it subscribes to, and on any other change to its row except three kinds:
-- - `failing_since`, health bookkeeping written while recording results;
-- - disabling (with its reason and `updated_at`): ingest's write sees that itself.
--   This keeps recording results, which may disable a webhook while it holds
--   deliveries locked, from ever waiting for the counter's row lock, which the
--   webhook changes that hold it keep while they lock deliveries;
-- - `updated_at` alone.
CREATE TABLE webhook_generation (
    single  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (single),
    value   BIGINT  NOT NULL
);
INSERT INTO webhook_generation (value) VALUES (0);

CREATE FUNCTION next_webhook_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE webhook_generation SET value = value + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER webhooks_added_or_removed
    AFTER INSERT OR DELETE ON webhooks
    FOR EACH STATEMENT EXECUTE FUNCTION next_webhook_generation();

CREATE TRIGGER webhooks_changed
    AFTER UPDATE ON webhooks
    FOR EACH ROW
    WHEN ((to_jsonb(OLD) - ARRAY['failing_since', 'disabled_reason', 'updated_at', 'enabled'])
              IS DISTINCT FROM
          (to_jsonb(NEW) - ARRAY['failing_since', 'disabled_reason', 'updated_at', 'enabled'])
          OR (NEW.enabled AND NOT OLD.enabled))
    EXECUTE FUNCTION next_webhook_generation();

CREATE TRIGGER webhook_subscriptions_changed
    AFTER INSERT OR UPDATE OR DELETE ON webhook_event_types
    FOR EACH STATEMENT EXECUTE FUNCTION next_webhook_generation();
