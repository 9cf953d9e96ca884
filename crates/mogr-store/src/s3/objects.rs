//! Object reads, writes and listings over the engine.

use std::time::SystemTime;

use reqwest::header::CONTENT_RANGE;
use reqwest::StatusCode;

use super::engine::body_stream;
use super::{layout, meta, S3Store};
use crate::types::{
    validate_key, ByteRange, GetObject, ListPage, ListQuery, ListedObject, ObjectMeta,
};
use crate::StoreError;

/// Most entries one listing page holds.
const MAX_LIST_KEYS: usize = 1000;

impl S3Store {
    pub(crate) async fn head_object_impl(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<ObjectMeta, StoreError> {
        self.buckets.info(&self.engine, bucket).await?;
        validate_key(key)?;
        let headers = self
            .engine
            .head(&layout::object(bucket, key))
            .await?
            .ok_or(StoreError::NoSuchKey)?;
        meta::decode(key, &headers)
    }

    pub(crate) async fn get_object_impl(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject, StoreError> {
        self.buckets.info(&self.engine, bucket).await?;
        validate_key(key)?;
        let header = match range {
            None => None,
            Some(ByteRange::FromTo(first, last)) if first <= last => {
                Some(format!("bytes={first}-{last}"))
            }
            Some(ByteRange::From(first)) => Some(format!("bytes={first}-")),
            Some(ByteRange::Suffix(n)) if n > 0 => Some(format!("bytes=-{n}")),
            // Selects nothing whatever the size: answer from the object's metadata.
            Some(_) => return Err(self.unsatisfiable(bucket, key).await),
        };
        let engine_key = layout::object(bucket, key);
        let res = self
            .engine
            .get(&engine_key, header.as_deref())
            .await?
            .ok_or(StoreError::NoSuchKey)?;
        if res.status() == StatusCode::RANGE_NOT_SATISFIABLE {
            return Err(self.unsatisfiable(bucket, key).await);
        }
        let meta = meta::decode(key, res.headers())?;
        // The range is judged against the version the engine opened (its metadata came
        // with the body); the engine's own answer must agree with it.
        let served = match range {
            None => None,
            Some(r) => {
                let Some(wanted) = r.resolve(meta.size) else {
                    return Err(StoreError::InvalidRange {
                        size: meta.size,
                        etag: meta.etag,
                        last_modified: meta.last_modified,
                    });
                };
                let sent = if res.status() == StatusCode::PARTIAL_CONTENT {
                    content_range(res.headers()).ok()
                } else {
                    Some((0, meta.size - 1))
                };
                if sent != Some(wanted) {
                    return Err(StoreError::Io(std::io::Error::other(
                        "the engine answered another byte range",
                    )));
                }
                Some(wanted)
            }
        };
        Ok(GetObject {
            meta,
            range: served,
            body: Box::pin(body_stream(res)),
        })
    }

    /// `InvalidRange` with the object's validators (or why there are none).
    async fn unsatisfiable(&self, bucket: &str, key: &str) -> StoreError {
        match self.head_object_impl(bucket, key).await {
            Ok(meta) => StoreError::InvalidRange {
                size: meta.size,
                etag: meta.etag,
                last_modified: meta.last_modified,
            },
            Err(e) => e,
        }
    }

    pub(crate) async fn delete_object_impl(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        self.buckets.info(&self.engine, bucket).await?;
        validate_key(key)?;
        self.engine.delete(&layout::object(bucket, key)).await
    }

    pub(crate) async fn list_objects_impl(
        &self,
        bucket: &str,
        query: &ListQuery,
    ) -> Result<ListPage, StoreError> {
        self.buckets.info(&self.engine, bucket).await?;
        let max = query.max_keys.clamp(1, MAX_LIST_KEYS);
        let base = layout::objects(bucket);
        let prefix = format!("{base}{}", query.prefix);
        let start_after = start_after(query).map(|after| format!("{base}{after}"));
        let page = self
            .engine
            .list(&prefix, &query.delimiter, start_after.as_deref(), None, max)
            .await?;
        let strip = |k: &str| k.strip_prefix(base.as_str()).unwrap_or(k).to_string();
        let objects: Vec<ListedObject> = page
            .contents
            .iter()
            .map(|c| ListedObject {
                key: strip(&c.key),
                size: c.size,
                etag: c.etag.trim_matches('"').to_string(),
                last_modified: parse_time(&c.last_modified),
            })
            .collect();
        let common_prefixes: Vec<String> = page
            .common_prefixes
            .iter()
            .map(|p| strip(&p.prefix))
            .collect();
        let is_truncated = page.next_continuation_token.is_some();
        let next_marker = is_truncated
            .then(|| {
                let last_key = objects.last().map(|o| o.key.clone());
                let last_prefix = common_prefixes.last().cloned();
                last_key.max(last_prefix)
            })
            .flatten();
        Ok(ListPage {
            objects,
            common_prefixes,
            is_truncated,
            next_marker,
        })
    }
}

/// Where the engine listing starts for `query`'s marker. A marker inside a group that the
/// delimiter rolls up (or naming the group itself) skips the whole group, as a listing that
/// returned that group would expect; `char::MAX` sorts after every key of the group.
fn start_after(query: &ListQuery) -> Option<String> {
    let marker = query.marker.as_str();
    if marker.is_empty() {
        return None;
    }
    if !query.delimiter.is_empty() {
        if let Some(rest) = marker.strip_prefix(query.prefix.as_str()) {
            if let Some(at) = rest.find(query.delimiter.as_str()) {
                let group = &marker[..query.prefix.len() + at + query.delimiter.len()];
                return Some(format!("{group}{}", char::MAX));
            }
        }
    }
    Some(marker.to_string())
}

/// The inclusive range a 206 answer covers.
fn content_range(headers: &reqwest::header::HeaderMap) -> Result<(u64, u64), StoreError> {
    let bad = || StoreError::Io(std::io::Error::other("the engine sent a bad Content-Range"));
    let text = headers
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(bad)?;
    let span = text
        .strip_prefix("bytes ")
        .and_then(|t| t.split('/').next())
        .ok_or_else(bad)?;
    let (first, last) = span.split_once('-').ok_or_else(bad)?;
    Ok((
        first.trim().parse().map_err(|_| bad())?,
        last.trim().parse().map_err(|_| bad())?,
    ))
}

/// An engine listing's RFC 3339 time.
pub(crate) fn parse_time(text: &str) -> SystemTime {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(SystemTime::from)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(prefix: &str, delimiter: &str, marker: &str) -> ListQuery {
        ListQuery {
            prefix: prefix.into(),
            delimiter: delimiter.into(),
            marker: marker.into(),
            max_keys: 10,
        }
    }

    #[test]
    fn a_marker_in_a_rolled_up_group_skips_the_group() {
        assert_eq!(start_after(&q("", "", "")), None);
        assert_eq!(start_after(&q("", "", "a/b")).as_deref(), Some("a/b"));
        let skip = format!("a/{}", char::MAX);
        assert_eq!(start_after(&q("", "/", "a/")), Some(skip.clone()));
        assert_eq!(start_after(&q("", "/", "a/b")), Some(skip));
        assert_eq!(start_after(&q("a/", "/", "a/b")).as_deref(), Some("a/b"));
    }

    #[test]
    fn content_ranges_parse() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(CONTENT_RANGE, "bytes 2-9/100".parse().unwrap());
        assert_eq!(content_range(&h).unwrap(), (2, 9));
        h.insert(CONTENT_RANGE, "bytes */100".parse().unwrap());
        assert!(content_range(&h).is_err());
    }
}
