//! Object reads, writes and deletes, and publishing staged records.

use std::io::{self, SeekFrom};
use std::sync::Arc;
use std::time::SystemTime;

use futures::{StreamExt, TryStreamExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::bucket::{Bucket, IndexEntry};
use super::layout::OBJECTS_DIR;
use super::record::{open_record, RecordHeader};
use super::writer::{ensure_dir, sync_dir, sync_dirs, RecordWriter, TempFile};
use super::LocalStore;
use crate::types::{
    validate_key, ByteRange, ByteStream, GetObject, ObjectMeta, PutItem, PutOptions,
};
use crate::{Result, StoreError};

/// Chunk size of object body streams.
pub(crate) const READ_CHUNK: usize = 256 * 1024;
/// How many records of a batch are staged at once.
const STAGE_CONCURRENCY: usize = 8;

/// A synced temp record waiting to be renamed into place.
pub(crate) struct Staged {
    /// Target bucket.
    pub bucket: Arc<Bucket>,
    /// The record's metadata.
    pub header: RecordHeader,
    /// The temp file.
    pub temp: TempFile,
}

impl LocalStore {
    pub(super) async fn put_object_impl(
        &self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        opts: PutOptions,
    ) -> Result<ObjectMeta> {
        let bucket = self.bucket(bucket)?;
        validate_key(key)?;
        let mut writer = RecordWriter::create(&self.layout).await?;
        writer.write_stream(body).await?;
        let staged = self.seal_object(writer, bucket, key, opts).await?;
        let meta = staged.header.to_meta();
        self.publish(vec![staged]).await?;
        Ok(meta)
    }

    /// Check the body's MD5 and seal the record with the object's metadata.
    async fn seal_object(
        &self,
        writer: RecordWriter,
        bucket: Arc<Bucket>,
        key: &str,
        opts: PutOptions,
    ) -> Result<Staged> {
        writer.check_md5(opts.content_md5)?;
        let digests = writer.digests();
        let header = RecordHeader::new(
            key,
            digests.size,
            hex::encode(digests.md5),
            digests.crc64,
            SystemTime::now(),
            opts.attrs,
        );
        let temp = writer.seal(&header).await?;
        Ok(Staged {
            bucket,
            header,
            temp,
        })
    }

    pub(super) async fn put_objects_atomic_impl(
        &self,
        items: Vec<PutItem>,
    ) -> Result<Vec<ObjectMeta>> {
        // Refuse bad names before writing anything.
        let mut targets = Vec::with_capacity(items.len());
        for item in items {
            let bucket = self.bucket(&item.bucket)?;
            validate_key(&item.key)?;
            targets.push((bucket, item));
        }
        // On any failure the staged records are dropped, which deletes them.
        let staged: Vec<Staged> = futures::stream::iter(targets)
            .map(|(bucket, item)| async move {
                let mut writer = RecordWriter::create(&self.layout).await?;
                writer.write(&item.body).await?;
                self.seal_object(writer, bucket, &item.key, item.opts).await
            })
            .buffered(STAGE_CONCURRENCY)
            .try_collect()
            .await?;
        let metas = staged.iter().map(|s| s.header.to_meta()).collect();
        self.publish(staged).await?;
        Ok(metas)
    }

    /// Rename staged records into place and index them, holding every involved bucket's gate
    /// so the index changes in the same order as the directory tree. Directories are created
    /// before the first rename, so a batch fails before anything becomes visible except on an
    /// I/O error during the renames themselves.
    pub(crate) async fn publish(&self, staged: Vec<Staged>) -> Result<()> {
        let mut buckets: Vec<Arc<Bucket>> = staged.iter().map(|s| s.bucket.clone()).collect();
        // A fixed lock order keeps two batches over the same buckets from deadlocking.
        buckets.sort_by(|a, b| a.name.cmp(&b.name));
        buckets.dedup_by(|a, b| Arc::ptr_eq(a, b));
        let mut gates = Vec::with_capacity(buckets.len());
        for bucket in &buckets {
            let gate = bucket.gate.lock().await;
            if gate.deleted {
                return Err(StoreError::NoSuchBucket);
            }
            gates.push(gate);
        }
        let mut dirs = Vec::new();
        let mut places = Vec::with_capacity(staged.len());
        for item in &staged {
            let (path, dir) = self.layout.object_path(&item.bucket.name, &item.header.key);
            let objects = self.layout.bucket_dir(&item.bucket.name).join(OBJECTS_DIR);
            dirs.extend(ensure_dir(&dir, &objects).await?);
            dirs.push(dir);
            places.push(path);
        }
        for (item, path) in staged.into_iter().zip(places) {
            tokio::fs::rename(item.temp.path(), &path).await?;
            item.temp.disarm();
            item.bucket
                .index_mut()
                .insert(item.header.key.clone(), IndexEntry::of(&item.header));
        }
        drop(gates);
        sync_dirs(dirs).await
    }

    /// The record of `key`, positioned at the start of its body.
    pub(super) async fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(tokio::fs::File, RecordHeader)> {
        let bucket = self.bucket(bucket)?;
        validate_key(key)?;
        let (path, _) = self.layout.object_path(&bucket.name, key);
        match open_record(&path).await? {
            Some((file, header)) if header.key == key => Ok((file, header)),
            _ => Err(StoreError::NoSuchKey),
        }
    }

    pub(super) async fn get_object_impl(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject> {
        let (mut file, header) = self.open_object(bucket, key).await?;
        // Resolved against this very record, so size, range and bytes agree even if the key
        // is overwritten meanwhile.
        let range = match range {
            None => None,
            Some(asked) => {
                Some(
                    asked
                        .resolve(header.size)
                        .ok_or_else(|| StoreError::InvalidRange {
                            size: header.size,
                            etag: header.etag.clone(),
                            last_modified: header.last_modified(),
                        })?,
                )
            }
        };
        let (start, len) =
            range.map_or((0, header.size), |(first, last)| (first, last - first + 1));
        file.seek(SeekFrom::Start(start)).await?;
        // The open handle keeps this version readable even if the key is overwritten meanwhile.
        let body = ReaderStream::with_capacity(file.take(len), READ_CHUNK);
        Ok(GetObject {
            meta: header.to_meta(),
            range,
            body: Box::pin(body),
        })
    }

    pub(super) async fn delete_object_impl(&self, bucket: &str, key: &str) -> Result<()> {
        let bucket = self.bucket(bucket)?;
        validate_key(key)?;
        let (path, dir) = self.layout.object_path(&bucket.name, key);
        let gate = bucket.gate.lock().await;
        if gate.deleted {
            return Err(StoreError::NoSuchBucket);
        }
        let removed = match tokio::fs::remove_file(&path).await {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(e.into()),
        };
        bucket.index_mut().remove(key);
        drop(gate);
        if removed {
            sync_dir(dir).await?;
        }
        Ok(())
    }
}
