//! An operator's body template: parsing and rendering never panic, and rendering
//! stays within its limits (minijinja's fuel), whatever the template says.
#![no_main]

use hookcast::domain::body_template::BodyTemplate;
use hookcast::domain::catalog::Catalog;
use hookcast::domain::choices::Format;
use hookcast::domain::event::EventInput;
use libfuzzer_sys::fuzz_target;

#[path = "../support.rs"]
mod support;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(template) = BodyTemplate::parse(source, None) else {
        return;
    };
    let catalog = Catalog::builtin();
    let input: EventInput = serde_json::from_value(serde_json::json!({
        "type": "dr.host.disconnected",
        "source": "web-01",
        "result": "failure",
        "attributes": {"ip": "10.0.0.8", "nested": {"list": [1, 2, 3]}}
    }))
    .unwrap();
    let event = input.into_event(catalog, chrono::Utc::now(), "").unwrap();
    support::render_one(&event, catalog, Format::Template, Some(&template));
});
