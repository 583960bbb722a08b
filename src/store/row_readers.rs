//! Reading rows into the shared row structs, for each backend's row type. A macro
//! rather than generic functions: the decode bounds for every column type would be
//! longer than the code they describe.

macro_rules! row_readers {
    ($row:ty) => {
        use sqlx::Row as _;

        use crate::store::delivery_codec::{AttemptRow, DeliveryRow};
        use crate::store::event_codec::EventRow;
        use crate::store::webhook_codec::WebhookRow;

        pub(super) fn read_webhook(row: &$row) -> Result<WebhookRow, sqlx::Error> {
            Ok(WebhookRow {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                kind: row.try_get("kind")?,
                url: row.try_get("url")?,
                language: row.try_get("language")?,
                auth_type: row.try_get("auth_type")?,
                auth_sealed: row.try_get("auth_sealed")?,
                format: row.try_get("format")?,
                enabled: row.try_get("enabled")?,
                disabled_reason: row.try_get("disabled_reason")?,
                headers: row.try_get("headers")?,
                timeout_seconds: row.try_get("timeout_seconds")?,
                template_body: row.try_get("template_body")?,
                template_content_type: row.try_get("template_content_type")?,
                time_zone: row.try_get("time_zone")?,
                mentions: row.try_get("mentions")?,
                tls: row.try_get("tls")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        }

        pub(super) fn read_event(row: &$row) -> Result<EventRow, sqlx::Error> {
            Ok(EventRow {
                id: row.try_get("id")?,
                event_type: row.try_get("type")?,
                kind: row.try_get("kind")?,
                severity: row.try_get("severity")?,
                outcome: row.try_get("outcome")?,
                source: row.try_get("source")?,
                occurred_at: row.try_get("occurred_at")?,
                received_at: row.try_get("received_at")?,
                attributes: row.try_get("attributes")?,
                idempotency_key: row.try_get("idempotency_key")?,
            })
        }

        pub(super) fn read_delivery(row: &$row) -> Result<DeliveryRow, sqlx::Error> {
            Ok(DeliveryRow {
                id: row.try_get("id")?,
                event_id: row.try_get("event_id")?,
                webhook_id: row.try_get("webhook_id")?,
                status: row.try_get("status")?,
                attempts: row.try_get("attempts")?,
                next_attempt_at: row.try_get("next_attempt_at")?,
                last_error: row.try_get("last_error")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        }

        pub(super) fn read_attempt(row: &$row) -> Result<AttemptRow, sqlx::Error> {
            Ok(AttemptRow {
                id: row.try_get("id")?,
                delivery_id: row.try_get("delivery_id")?,
                number: row.try_get("number")?,
                started_at: row.try_get("started_at")?,
                duration_ms: row.try_get("duration_ms")?,
                request: row.try_get("request")?,
                response_status: row.try_get("response_status")?,
                response_headers: row.try_get("response_headers")?,
                response_body: row.try_get("response_body")?,
                error_kind: row.try_get("error_kind")?,
                error_message: row.try_get("error_message")?,
            })
        }
    };
}

pub(crate) use row_readers;
