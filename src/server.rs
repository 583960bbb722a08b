//! `hookcast serve`: opens the data directory and database, then serves until told to
//! stop.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::admin_token::{self, AdminToken};
use crate::api::{self, AppState};
use crate::config::Settings;
use crate::delivery::address_guard::AddressPolicy;
use crate::delivery::dispatcher::Dispatcher;
use crate::delivery::sender::Sender;
use crate::domain::catalog::Catalog;
use crate::fs_util::create_private_dir;
use crate::ingest::{Committer, IngestQueue};
use crate::metrics::Metrics;
use crate::retention;
use crate::store::{self, Sealer};

/// `hookcast migrate`: brings the database schema up to date and exits.
pub async fn migrate(settings: Settings) -> anyhow::Result<()> {
    create_private_dir(&settings.data_dir)?;
    let sealer = Sealer::load_or_create(settings.secret_key.as_ref(), &settings.secret_key_path())?;
    store::open(
        &settings.database_url,
        Arc::new(sealer),
        settings.fsync,
        Arc::new(Notify::new()),
    )
    .await
    .context("cannot migrate the database")?;
    println!("The database schema is up to date.");
    Ok(())
}

/// Binds the configured address and serves until SIGINT or SIGTERM.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    run(settings, listener, shutdown).await
}

/// Serves on `listener` until `shutdown` is cancelled, then lets requests in flight
/// finish. Tests call this with a port-0 listener and their own token.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    create_private_dir(&settings.data_dir).with_context(|| {
        format!(
            "cannot create data directory {}",
            settings.data_dir.display()
        )
    })?;
    let sealer = Sealer::load_or_create(settings.secret_key.as_ref(), &settings.secret_key_path())?;
    let wake = Arc::new(Notify::new());
    let store = store::open(
        &settings.database_url,
        Arc::new(sealer),
        settings.fsync,
        wake.clone(),
    )
    .await
    .with_context(|| "cannot open the database")?;
    let token = admin_token::resolve(&settings).context("cannot set up the admin token")?;
    announce_token(&token, &settings);

    let sender = Arc::new(Sender::new(AddressPolicy::new(
        settings.delivery.allowed_cidrs.clone(),
    )));
    let metrics = Arc::new(Metrics::new());
    let dispatcher = Dispatcher::new(
        store.clone(),
        sender.clone(),
        settings.delivery.clone(),
        Catalog::builtin(),
        metrics.clone(),
        wake.clone(),
    );
    let state = AppState {
        store: store.clone(),
        access: Arc::new(Access::new(store.clone(), token.secret())),
        catalog: Catalog::builtin(),
        wake: wake.clone(),
        sender,
        delivery: Arc::new(settings.delivery.clone()),
        ingest: IngestQueue::start(
            Committer {
                store: store.clone(),
                // Only a node that delivers takes new deliveries straight to its
                // dispatcher.
                dispatch: settings.role.delivers().then(|| dispatcher.handle()),
                wake: wake.clone(),
            },
            store::ingest_committers(&settings.database_url),
        ),
        metrics,
        alert_rules: Arc::new(settings.alertmanager_types.clone()),
    };
    if settings.role.serves_api()
        && let Err(error) = store.warm_ingest().await
    {
        // Ingest connects on its first events instead; nothing else depends on it.
        tracing::warn!(%error, "could not ready the ingest connections ahead of traffic");
    }
    let address = listener.local_addr()?;
    tracing::info!(%address, data_dir = %settings.data_dir.display(), role = ?settings.role, "hookcast is serving");
    if settings.role.delivers() {
        tokio::spawn(retention::run(
            store.clone(),
            settings.retention_days,
            shutdown.clone(),
        ));
    }
    let delivering = settings
        .role
        .delivers()
        .then(|| tokio::spawn(dispatcher.run(shutdown.clone())));
    let routes = if settings.role.serves_api() {
        api::router(state)
    } else {
        api::health_router(state)
    };
    // The client's address is kept for the authentication-failure throttle.
    let serving = axum::serve(
        listener,
        routes.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned())
    .await
    .context("HTTP server failed");
    // If serving failed, delivery must stop too before we return.
    shutdown.cancel();
    if let Some(delivering) = delivering {
        delivering.await.context("the dispatcher failed")?;
    }
    serving?;
    tracing::info!("hookcast stopped");
    Ok(())
}

/// A generated token is printed once, on the terminal, not in the log; afterwards
/// only its location is mentioned.
fn announce_token(token: &AdminToken, settings: &Settings) {
    let path = settings.admin_token_path();
    match token {
        AdminToken::Generated(secret) => println!(
            "Generated an admin API token. It is shown only this once and kept in {} (mode 0600):\n\n    {}\n",
            path.display(),
            secret.expose()
        ),
        AdminToken::Stored(_) => {
            tracing::info!(path = %path.display(), "using the stored admin token")
        }
        AdminToken::Configured(_) => tracing::info!("using the configured admin token"),
    }
}

/// Cancels `token` on the first SIGINT (Ctrl-C) or SIGTERM (systemd, Docker, kill).
async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
    token.cancel();
}
