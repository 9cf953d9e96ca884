//! Object storage for mogr: the [`Store`] trait the HTTP layer talks to, the embedded
//! local-disk backend, and the contract suite every backend must pass.

pub mod cached_io;
pub mod contract;
pub mod error;
pub mod local;
mod md5_lanes;
pub mod s3;
pub mod types;

pub use error::StoreError;
pub use local::LocalStore;
pub use md5_lanes::Md5Stream;
pub use types::*;

use async_trait::async_trait;
use bytes::Bytes;

/// CRC-64/XZ, the checksum COS sends as `x-cos-hash-crc64ecma`. Slice-by-16 tables: about
/// four times the bytewise table's speed, which matters because every stored byte passes here.
pub static CRC64: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_XZ);

/// `InvalidArgument` if a stage has already completed an upload: a [`Stage`] completes at
/// most one (its publish retires it).
pub(crate) fn refuse_second_upload(completed_one: bool) -> Result<()> {
    if completed_one {
        return Err(StoreError::InvalidArgument(
            "a stage completes at most one upload".into(),
        ));
    }
    Ok(())
}

/// CRC-64/XZ of a whole buffer (SIMD carry-less multiplication where the CPU has it).
pub fn crc64(bytes: &[u8]) -> u64 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Xz, bytes)
}

/// A running CRC-64/XZ: carry-less multiplication on 512-bit registers where the CPU has
/// VPCLMULQDQ (80 GB/s here, 2.6 times crc64fast's 128-bit folding), 128-bit elsewhere on
/// x86-64 and AArch64; every stored byte and every cache hit passes here.
pub struct Crc64(crc_fast::Digest);

impl Crc64 {
    /// A CRC of nothing yet.
    pub fn new() -> Crc64 {
        Crc64(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Xz))
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The CRC of everything added so far.
    pub fn value(&self) -> u64 {
        self.0.finalize()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Crc64::new()
    }
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crc64({:016x})", self.value())
    }
}

/// Result type of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A storage backend. Object bodies stream in and out; nothing requires whole objects in memory.
///
/// Keys are the decoded COS keys (no leading `/`). Backends validate them with
/// [`types::validate_key`] and refuse escapes with [`StoreError::InvalidKey`] / [`StoreError::KeyTooLong`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Create a bucket; `BucketAlreadyOwnedByYou` if it exists.
    async fn create_bucket(&self, bucket: &str, acl: Acl) -> Result<()>;
    /// Bucket facts; `NoSuchBucket` if absent.
    async fn head_bucket(&self, bucket: &str) -> Result<BucketInfo>;
    /// Delete an empty bucket; `BucketNotEmpty` otherwise.
    async fn delete_bucket(&self, bucket: &str) -> Result<()>;
    /// All buckets, ordered by name.
    async fn list_buckets(&self) -> Result<Vec<BucketInfo>>;
    /// Replace the bucket's canned ACL.
    async fn set_bucket_acl(&self, bucket: &str, acl: Acl) -> Result<()>;
    /// mogr's own settings of the bucket (styles, style separators); the defaults for a
    /// bucket that has none. `NoSuchBucket` if absent. Cheap: callers read it per request.
    async fn bucket_settings(&self, bucket: &str) -> Result<BucketSettings>;
    /// Replace the bucket's settings whole, durably and atomically (a reader sees the old or
    /// the new settings, never a mix). They are deleted with the bucket.
    async fn put_bucket_settings(&self, bucket: &str, settings: BucketSettings) -> Result<()>;

    /// Store an object from a stream: a stage of this one object, published. Visible only
    /// once complete; a failed or mismatched (`content_md5`) upload leaves any previous
    /// object untouched.
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        opts: PutOptions,
    ) -> Result<ObjectMeta> {
        let mut stage = self.stage();
        let meta = stage.put(bucket, key, body, opts).await?;
        stage.publish().await?;
        Ok(meta)
    }
    /// An empty [`Stage`]: writes staged there become visible together when it is published,
    /// and are discarded if it is dropped unpublished.
    fn stage(&self) -> Box<dyn Stage + '_>;
    /// Object metadata; `NoSuchKey` if absent.
    async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta>;
    /// Object metadata and body from one open of the object, so they always describe the
    /// same version. `range` is resolved against that version's size; a range that selects
    /// nothing is [`StoreError::InvalidRange`].
    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject>;
    /// Delete an object; deleting a missing key succeeds.
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<()>;
    /// One page of keys in byte order (ListObjects v1 semantics).
    async fn list_objects(&self, bucket: &str, query: &ListQuery) -> Result<ListPage>;

    /// Start a multipart upload; returns its upload id.
    async fn create_multipart(&self, bucket: &str, key: &str, opts: PutOptions) -> Result<String>;
    /// Store one part (1..=10000); replaces an earlier part with the same number.
    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: ByteStream,
        content_md5: Option<[u8; 16]>,
    ) -> Result<PartInfo>;
    /// The parts uploaded so far, by part number, and the upload's options.
    async fn list_parts(&self, bucket: &str, key: &str, upload_id: &str)
        -> Result<MultipartUpload>;
    /// Assemble the listed parts into the object (ETag `md5-of-md5s-N`) and drop the upload,
    /// in one commit (see [`Stage::complete_upload`] for the rules).
    async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<ObjectMeta> {
        let mut stage = self.stage();
        let meta = stage
            .complete_upload(bucket, key, upload_id, parts, true)
            .await?;
        stage.publish().await?;
        Ok(meta)
    }
    /// Drop an upload and its parts.
    async fn abort_multipart(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()>;
    /// One page of the bucket's unfinished uploads, by key and then by initiation.
    async fn list_multipart_uploads(
        &self,
        bucket: &str,
        query: &ListUploadsQuery,
    ) -> Result<ListUploadsPage>;
}

