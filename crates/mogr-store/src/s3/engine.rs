//! The few S3 requests the backend makes, signed by rusty-s3 and sent by reqwest, with the
//! engine's failures sorted into "unavailable" (retry later) and everything else.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use reqwest::header::{HeaderMap, CONTENT_LENGTH, RANGE};
use reqwest::{Body, Response, StatusCode};
use rusty_s3::actions::{
    CompleteMultipartUpload, CreateBucket, CreateMultipartUpload, DeleteBucket, DeleteObject,
    GetObject, HeadObject, ListObjectsV2, ListObjectsV2Response, PutObject, S3Action, UploadPart,
};
use rusty_s3::{Bucket, Credentials, UrlStyle};

use super::{EngineBuckets, S3Config};
use crate::StoreError;

/// How long a signed request stays valid: enough for a slow upload to start.
const SIGNATURE_TTL: Duration = Duration::from_secs(600);
/// A node that does not accept a connection this fast is treated as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest silence on an open connection before the request counts as failed.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of the engine. Keys are mogr's layout keys (`<bucket>/<key>` for objects,
/// `.mogr/...` for mogr's records); [`Engine::locate`] says which engine bucket and key hold
/// each, so only this module knows whether mogr buckets are prefixes or engine buckets.
pub(crate) struct Engine {
    http: reqwest::Client,
    /// The engine bucket of mogr's records (and, in prefix mode, of every object).
    bucket: Bucket,
    credentials: Credentials,
    endpoint: url::Url,
    style: UrlStyle,
    region: String,
    /// In per-bucket mode, the name prefix of the engine bucket of each mogr bucket.
    per_bucket: Option<String>,
}

/// An engine object's headers as HEAD or GET return them.
pub(crate) type Headers = HeaderMap;

