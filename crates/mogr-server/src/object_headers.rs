//! Object attributes in and out of HTTP headers: what a PUT stores, what a GET returns.

use std::collections::BTreeMap;

use base64::Engine;
use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_LANGUAGE,
    CONTENT_TYPE, ETAG, EXPIRES, LAST_MODIFIED,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use mogr_cos::query::Query;
use mogr_cos::time_fmt::http_date;
use mogr_cos::ErrorCode;
use mogr_store::{ObjectAttrs, ObjectMeta};

use crate::error_map::{ApiError, ApiResult};

/// `x-cos-hash-crc64ecma`.
pub const X_COS_CRC64: HeaderName = HeaderName::from_static("x-cos-hash-crc64ecma");
/// Prefix of user metadata headers.
pub const META_PREFIX: &str = "x-cos-meta-";
/// COS caps user metadata (names plus values) at 2 KB.
pub const MAX_USER_META_BYTES: usize = 2 * 1024;
/// Content-Type of objects stored without one.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// `value` unless it is blank: an empty standard header means "none".
fn non_blank(value: &str) -> Option<&str> {
    (!value.trim().is_empty()).then_some(value)
}

/// A standard header's text, if present and not blank; values that are not UTF-8 are refused
/// rather than mangled.
///
/// The Node SDK sends `Cache-Control:` and `Content-Type:` with empty values when the caller
/// set none (so that a proxy cannot add its own); storing those would serve an empty
/// `Content-Type` instead of the default.
fn text(headers: &HeaderMap, name: &str) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let value = std::str::from_utf8(value.as_bytes()).map_err(|_| {
        ApiError::with_message(
            ErrorCode::InvalidArgument,
            format!("header {name} is not UTF-8"),
        )
    })?;
    Ok(non_blank(value).map(str::to_string))
}

/// The attributes a PUT (or multipart initiate) stores: standard headers and `x-cos-meta-*`.
pub fn attrs_from_request(headers: &HeaderMap) -> ApiResult<ObjectAttrs> {
    let mut user_meta = BTreeMap::new();
    let mut meta_bytes = 0usize;
    for (name, value) in headers {
        let Some(suffix) = name.as_str().strip_prefix(META_PREFIX) else {
            continue;
        };
        let value = std::str::from_utf8(value.as_bytes()).map_err(|_| {
            ApiError::with_message(
                ErrorCode::InvalidArgument,
                format!("header {name} is not UTF-8"),
            )
        })?;
        meta_bytes += name.as_str().len() + value.len();
        user_meta.insert(suffix.to_string(), value.to_string());
    }
    if meta_bytes > MAX_USER_META_BYTES {
        return Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            format!("user metadata is {meta_bytes} bytes; the limit is {MAX_USER_META_BYTES}"),
        ));
    }
    Ok(ObjectAttrs {
        content_type: text(headers, "content-type")?,
        content_disposition: text(headers, "content-disposition")?,
        content_encoding: text(headers, "content-encoding")?,
        cache_control: text(headers, "cache-control")?,
        expires: text(headers, "expires")?,
        user_meta,
    })
}

/// The `Content-MD5` header as raw digest bytes; malformed values are `InvalidDigest`.
pub fn content_md5(headers: &HeaderMap) -> ApiResult<Option<[u8; 16]>> {
    let Some(value) = headers.get("content-md5") else {
        return Ok(None);
    };
    let decoded = value
        .to_str()
        .ok()
        .and_then(|s| {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .ok()
        })
        .and_then(|bytes| <[u8; 16]>::try_from(bytes.as_slice()).ok());
    decoded
        .map(Some)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidDigest))
}

/// `"<etag>"`, the quoted form COS sends.
pub fn quoted_etag(etag: &str) -> String {
    format!("\"{etag}\"")
}

fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    // Stored values came from valid header values; anything else is skipped, never sent broken.
    if let Ok(v) = HeaderValue::from_bytes(value.as_bytes()) {
        headers.insert(name, v);
    }
}

/// `ETag` and `x-cos-hash-crc64ecma` for a write that produced `meta`-like values.
pub fn write_integrity(headers: &mut HeaderMap, etag: &str, crc64: u64) {
    insert(headers, ETAG, &quoted_etag(etag));
    insert(headers, X_COS_CRC64, &crc64.to_string());
}