/// Writes that become visible together or not at all (an upload with its processed outputs,
/// the outputs of one processing request). Objects are staged in full (written, checked and
/// durable) without being visible; [`Stage::publish`] makes them visible in staging order, so
/// a later object for the same key wins. Dropping a stage unpublished discards everything in
/// it, and a multipart upload it completed stays as it was, so the client can retry.
#[async_trait]
pub trait Stage: Send {
    /// Stage an object from a stream; refused as [`Store::put_object`] would refuse it
    /// (bucket, key, `content_md5`), in which case the stage stays usable and unchanged.
    async fn put(
        &mut self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        opts: PutOptions,
    ) -> Result<ObjectMeta>;
    /// Stage the completion of a multipart upload: the listed parts (ascending numbers, the
    /// ETags they were uploaded with, all but the last at least [`MIN_PART_SIZE`]) are
    /// assembled into a staged object with the upload's attributes, readable with
    /// [`Stage::read`]. Publishing stores it under the upload's key when `keep` (pass `false`
    /// when a later staged object replaces it) and retires the upload in the same commit, so
    /// a retried completion is `NoSuchUpload` and never writes the parts over a newer object.
    /// One upload per stage.
    async fn complete_upload(
        &mut self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
        keep: bool,
    ) -> Result<ObjectMeta>;
    /// The body of the `index`th staged object (in staging order, counting a completed
    /// upload whether kept or not).
    async fn read(&self, index: usize) -> Result<ByteStream>;
    /// Make everything staged visible, in order, and retire the completed upload, all in one
    /// commit. On an error nothing new is visible unless the backend says otherwise in its
    /// own documentation (an engine without transactions finishes the commit later).
    async fn publish(self: Box<Self>) -> Result<()>;
}

/// A body of one in-memory chunk.
pub fn once(bytes: Bytes) -> ByteStream {
    Box::pin(futures::stream::once(async move { Ok(bytes) }))
}

/// Collect a stream into memory, refusing more than `limit` bytes (for bodies that must be
/// processed whole, such as images under Pic-Operations).
pub async fn collect_limited(mut body: ByteStream, limit: u64) -> Result<Bytes> {
    use futures::StreamExt;
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if buf.len() as u64 + chunk.len() as u64 > limit {
            return Err(StoreError::EntityTooLarge(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
