//! Serving: open the store, build the app, accept connections with exact header spellings.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use http::Extensions;
use mogr_store::s3::S3Store;
use mogr_store::{LocalStore, Store};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::config::{ServerConfig, StoreBackend};
use crate::connection::{self, ConnectionSettings};
use crate::dispatch;
use crate::header_case;
use crate::state::AppState;
use crate::telemetry::{self, RequestLogLayer};

/// The axum app: every request goes to the COS dispatcher, logged and measured.
pub fn router(state: AppState) -> Router {
    Router::new()
        .fallback(dispatch::handle)
        .layer(RequestLogLayer)
        .with_state(state)
}

/// Opens the configured backend: the only place that chooses one.
pub async fn open_store(cfg: &ServerConfig) -> std::io::Result<Arc<dyn Store>> {
    match &cfg.backend {
        StoreBackend::Local => open_local_store(cfg).await,
        StoreBackend::S3(s3) => {
            let store = S3Store::open(s3.clone())
                .await
                .map_err(std::io::Error::other)?;
            Ok(Arc::new(store))
        }
    }
}

/// Opens the local store under `cfg.data_dir` (off the runtime: it loads every bucket's
/// index) and starts aborting multipart uploads older than `cfg.multipart_expiry`.
async fn open_local_store(cfg: &ServerConfig) -> std::io::Result<Arc<dyn Store>> {
    let root = cfg.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || LocalStore::open(root))
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)?;
    let store = Arc::new(store);
    if let Some(age) = cfg.multipart_expiry {
        // Ends by itself once the store is dropped.
        drop(store.spawn_upload_expiry(age));
    }
    Ok(store)
}

/// Serves forever on `listener` with the local store in `cfg.data_dir`.
pub async fn serve(cfg: ServerConfig, listener: TcpListener) -> std::io::Result<()> {
    serve_with_shutdown(cfg, listener, std::future::pending()).await
}

/// As [`serve`], returning once `shutdown` completes and the connections have drained: stops
/// accepting at once, lets requests in flight finish for up to `cfg.shutdown_timeout`, then
/// drops what is left.
pub async fn serve_with_shutdown(
    cfg: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let store = open_store(&cfg).await?;
    serve_state(AppState::new(cfg, store), listener, shutdown).await
}

/// Binds `cfg.listen` (port 0 picks one), then serves in a background task.
/// Returns the bound address; for tests and embedding.
pub async fn spawn(
    cfg: ServerConfig,
) -> std::io::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let listener = TcpListener::bind(cfg.listen).await?;
    let store = open_store(&cfg).await?;
    spawn_on(AppState::new(cfg, store), listener).await
}

/// As [`spawn`], with an already-built state on `state.config.listen`, so the caller can keep
/// a handle on it (tests read the image processor's counters).
pub async fn spawn_state(
    state: AppState,
) -> std::io::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let listener = TcpListener::bind(state.config.listen).await?;
    spawn_on(state, listener).await
}

async fn spawn_on(
    state: AppState,
    listener: TcpListener,
) -> std::io::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let addr = listener.local_addr()?;
    let template = checked_template().await?;
    let handle = tokio::spawn(accept_loop(
        state,
        template,
        listener,
        std::future::pending(),
    ));
    Ok((addr, handle))
}

/// Serves `state` on `listener` and, when given, the admin endpoints on `admin` until
/// `shutdown` completes and the public port has drained. The admin listener keeps answering
/// while the public port drains (so `/ready` can report it), then stops.
pub async fn serve_with_admin(
    state: AppState,
    listener: TcpListener,
    admin: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let public = listener.local_addr()?;
    if admin.is_some() {
        // Before the first connection: a gauge raised before the recorder exists would be
        // lowered after it, and read negative.
        let _ = telemetry::metrics::prometheus();
    }
    let admin_stop = CancellationToken::new();
    let admin_task = admin.map(|admin| {
        let stop = admin_stop.clone();
        tokio::spawn(crate::admin::serve(
            state.clone(),
            public,
            admin,
            stop.cancelled_owned(),
        ))
    });
    let served = serve_state(state, listener, shutdown).await;
    admin_stop.cancel();
    if let Some(task) = admin_task {
        // A browser's kept-alive connection must not hold the exit up.
        if let Ok(Ok(Err(e))) = tokio::time::timeout(Duration::from_secs(2), task).await {
            tracing::warn!(error = %e, "admin listener failed");
        }
    }
    served
}

/// Serves an already-built state (any [`Store`] backend).
pub async fn serve_state(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let template = checked_template().await?;
    accept_loop(state, template, listener, shutdown).await
}

/// A connection's place under `max_connections` and in the open-connections gauge, both
/// given back when the connection's task ends or is dropped.
struct OpenConnection {
    _slot: OwnedSemaphorePermit,
    open: metrics::Gauge,
}

impl OpenConnection {
    fn new(slot: OwnedSemaphorePermit) -> OpenConnection {
        metrics::counter!(telemetry::metrics::CONNECTIONS_ACCEPTED).increment(1);
        let open = metrics::gauge!(telemetry::metrics::CONNECTIONS_OPEN);
        open.increment(1.0);
        OpenConnection { _slot: slot, open }
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.open.decrement(1.0);
    }
}

/// The header-case template, refusing to start if hyper no longer honours it.
async fn checked_template() -> std::io::Result<Extensions> {
    let template = header_case::case_template()
        .await
        .map_err(std::io::Error::other)?;
    header_case::self_check(&template)
        .await
        .map_err(std::io::Error::other)?;
    Ok(template)
}

async fn accept_loop(
    state: AppState,
    template: Extensions,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let cfg = Arc::clone(&state.config);
    let lifecycle = Arc::clone(&state.lifecycle);
    let settings = ConnectionSettings {
        app: router(state),
        template,
        body_timeouts: cfg.body_timeouts,
        limits: cfg.connections,
    };
    // Past the limit, connections wait in the kernel's accept queue rather than being refused.
    let slots = Arc::new(Semaphore::new(
        cfg.connections
            .max_connections
            .clamp(1, Semaphore::MAX_PERMITS),
    ));
    let drain = CancellationToken::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Running out of file descriptors must not end the server.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            () = &mut shutdown => break,
        };
        let open = OpenConnection::new(slot);
        let (settings, drain) = (settings.clone(), drain.clone());
        connections.spawn(async move {
            connection::serve(stream, peer, settings, drain).await;
            drop(open);
        });
    }
    // Draining: no new connections; each open one finishes the request it is serving and
    // closes. Past the timeout the rest are dropped, which drops their requests' futures: an
    // upload cut off that way removes its staged file and never becomes an object.
    drop(listener);
    lifecycle.begin_drain();
    drain.cancel();
    tracing::info!(
        connections = connections.len(),
        timeout_secs = cfg.shutdown_timeout.as_secs_f64(),
        "shutting down: finishing requests in flight"
    );
    let drained = tokio::time::timeout(cfg.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "shutdown timeout reached: closing connections with requests still in flight"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
    Ok(())
}
