//! The parsed request that handlers read.

use http::{HeaderMap, Method};
use mogr_cos::query::Query;
use mogr_cos::ErrorCode;

use crate::authn::Principal;
use crate::error_map::{ApiError, ApiResult};

/// A request after addressing and authentication.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    /// HTTP method.
    pub method: Method,
    /// Request headers.
    pub headers: HeaderMap,
    /// Parsed query string.
    pub query: Query,
    /// The `Host` value (for `Location` and error `Resource`).
    pub host: String,
    /// The addressed bucket, if any.
    pub bucket: Option<String>,
    /// The decoded key; empty at bucket level.
    pub key: String,
    /// Who is calling, established once by authentication.
    pub principal: Principal,
}

impl RequestCtx {
    /// The bucket; `NoSuchBucket` if the request named none.
    pub fn bucket(&self) -> ApiResult<&str> {
        self.bucket
            .as_deref()
            .ok_or_else(|| ApiError::new(ErrorCode::NoSuchBucket))
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The declared `Content-Length`, if any.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")?.trim().parse().ok()
    }
}

/// The owner id COS shows for a bucket: its APPID suffix.
pub fn owner_of(bucket: &str) -> &str {
    bucket.rsplit_once('-').map_or(bucket, |(_, appid)| appid)
}
