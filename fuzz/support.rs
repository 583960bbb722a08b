//! What the targets share: rendering an event for every kind of receiver.

use hookcast::delivery::render::{Recipient, render};
use hookcast::domain::body_template::BodyTemplate;
use hookcast::domain::catalog::Catalog;
use hookcast::domain::choices::{Format, Language};
use hookcast::domain::event::Event;
use hookcast::domain::mentions::Mentions;
use hookcast::domain::time_zone::DisplayZone;

/// Renders `event` in every format and both languages (the template format with
/// `template`, if given); none may panic.
#[allow(dead_code)]
pub fn render_everywhere(event: &Event, catalog: &Catalog) {
    for format in Format::ALL {
        if format == Format::Template {
            continue;
        }
        render_one(event, catalog, format, None);
    }
}

pub fn render_one(
    event: &Event,
    catalog: &Catalog,
    format: Format,
    template: Option<&BodyTemplate>,
) {
    let url = url::Url::parse("https://example.com/hook?chat_id=1").unwrap();
    let mentions = Mentions::default();
    let zone = DisplayZone::parse("UTC+08:00").unwrap();
    for language in [Language::ZhCn, Language::EnUs] {
        let recipient = Recipient {
            id: None,
            name: "fuzz",
            language,
            format,
            url: &url,
            template,
            mentions: &mentions,
        };
        let _ = render(event, &recipient, catalog, &zone);
    }
}
