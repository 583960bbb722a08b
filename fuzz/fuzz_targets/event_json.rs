//! A posted event, from bytes to a validated event: never panics, and an accepted
//! event renders in every built-in format.
#![no_main]

use hookcast::domain::catalog::Catalog;
use hookcast::domain::event::EventInput;
use libfuzzer_sys::fuzz_target;

#[path = "../support.rs"]
mod support;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<EventInput>(data) else {
        return;
    };
    let catalog = Catalog::builtin();
    let Ok(event) = input.into_event(catalog, chrono::Utc::now(), "") else {
        return;
    };
    support::render_everywhere(&event, catalog);
});
