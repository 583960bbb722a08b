//! Settings, layered: built-in defaults, then a TOML file (`--config`), then
//! `HOOKCAST_*` environment variables. Later layers win, setting by setting.
//!
//! Every setting is read as text from its layer and parsed by the same function, so a
//! file and the environment accept exactly the same values.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

use crate::domain::alertmanager::TypeRules;
use crate::domain::catalog::Catalog;
use crate::domain::duration_text::parse_duration;
use crate::domain::retry::{DEFAULT_RETRY_SCHEDULE, RetrySchedule};
use crate::domain::secret::Secret;
use crate::domain::time_zone::{DEFAULT_TIME_ZONE, DisplayZone};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./hookcast-data";

/// Everything `hookcast serve` needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address the API and console listen on.
    pub listen: SocketAddr,
    /// Holds the SQLite database, the secret-sealing key and the generated admin token.
    pub data_dir: PathBuf,
    /// `sqlite://…`; defaults to `hookcast.db` in the data directory.
    pub database_url: String,
    /// Fixed admin token; when absent one is generated into the data directory.
    pub admin_token: Option<Secret>,
    /// Base64 of the 32-byte key that seals secrets at rest; when absent the key file
    /// in the data directory is used (and created).
    pub secret_key: Option<Secret>,
    /// fsync every commit (survives power loss) rather than only a process crash.
    pub fsync: bool,
    /// What this node does: serve the API, deliver, or both.
    pub role: Role,
    /// Succeeded deliveries (and old attempt bodies) are deleted after this many days.
    pub retention_days: u32,
    /// Log lines as text for people or as JSON objects for collectors.
    pub log_format: LogFormat,
    /// Which catalog type an Alertmanager alert becomes, by its `alertname`.
    pub alertmanager_types: TypeRules,
    pub delivery: DeliverySettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(raw: &str) -> Result<LogFormat, String> {
        match raw.trim() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("must be text or json, not `{other}`")),
        }
    }
}

/// What a node runs. Several `api` and `worker` nodes can share one PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    All,
    Api,
    Worker,
}

impl Role {
    pub fn parse(raw: &str) -> Result<Role, String> {
        match raw {
            "all" => Ok(Role::All),
            "api" => Ok(Role::Api),
            "worker" => Ok(Role::Worker),
            other => Err(format!("must be all, api or worker, not `{other}`")),
        }
    }

    pub fn serves_api(self) -> bool {
        self != Role::Worker
    }

    pub fn delivers(self) -> bool {
        self != Role::Api
    }
}

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Private, loopback or link-local networks targets may use; empty = none.
    pub allowed_cidrs: Vec<IpNet>,
    pub retry_schedule: RetrySchedule,
    /// Deadline of one attempt when the webhook sets none.
    pub default_timeout: Duration,
    /// Attempts in flight at once, over all webhooks.
    pub max_in_flight: usize,
    /// Attempts in flight at once to one webhook: a slow receiver holds at most this
    /// many slots, the rest stay free for the others.
    pub max_in_flight_per_webhook: usize,
    /// A webhook whose deliveries have failed without a success for this long is disabled.
    pub disable_after: Duration,
    /// Times in messages are shown in this zone.
    pub time_zone: DisplayZone,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            allowed_cidrs: Vec::new(),
            retry_schedule: RetrySchedule::default(),
            default_timeout: Duration::from_secs(15),
            max_in_flight: 256,
            max_in_flight_per_webhook: 16,
            disable_after: Duration::from_secs(5 * 86_400),
            time_zone: DisplayZone::default(),
        }
    }
}

