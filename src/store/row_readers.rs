//! Reading rows into the shared row structs, for each backend's row type. A macro
//! rather than generic functions: the decode bounds for every column type would be
//! longer than the code they describe.

macro_rules! row_readers {
    // `$get` is the row type's by-name getter, returning `Result<_, $error>`.
    ($row:ty, $error:ty, $get:ident) => {
        use crate::store::delivery_codec::{AttemptRow, DeliveryRow};
        use crate::store::event_codec::EventRow;
        use crate::store::webhook_codec::WebhookRow;

        pub(super) fn read_webhook(row: &$row) -> Result<WebhookRow, $error> {
            Ok(WebhookRow {
                id: row.$get("id")?,
                name: row.$get("name")?,
                kind: row.$get("kind")?,
                url: row.$get("url")?,
                language: row.$get("language")?,
                auth_type: row.$get("auth_type")?,
                auth_sealed: row.$get("auth_sealed")?,
                format: row.$get("format")?,
                enabled: row.$get("enabled")?,
                disabled_reason: row.$get("disabled_reason")?,
                headers: row.$get("headers")?,
                timeout_seconds: row.$get("timeout_seconds")?,
                template_body: row.$get("template_body")?,
                template_content_type: row.$get("template_content_type")?,
                time_zone: row.$get("time_zone")?,
                mentions: row.$get("mentions")?,
                tls: row.$get("tls")?,
                created_at: row.$get("created_at")?,
                updated_at: row.$get("updated_at")?,
            })
        }

        pub(super) fn read_event(row: &$row) -> Result<EventRow, $error> {
            Ok(EventRow {
                id: row.$get("id")?,
                event_type: row.$get("type")?,
                kind: row.$get("kind")?,
                severity: row.$get("severity")?,
                outcome: row.$get("outcome")?,
                source: row.$get("source")?,
                occurred_at: row.$get("occurred_at")?,
                received_at: row.$get("received_at")?,
                attributes: row.$get("attributes")?,
                idempotency_key: row.$get("idempotency_key")?,
            })
        }

        pub(super) fn read_delivery(row: &$row) -> Result<DeliveryRow, $error> {
            Ok(DeliveryRow {
                id: row.$get("id")?,
                event_id: row.$get("event_id")?,
                webhook_id: row.$get("webhook_id")?,
                status: row.$get("status")?,
                attempts: row.$get("attempts")?,
                next_attempt_at: row.$get("next_attempt_at")?,
                last_error: row.$get("last_error")?,
                created_at: row.$get("created_at")?,
                updated_at: row.$get("updated_at")?,
            })
        }

        pub(super) fn read_attempt(row: &$row) -> Result<AttemptRow, $error> {
            Ok(AttemptRow {
                id: row.$get("id")?,
                delivery_id: row.$get("delivery_id")?,
                number: row.$get("number")?,
                started_at: row.$get("started_at")?,
                duration_ms: row.$get("duration_ms")?,
                request: row.$get("request")?,
                response_status: row.$get("response_status")?,
                response_headers: row.$get("response_headers")?,
                response_body: row.$get("response_body")?,
                error_kind: row.$get("error_kind")?,
                error_message: row.$get("error_message")?,
            })
        }
    };
}

pub(crate) use row_readers;