impl Engine {
    /// A client for `cfg`; nothing is sent yet.
    pub(crate) fn new(cfg: &S3Config) -> Result<Engine, StoreError> {
        let endpoint = url::Url::parse(&cfg.endpoint)
            .map_err(|e| StoreError::InvalidArgument(format!("S3 endpoint: {e}")))?;
        let style = if cfg.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            endpoint.clone(),
            style,
            cfg.bucket.clone(),
            cfg.region.clone(),
        )
        .map_err(|e| StoreError::InvalidArgument(format!("S3 bucket: {e}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .build()
            .map_err(|e| StoreError::InvalidArgument(format!("S3 client: {e}")))?;
        Ok(Engine {
            http,
            bucket,
            credentials: Credentials::new(cfg.access_key.clone(), cfg.secret_key.clone()),
            endpoint,
            style,
            region: cfg.region.clone(),
            per_bucket: match &cfg.buckets {
                EngineBuckets::Prefixes => None,
                EngineBuckets::PerBucket { name_prefix } => Some(name_prefix.clone()),
            },
        })
    }

    /// The engine bucket of mogr bucket `name` in per-bucket mode.
    fn engine_bucket(&self, name_prefix: &str, name: &str) -> Result<Bucket, StoreError> {
        let engine_name = format!("{name_prefix}{name}");
        // A mogr bucket mapped onto the bucket of mogr's own records would let its keys
        // (`.mogr/...` is a valid key) overwrite bucket records, commits and upload state.
        if engine_name == self.bucket.name() {
            return Err(StoreError::InvalidBucketName(name.to_string()));
        }
        Bucket::new(
            self.endpoint.clone(),
            self.style,
            engine_name,
            self.region.clone(),
        )
        .map_err(|e| StoreError::InvalidArgument(format!("S3 bucket for {name}: {e}")))
    }

    /// Where layout key `key` lives: the engine bucket and the key in it. In per-bucket mode
    /// an object key `<bucket>/<rest>` is `<rest>` in bucket `<bucket>`'s engine bucket; the
    /// reserved prefix (and everything in prefix mode) stays in the main engine bucket.
    fn locate<'k>(&self, key: &'k str) -> Result<(Cow<'_, Bucket>, &'k str), StoreError> {
        let Some(name_prefix) = &self.per_bucket else {
            return Ok((Cow::Borrowed(&self.bucket), key));
        };
        match key.split_once('/') {
            Some((bucket, rest)) if !bucket.starts_with('.') => {
                Ok((Cow::Owned(self.engine_bucket(name_prefix, bucket)?), rest))
            }
            _ => Ok((Cow::Borrowed(&self.bucket), key)),
        }
    }

    /// The layout key of `engine_key` found in the engine bucket that `located` (the layout
    /// key that was listed) maps to.
    fn layout_key(&self, located: &str, engine_key: &str) -> String {
        match (&self.per_bucket, located.split_once('/')) {
            (Some(_), Some((bucket, _))) if !bucket.starts_with('.') => {
                format!("{bucket}/{engine_key}")
            }
            _ => engine_key.to_string(),
        }
    }

    /// Creates the engine bucket of mogr bucket `name` (per-bucket mode only; one that
    /// exists and is ours already is fine).
    pub(crate) async fn create_bucket(&self, name: &str) -> Result<(), StoreError> {
        let Some(name_prefix) = &self.per_bucket else {
            return Ok(());
        };
        let bucket = self.engine_bucket(name_prefix, name)?;
        let url = CreateBucket::new(&bucket, &self.credentials).sign(SIGNATURE_TTL);
        let res = self.http.put(url).send().await.map_err(transport)?;
        if res.status() == StatusCode::CONFLICT {
            let text = res.text().await.unwrap_or_default();
            if text.contains("BucketAlreadyOwnedByYou") {
                return Ok(());
            }
            return Err(StoreError::Io(std::io::Error::other(format!(
                "engine bucket {name_prefix}{name}: {text}"
            ))));
        }
        expect_success(Ok(res)).await?;
        Ok(())
    }

    /// Deletes the (empty) engine bucket of mogr bucket `name` (per-bucket mode only).
    pub(crate) async fn delete_bucket(&self, name: &str) -> Result<(), StoreError> {
        let Some(name_prefix) = &self.per_bucket else {
            return Ok(());
        };
        let bucket = self.engine_bucket(name_prefix, name)?;
        let url = DeleteBucket::new(&bucket, &self.credentials).sign(SIGNATURE_TTL);
        let res = self.http.delete(url).send().await.map_err(transport)?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        expect_success(Ok(res)).await?;
        Ok(())
    }

    /// Stores `body` under `key`; `length` when known. Returns the engine's ETag, unquoted.
    pub(crate) async fn put(
        &self,
        key: &str,
        body: Body,
        length: Option<u64>,
    ) -> Result<String, StoreError> {
        let (bucket, key) = self.locate(key)?;
        let url = PutObject::new(&bucket, Some(&self.credentials), key).sign(SIGNATURE_TTL);
        let mut req = self.http.put(url).body(body);
        if let Some(len) = length {
            req = req.header(CONTENT_LENGTH, len);
        }
        let res = expect_success(req.send().await).await?;
        Ok(etag_of(res.headers()))
    }

    /// Copies `from` to `to`, replacing its metadata with the single mogr header `meta`
    /// (metadata-only on Garage, even between engine buckets: no data is moved).
    pub(crate) async fn copy(&self, from: &str, to: &str, meta: &str) -> Result<(), StoreError> {
        let (from_bucket, from) = self.locate(from)?;
        let source = format!(
            "/{}/{}",
            from_bucket.name(),
            percent_encoding::utf8_percent_encode(from, COPY_SOURCE)
        );
        let (bucket, to) = self.locate(to)?;
        let mut action = PutObject::new(&bucket, Some(&self.credentials), to);
        action
            .headers_mut()
            .insert("x-amz-copy-source", source.clone());
        action
            .headers_mut()
            .insert("x-amz-metadata-directive", "REPLACE");
        action
            .headers_mut()
            .insert(super::meta::HEADER, meta.to_string());
        let url = action.sign(SIGNATURE_TTL);
        let req = self
            .http
            .put(url)
            .header("x-amz-copy-source", source)
            .header("x-amz-metadata-directive", "REPLACE")
            .header(super::meta::HEADER, meta);
        expect_success(req.send().await).await?;
        Ok(())
    }

    /// The object's body (a range of it with `range`, an HTTP `Range` value); `None` when
    /// there is no such key. Other statuses than 2xx and 404 are left to the caller.
    pub(crate) async fn get(
        &self,
        key: &str,
        range: Option<&str>,
    ) -> Result<Option<Response>, StoreError> {
        let (bucket, key) = self.locate(key)?;
        let url = GetObject::new(&bucket, Some(&self.credentials), key).sign(SIGNATURE_TTL);
        let mut req = self.http.get(url);
        if let Some(range) = range {
            req = req.header(RANGE, range);
        }
        let res = req.send().await.map_err(transport)?;
        match res.status() {
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::RANGE_NOT_SATISFIABLE => Ok(Some(res)),
            _ => expect_success(Ok(res)).await.map(Some),
        }
    }

    /// The whole body of a small object (bucket records, settings); `None` when absent.
    pub(crate) async fn get_small(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        match self.get(key, None).await? {
            None => Ok(None),
            Some(res) => res.bytes().await.map(Some).map_err(transport),
        }
    }

    /// The object's headers; `None` when there is no such key.
    pub(crate) async fn head(&self, key: &str) -> Result<Option<Headers>, StoreError> {
        let (bucket, key) = self.locate(key)?;
        let url = HeadObject::new(&bucket, Some(&self.credentials), key).sign(SIGNATURE_TTL);
        let res = self.http.head(url).send().await.map_err(transport)?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(Some(expect_success(Ok(res)).await?.headers().clone()))
    }

    /// Deletes `key`; a missing key is not an error.
    pub(crate) async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let (bucket, key) = self.locate(key)?;
        let url = DeleteObject::new(&bucket, Some(&self.credentials), key).sign(SIGNATURE_TTL);
        let res = self.http.delete(url).send().await.map_err(transport)?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        expect_success(Ok(res)).await?;
        Ok(())
    }