/// (file key, environment variable, default, description) of every setting.
pub const SETTINGS: &[(&str, &str, &str, &str)] = &[
    (
        "listen",
        "HOOKCAST_LISTEN",
        DEFAULT_LISTEN,
        "address the API and console listen on",
    ),
    (
        "data_dir",
        "HOOKCAST_DATA_DIR",
        DEFAULT_DATA_DIR,
        "database, sealing key and admin token",
    ),
    (
        "database_url",
        "HOOKCAST_DATABASE_URL",
        "sqlite://<data_dir>/hookcast.db",
        "the database",
    ),
    (
        "admin_token",
        "HOOKCAST_ADMIN_TOKEN",
        "generated into <data_dir>/admin-token",
        "admin API token",
    ),
    (
        "secret_key",
        "HOOKCAST_SECRET_KEY",
        "generated into <data_dir>/secret.key",
        "base64 key sealing credentials",
    ),
    (
        "fsync",
        "HOOKCAST_FSYNC",
        "true",
        "fsync each commit: survive power loss, not only a crash",
    ),
    (
        "role",
        "HOOKCAST_ROLE",
        "all",
        "all, api (no delivery) or worker (delivery and health probes only)",
    ),
    (
        "retention_days",
        "HOOKCAST_RETENTION_DAYS",
        "30",
        "delete succeeded deliveries older than this many days",
    ),
    (
        "log_format",
        "HOOKCAST_LOG_FORMAT",
        "text",
        "log lines as text or as one JSON object each (json)",
    ),
    (
        "alertmanager_types",
        "HOOKCAST_ALERTMANAGER_TYPES",
        "",
        "Alertmanager alertname=type rules, comma-separated; others become alarm.prometheus",
    ),
    (
        "allowed_cidrs",
        "HOOKCAST_ALLOWED_CIDRS",
        "",
        "private networks targets may use, comma-separated",
    ),
    (
        "retry_schedule",
        "HOOKCAST_RETRY_SCHEDULE",
        DEFAULT_RETRY_SCHEDULE,
        "delays between attempts",
    ),
    (
        "default_timeout",
        "HOOKCAST_DEFAULT_TIMEOUT",
        "15s",
        "deadline of one attempt",
    ),
    (
        "max_in_flight",
        "HOOKCAST_MAX_IN_FLIGHT",
        "256",
        "attempts in flight at once",
    ),
    (
        "max_in_flight_per_webhook",
        "HOOKCAST_MAX_IN_FLIGHT_PER_WEBHOOK",
        "16",
        "attempts in flight to one webhook",
    ),
    (
        "disable_after",
        "HOOKCAST_DISABLE_AFTER",
        "5d",
        "disable a webhook failing this long",
    ),
    (
        "time_zone",
        "HOOKCAST_TIME_ZONE",
        DEFAULT_TIME_ZONE,
        "time zone of times in messages",
    ),
];

/// A settings file with every setting, its environment variable and its default:
/// what `hookcast config print-default` prints. Settings whose default is made at
/// start (the database path, the generated token and key) are shown commented out.
pub fn default_file() -> String {
    let mut text = String::from(
        "# hookcast settings (TOML). Each setting is shown at its default.\n\
         # Pass the file with `hookcast serve --config FILE`; a HOOKCAST_* environment\n\
         # variable overrides the same setting here.\n",
    );
    for (key, env, default, description) in SETTINGS {
        text.push_str(&format!("\n# {description} ({env})\n"));
        if default.contains('<') {
            let example = match *key {
                "database_url" => "postgres://hookcast@127.0.0.1:5432/hookcast",
                "secret_key" => "<base64 of 32 random bytes>",
                _ => "<a long random string>",
            };
            text.push_str(&format!("# default: {default}\n# {key} = \"{example}\"\n"));
        } else {
            text.push_str(&format!("{key} = {}\n", toml_value(key, default)));
        }
    }
    text
}

/// The default as TOML: lists, booleans and numbers bare, the rest quoted.
fn toml_value(key: &str, default: &str) -> String {
    if key == "alertmanager_types" {
        "[]".to_string()
    } else if key == "allowed_cidrs" {
        let items: Vec<String> = parse_cidrs(default)
            .unwrap_or_default()
            .iter()
            .map(|net| format!("\"{net}\""))
            .collect();
        format!("[{}]", items.join(", "))
    } else if matches!(default, "true" | "false") || default.parse::<u64>().is_ok() {
        default.to_string()
    } else {
        toml::Value::String(default.to_string()).to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("setting `{setting}` ({env}) is not valid: {message}")]
    Invalid {
        setting: &'static str,
        env: &'static str,
        message: String,
    },
}