/// Everything GET/HEAD Object returns about an object (not Content-Length / Content-Range).
///
/// `response-*` query parameters override the stored attributes, as COS does. Blank values,
/// stored by older versions or given as an override, count as absent: an empty header is
/// never sent.
pub fn write_object_headers(headers: &mut HeaderMap, meta: &ObjectMeta, query: &Query) {
    write_content_headers(headers, &meta.attrs, query);
    insert(headers, ACCEPT_RANGES, "bytes");
    insert(headers, LAST_MODIFIED, &http_date(meta.last_modified));
    write_integrity(headers, &meta.etag, meta.crc64);
    write_user_meta(headers, &meta.attrs.user_meta);
}

/// `Content-Type`, `Content-Disposition`, `Content-Encoding`, `Cache-Control`, `Expires` and
/// `Content-Language`: each from its `response-*` query parameter, else from `attrs`.
pub fn write_content_headers(headers: &mut HeaderMap, attrs: &ObjectAttrs, query: &Query) {
    let pick = |param: &str, stored: Option<&String>| -> Option<String> {
        query
            .get(param)
            .and_then(non_blank)
            .or_else(|| stored.and_then(|s| non_blank(s)))
            .map(str::to_string)
    };
    let content_type = pick("response-content-type", attrs.content_type.as_ref())
        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
    insert(headers, CONTENT_TYPE, &content_type);
    for (name, param, stored) in [
        (
            CONTENT_DISPOSITION,
            "response-content-disposition",
            attrs.content_disposition.as_ref(),
        ),
        (
            CONTENT_ENCODING,
            "response-content-encoding",
            attrs.content_encoding.as_ref(),
        ),
        (
            CACHE_CONTROL,
            "response-cache-control",
            attrs.cache_control.as_ref(),
        ),
        (EXPIRES, "response-expires", attrs.expires.as_ref()),
        (CONTENT_LANGUAGE, "response-content-language", None),
    ] {
        if let Some(v) = pick(param, stored) {
            insert(headers, name, &v);
        }
    }
}

/// `x-cos-meta-<name>: <value>` for each stored pair.
pub fn write_user_meta(headers: &mut HeaderMap, user_meta: &BTreeMap<String, String>) {
    for (name, value) in user_meta {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(format!("{META_PREFIX}{name}").as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_attrs_keep_standard_headers_and_meta() {
        let mut h = HeaderMap::new();
        h.insert("content-type", "image/png".parse().unwrap());
        h.insert("cache-control", "max-age=60".parse().unwrap());
        h.insert("x-cos-meta-Color", "red".parse().unwrap());
        h.insert("x-cos-acl", "private".parse().unwrap());
        let a = attrs_from_request(&h).unwrap();
        assert_eq!(a.content_type.as_deref(), Some("image/png"));
        assert_eq!(a.cache_control.as_deref(), Some("max-age=60"));
        assert_eq!(a.user_meta.get("color").map(String::as_str), Some("red"));
        assert_eq!(a.user_meta.len(), 1);
    }

    #[test]
    fn blank_standard_headers_are_absent() {
        let mut h = HeaderMap::new();
        for name in [
            "content-type",
            "cache-control",
            "content-disposition",
            "content-encoding",
            "expires",
        ] {
            h.insert(name, HeaderValue::from_static(""));
        }
        h.insert("x-cos-meta-empty", HeaderValue::from_static(""));
        let a = attrs_from_request(&h).unwrap();
        assert_eq!(a.content_type, None);
        assert_eq!(a.cache_control, None);
        assert_eq!(a.content_disposition, None);
        assert_eq!(a.content_encoding, None);
        assert_eq!(a.expires, None);
        // User metadata is kept as given, empty or not.
        assert_eq!(a.user_meta.get("empty").map(String::as_str), Some(""));
    }

    #[test]
    fn oversized_meta_is_refused() {
        let mut h = HeaderMap::new();
        h.insert("x-cos-meta-big", "x".repeat(3000).parse().unwrap());
        assert_eq!(
            attrs_from_request(&h).unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn content_md5_decodes_or_is_invalid_digest() {
        let mut h = HeaderMap::new();
        assert_eq!(content_md5(&h).unwrap(), None);
        h.insert("content-md5", "7o3pGNBWQBRbGPcPTDqmAg==".parse().unwrap());
        assert_eq!(
            hex::encode(content_md5(&h).unwrap().unwrap()),
            "ee8de918d05640145b18f70f4c3aa602"
        );
        h.insert("content-md5", "bm90IG1kNQ==".parse().unwrap());
        assert_eq!(
            content_md5(&h).unwrap_err().code(),
            ErrorCode::InvalidDigest
        );
    }
}
