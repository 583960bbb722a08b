//! Pure domain types. Each validates on construction, so a value of the type is a
//! valid value: the API parses into these, the store persists them, the delivery
//! engine reads them without re-checking.

pub mod alertmanager;
pub mod audit;
pub mod auth;
pub mod body_template;
pub mod catalog;
pub mod choices;
pub mod delivery;
pub mod duration_text;
pub mod event;
pub mod event_type;
pub mod headers;
pub mod ids;
pub mod mentions;
pub mod retry;
pub mod secret;
pub mod target_url;
pub mod time_zone;
pub mod tls;
pub mod token;
pub mod validation;
pub mod webhook;
pub mod webhook_name;
