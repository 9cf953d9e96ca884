//! The web playground: static files embedded in the binary, and the one fact the page cannot
//! know by itself, where the public object API listens.
//!
//! The page talks to the public port directly (a cross-origin request from the admin
//! origin): GETs are presigned and so "simple" CORS requests; PUTs are preflighted, and the
//! public port's `OPTIONS` answer allows every origin, method and header it needs.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::AdminState;

/// The page may load only its own files, and may send requests anywhere (the public
/// endpoint is typed in by the user).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' blob: data:; \
connect-src *; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("assets/index.html");
const PLAYGROUND_JS: &str = include_str!("assets/playground.js");
const COS_SIGN_JS: &str = include_str!("assets/cos-sign.js");
const OPS_JS: &str = include_str!("assets/ops.js");
const PLAYGROUND_CSS: &str = include_str!("assets/playground.css");

/// The playground's routes.
pub fn routes() -> Router<AdminState> {
    Router::new()
        .route(
            "/",
            get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/playground.js",
            get(|| async { asset(PLAYGROUND_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/cos-sign.js",
            get(|| async { asset(COS_SIGN_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/ops.js",
            get(|| async { asset(OPS_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/playground.css",
            get(|| async { asset(PLAYGROUND_CSS, "text/css; charset=utf-8") }),
        )
        .route("/config.json", get(page_config))
}

/// What the page needs to reach the object API.
#[derive(Debug, serde::Serialize)]
struct PageConfig {
    /// The public port's host (an IP; unspecified means "the host this page came from").
    public_host: String,
    /// Whether the public port listens on every interface (0.0.0.0 or ::).
    public_host_unspecified: bool,
    /// The public port.
    public_port: u16,
    /// The region SDK snippets name.
    region: String,
}

async fn page_config(State(admin): State<AdminState>) -> Response {
    let config = PageConfig {
        public_host: admin.public.ip().to_string(),
        public_host_unspecified: admin.public.ip().is_unspecified(),
        public_port: admin.public.port(),
        region: admin.app.config.region.clone(),
    };
    let mut res = serde_json::to_string(&config)
        .unwrap_or_default()
        .into_response();
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    res
}
