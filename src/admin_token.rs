//! The admin API token: given in the settings, or generated once into the data
//! directory (mode 0600) so the CLI on the same machine can find it.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::Settings;
use crate::domain::secret::Secret;
use crate::fs_util::create_private_file;

/// Where the token came from; a freshly generated one is shown to the operator once.
pub enum AdminToken {
    Configured(Secret),
    Stored(Secret),
    Generated(Secret),
}

impl AdminToken {
    pub fn secret(&self) -> &Secret {
        match self {
            AdminToken::Configured(s) | AdminToken::Stored(s) | AdminToken::Generated(s) => s,
        }
    }
}

/// Resolves the token for `serve`: the configured one, else the stored one, else a
/// new one written to `admin-token` in the data directory.
pub fn resolve(settings: &Settings) -> std::io::Result<AdminToken> {
    if let Some(token) = &settings.admin_token {
        return Ok(AdminToken::Configured(token.clone()));
    }
    let path = settings.admin_token_path();
    if let Some(token) = read_stored(&path)? {
        return Ok(AdminToken::Stored(token));
    }
    let token = generate();
    let mut file = create_private_file(&path)?;
    file.write_all(token.expose().as_bytes())?;
    file.sync_all()?;
    Ok(AdminToken::Generated(token))
}

/// Reads a stored token, if the file exists.
pub fn read_stored(path: &Path) -> std::io::Result<Option<Secret>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(Secret::new(text.trim()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn generate() -> Secret {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    Secret::new(format!("hc_{}", URL_SAFE_NO_PAD.encode(bytes)))
}
