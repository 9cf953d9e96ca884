//! Values that cross the store boundary.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::time::SystemTime;

use bytes::Bytes;
use futures::Stream;

use crate::StoreError;

/// A streamed object body.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// Longest key accepted, in bytes (COS allows 850).
pub const MAX_KEY_LEN: usize = 850;

/// A bucket's canned ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Acl {
    /// Only signed requests.
    #[default]
    Private,
    /// Anonymous GET/HEAD allowed.
    PublicRead,
    /// Anonymous reads and writes allowed.
    PublicReadWrite,
}

impl Acl {
    /// The `x-cos-acl` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Acl::Private => "private",
            Acl::PublicRead => "public-read",
            Acl::PublicReadWrite => "public-read-write",
        }
    }

    /// Parse an `x-cos-acl` value.
    pub fn parse(s: &str) -> Option<Acl> {
        match s.trim() {
            "private" | "default" => Some(Acl::Private),
            "public-read" => Some(Acl::PublicRead),
            "public-read-write" => Some(Acl::PublicReadWrite),
            _ => None,
        }
    }
}

/// Settings mogr itself keeps per bucket, beside the objects: image styles and the
/// style separators of the download form `<key><sep><style>`. Plain data, so any backend can
/// keep it (the local one as a file in the bucket's directory, an object store as one
/// reserved object); the server validates it before it is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BucketSettings {
    /// Image styles: name -> the rule it stands for, as saved.
    #[serde(default)]
    pub styles: BTreeMap<String, String>,
    /// Characters that may separate a key from a style name on download (some of `!`, `-`,
    /// `_`); empty: the form is off.
    #[serde(default)]
    pub style_separators: String,
}

impl BucketSettings {
    /// The settings as the JSON document backends store.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec_pretty(self)
    }

    /// Settings from a stored JSON document.
    pub fn from_json(bytes: &[u8]) -> Result<BucketSettings, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// Facts about a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    /// `name-appid`.
    pub name: String,
    /// Creation time.
    pub created: SystemTime,
    /// Canned ACL.
    pub acl: Acl,
}

/// HTTP-level attributes stored with an object and returned on GET/HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectAttrs {
    /// `Content-Type` (default `application/octet-stream` when absent).
    pub content_type: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires`.
    pub expires: Option<String>,
    /// `x-cos-meta-*`: lower-case name without the prefix -> value.
    pub user_meta: BTreeMap<String, String>,
}

/// Options for a write.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// The body's length when the client declared it (`Content-Length`): lets a backend that
    /// forwards the body announce its length instead of spooling it. A body of another
    /// length fails the write.
    pub length: Option<u64>,
    /// Attributes stored with the object.
    pub attrs: ObjectAttrs,
    /// Expected MD5 of the body (`Content-Md5`); a mismatch is `BadDigest` and stores nothing.
    pub content_md5: Option<[u8; 16]>,
}

/// One object of an all-or-nothing batch.
#[derive(Debug, Clone)]
pub struct PutItem {
    /// Target bucket.
    pub bucket: String,
    /// Target key.
    pub key: String,
    /// The whole body.
    pub body: Bytes,
    /// Attributes.
    pub opts: PutOptions,
}

/// Metadata of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes: MD5 hex, or `<md5-of-md5s>-<N>` for multipart.
    pub etag: String,
    /// CRC-64/XZ (COS `x-cos-hash-crc64ecma`) of the whole body.
    pub crc64: u64,
    /// Last write time.
    pub last_modified: SystemTime,
    /// Stored HTTP attributes.
    pub attrs: ObjectAttrs,
}

/// A byte range as the client asked for it, before it is matched against an object's size
/// (the store resolves it against the version it opens, so size and bytes always agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last`, inclusive; a `last` past the end means "to the end".
    FromTo(u64, u64),
    /// `bytes=first-`: from `first` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The inclusive `(first, last)` this range selects from an object of `size` bytes;
    /// `None` when it selects nothing (it starts at or past the end, asks for zero bytes,
    /// or is `FromTo` with `last < first`).
    pub fn resolve(self, size: u64) -> Option<(u64, u64)> {
        let end = size.checked_sub(1)?;
        match self {
            ByteRange::FromTo(first, last) if first <= last && first < size => {
                Some((first, last.min(end)))
            }
            ByteRange::From(first) if first < size => Some((first, end)),
            ByteRange::Suffix(n) if n > 0 => Some((size - n.min(size), end)),
            _ => None,
        }
    }
}

/// What a GET returns: the metadata and bytes of one version of the object.
pub struct GetObject {
    /// The version that was opened.
    pub meta: ObjectMeta,
    /// The inclusive range the body covers, resolved against `meta.size`; `None` for the
    /// whole object.
    pub range: Option<(u64, u64)>,
    /// The bytes (only the range, if one was asked for).
    pub body: ByteStream,
}