    /// One ListObjectsV2 page.
    pub(crate) async fn list(
        &self,
        prefix: &str,
        delimiter: &str,
        start_after: Option<&str>,
        continuation: Option<&str>,
        max_keys: usize,
    ) -> Result<ListObjectsV2Response, StoreError> {
        let located = prefix;
        let (bucket, prefix) = self.locate(located)?;
        let mut action = ListObjectsV2::new(&bucket, Some(&self.credentials));
        action.with_prefix(prefix);
        if !delimiter.is_empty() {
            action.with_delimiter(delimiter);
        }
        // Inside the same engine bucket as the prefix (callers build both from one base).
        let start_after = start_after.map(|after| match self.locate(after) {
            Ok((_, key)) => key,
            Err(_) => after,
        });
        if let Some(after) = start_after {
            action.with_start_after(after);
        }
        if let Some(token) = continuation {
            action.with_continuation_token(token);
        }
        action.with_max_keys(max_keys);
        let url = action.sign(SIGNATURE_TTL);
        let res = expect_success(self.http.get(url).send().await).await?;
        let text = res.text().await.map_err(transport)?;
        let mut page = ListObjectsV2::parse_response(&text)
            .map_err(|e| StoreError::Io(std::io::Error::other(format!("engine listing: {e}"))))?;
        for c in &mut page.contents {
            c.key = self.layout_key(located, &c.key);
        }
        for p in &mut page.common_prefixes {
            p.prefix = self.layout_key(located, &p.prefix);
        }
        Ok(page)
    }

    /// Every key under `prefix` (for the short internal lists: uploads, parts, buckets).
    pub(crate) async fn list_all(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, u64, String)>, StoreError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.list(prefix, "", None, token.as_deref(), 1000).await?;
            out.extend(
                page.contents
                    .into_iter()
                    .map(|c| (c.key, c.size, c.etag.trim_matches('"').to_string())),
            );
            match page.next_continuation_token {
                Some(next) => token = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// Starts an engine multipart upload of `key`; returns its id.
    pub(crate) async fn create_multipart(&self, key: &str) -> Result<String, StoreError> {
        let (bucket, key) = self.locate(key)?;
        let url =
            CreateMultipartUpload::new(&bucket, Some(&self.credentials), key).sign(SIGNATURE_TTL);
        let res = expect_success(self.http.post(url).send().await).await?;
        let text = res.text().await.map_err(transport)?;
        let parsed = CreateMultipartUpload::parse_response(&text)
            .map_err(|e| StoreError::Io(std::io::Error::other(format!("engine upload id: {e}"))))?;
        Ok(parsed.upload_id().to_string())
    }

    /// Sends part `number` of engine upload `upload_id`; returns its ETag, unquoted.
    pub(crate) async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        body: Body,
        length: u64,
    ) -> Result<String, StoreError> {
        let (bucket, key) = self.locate(key)?;
        let url = UploadPart::new(&bucket, Some(&self.credentials), key, number, upload_id)
            .sign(SIGNATURE_TTL);
        let req = self.http.put(url).header(CONTENT_LENGTH, length).body(body);
        let res = expect_success(req.send().await).await?;
        Ok(etag_of(res.headers()))
    }

