//! OPTIONS: CORS preflight, answered for every origin (mogr has no per-bucket CORS rules).

use axum::response::Response;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
};
use http::{HeaderValue, StatusCode};

use crate::respond::{self, EXPOSE_HEADERS};

/// `OPTIONS` on anything.
pub fn handle() -> Response {
    let mut res = respond::empty(StatusCode::OK);
    let h = res.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, PUT, POST, DELETE, HEAD"),
    );
    // `*` covers every request header but `Authorization`, which browsers require by name:
    // without it the JS SDK's header-signed requests fail their preflight.
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("*, Authorization"),
    );
    h.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    res
}