impl Settings {
    /// Loads from the optional file and the process environment.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, ConfigError> {
        Settings::load_from(config_file, |name| std::env::var(name).ok())
    }

    /// Loads with an explicit environment lookup, so tests need not touch the
    /// process environment.
    pub fn load_from(
        config_file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let file = match config_file {
            Some(path) => read_file(path)?,
            None => BTreeMap::new(),
        };
        let layers = Layers { file, env: &env };

        let listen = layers.parse("listen", |raw| {
            raw.parse::<SocketAddr>()
                .map_err(|e| format!("`{raw}` is not an address like 127.0.0.1:8080: {e}"))
        })?;
        let data_dir = layers.parse("data_dir", |raw| Ok(PathBuf::from(raw)))?;
        let database_url = match layers.text("database_url") {
            Some(url) => url,
            None => format!("sqlite://{}", data_dir.join("hookcast.db").display()),
        };
        if !database_url.starts_with("sqlite:") && !crate::store::is_postgres(&database_url) {
            return Err(invalid(
                "database_url",
                "must start with `sqlite:` or `postgres://`".into(),
            ));
        }
        let delivery = DeliverySettings {
            allowed_cidrs: layers.parse("allowed_cidrs", parse_cidrs)?,
            retry_schedule: layers.parse("retry_schedule", RetrySchedule::parse)?,
            default_timeout: layers.parse("default_timeout", parse_duration)?,
            max_in_flight: layers.parse("max_in_flight", parse_count)?,
            max_in_flight_per_webhook: layers.parse("max_in_flight_per_webhook", parse_count)?,
            disable_after: layers.parse("disable_after", parse_duration)?,
            time_zone: layers.parse("time_zone", DisplayZone::parse)?,
        };
        Ok(Settings {
            listen,
            data_dir,
            database_url,
            admin_token: layers.text("admin_token").map(Secret::new),
            secret_key: layers.text("secret_key").map(Secret::new),
            fsync: layers.parse("fsync", parse_bool)?,
            role: layers.parse("role", Role::parse)?,
            retention_days: layers.parse("retention_days", |raw| {
                raw.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|days| *days >= 1)
                    .ok_or_else(|| format!("`{raw}` must be a whole number of days, at least 1"))
            })?,
            log_format: layers.parse("log_format", LogFormat::parse)?,
            alertmanager_types: layers.parse("alertmanager_types", |raw| {
                TypeRules::parse(raw, Catalog::builtin())
            })?,
            delivery,
        })
    }

    pub fn admin_token_path(&self) -> PathBuf {
        self.data_dir.join("admin-token")
    }

    pub fn secret_key_path(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }
}

struct Layers<'a, E: Fn(&str) -> Option<String>> {
    file: BTreeMap<String, String>,
    env: &'a E,
}

impl<E: Fn(&str) -> Option<String>> Layers<'_, E> {
    /// The environment's text, else the file's; `None` when neither sets it.
    fn text(&self, key: &str) -> Option<String> {
        let (_, env_name, _, _) = spec(key);
        (self.env)(env_name)
            .filter(|value| !value.is_empty())
            .or_else(|| self.file.get(key).cloned())
    }

    fn parse<T>(
        &self,
        key: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let (_, _, default, _) = spec(key);
        let raw = self.text(key).unwrap_or_else(|| default.to_string());
        parse(&raw).map_err(|message| invalid(key, message))
    }
}

fn spec(key: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    *SETTINGS
        .iter()
        .find(|(name, ..)| *name == key)
        .expect("every setting is listed in SETTINGS")
}

fn invalid(key: &'static str, message: String) -> ConfigError {
    let (setting, env, _, _) = spec(key);
    ConfigError::Invalid {
        setting,
        env,
        message,
    }
}

fn parse_cidrs(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| format!("`{part}` is not a CIDR like 10.0.0.0/8"))
        })
        .collect()
}

