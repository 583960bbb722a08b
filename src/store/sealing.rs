//! Sealing secrets at rest with XChaCha20-Poly1305.
//!
//! Each sealed value carries its own random 24-byte nonce (large enough that random
//! nonces never repeat in practice) and is bound to the row it belongs to through the
//! associated data, so a sealed value copied into another row does not open.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::domain::secret::Secret;
use crate::fs_util::create_private_file;

/// Sealed before key ids existed: opened by trying each key.
const V1_PREFIX: &str = "v1.";
/// `v2.<key id>.<base64 of nonce and ciphertext>`.
const V2_PREFIX: &str = "v2.";
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
/// How often a server looks whether the key file changed (a rotation by
/// `hookcast keys rotate` on this machine): it seals with the new key within this.
pub const KEY_FILE_CHECK: Duration = Duration::from_secs(2);

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

struct Key {
    /// The first 8 hex digits of the key's SHA-256: names the key in sealed values
    /// without saying anything about it.
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The keys in use: the first seals, all of them open.
struct Ring {
    keys: Vec<Arc<Key>>,
}

impl Ring {
    /// One key per line (or comma-separated), the current one first.
    fn parse(encoded: &str) -> Result<Ring, SealError> {
        let keys = encoded
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|k| !k.is_empty())
            .map(|k| key_from_base64(k).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SealError::BadKey);
        }
        Ok(Ring { keys })
    }
}

fn key_from_base64(encoded: &str) -> Result<Key, SealError> {
    let bytes = STANDARD.decode(encoded).map_err(|_| SealError::BadKey)?;
    let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| SealError::BadKey)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let id = digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Key { id, cipher })
}

/// Where the keys came from, to see a rotation.
struct KeyFile {
    path: PathBuf,
    modified: Option<FileStamp>,
    checked: Instant,
}

/// Seals and opens secrets with the installation's keys.
pub struct Sealer {
    ring: RwLock<Ring>,
    /// Set when the keys come from a file (not from the settings).
    file: Option<Mutex<KeyFile>>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// Uses the configured keys, else the key file at `path`, creating it (0600) with
    /// a fresh random key the first time.
    pub fn load_or_create(configured: Option<&Secret>, path: &Path) -> Result<Sealer, SealError> {
        if let Some(keys) = configured {
            return Sealer::from_base64(keys.expose());
        }
        let key_file_error = |source| SealError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        let encoded = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let encoded = new_key();
                let mut file = create_private_file(path).map_err(key_file_error)?;
                file.write_all(encoded.as_bytes()).map_err(key_file_error)?;
                file.sync_all().map_err(key_file_error)?;
                encoded
            }
            Err(e) => return Err(key_file_error(e)),
        };
        Ok(Sealer {
            ring: RwLock::new(Ring::parse(&encoded)?),
            file: Some(Mutex::new(KeyFile {
                path: path.to_path_buf(),
                modified: modified(path),
                checked: Instant::now(),
            })),
        })
    }

    /// One key, or several separated by commas (the first seals, all open).
    pub fn from_base64(encoded: &str) -> Result<Sealer, SealError> {
        Ok(Sealer {
            ring: RwLock::new(Ring::parse(encoded)?),
            file: None,
        })
    }

    /// The id of the key that seals now.
    pub fn current_key_id(&self) -> String {
        self.ring.read().expect("ring lock").keys[0].id.clone()
    }

    /// Seals `plaintext`, bound to `context` (the owning row's id).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        self.notice_rotation(false);
        let key = self.ring.read().expect("ring lock").keys[0].clone();
        let mut nonce_bytes = [0u8; NONCE_LEN];
        rand::fill(&mut nonce_bytes);
        let nonce = XNonce::from(nonce_bytes);
        let ciphertext = key
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
        format!("{V2_PREFIX}{}.{}", key.id, STANDARD.encode(sealed))
    }

    /// Whether `sealed` was sealed with another key than the current one.
    pub fn needs_resealing(&self, sealed: &str) -> bool {
        let current = self.current_key_id();
        sealed
            .strip_prefix(V2_PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .is_none_or(|(id, _)| id != current)
    }

    /// Opens what [`Sealer::seal`] made for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        match self.try_open(sealed, context) {
            // Sealed with a key this process has not seen: a rotation may have added it.
            Err(SealError::Open) if self.notice_rotation(true) => self.try_open(sealed, context),
            result => result,
        }
    }

    fn try_open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let (key_id, encoded) = if let Some(rest) = sealed.strip_prefix(V2_PREFIX) {
            let (id, encoded) = rest.split_once('.').ok_or(SealError::Open)?;
            (Some(id), encoded)
        } else {
            (None, sealed.strip_prefix(V1_PREFIX).ok_or(SealError::Open)?)
        };
        let bytes = STANDARD
            .decode(encoded)
            .ok()
            .filter(|bytes| bytes.len() > NONCE_LEN)
            .ok_or(SealError::Open)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| SealError::Open)?;
        let ring = self.ring.read().expect("ring lock");
        ring.keys
            .iter()
            .filter(|key| key_id.is_none_or(|id| id == key.id))
            .find_map(|key| {
                key.cipher
                    .decrypt(
                        &nonce,
                        Payload {
                            msg: ciphertext,
                            aad: context.as_bytes(),
                        },
                    )
                    .ok()
            })
            .ok_or(SealError::Open)
    }

    /// Reads the key file again if it changed (looking at most every
    /// [`KEY_FILE_CHECK`] unless `now`); true if the keys changed.
    fn notice_rotation(&self, now: bool) -> bool {
        let Some(file) = &self.file else { return false };
        let mut file = file.lock().expect("key file lock");
        if !now && file.checked.elapsed() < KEY_FILE_CHECK {
            return false;
        }
        file.checked = Instant::now();
        let modified = modified(&file.path);
        if modified == file.modified {
            return false;
        }
        let Ok(ring) = std::fs::read_to_string(&file.path)
            .map_err(|_| SealError::BadKey)
            .and_then(|text| Ring::parse(&text))
        else {
            // A half-written or broken file: keep the keys in use.
            return false;
        };
        file.modified = modified;
        *self.ring.write().expect("ring lock") = ring;
        true
    }
}