impl std::fmt::Debug for GetObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetObject")
            .field("meta", &self.meta)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// A ListObjects v1 request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only keys starting with this.
    pub prefix: String,
    /// Group keys sharing a prefix up to this string into CommonPrefixes (empty: none).
    pub delimiter: String,
    /// Start strictly after this key (or common prefix).
    pub marker: String,
    /// Most Contents + CommonPrefixes (1..=1000).
    pub max_keys: usize,
}

/// An object as a listing shows it: only what ListObjects answers, so a backend need not
/// fetch each object's mogr metadata (CRC-64, content headers) to list a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes, as HEAD reports it.
    pub etag: String,
    /// Last write time.
    pub last_modified: SystemTime,
}

/// One ListObjects v1 page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Objects, in key byte order.
    pub objects: Vec<ListedObject>,
    /// Common prefixes, in byte order.
    pub common_prefixes: Vec<String>,
    /// More entries follow.
    pub is_truncated: bool,
    /// When truncated: the last key or prefix returned.
    pub next_marker: Option<String>,
}

/// A stored part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// 1..=10000.
    pub part_number: u32,
    /// MD5 hex of the part, without quotes.
    pub etag: String,
    /// Bytes.
    pub size: u64,
    /// CRC-64/XZ of the part.
    pub crc64: u64,
    /// Upload time.
    pub last_modified: SystemTime,
}

/// An in-progress multipart upload.
#[derive(Debug, Clone)]
pub struct MultipartUpload {
    /// The upload id.
    pub upload_id: String,
    /// Target key.
    pub key: String,
    /// Options given at initiate.
    pub opts: PutOptions,
    /// Parts by number.
    pub parts: Vec<PartInfo>,
}

/// Smallest size of every part but the last of a completed upload (the COS minimum).
pub const MIN_PART_SIZE: u64 = 1024 * 1024;

/// A List Multipart Uploads request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUploadsQuery {
    /// Only uploads of keys starting with this.
    pub prefix: String,
    /// Group keys sharing a prefix up to this string into CommonPrefixes (empty: none).
    pub delimiter: String,
    /// Start after this key (or common prefix); empty: from the start.
    pub key_marker: String,
    /// With `key_marker`: also include uploads of that key whose id sorts after this one.
    pub upload_id_marker: String,
    /// Most Uploads + CommonPrefixes (1..=1000).
    pub max_uploads: usize,
}

/// An in-progress multipart upload, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSummary {
    /// Target key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When it was initiated.
    pub initiated: SystemTime,
}

/// One List Multipart Uploads page: by key, then by initiation within a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUploadsPage {
    /// Uploads.
    pub uploads: Vec<UploadSummary>,
    /// Common prefixes, in byte order.
    pub common_prefixes: Vec<String>,
    /// More entries follow.
    pub is_truncated: bool,
    /// When truncated: the last key or prefix returned.
    pub next_key_marker: Option<String>,
    /// When truncated and the last entry was an upload: its id.
    pub next_upload_id_marker: Option<String>,
}

/// A part named in Complete Multipart Upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// Part number.
    pub part_number: u32,
    /// ETag as the client sent it (quotes allowed).
    pub etag: String,
}

/// What a Complete Multipart Upload committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedUpload {
    /// The assembled upload: ETag `<md5-of-md5s>-N`, size and CRC-64 of the whole body, the
    /// upload's attributes. Stored under the upload's key unless the caller chose not to keep
    /// it (an extra object replaces it); then it describes what was assembled.
    pub original: ObjectMeta,
    /// The extra objects as stored, in the order given.
    pub extra: Vec<ObjectMeta>,
}

/// Refuse keys that are empty, too long, contain control characters, or could escape the
/// data root.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_LEN {
        return Err(StoreError::KeyTooLong(key.len()));
    }
    // Listings carry keys in XML: see `is_unlistable_char`. NUL would also cut paths.
    if key.is_empty()
        || key.chars().any(is_unlistable_char)
        || key.starts_with('/')
        || key.contains('\\')
    {
        return Err(StoreError::InvalidKey(key.to_string()));
    }
    if key.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(StoreError::InvalidKey(key.to_string()));
    }
    Ok(())
}

/// Characters a key (or a listing parameter echoed next to keys) may not hold: C0 controls,
/// DEL, U+FFFE and U+FFFF. XML 1.0 cannot carry most of them at all, not even as character
/// references, and parsers rewrite the others (CR becomes LF), so a plain listing naming such
/// a key would not parse, or would hand back another key. (Surrogates cannot occur in a
/// Rust string.)
pub fn is_unlistable_char(c: char) -> bool {
    c < ' ' || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}'
}

/// Valid bucket names: `<name>-<appid>`, lower-case letters, digits and `-` (COS's own check).
pub fn validate_bucket(bucket: &str) -> Result<(), StoreError> {
    let ok = bucket.len() <= 63
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && bucket.rsplit_once('-').is_some_and(|(name, appid)| {
            !name.is_empty() && !appid.is_empty() && appid.bytes().all(|b| b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidBucketName(bucket.to_string()))
    }
}
