//! A [`Stage`] on local disk: every staged object is a sealed, synced temp record; publishing
//! renames them into place in one commit (journaled when there is more than one record or an
//! upload to retire). A dropped stage deletes its temp records, and the next open sweeps any
//! a crash left behind.

use async_trait::async_trait;
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use super::objects::{Retire, Staged, READ_CHUNK};
use super::record::open_record;
use super::writer::RecordWriter;
use super::LocalStore;
use crate::types::{validate_key, ByteStream, CompletedPart, ObjectMeta, PutOptions};
use crate::{Result, Stage, StoreError};

/// Writes staged on local disk, not yet visible.
pub(crate) struct LocalStage<'a> {
    store: &'a LocalStore,
    entries: Vec<Entry>,
    retire: Option<Retire>,
}

/// One staged record and whether publishing makes it visible.
struct Entry {
    staged: Staged,
    publish: bool,
}

impl<'a> LocalStage<'a> {
    /// An empty stage of `store`.
    pub(crate) fn new(store: &'a LocalStore) -> LocalStage<'a> {
        LocalStage {
            store,
            entries: Vec::new(),
            retire: None,
        }
    }
}

#[async_trait]
impl Stage for LocalStage<'_> {
    async fn put(
        &mut self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        opts: PutOptions,
    ) -> Result<ObjectMeta> {
        let bucket = self.store.bucket(bucket)?;
        validate_key(key)?;
        let mut writer = RecordWriter::create(&self.store.layout).await?;
        writer.write_stream(body).await?;
        let staged = self.store.seal_object(writer, bucket, key, opts).await?;
        let meta = staged.header.to_meta();
        self.entries.push(Entry {
            staged,
            publish: true,
        });
        Ok(meta)
    }

    async fn complete_upload(
        &mut self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
        keep: bool,
    ) -> Result<ObjectMeta> {
        crate::refuse_second_upload(self.retire.is_some())?;
        let (bucket, upload, chosen) = self
            .store
            .choose_parts(bucket, key, upload_id, parts)
            .await?;
        let staged = self
            .store
            .assemble(&bucket, key, upload.attrs, &chosen)
            .await?;
        let meta = staged.header.to_meta();
        self.entries.push(Entry {
            staged,
            publish: keep,
        });
        self.retire = Some(Retire {
            bucket,
            key: key.to_string(),
            upload_id: upload_id.to_string(),
        });
        Ok(meta)
    }

    async fn read(&self, index: usize) -> Result<ByteStream> {
        let entry = self.entries.get(index).ok_or_else(|| {
            StoreError::InvalidArgument(format!("nothing was staged as number {index}"))
        })?;
        let (file, header) = open_record(entry.staged.temp.path())
            .await?
            .ok_or_else(|| std::io::Error::other("a staged record vanished"))?;
        Ok(Box::pin(ReaderStream::with_capacity(
            file.take(header.size),
            READ_CHUNK,
        )))
    }

    async fn publish(self: Box<Self>) -> Result<()> {
        let LocalStage {
            store,
            entries,
            retire,
        } = *self;
        // Records staged only to be read are dropped here, which deletes them.
        let staged = entries
            .into_iter()
            .filter(|e| e.publish)
            .map(|e| e.staged)
            .collect();
        store.publish(staged, retire).await
    }
}
