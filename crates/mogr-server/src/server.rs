//! Serving: open the store, build the app, accept connections with exact header spellings.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use http::{Extensions, Request};
use hyper_util::rt::TokioIo;
use mogr_store::{LocalStore, Store};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::body::TimedBody;
use crate::config::ServerConfig;
use crate::dispatch;
use crate::header_case;
use crate::state::AppState;

/// The axum app: every request goes to the COS dispatcher.
pub fn router(state: AppState) -> Router {
    Router::new().fallback(dispatch::handle).with_state(state)
}

/// Opens the local store under `cfg.data_dir` (off the runtime: it loads every bucket's
/// index) and starts aborting multipart uploads older than `cfg.multipart_expiry`.
pub async fn open_store(cfg: &ServerConfig) -> std::io::Result<Arc<dyn Store>> {
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

/// As [`serve`], returning once `shutdown` completes. Stops accepting at once; connections
/// already open finish their in-flight requests on their own tasks.
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

/// Serves an already-built state (any [`Store`] backend).
pub async fn serve_state(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let template = checked_template().await?;
    accept_loop(state, template, listener, shutdown).await
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
    let timeouts = state.config.body_timeouts;
    let app = router(state);
    tokio::pin!(shutdown);
    loop {
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
            () = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let (app, template) = (app.clone(), template.clone());
        let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
            let (app, template) = (app.clone(), template.clone());
            async move {
                // Every body is timed where it enters, so no handler can wait on a stalled
                // client for ever. When the client goes, hyper drops this future, and with it
                // any image job's cancellation guard.
                let req = req.map(|b| axum::body::Body::new(TimedBody::new(b, timeouts)));
                let mut res = app.oneshot(req).await?;
                // Outermost, so axum's own responses carry the spellings too.
                res.extensions_mut().extend(template);
                Ok::<_, Infallible>(res)
            }
        });
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            let conn = header_case::configure_http1(&mut builder)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