/// A fresh random key, base64.
fn new_key() -> String {
    let mut key = [0u8; KEY_LEN];
    rand::fill(&mut key);
    STANDARD.encode(key)
}

/// What tells a rewritten key file from the one read: a rotation renames a new file
/// over it (a new inode), and the clock may not tick between two writes.
fn modified(path: &Path) -> Option<FileStamp> {
    let metadata = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Some(FileStamp {
        inode,
        len: metadata.len(),
        modified: metadata.modified().ok(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
}

/// Replaces the key file's keys with `keys` (current first), atomically: written to a
/// private temporary file beside it, synced, then renamed over it.
fn write_key_file(path: &Path, keys: &[String]) -> Result<(), SealError> {
    let key_file_error = |source| SealError::KeyFile {
        path: path.display().to_string(),
        source,
    };
    let temporary = path.with_extension("rotating");
    let _ = std::fs::remove_file(&temporary);
    let mut file = create_private_file(&temporary).map_err(key_file_error)?;
    file.write_all(keys.join("\n").as_bytes())
        .map_err(key_file_error)?;
    file.sync_all().map_err(key_file_error)?;
    std::fs::rename(&temporary, path).map_err(key_file_error)
}

/// Puts a new key first in the key file, keeping the others for opening; returns
/// the new key's id.
pub fn add_key(path: &Path) -> Result<String, SealError> {
    let text = std::fs::read_to_string(path).map_err(|source| SealError::KeyFile {
        path: path.display().to_string(),
        source,
    })?;
    Ring::parse(&text)?;
    let new = new_key();
    let id = key_from_base64(&new)?.id;
    let mut keys = vec![new];
    keys.extend(
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|k| !k.is_empty())
            .map(str::to_string),
    );
    write_key_file(path, &keys)?;
    Ok(id)
}

/// Keeps only the current (first) key in the key file.
pub fn retire_old_keys(path: &Path) -> Result<usize, SealError> {
    let text = std::fs::read_to_string(path).map_err(|source| SealError::KeyFile {
        path: path.display().to_string(),
        source,
    })?;
    let keys: Vec<String> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    write_key_file(path, &keys[..1])?;
    Ok(keys.len() - 1)
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
    fn a_rotation_seals_with_the_new_key_and_still_opens_the_old_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let before = Sealer::load_or_create(None, &path).unwrap();
        let old = before.seal(b"hunter2", "wh_1");
        let old_id = before.current_key_id();
        assert!(old.starts_with(&format!("v2.{old_id}.")));

        let new_id = add_key(&path).unwrap();
        assert_ne!(new_id, old_id);
        let after = Sealer::load_or_create(None, &path).unwrap();
        assert_eq!(after.current_key_id(), new_id);
        assert!(after.needs_resealing(&old));
        assert_eq!(after.open(&old, "wh_1").unwrap(), b"hunter2");
        let new = after.seal(b"hunter2", "wh_1");
        assert!(!after.needs_resealing(&new));

        // A process that loaded the old key alone opens the new value by reading the
        // file again.
        assert_eq!(before.open(&new, "wh_1").unwrap(), b"hunter2");

        assert_eq!(retire_old_keys(&path).unwrap(), 1);
        let retired = Sealer::load_or_create(None, &path).unwrap();
        assert!(retired.open(&old, "wh_1").is_err());
        assert_eq!(retired.open(&new, "wh_1").unwrap(), b"hunter2");
    }

    #[test]
    fn values_sealed_before_key_ids_still_open() {
        let sealer = Sealer::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
        let v2 = sealer.seal(b"x", "wh_1");
        let body = v2.splitn(3, '.').nth(2).unwrap();
        let v1 = format!("v1.{body}");
        assert_eq!(sealer.open(&v1, "wh_1").unwrap(), b"x");
        assert!(sealer.needs_resealing(&v1));
    }

    #[test]
    fn a_configured_key_must_be_32_bytes() {
        assert!(Sealer::from_base64("c2hvcnQ=").is_err());
        assert!(Sealer::from_base64("not base64!").is_err());
    }
}
