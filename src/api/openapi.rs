//! The OpenAPI 3.1 document of the HTTP interface, served at `/api/v1/openapi.json`.
//!
//! Routes are registered through utoipa-axum (`routes!` in `api::router`), so every
//! route the router serves is in the document and nothing else is. What is the same
//! for every route is added here, from the code that enforces it: the scope each
//! operation needs comes from `auth::needed_scope`, the error answers from `ApiError`.

use axum::http::Method;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr};

use super::auth::needed_scope;
use super::problem::ProblemBody;

/// Fills in what `#[utoipa::path]` leaves out: title, the bearer scheme, the scope of
/// each operation and the problem answers every operation can give.
pub fn complete(mut doc: OpenApi) -> OpenApi {
    doc.info.title = "hookcast".to_string();
    doc.info.version = crate::VERSION.to_string();
    doc.info.description = Some(
        "Webhook notification service: publish events and alarms, manage the webhooks \
         they are delivered to, follow every delivery. Every route under /api/v1 \
         except this document needs `Authorization: Bearer <token>`."
            .to_string(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "bearer".to_string(),
        RefOr::T(SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer))),
    );
    components.schemas.insert(
        "Problem".to_string(),
        <ProblemBody as utoipa::PartialSchema>::schema(),
    );

    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            // Handlers in different modules share names (`list`, `get`): the tag,
            // which is the module's subject, makes each operation id unique.
            if let (Some(tag), Some(id)) = (
                operation.tags.as_ref().and_then(|tags| tags.first()),
                operation.operation_id.as_mut(),
            ) {
                *id = format!("{tag}_{id}");
            }
            if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
                let scope = needed_scope(&method, path);
                operation.security =
                    Some(vec![SecurityRequirement::new("bearer", [scope.as_str()])]);
                add_problem(operation, "401", "No token, or not a valid one");
                add_problem(
                    operation,
                    "403",
                    &format!("The token lacks the `{}` scope", scope.as_str()),
                );
                add_problem(operation, "503", "The database is not reachable");
            }
            if operation.request_body.is_some() {
                add_problem(operation, "400", "The body is not valid JSON");
                add_problem(operation, "413", "The body is larger than 1 MiB");
                add_problem(operation, "415", "The body is not application/json");
                add_problem(operation, "422", "Some fields are not valid");
            }
            if path.contains('{') {
                add_problem(operation, "404", "No such resource");
            }
        }
    }
    add_links(&mut doc);
    doc
}

/// The event-type codes a client may use, as the `enum` of the fields that take one:
/// the catalog is compiled in, so the document can list it (and the API fuzz run then
/// makes webhooks and events that are accepted, and goes on to use them).
pub fn list_catalog_codes(document: &mut serde_json::Value) {
    let codes: Vec<serde_json::Value> = crate::domain::catalog::Catalog::builtin()
        .all()
        .iter()
        .filter(|t| t.subscribable)
        .map(|t| serde_json::Value::from(t.code.as_str()))
        .collect();
    for pointer in [
        "/components/schemas/WebhookInput/properties/event_types/items",
        "/components/schemas/EventInput/properties/type",
    ] {
        if let Some(serde_json::Value::Object(schema)) = document.pointer_mut(pointer) {
            let mut choices = codes.clone();
            // `type` may be left out or null; the enum must then allow null too.
            if schema["type"].as_array().is_some() {
                choices.push(serde_json::Value::Null);
            }
            schema.insert("enum".into(), serde_json::Value::Array(choices));
        }
    }
}

/// Which operations take the id a create answer returns: the links tell clients (and
/// the API fuzz run) how to go on from a new webhook, token or event.
const LINKS: &[(&str, &str, &[&str])] = &[
    (
        "webhooks_create",
        "201",
        &[
            "webhooks_get",
            "webhooks_replace",
            "webhooks_patch",
            "webhooks_delete",
            "webhooks_enable",
            "webhooks_disable",
            "webhooks_test_webhook",
            "webhooks_replay",
        ],
    ),
    ("tokens_create", "201", &["tokens_revoke"]),
    ("events_publish", "202", &["events_get"]),
];

fn add_links(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for (_, operation) in operations(item) {
            let Some(&(_, status, targets)) = LINKS
                .iter()
                .find(|(source, ..)| operation.operation_id.as_deref() == Some(*source))
            else {
                continue;
            };
            let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) else {
                continue;
            };
            for target in targets {
                let link = LinkBuilder::new()
                    .operation_id(*target)
                    .parameter("id", "$response.body#/id")
                    .build();
                response.links.insert(target.to_string(), RefOr::T(link));
            }
        }
    }
}

fn operations(item: &mut PathItem) -> Vec<(Method, &mut Operation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|op| (method, op)))
    .collect()
}

/// Adds a problem+json answer unless the handler's own annotation describes it.
fn add_problem(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(problem_response(description)));
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
}
