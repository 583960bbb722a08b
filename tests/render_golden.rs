//! Golden bodies: what each format sends, in each language, for fixed sample events,
//! checked in under tests/golden/. `HOOKCAST_UPDATE_GOLDEN=1 cargo test --test
//! render_golden` rewrites them after an intended change (then review the diff).

use chrono::DateTime;
use hookcast::delivery::render::{Recipient, RenderedBody, render};
use hookcast::domain::catalog::Catalog;
use hookcast::domain::choices::{Format, Language};
use hookcast::domain::event::{Event, Outcome};
use hookcast::domain::event_type::{EventKind, EventTypeCode, Severity};
use hookcast::domain::ids::{EventId, WebhookId};
use hookcast::domain::mentions::Mentions;
use hookcast::domain::time_zone::DisplayZone;
use serde_json::json;
use url::Url;

fn sample(code: &str, kind: EventKind, severity: Severity, outcome: Outcome) -> Event {
    let at = DateTime::parse_from_rfc3339("2026-11-27T05:00:00Z")
        .unwrap()
        .to_utc();
    Event {
        id: EventId::parse("evt_01jd0000000000000000000000").unwrap(),
        event_type: EventTypeCode::parse(code).unwrap(),
        kind,
        severity,
        outcome,
        source: "web-01".into(),
        occurred_at: at,
        received_at: at,
        attributes: json!({"ip": "10.0.0.8"}).as_object().unwrap().clone(),
        idempotency_key: None,
    }
}

#[test]
fn every_format_and_language_matches_its_golden_body() {
    let webhook_id = WebhookId::parse("wh_01jd0000000000000000000001").unwrap();
    let url = Url::parse("https://api.telegram.org/bot1:x/sendMessage?chat_id=-100123").unwrap();
    let disconnected = sample(
        "dr.host.disconnected",
        EventKind::Event,
        Severity::Critical,
        Outcome::Failure,
    );
    let disk = sample(
        "alarm.host.root_disk_usage",
        EventKind::Alarm,
        Severity::Major,
        Outcome::Firing,
    );
    let update = std::env::var("HOOKCAST_UPDATE_GOLDEN").as_deref() == Ok("1");
    let mut checked = 0;
    let nobody = Mentions::default();
    let mentions = Mentions {
        all: true,
        user_ids: vec!["ou_7d8a6e6df7621556ce0d21922b676706".into()],
        mobiles: vec!["13800000000".into()],
    };
    for (event, label) in [
        (&disconnected, "event"),
        (&disk, "alarm"),
        (&disconnected, "mentions"),
    ] {
        for format in Format::ALL {
            for language in [Language::ZhCn, Language::EnUs] {
                let recipient = Recipient {
                    id: Some(&webhook_id),
                    name: "ops",
                    language,
                    format,
                    url: &url,
                    template: None,
                    mentions: if label == "mentions" {
                        &mentions
                    } else {
                        &nobody
                    },
                };
                if format == Format::Template {
                    continue; // the operator's own body: tests/templates.rs
                }
                let rendered = render(
                    event,
                    &recipient,
                    Catalog::builtin(),
                    &DisplayZone::default(),
                );
                let body: serde_json::Value = match rendered {
                    Ok(RenderedBody::Json(body)) => body,
                    // Written out directly: the same bytes a JSON tree of it writes.
                    Ok(RenderedBody::Encoded(bytes)) => {
                        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                        assert_eq!(String::from_utf8(bytes).unwrap(), body.to_string());
                        body
                    }
                    _ => panic!("{rendered:?}"),
                };
                let text = serde_json::to_string_pretty(&body).unwrap() + "\n";
                let path = format!(
                    "{}/tests/golden/{label}.{}.{}.json",
                    env!("CARGO_MANIFEST_DIR"),
                    format.as_str(),
                    language.as_str()
                );
                if update {
                    std::fs::write(&path, &text).unwrap();
                }
                let golden = std::fs::read_to_string(&path).unwrap_or_else(|_| {
                    panic!("{path} is missing; run with HOOKCAST_UPDATE_GOLDEN=1")
                });
                assert_eq!(text, golden, "{path} differs");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 48);
}
