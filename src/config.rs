//! Settings, layered: built-in defaults, then a TOML file (`--config`), then
//! `HOOKCAST_*` environment variables. Later layers win field by field.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::secret::Secret;

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
    /// in the data directory is used (and created). Several nodes sharing one
    /// database must share this key.
    pub secret_key: Option<Secret>,
}

/// The config file: every field optional, unknown keys refused (a typo must not
/// silently fall back to a default).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    admin_token: Option<Secret>,
    secret_key: Option<Secret>,
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
    #[error("setting `{setting}` is not valid: {message}")]
    Invalid {
        setting: &'static str,
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
            None => FileSettings::default(),
        };
        let env = |name: &str| env(name).filter(|value| !value.is_empty());

        let listen_text = env("HOOKCAST_LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = listen_text
            .parse::<SocketAddr>()
            .map_err(|e| ConfigError::Invalid {
                setting: "listen (HOOKCAST_LISTEN)",
                message: format!("`{listen_text}` is not an address like 127.0.0.1:8080: {e}"),
            })?;

        let data_dir = env("HOOKCAST_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));

        let database_url = env("HOOKCAST_DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| default_database_url(&data_dir));
        if !database_url.starts_with("sqlite:") {
            return Err(ConfigError::Invalid {
                setting: "database_url (HOOKCAST_DATABASE_URL)",
                message: "must start with `sqlite:`".into(),
            });
        }

        Ok(Settings {
            listen,
            data_dir,
            database_url,
            admin_token: env("HOOKCAST_ADMIN_TOKEN")
                .map(Secret::new)
                .or(file.admin_token),
            secret_key: env("HOOKCAST_SECRET_KEY")
                .map(Secret::new)
                .or(file.secret_key),
        })
    }

    pub fn admin_token_path(&self) -> PathBuf {
        self.data_dir.join("admin-token")
    }

    pub fn secret_key_path(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }
}

fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("hookcast.db").display())
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
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
    }

    #[test]
    fn environment_beats_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hookcast.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/hc\"\n",
        )
        .unwrap();

        let from_file = Settings::load_from(Some(&file), env_of(&[])).unwrap();
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(from_file.database_url, "sqlite:///srv/hc/hookcast.db");

        let from_env = Settings::load_from(
            Some(&file),
            env_of(&[
                ("HOOKCAST_LISTEN", "0.0.0.0:7000"),
                ("HOOKCAST_ADMIN_TOKEN", "tok"),
            ]),
        )
        .unwrap();
        assert_eq!(from_env.listen.port(), 7000);
        assert_eq!(from_env.data_dir, PathBuf::from("/srv/hc"));
        assert_eq!(from_env.admin_token.unwrap().expose(), "tok");
    }

    #[test]
    fn bad_values_and_unknown_keys_name_the_setting() {
        let err = Settings::load_from(None, env_of(&[("HOOKCAST_LISTEN", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("HOOKCAST_LISTEN"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hookcast.toml");
        std::fs::write(&file, "listne = \"127.0.0.1:9000\"\n").unwrap();
        let err = Settings::load_from(Some(&file), env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
    }
}
