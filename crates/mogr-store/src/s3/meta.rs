//! mogr's own metadata of an object (ETag as COS reports it, CRC-64, size, write time,
//! content headers, user metadata), kept in the engine as one object metadata header so
//! HEAD and GET return it with the object, whichever node wrote it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};

use super::engine::Headers;
use crate::types::{ObjectAttrs, ObjectMeta};
use crate::StoreError;

/// The engine metadata header that carries it (signed with the request, as S3 requires).
pub(crate) const HEADER: &str = "x-amz-meta-mogr";

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    etag: String,
    crc64: u64,
    size: u64,
    /// Milliseconds since the epoch.
    modified_ms: u64,
    attrs: ObjectAttrs,
}

/// The header value for `meta`: JSON, percent-encoded so any user metadata fits a header.
pub(crate) fn encode(meta: &ObjectMeta) -> String {
    let stored = Stored {
        etag: meta.etag.clone(),
        crc64: meta.crc64,
        size: meta.size,
        modified_ms: meta
            .last_modified
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        attrs: meta.attrs.clone(),
    };
    let json = serde_json::to_string(&stored).unwrap_or_default();
    utf8_percent_encode(&json, NON_ALPHANUMERIC).to_string()
}

/// The metadata of object `key` from its engine headers; an object without them was not
/// written by mogr and is reported as a storage error rather than guessed at.
pub(crate) fn decode(key: &str, headers: &Headers) -> Result<ObjectMeta, StoreError> {
    let text = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| corrupt(key, "no mogr metadata"))?;
    let json = percent_decode_str(text)
        .decode_utf8()
        .map_err(|_| corrupt(key, "metadata is not UTF-8"))?;
    let stored: Stored =
        serde_json::from_str(&json).map_err(|e| corrupt(key, &format!("metadata: {e}")))?;
    Ok(ObjectMeta {
        key: key.to_string(),
        size: stored.size,
        etag: stored.etag,
        crc64: stored.crc64,
        last_modified: UNIX_EPOCH + Duration::from_millis(stored.modified_ms),
        attrs: stored.attrs,
    })
}

/// Now, at the precision the metadata keeps (milliseconds).
pub(crate) fn now() -> SystemTime {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn corrupt(key: &str, why: &str) -> StoreError {
    StoreError::Io(std::io::Error::other(format!(
        "engine object {key:?}: {why}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn metadata_survives_a_header() {
        let mut attrs = ObjectAttrs {
            content_type: Some("image/png; charset=\"x\"".into()),
            ..ObjectAttrs::default()
        };
        attrs.user_meta.insert("名前".into(), "värde\r\n".into());
        let meta = ObjectMeta {
            key: "k".into(),
            size: 7,
            etag: "abc-2".into(),
            crc64: u64::MAX,
            last_modified: now(),
            attrs,
        };
        let mut headers = Headers::new();
        headers.insert(HEADER, HeaderValue::from_str(&encode(&meta)).unwrap());
        assert_eq!(decode("k", &headers).unwrap(), meta);
        assert!(decode("k", &Headers::new()).is_err());
    }
}
