//! `hookcast keys rotate`: a new key for the secrets at rest, without stopping.
//!
//! With the key file (the default): a new key goes first in the file, the old one
//! stays for opening; servers on this machine notice the file within
//! [`KEY_FILE_CHECK`] and seal with the new key from then on, and open values sealed
//! with it by reading the file again. Then every stored secret is sealed again with
//! the new key and the old key leaves the file.
//!
//! With keys in the settings (`secret_key`, comma-separated, the current one first),
//! the operator has already put the new key first on every node; this re-seals.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;

use crate::config::Settings;
use crate::store::sealing::{KEY_FILE_CHECK, add_key, retire_old_keys};
use crate::store::{self, Sealer};

pub async fn rotate(settings: Settings) -> anyhow::Result<()> {
    let path = settings.secret_key_path();
    if settings.secret_key.is_none() {
        let id = add_key(&path).context("cannot add a new key to the key file")?;
        println!(
            "Added key {id} to {}; servers on this machine seal with it within {} s.",
            path.display(),
            KEY_FILE_CHECK.as_secs()
        );
        // Let running servers notice before their values are sealed again, so none
        // keeps sealing with the old key afterwards.
        tokio::time::sleep(KEY_FILE_CHECK + std::time::Duration::from_secs(1)).await;
    }
    let sealer = Arc::new(Sealer::load_or_create(settings.secret_key.as_ref(), &path)?);
    let store = store::open(
        &settings.database_url,
        sealer.clone(),
        settings.fsync,
        Arc::new(Notify::new()),
    )
    .await
    .context("cannot open the database")?;
    let resealed = store
        .reseal_secrets()
        .await
        .context("cannot seal the stored secrets again; the old key stays, run it again")?;
    println!(
        "Sealed {resealed} stored secret(s) again with key {}.",
        sealer.current_key_id()
    );
    if settings.secret_key.is_none() {
        let retired = retire_old_keys(&path).context("cannot remove the old key")?;
        println!("Removed {retired} old key(s) from {}.", path.display());
    } else {
        println!(
            "Keys come from the settings: once every node runs with the new key first, \
             the old ones can be removed from secret_key."
        );
    }
    Ok(())
}
