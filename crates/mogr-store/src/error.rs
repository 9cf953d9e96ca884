//! Store errors; the HTTP edge maps each to a COS error code.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `NoSuchBucket`.
    #[error("the bucket does not exist")]
    NoSuchBucket,
    /// `NoSuchKey`.
    #[error("the key does not exist")]
    NoSuchKey,
    /// `BucketAlreadyOwnedByYou` / `BucketAlreadyExists`.
    #[error("the bucket already exists")]
    BucketAlreadyExists,
    /// `BucketNotEmpty`.
    #[error("the bucket is not empty")]
    BucketNotEmpty,
    /// `InvalidBucketName`.
    #[error("invalid bucket name `{0}`")]
    InvalidBucketName(String),
    /// `InvalidURI`: the key could escape the data root or is malformed.
    #[error("invalid object key `{0}`")]
    InvalidKey(String),
    /// `KeyTooLong`.
    #[error("object key of {0} bytes is too long")]
    KeyTooLong(usize),
    /// `BadDigest`: Content-MD5 mismatch; nothing was stored.
    #[error("the Content-MD5 you specified did not match what was received")]
    BadDigest,
    /// `EntityTooLarge`.
    #[error("body is larger than {0} bytes")]
    EntityTooLarge(u64),
    /// `NoSuchUpload`.
    #[error("the multipart upload does not exist")]
    NoSuchUpload,
    /// `InvalidPart`: a listed part is missing or its ETag differs.
    #[error("invalid part: {0}")]
    InvalidPart(String),
    /// `EntityTooSmall`: a part other than the last is under [`crate::MIN_PART_SIZE`].
    #[error("part {part_number} is {size} bytes; every part but the last needs at least {min}")]
    EntityTooSmall {
        /// The offending part.
        part_number: u32,
        /// Its size.
        size: u64,
        /// The minimum.
        min: u64,
    },
    /// `InvalidRange`: the requested range selects nothing of the version that was opened.
    /// Carries that version's validators, so preconditions can still be judged first.
    #[error("the range is not satisfiable for an object of {size} bytes")]
    InvalidRange {
        /// The object's size (for `Content-Range: bytes */size`).
        size: u64,
        /// Its ETag, unquoted.
        etag: String,
        /// Its last write time.
        last_modified: std::time::SystemTime,
    },
    /// `InvalidPartOrder`.
    #[error("the list of parts was not in ascending order")]
    InvalidPartOrder,
    /// `InvalidArgument`, e.g. a part number out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// `SlowDown` (503, retried by clients): the storage engine cannot be reached or is
    /// overloaded right now; nothing of the failed write was made visible.
    #[error("the storage engine is unavailable: {0}")]
    Unavailable(String),
    /// `InternalError`.
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
}
