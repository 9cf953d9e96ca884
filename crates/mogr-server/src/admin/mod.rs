//! The admin listener: `/metrics`, `/health`, `/ready` and the playground, on an address of
//! their own (loopback by default), so no admin path can shadow a bucket or key on the public
//! port or be reached from where the object API is published.

mod playground;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::state::AppState;
use crate::telemetry::metrics::prometheus;

/// How long `/ready` waits for the store before calling it unavailable.
const STORE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the admin handlers reach.
#[derive(Clone)]
pub struct AdminState {
    /// The public server's state (store, settings, lifecycle).
    pub app: AppState,
    /// Where the public port listens (the playground's default endpoint).
    pub public: SocketAddr,
}

/// The admin routes.
pub fn router(app: AppState, public: SocketAddr) -> Router {
    // Installs the recorder if the embedding program has not, so /metrics is never stale.
    let _ = prometheus();
    Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .merge(playground::routes())
        .with_state(AdminState { app, public })
}

/// Serves the admin routes on `listener` until `shutdown` completes.
pub async fn serve(
    app: AppState,
    public: SocketAddr,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app, public))
        .with_graceful_shutdown(shutdown)
        .await
}

/// `/metrics`: the Prometheus text exposition.
async fn metrics() -> Response {
    let mut res = prometheus().render().into_response();
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    no_store(res)
}

/// `/health`: the process is up and serving HTTP.
async fn health() -> Response {
    no_store((StatusCode::OK, "ok\n").into_response())
}

/// `/ready`: 200 while the store answers and the server is not shutting down, else 503.
async fn ready(State(admin): State<AdminState>) -> Response {
    let app = &admin.app;
    let answer = if app.lifecycle.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
    } else {
        match tokio::time::timeout(STORE_PROBE_TIMEOUT, probe_store(app)).await {
            Ok(Ok(())) => (StatusCode::OK, "ready\n"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness probe: the store failed");
                (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
            }
            Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store not answering\n"),
        }
    };
    no_store(answer.into_response())
}

/// The store lists its buckets, and the data folder's filesystem answers (a hung or
/// unmounted disk shows here before requests fail on it).
async fn probe_store(app: &AppState) -> std::io::Result<()> {
    app.store
        .list_buckets()
        .await
        .map_err(std::io::Error::other)?;
    tokio::fs::metadata(&app.config.data_dir).await.map(|_| ())
}

/// Marks a response as not cacheable: probes and scrapes must see the present.
fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
