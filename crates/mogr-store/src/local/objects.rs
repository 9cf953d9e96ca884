//! Object reads, writes and deletes, and publishing staged records.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::bucket::{Bucket, Gate, IndexEntry, UploadKey};
use super::file_stream::{read_next, FileStream, FILE_CHUNK};
use super::journal::{self, Intent};
use super::layout::{OBJECTS_DIR, UPLOAD_FILE};
use super::reaper;
use super::recent::Version;
use super::record::{open_record, read_trailer, RecordHeader};
use super::writer::{
    ensure_dir, ensure_dir_blocking, sync_dirs, sync_dirs_now, RecordWriter, TempFile,
};
use super::{CrashPoint, LocalStore};
use crate::cached_io::{self, Reach};
use crate::types::{validate_key, ByteRange, GetObject, ObjectMeta, PutOptions};
use crate::{Result, StoreError};

/// Blocking tasks that may wait for a bucket's gate at once (see `gated_blocking`); far
/// below the blocking pool's 512 threads.
pub(super) const GATE_WAITERS: usize = 64;

/// A blocking task's places among the tasks that may wait for gates; dropped once its gate
/// is let go.
struct GateSlots {
    _in_bucket: tokio::sync::OwnedSemaphorePermit,
    _in_store: tokio::sync::OwnedSemaphorePermit,
}

/// Chunk size of object body streams.
pub(crate) const READ_CHUNK: usize = 256 * 1024;

/// A record opened for a GET: the body's first chunk is already read.
struct Opened {
    file: std::fs::File,
    header: RecordHeader,
    range: Option<(u64, u64)>,
    first: bytes::Bytes,
    /// Bytes of the range after `first` (the file is positioned at the first of them).
    remaining: u64,
}

/// Opens `key`'s record at `path`, resolves `range` against this very version (so size,
/// range and bytes agree even if the key is overwritten meanwhile) and reads the first chunk.
fn open_for_read(
    path: &std::path::Path,
    key: &str,
    range: Option<ByteRange>,
    reach: Reach,
) -> Result<Opened> {
    use std::io::{Seek, SeekFrom};
    let mut file = match reach.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchKey),
        Err(e) => return Err(e.into()),
    };
    let header = read_trailer(&file, reach)?;
    if header.key != key {
        return Err(StoreError::NoSuchKey);
    }
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
    let (start, len) = range.map_or((0, header.size), |(first, last)| (first, last - first + 1));
    let head = len.min(FILE_CHUNK as u64);
    let first = match reach {
        Reach::Disk => {
            if start != 0 {
                file.seek(SeekFrom::Start(start))?;
            }
            read_next(&file, head as usize)?
        }
        Reach::Memory => {
            let first = cached_io::read_vec_at(&file, head as usize, start)?;
            if head < len {
                // The rest is streamed from the file's position.
                file.seek(SeekFrom::Start(start + head))?;
            }
            bytes::Bytes::from(first)
        }
    };
    Ok(Opened {
        file,
        header,
        range,
        first,
        remaining: len - head,
    })
}

/// An upload to retire in the commit that publishes its object.
pub(crate) struct Retire {
    /// The upload's bucket.
    pub bucket: Arc<Bucket>,
    /// The upload's key.
    pub key: String,
    /// The upload id (already checked with `is_upload_id`).
    pub upload_id: String,
}

impl Retire {
    /// The upload's entry in its bucket's upload index.
    fn key(&self) -> UploadKey {
        (self.key.clone(), self.upload_id.clone())
    }
}

/// Log the records a commit is about to publish, in each bucket's log; returns the keys
/// logged per bucket. If one bucket's log fails, the others' changes are marked failed.
fn log_puts(buckets: &[Arc<Bucket>], staged: &[Staged]) -> Result<Vec<(Arc<Bucket>, Vec<String>)>> {
    let mut logged: Vec<(Arc<Bucket>, Vec<String>)> = Vec::new();
    for bucket in buckets {
        let mine: Vec<(&str, IndexEntry)> = staged
            .iter()
            .filter(|s| Arc::ptr_eq(&s.bucket, bucket))
            .map(|s| (s.header.key.as_str(), IndexEntry::of(&s.header)))
            .collect();
        if mine.is_empty() {
            continue;
        }
        if let Err(e) = bucket.log().puts(mine.iter().map(|(k, e)| (*k, e))) {
            mark_failed(&logged);
            return Err(e.into());
        }
        let keys = mine.into_iter().map(|(k, _)| k.to_string()).collect();
        logged.push((bucket.clone(), keys));
    }
    Ok(logged)
}

