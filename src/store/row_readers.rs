//! Reading rows into the shared row structs, for each backend's row type. A macro
//! rather than generic functions: the decode bounds for every column type would be
//! longer than the code they describe.
//!
//! Each reader comes with its table's column list (`EVENT_COLUMNS`, ...), in the order
//! it reads them. A reader made with [`by_name`] looks each column up by name and
//! reads any `SELECT *`; one made with [`by_position`] reads the columns in that order
//! and needs a statement that selects exactly that list. rusqlite finds a column by
//! name by comparing it with every column before it, for every value read: in the
//! claim's profile that was a tenth of its CPU.

/// Reads a column by its name.
pub(crate) fn by_name(_position: usize, name: &'static str) -> &'static str {
    name
}

/// Reads a column by its place in the reader's column list.
pub(crate) fn by_position(position: usize, _name: &'static str) -> usize {
    position
}

/// One reader and its column list.
macro_rules! reader {
    (
        $row:ty, $error:ty, $get:ident, $at:path;
        $read:ident -> $Struct:ident, $columns:ident:
        $first_field:ident: $first:literal $(, $field:ident: $column:literal)* $(,)?
    ) => {
        #[allow(dead_code)] // each backend selects by the list where it reads by position
        pub(super) const $columns: &str = concat!($first $(, ", ", $column)*);

        pub(super) fn $read(row: &$row) -> Result<$Struct, $error> {
            let mut position = 0usize..;
            let mut at = |name| $at(position.next().expect("a column"), name);
            Ok($Struct {
                $first_field: row.$get(at($first))?,
                $($field: row.$get(at($column))?,)*
            })
        }
    };
}

macro_rules! row_readers {
    // `$get` is the row type's getter, returning `Result<_, $error>`; `$at` is
    // `by_name` or `by_position`.
    ($row:ty, $error:ty, $get:ident, $at:path) => {
        use crate::store::delivery_codec::{AttemptRow, DeliveryRow};
        use crate::store::event_codec::EventRow;
        use crate::store::webhook_codec::WebhookRow;

        crate::store::row_readers::reader!($row, $error, $get, $at;
            read_webhook -> WebhookRow, WEBHOOK_COLUMNS:
            id: "id",
            name: "name",
            kind: "kind",
            url: "url",
            language: "language",
            auth_type: "auth_type",
            auth_sealed: "auth_sealed",
            format: "format",
            enabled: "enabled",
            disabled_reason: "disabled_reason",
            headers: "headers",
            timeout_seconds: "timeout_seconds",
            template_body: "template_body",
            template_content_type: "template_content_type",
            time_zone: "time_zone",
            mentions: "mentions",
            tls: "tls",
            created_at: "created_at",
            updated_at: "updated_at",
        );

        crate::store::row_readers::reader!($row, $error, $get, $at;
            read_event -> EventRow, EVENT_COLUMNS:
            id: "id",
            event_type: "type",
            kind: "kind",
            severity: "severity",
            outcome: "outcome",
            source: "source",
            occurred_at: "occurred_at",
            received_at: "received_at",
            attributes: "attributes",
            idempotency_key: "idempotency_key",
        );

        crate::store::row_readers::reader!($row, $error, $get, $at;
            read_delivery -> DeliveryRow, DELIVERY_COLUMNS:
            id: "id",
            event_id: "event_id",
            webhook_id: "webhook_id",
            status: "status",
            attempts: "attempts",
            next_attempt_at: "next_attempt_at",
            last_error: "last_error",
            created_at: "created_at",
            updated_at: "updated_at",
        );

        crate::store::row_readers::reader!($row, $error, $get, $at;
            read_attempt -> AttemptRow, ATTEMPT_COLUMNS:
            id: "id",
            delivery_id: "delivery_id",
            number: "number",
            started_at: "started_at",
            duration_ms: "duration_ms",
            request: "request",
            response_status: "response_status",
            response_headers: "response_headers",
            response_body: "response_body",
            error_kind: "error_kind",
            error_message: "error_message",
        );
    };
}

pub(crate) use {reader, row_readers};
