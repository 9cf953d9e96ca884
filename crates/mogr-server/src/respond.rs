//! Response building: common COS headers, XML bodies, the error body, CORS exposure.

use axum::body::Body;
use axum::response::Response;
use http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, CONTENT_LENGTH, CONTENT_TYPE,
    SERVER,
};
use http::{HeaderName, HeaderValue, StatusCode};

use crate::error_map::ApiError;

/// `x-cos-request-id`.
pub const X_COS_REQUEST_ID: HeaderName = HeaderName::from_static("x-cos-request-id");
/// `x-cos-trace-id`.
pub const X_COS_TRACE_ID: HeaderName = HeaderName::from_static("x-cos-trace-id");
/// `x-cos-bucket-region`.
pub const X_COS_BUCKET_REGION: HeaderName = HeaderName::from_static("x-cos-bucket-region");
/// `x-cos-acl`.
pub const X_COS_ACL: HeaderName = HeaderName::from_static("x-cos-acl");

/// Headers a browser may read from our responses (the JS SDK needs Content-Length and ETag).
pub const EXPOSE_HEADERS: &str = "ETag, Content-Length, Content-Type, Content-Range, \
Last-Modified, x-cos-request-id, x-cos-trace-id, x-cos-hash-crc64ecma";

/// What the finishing step needs to know about the request.
#[derive(Debug, Clone)]
pub struct ResponseContext {
    /// This request's `x-cos-request-id`.
    pub request_id: String,
    /// `<host>/<key>` for error bodies.
    pub resource: String,
    /// HEAD requests get no error body.
    pub head: bool,
    /// The request carried `Origin`: expose headers for CORS.
    pub cors: bool,
}

/// A response with an XML body.
pub fn xml(status: StatusCode, body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    res
}

/// A response with no body.
pub fn empty(status: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    res
}

/// Adds the headers every response carries.
pub fn finish(mut res: Response, ctx: &ResponseContext) -> Response {
    let headers = res.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&ctx.request_id) {
        headers.insert(X_COS_REQUEST_ID, id);
    }
    headers.insert(SERVER, HeaderValue::from_static("tencent-cos"));
    if ctx.cors && !headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    res
}

/// The COS error response: XML body (none for HEAD), `x-cos-trace-id`, the error's headers.
pub fn error(err: ApiError, ctx: &ResponseContext) -> Response {
    let trace_id = crate::request_id::new_trace_id();
    let status = err.error.status();
    let mut res = if ctx.head {
        let mut res = empty(status);
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
        res
    } else {
        xml(
            status,
            err.error.to_xml(&ctx.resource, &ctx.request_id, &trace_id),
        )
    };
    if status.is_server_error() {
        tracing::warn!(code = %err.error.code, message = %err.error.message, request_id = %ctx.request_id, "request failed");
    } else {
        tracing::debug!(code = %err.error.code, message = %err.error.message, request_id = %ctx.request_id, "request refused");
    }
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&trace_id) {
        headers.insert(X_COS_TRACE_ID, v);
    }
    for (name, value) in err.headers.iter() {
        headers.insert(name.clone(), value.clone());
    }
    if ctx.head {
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    finish(res, ctx)
}