/// Each bucket once, in name order.
fn distinct(mut buckets: Vec<Arc<Bucket>>) -> Vec<Arc<Bucket>> {
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    buckets.dedup_by(|a, b| Arc::ptr_eq(a, b));
    buckets
}

/// Log that the changes [`log_puts`] logged failed.
fn mark_failed(logged: &[(Arc<Bucket>, Vec<String>)]) {
    for (bucket, keys) in logged {
        bucket.log().failed(keys.iter().map(String::as_str));
    }
}

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
    /// Check the body's MD5 and seal the record with the object's metadata.
    pub(super) async fn seal_object(
        &self,
        writer: RecordWriter,
        bucket: Arc<Bucket>,
        key: &str,
        opts: PutOptions,
    ) -> Result<Staged> {
        let key = key.to_string();
        let (header, temp) = writer
            .finish(opts.content_md5, move |digests| {
                RecordHeader::new(
                    &key,
                    digests.size,
                    hex::encode(digests.md5),
                    digests.crc64,
                    SystemTime::now(),
                    opts.attrs,
                )
            })
            .await?;
        Ok(Staged {
            bucket,
            header,
            temp,
        })
    }

    /// Make staged records visible, in order (a later record for the same key wins), and
    /// retire `retire`'s upload in the same commit. One record alone is one atomic rename;
    /// anything more goes through an intent so that a crash cannot leave part of it done.
    pub(crate) async fn publish(&self, staged: Vec<Staged>, retire: Option<Retire>) -> Result<()> {
        match (staged.len(), retire) {
            (0, None) => Ok(()),
            (1, None) => self.publish_one(staged).await,
            (_, retire) => self.commit(staged, retire).await,
        }
    }

    /// Lock the gates of `buckets` (from [`distinct`]: in name order, so two batches over the
    /// same buckets cannot deadlock), failing if one was deleted meanwhile.
    async fn lock_gates<'a>(
        &self,
        buckets: &'a [Arc<Bucket>],
    ) -> Result<Vec<tokio::sync::MutexGuard<'a, Gate>>> {
        let mut gates = Vec::with_capacity(buckets.len());
        for bucket in buckets.iter() {
            let gate = bucket.gate.lock().await;
            if gate.deleted {
                return Err(StoreError::NoSuchBucket);
            }
            gates.push(gate);
        }
        Ok(gates)
    }

    /// Where each staged record goes. Creates missing directories and returns every
    /// directory whose entries changed, for syncing.
    async fn places(&self, staged: &[Staged]) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
        let mut created = Vec::new();
        let mut places = Vec::with_capacity(staged.len());
        for item in staged {
            let (path, dir) = self.layout.object_path(&item.bucket.name, &item.header.key);
            let objects = self.layout.bucket_dir(&item.bucket.name).join(OBJECTS_DIR);
            created.extend(ensure_dir(&dir, &objects).await?);
            places.push(path);
        }
        Ok((places, created))
    }

    /// Rename one staged record into place and index it, under its bucket's gate so the
    /// index, its log and the directory tree change in the same order; then make the
    /// directories durable. One trip to the blocking pool, where the gate is taken: it is
    /// held for a stat, an open and a rename, not across hand-offs between threads nor while
    /// a replaced object's blocks are freed (with 16 uploads into one bucket, those waits
    /// under the gate were half of every PUT's time).
    async fn publish_one(&self, staged: Vec<Staged>) -> Result<()> {
        let Some(item) = staged.into_iter().next() else {
            return Ok(());
        };
        let bucket = item.bucket.clone();
        let (path, dir) = self.layout.object_path(&bucket.name, &item.header.key);
        let objects = self.layout.bucket_dir(&bucket.name).join(OBJECTS_DIR);
        let published = self
            .gated_blocking(&bucket, move |slots| {
                let Staged {
                    bucket,
                    header,
                    temp,
                } = item;
                let (mut dirs, replaced) = {
                    let gate = bucket.gate.blocking_lock();
                    if gate.deleted {
                        return Err(StoreError::NoSuchBucket);
                    }
                    let (key, entry) = (header.key.as_str(), IndexEntry::of(&header));
                    bucket.log().puts([(key, &entry)])?;
                    let replaced = reaper::hold(&path);
                    let moved = ensure_dir_blocking(&dir, &objects)
                        .and_then(|dirs| std::fs::rename(temp.path(), &path).map(|()| dirs));
                    match moved {
                        Ok(dirs) => {
                            temp.disarm();
                            bucket.index_mut().insert(key.to_string(), entry);
                            (dirs, replaced)
                        }
                        Err(e) => {
                            bucket.log().failed([key]);
                            return Err(e.into());
                        }
                    }
                };
                drop(slots);
                reaper::release(replaced);
                dirs.push(dir);
                Ok(sync_dirs_now(dirs)?)
            })
            .await;
        self.schedule_compaction(&bucket);
        published
    }

    /// The journaled commit: log the changes, write the intent, apply it, index, forget it.
    /// Everything up to the intent can fail cleanly (the staged records are dropped and
    /// deleted); once the intent is durable the staged records belong to it, and an error or
    /// a crash leaves them for the next open to roll forward. The gates are held until every
    /// step is durable, so no later write to these keys can be overtaken by a replay.
    async fn commit(&self, staged: Vec<Staged>, retire: Option<Retire>) -> Result<()> {
        let mut buckets: Vec<Arc<Bucket>> = staged.iter().map(|s| s.bucket.clone()).collect();
        buckets.extend(retire.as_ref().map(|r| r.bucket.clone()));
        let buckets = distinct(buckets);
        let gates = self.lock_gates(&buckets).await?;
        let upload_dir = match &retire {
            Some(retire) => Some(self.upload_to_retire(retire).await?),
            None => None,
        };
        let (places, created) = self.places(&staged).await?;
        // Durable before the intent names places inside them.
        sync_dirs(created).await?;
        let mut intent = Intent::default();
        for (item, path) in staged.iter().zip(&places) {
            intent.rename(&self.layout, item.temp.path(), path)?;
        }
        if let Some(dir) = &upload_dir {
            intent.retire(&self.layout, dir)?;
        }
        let crash = self.take_crash_point();
        let logged = log_puts(&buckets, &staged)?;
        if crash == Some(CrashPoint::BeforeIntent) {
            staged.into_iter().for_each(|s| s.temp.disarm());
            return Err(journal::simulated_crash().into());
        }
        let record = match journal::record(&self.layout, &intent).await {
            Ok(record) => record,
            Err(e) => {
                // Nothing was renamed; the staged records are dropped and deleted.
                mark_failed(&logged);
                return Err(e);
            }
        };
        let records: Vec<(Arc<Bucket>, RecordHeader)> = staged
            .into_iter()
            .map(|s| {
                s.temp.disarm();
                (s.bucket, s.header)
            })
            .collect();
        let stop_after = match crash {
            Some(CrashPoint::AfterSteps(n)) => Some(n),
            _ => None,
        };
        let layout = self.layout.clone();
        let applied = tokio::task::spawn_blocking(move || {
            journal::apply_blocking(&layout, &intent, stop_after)
        })
        .await
        .map_err(io::Error::other);
        if let Some(retire) = &retire {
            // Gone once retired, whether or not the rest of the commit got that far.
            if !self.upload_exists(retire).await {
                retire.bucket.uploads().remove(&retire.key());
            }
        }
        let graves = match applied {
            Ok(Ok(graves)) => graves,
            Ok(Err(e)) | Err(e) => {
                // A dying process writes nothing more; a live one says which changes to
                // settle from the records at the next open.
                if crash.is_none() {
                    mark_failed(&logged);
                }
                return Err(e.into());
            }
        };
        for (bucket, header) in &records {
            bucket
                .index_mut()
                .insert(header.key.clone(), IndexEntry::of(header));
        }
        drop(gates);
        buckets.iter().for_each(|b| self.schedule_compaction(b));
        journal::forget(record).await;
        for grave in graves {
            // Already invisible; the next open sweeps whatever is left.
            let _ = tokio::fs::remove_dir_all(grave).await;
        }
        Ok(())
    }

    /// Whether a retiring upload's directory is still there.
    async fn upload_exists(&self, retire: &Retire) -> bool {
        let dir = self
            .layout
            .upload_dir(&retire.bucket.name, &retire.upload_id);
        tokio::fs::metadata(dir.join(UPLOAD_FILE)).await.is_ok()
    }

    /// The directory of an upload about to be retired; `NoSuchUpload` if it is gone. Called
    /// under the bucket's gate, which completions and aborts of the upload also hold, so of
    /// two racing completions only the first finds it.
    async fn upload_to_retire(&self, retire: &Retire) -> Result<PathBuf> {
        let dir = self
            .layout
            .upload_dir(&retire.bucket.name, &retire.upload_id);
        match tokio::fs::metadata(dir.join(UPLOAD_FILE)).await {
            Ok(_) => Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NoSuchUpload),
            Err(e) => Err(e.into()),
        }
    }

    /// `key`'s metadata: from memory when the record was read lately and is still the
    /// version the index names, else from the record's trailer (one blocking trip).
    pub(super) async fn head_object_impl(&self, bucket: &str, key: &str) -> Result<ObjectMeta> {
        let bucket = self.bucket(bucket)?;
        validate_key(key)?;
        let version = bucket.index().get(key).map(Version::of);
        if let Some(meta) = version
            .as_ref()
            .and_then(|v| self.recent.get(&bucket.name, key, v))
        {
            return Ok(meta);
        }
        let (path, _) = self.layout.object_path(&bucket.name, key);
        let meta = match open_record(&path).await? {
            Some((_, header)) if header.key == key => header.to_meta(),
            _ => return Err(StoreError::NoSuchKey),
        };
        if let Some(version) = &version {
            self.recent.remember(&bucket.name, key, version, &meta);
        }
        Ok(meta)
    }

    pub(super) async fn get_object_impl(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject> {
        let bucket = self.bucket(bucket)?;
        validate_key(key)?;
        let (path, _) = self.layout.object_path(&bucket.name, key);
        // Open, trailer, range and the first chunk: here if memory holds them all, else in
        // one blocking task.
        let opened = match open_for_read(&path, key, range, Reach::Memory) {
            Err(StoreError::Io(e)) if cached_io::would_block(&e) => {
                let key = key.to_string();
                tokio::task::spawn_blocking(move || open_for_read(&path, &key, range, Reach::Disk))
                    .await
                    .map_err(io::Error::other)??
            }
            opened => opened?,
        };
        let Opened {
            file,
            header,
            range,
            first,
            remaining,
        } = opened;
        // The open handle keeps this version readable even if the key is overwritten meanwhile.
        let body = FileStream::new(file, remaining, Some(first));
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
        let (key, changed) = (key.to_string(), bucket.clone());
        // As in `publish_one`: the gate is taken on the blocking thread and held for an open
        // and an unlink; the blocks are freed later, elsewhere.
        let deleted = self
            .gated_blocking(&changed, move |slots| {
                let (removed, held) = {
                    let gate = bucket.gate.blocking_lock();
                    if gate.deleted {
                        return Err(StoreError::NoSuchBucket);
                    }
                    if !bucket.index().contains_key(&key) {
                        // Nothing to log; a record the index does not know of is stray, so
                        // remove it too.
                        let _ = std::fs::remove_file(&path);
                        return Ok(());
                    }
                    bucket.log().delete(&key)?;
                    let held = reaper::hold(&path);
                    let removed = match std::fs::remove_file(&path) {
                        Ok(()) => true,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
                        Err(e) => {
                            bucket.log().failed([key.as_str()]);
                            return Err(e.into());
                        }
                    };
                    bucket.index_mut().remove(&key);
                    (removed, held)
                };
                drop(slots);
                reaper::release(held);
                if removed {
                    sync_dirs_now(vec![dir])?;
                }
                Ok(())
            })
            .await;
        self.schedule_compaction(&changed);
        deleted
    }

    /// Runs `work` on the blocking pool, where it may wait for `bucket`'s gate
    /// (`blocking_lock`). It gets places among the bucket's [`Bucket::gate_waiters`] and
    /// then the store's [`GATE_WAITERS`], and must let them go ([`GateSlots`]) as soon as it
    /// lets the gate go: so threads waiting for gates never fill the pool (a gate's holder
    /// may need a blocking thread to go on), and writers to one bucket never hold up others.
    async fn gated_blocking<T: Send + 'static>(
        &self,
        bucket: &Arc<Bucket>,
        work: impl FnOnce(GateSlots) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let closed = |e: tokio::sync::AcquireError| StoreError::Io(io::Error::other(e));
        let in_bucket = bucket.gate_waiters.clone().acquire_owned().await;
        let in_store = self.gate_waiters.clone().acquire_owned().await;
        let slots = GateSlots {
            _in_bucket: in_bucket.map_err(closed)?,
            _in_store: in_store.map_err(closed)?,
        };
        tokio::task::spawn_blocking(move || work(slots))
            .await
            .map_err(|e| StoreError::Io(io::Error::other(e)))?
    }
}
