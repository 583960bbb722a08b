//! Format `template`: the operator's minijinja template, rendered with the event's
//! fields, the localized title and message, and a `localtime` filter in the webhook's
//! time zone. Bounded: a fuel limit stops runaway loops, and an output over
//! [`MAX_OUTPUT_BYTES`] is refused.

use minijinja::value::Serde;
use minijinja::{Environment, Value as TemplateValue};
use serde_json::{Value, json};

use super::{Facts, Recipient};
use crate::domain::body_template::{BodyTemplate, MAX_OUTPUT_BYTES, RENDER_FUEL, describe};
use crate::domain::event::Outcome;
use crate::domain::time_zone::DisplayZone;

/// What a template can use.
fn context(facts: &Facts<'_>, recipient: &Recipient<'_>, zone: &DisplayZone) -> Value {
    let event = facts.event;
    let mut event_json = json!({
        "id": event.id,
        "type": event.event_type,
        "kind": event.kind,
        "severity": event.severity,
        "source": event.source,
        "occurred_at": event.occurred_at.to_rfc3339(),
        "attributes": event.attributes,
    });
    let key = match event.outcome {
        Outcome::Success | Outcome::Failure => "result",
        Outcome::Firing | Outcome::Resolved => "status",
    };
    event_json[key] = Value::from(event.outcome.as_str());
    json!({
        "event": event_json,
        "title": facts.title,
        "message": facts.text,
        "severity_label": facts.severity_label,
        "language": recipient.language,
        "time": facts.time,
        "time_zone": zone.label(),
        "webhook": {"id": recipient.id, "name": recipient.name},
    })
}

pub fn render(
    template: &BodyTemplate,
    facts: &Facts<'_>,
    recipient: &Recipient<'_>,
    zone: &DisplayZone,
) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_fuel(Some(RENDER_FUEL));
    env.set_recursion_limit(50);
    let zone = *zone;
    // `{{ event.occurred_at|localtime }}` or `|localtime("%H:%M")`, in the webhook's zone.
    env.add_filter(
        "localtime",
        move |value: String, format: Option<String>| -> Result<String, minijinja::Error> {
            let at = chrono::DateTime::parse_from_rfc3339(&value).map_err(|_| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("`{value}` is not an RFC 3339 time"),
                )
            })?;
            Ok(zone.format_with(
                at.to_utc(),
                format.as_deref().unwrap_or("%Y-%m-%d %H:%M:%S"),
            ))
        },
    );
    let compiled = env
        .template_from_str(template.source())
        .map_err(|e| describe(&e))?;
    let output = compiled
        .render(TemplateValue::from(Serde(context(facts, recipient, &zone))))
        .map_err(|e| format!("the template failed: {}", describe(&e)))?;
    if output.len() > MAX_OUTPUT_BYTES {
        return Err(format!(
            "the template produced {} bytes; at most {MAX_OUTPUT_BYTES} are sent",
            output.len()
        ));
    }
    Ok(output)
}