    /// Completes engine upload `upload_id` from the parts' ETags, in order.
    pub(crate) async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<(), StoreError> {
        let (bucket, key) = self.locate(key)?;
        let action = CompleteMultipartUpload::new(
            &bucket,
            Some(&self.credentials),
            key,
            upload_id,
            etags.iter().map(String::as_str),
        );
        let url = action.sign(SIGNATURE_TTL);
        let body = action.body();
        let res = expect_success(self.http.post(url).body(body).send().await).await?;
        // S3 may report a failed completion in a 200 body.
        let text = res.text().await.map_err(transport)?;
        if text.contains("<Error>") {
            return Err(StoreError::Io(std::io::Error::other(format!(
                "engine refused to complete an upload: {text}"
            ))));
        }
        Ok(())
    }

    /// Drops engine upload `upload_id` (best effort: its parts are garbage either way).
    pub(crate) async fn abort_multipart(&self, key: &str, upload_id: &str) {
        let Ok((bucket, key)) = self.locate(key) else {
            return;
        };
        let url = rusty_s3::actions::AbortMultipartUpload::new(
            &bucket,
            Some(&self.credentials),
            key,
            upload_id,
        )
        .sign(SIGNATURE_TTL);
        let _ = self.http.delete(url).send().await;
    }
}

/// Characters of a key kept as they are in `x-amz-copy-source`.
const COPY_SOURCE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The response's ETag without quotes.
fn etag_of(headers: &HeaderMap) -> String {
    headers
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_matches('"')
        .to_string()
}

/// A failure to reach the engine or to hear back from it in time: unavailable. Anything
/// else (a body that failed on our side, a malformed request) is an I/O error.
pub(crate) fn transport(e: reqwest::Error) -> StoreError {
    if e.is_connect() || e.is_timeout() {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Io(std::io::Error::other(e))
    }
}

/// The response when it is a success; an overloaded or failing engine (5xx) as
/// unavailable, any other status as an I/O error naming it.
pub(crate) async fn expect_success(
    sent: Result<Response, reqwest::Error>,
) -> Result<Response, StoreError> {
    let res = sent.map_err(transport)?;
    let status = res.status();
    if status.is_success() {
        return Ok(res);
    }
    let text = res.text().await.unwrap_or_default();
    let detail: String = text.chars().take(300).collect();
    if status.is_server_error() {
        Err(StoreError::Unavailable(format!(
            "engine answered {status}: {detail}"
        )))
    } else {
        Err(StoreError::Io(std::io::Error::other(format!(
            "engine answered {status}: {detail}"
        ))))
    }
}

/// The body of a response as a stream of chunks with I/O errors.
pub(crate) fn body_stream(
    res: Response,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    res.bytes_stream().map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(main: &str, name_prefix: Option<&str>) -> Engine {
        let buckets = match name_prefix {
            None => EngineBuckets::Prefixes,
            Some(p) => EngineBuckets::PerBucket {
                name_prefix: p.into(),
            },
        };
        Engine::new(&S3Config {
            endpoint: "http://127.0.0.1:1".into(),
            region: "garage".into(),
            bucket: main.into(),
            access_key: "k".into(),
            secret_key: "s".into(),
            path_style: true,
            buckets,
            min_engine_part: 0,
        })
        .unwrap()
    }

    #[test]
    fn layout_keys_map_to_engine_buckets() {
        let flat = engine("mogr", None);
        let (bucket, key) = flat.locate("photos-125/a/b.jpg").unwrap();
        assert_eq!((bucket.name(), key), ("mogr", "photos-125/a/b.jpg"));

        let split = engine("mogr", Some("pb-"));
        let (bucket, key) = split.locate("photos-125/a/b.jpg").unwrap();
        assert_eq!((bucket.name(), key), ("pb-photos-125", "a/b.jpg"));
        let (bucket, key) = split.locate("photos-125/.mogr/x").unwrap();
        assert_eq!((bucket.name(), key), ("pb-photos-125", ".mogr/x"));
        let (bucket, key) = split.locate(".mogr/buckets/photos-125").unwrap();
        assert_eq!((bucket.name(), key), ("mogr", ".mogr/buckets/photos-125"));
        assert_eq!(
            split.layout_key("photos-125/", "a/b.jpg"),
            "photos-125/a/b.jpg"
        );
    }

    #[test]
    fn no_mogr_bucket_maps_onto_the_records_bucket() {
        let split = engine("photos-125", Some(""));
        assert!(matches!(
            split.locate("photos-125/.mogr/buckets/other-125"),
            Err(StoreError::InvalidBucketName(_))
        ));
        assert!(split.locate("other-125/k").is_ok());
    }
}
