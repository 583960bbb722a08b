//! Sealing secrets at rest with XChaCha20-Poly1305.
//!
//! Each sealed value carries its own random 24-byte nonce (large enough that random
//! nonces never repeat in practice) and is bound to the row it belongs to through the
//! associated data, so a sealed value copied into another row does not open.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::domain::secret::Secret;
use crate::fs_util::create_private_file;

const VERSION_PREFIX: &str = "v1.";
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the secret key must be base64 of {KEY_LEN} bytes")]
    BadKey,
    #[error("cannot read or create the secret key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("a sealed value is damaged or was sealed with another key")]
    Open,
}

/// Seals and opens secrets with the installation's key.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// Uses the configured key, else the key file at `path`, creating it (0600) with a
    /// fresh random key the first time.
    pub fn load_or_create(configured: Option<&Secret>, path: &Path) -> Result<Sealer, SealError> {
        let key_file_error = |source| SealError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        let encoded = match configured {
            Some(key) => key.expose().to_string(),
            None => match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let mut key = [0u8; KEY_LEN];
                    rand::fill(&mut key);
                    let encoded = STANDARD.encode(key);
                    let mut file = create_private_file(path).map_err(key_file_error)?;
                    file.write_all(encoded.as_bytes()).map_err(key_file_error)?;
                    file.sync_all().map_err(key_file_error)?;
                    encoded
                }
                Err(e) => return Err(key_file_error(e)),
            },
        };
        Sealer::from_base64(encoded.trim())
    }

    pub fn from_base64(encoded: &str) -> Result<Sealer, SealError> {
        let key = STANDARD.decode(encoded).map_err(|_| SealError::BadKey)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&key).map_err(|_| SealError::BadKey)?;
        Ok(Sealer { cipher })
    }

    /// Seals `plaintext`, bound to `context` (the owning row's id).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let mut nonce_bytes = [0u8; NONCE_LEN];
        rand::fill(&mut nonce_bytes);
        let nonce = XNonce::from(nonce_bytes);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory inputs");
        let mut sealed = nonce_bytes.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{VERSION_PREFIX}{}", STANDARD.encode(sealed))
    }

    /// Opens what [`Sealer::seal`] made for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let bytes = sealed
            .strip_prefix(VERSION_PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|bytes| bytes.len() > NONCE_LEN)
            .ok_or(SealError::Open)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| SealError::Open)?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let sealer = Sealer::load_or_create(None, &path).unwrap();
        let sealed = sealer.seal(b"hunter2", "wh_1");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(sealer.open(&sealed, "wh_1").unwrap(), b"hunter2");
        assert!(sealer.open(&sealed, "wh_2").is_err());

        // The same file gives the same key; another key does not open the value.
        let again = Sealer::load_or_create(None, &path).unwrap();
        assert_eq!(again.open(&sealed, "wh_1").unwrap(), b"hunter2");
        let other = Sealer::load_or_create(None, &dir.path().join("other.key")).unwrap();
        assert!(other.open(&sealed, "wh_1").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        Sealer::load_or_create(None, &path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_configured_key_must_be_32_bytes() {
        assert!(Sealer::from_base64("c2hvcnQ=").is_err());
        assert!(Sealer::from_base64("not base64!").is_err());
    }
}