fn parse_count(raw: &str) -> Result<usize, String> {
    match raw.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{raw}` must be a whole number of at least 1")),
    }
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("`{raw}` must be true or false")),
    }
}

/// Reads the TOML file into text values; a list becomes comma-separated text.
fn read_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let parse_error = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| parse_error(e.to_string()))?;
    let mut values = BTreeMap::new();
    for (key, value) in table {
        if !SETTINGS.iter().any(|(name, ..)| *name == key) {
            return Err(parse_error(format!("unknown setting `{key}`")));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| item.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        values.insert(key, text);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_apply_without_file_or_environment() {
        let settings = Settings::load_from(None, env_of(&[])).unwrap();
        assert_eq!(settings.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(settings.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(
            settings.database_url,
            "sqlite://./hookcast-data/hookcast.db"
        );
        assert!(settings.admin_token.is_none());
        assert!(settings.fsync);
        assert!(settings.delivery.allowed_cidrs.is_empty());
        assert_eq!(
            settings.delivery.retry_schedule.to_string(),
            DEFAULT_RETRY_SCHEDULE
        );
        assert_eq!(settings.delivery.time_zone.label(), "UTC+08:00");
    }

    #[test]
    fn environment_beats_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hookcast.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/hc\"\nallowed_cidrs = [\"10.0.0.0/8\", \"127.0.0.1\"]\nmax_in_flight = 32\nfsync = false\n",
        )
        .unwrap();

        let from_file = Settings::load_from(Some(&file), env_of(&[])).unwrap();
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(from_file.database_url, "sqlite:///srv/hc/hookcast.db");
        assert_eq!(from_file.delivery.allowed_cidrs.len(), 2);
        assert_eq!(from_file.delivery.max_in_flight, 32);
        assert!(!from_file.fsync);

        let from_env = Settings::load_from(
            Some(&file),
            env_of(&[
                ("HOOKCAST_LISTEN", "0.0.0.0:7000"),
                ("HOOKCAST_ADMIN_TOKEN", "tok"),
                ("HOOKCAST_RETRY_SCHEDULE", "1s,2s"),
            ]),
        )
        .unwrap();
        assert_eq!(from_env.listen.port(), 7000);
        assert_eq!(from_env.data_dir, PathBuf::from("/srv/hc"));
        assert_eq!(from_env.admin_token.unwrap().expose(), "tok");
        assert_eq!(from_env.delivery.retry_schedule.max_attempts(), 3);
    }

    #[test]
    fn the_default_file_loads_to_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hookcast.toml");
        let text = default_file();
        std::fs::write(&file, &text).unwrap();
        let from_file = Settings::load_from(Some(&file), env_of(&[])).unwrap();
        let builtin = Settings::load_from(None, env_of(&[])).unwrap();
        assert_eq!(format!("{from_file:?}"), format!("{builtin:?}"));
        // Every setting is in it, set or (made at start) commented out.
        for (key, env, ..) in SETTINGS {
            assert!(text.contains(&format!("{key} = ")), "{key} missing");
            assert!(text.contains(env), "{env} missing");
        }
        assert!(text.contains("fsync = true\n"), "{text}");
        assert!(text.contains("max_in_flight = 256\n"), "{text}");
        assert!(text.contains("allowed_cidrs = []\n"), "{text}");
    }

    #[test]
    fn bad_values_and_unknown_keys_name_the_setting() {
        for (name, value) in [
            ("HOOKCAST_LISTEN", "nowhere"),
            ("HOOKCAST_ALLOWED_CIDRS", "10.0.0.0/33"),
            ("HOOKCAST_RETRY_SCHEDULE", "5 minutes"),
            ("HOOKCAST_MAX_IN_FLIGHT", "0"),
            ("HOOKCAST_TIME_ZONE", "Mars"),
            ("HOOKCAST_FSYNC", "maybe"),
            ("HOOKCAST_LOG_FORMAT", "xml"),
            (
                "HOOKCAST_ALERTMANAGER_TYPES",
                "HostDown=dr.host.disconnected",
            ),
        ] {
            let err = Settings::load_from(None, env_of(&[(name, value)])).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hookcast.toml");
        std::fs::write(&file, "listne = \"127.0.0.1:9000\"\n").unwrap();
        let err = Settings::load_from(Some(&file), env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
    }
}
