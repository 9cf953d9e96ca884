//! A [`Stage`] over the engine: each object is written under a fresh staged key and checked
//! there; publishing one object alone is one server-side copy, anything more (several
//! objects, an upload to retire) a recorded commit (see `commit`). A stage dropped
//! unpublished deletes its staged bodies in the background.

use async_trait::async_trait;

use super::commit::{millis, Commit, Copy, Retirement};
use super::engine::body_stream;
use super::{layout, meta, stage, S3Store};
use crate::types::{validate_key, ByteStream, CompletedPart, ObjectMeta, PutOptions};
use crate::{Stage, StoreError};

/// Writes staged in the engine, not yet visible.
pub(crate) struct S3Stage<'a> {
    store: &'a S3Store,
    entries: Vec<Entry>,
    retire: Option<Retirement>,
}

/// One staged body, where it goes and whether publishing makes it visible.
struct Entry {
    staged: String,
    dest: String,
    meta: ObjectMeta,
    publish: bool,
}

impl<'a> S3Stage<'a> {
    /// An empty stage of `store`.
    pub(crate) fn new(store: &'a S3Store) -> S3Stage<'a> {
        S3Stage {
            store,
            entries: Vec::new(),
            retire: None,
        }
    }

    /// The commit that publishes this stage.
    fn commit(&mut self) -> Commit {
        let mut commit = Commit {
            retire: self.retire.take(),
            ..Commit::default()
        };
        for entry in self.entries.drain(..) {
            if entry.publish {
                commit.copies.push(Copy {
                    written_ms: millis(entry.meta.last_modified),
                    meta: meta::encode(&entry.meta),
                    from: entry.staged,
                    to: entry.dest,
                });
            } else {
                commit.drop.push(entry.staged);
            }
        }
        commit
    }
}

#[async_trait]
impl Stage for S3Stage<'_> {
    async fn put(
        &mut self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        opts: PutOptions,
    ) -> Result<ObjectMeta, StoreError> {
        let engine = &self.store.engine;
        self.store.buckets.info(engine, bucket).await?;
        validate_key(key)?;
        let (staged, digests) =
            stage::stage_stream(engine, body, opts.length, opts.content_md5).await?;
        let meta = digests.meta(key, opts.attrs);
        self.entries.push(Entry {
            staged,
            dest: layout::object(bucket, key),
            meta: meta.clone(),
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
    ) -> Result<ObjectMeta, StoreError> {
        crate::refuse_second_upload(self.retire.is_some())?;
        let (staged, meta) = self
            .store
            .stage_upload(bucket, key, upload_id, parts)
            .await?;
        self.entries.push(Entry {
            staged,
            dest: layout::object(bucket, key),
            meta: meta.clone(),
            publish: keep,
        });
        self.retire = Some(Retirement {
            bucket: bucket.to_string(),
            key: key.to_string(),
            upload_id: upload_id.to_string(),
        });
        Ok(meta)
    }

    async fn read(&self, index: usize) -> Result<ByteStream, StoreError> {
        let entry = self.entries.get(index).ok_or_else(|| {
            StoreError::InvalidArgument(format!("nothing was staged as number {index}"))
        })?;
        let res = self
            .store
            .engine
            .get(&entry.staged, None)
            .await?
            .ok_or_else(|| std::io::Error::other("a staged body vanished"))?;
        Ok(Box::pin(body_stream(res)))
    }

    async fn publish(mut self: Box<Self>) -> Result<(), StoreError> {
        let engine = self.store.engine.clone();
        if let Some(r) = &self.retire {
            // Another node may have completed or aborted it meanwhile.
            let record = layout::upload(&r.bucket, &r.upload_id, &r.key);
            if engine.head(&record).await?.is_none() {
                return Err(StoreError::NoSuchUpload);
            }
        }
        let commit = self.commit();
        #[cfg(feature = "crash-points")]
        if self.store.take_crash_point() {
            // As if the node died right after writing the record: nothing else happens.
            let bytes = serde_json::to_vec(&commit).map_err(std::io::Error::other)?;
            engine.put(&layout::commit(), bytes.into(), None).await?;
            return Err(StoreError::Io(std::io::Error::other("simulated crash")));
        }
        match (&commit.copies[..], &commit.retire) {
            ([], None) => {
                stage::discard_later(&engine, commit.drop);
                Ok(())
            }
            ([one], None) => {
                let published = engine.copy(&one.from, &one.to, &one.meta).await;
                // Dropped whether or not the copy worked: a failed publish leaves nothing.
                let mut staged = commit.drop;
                staged.push(one.from.clone());
                stage::discard_later(&engine, staged);
                published
            }
            _ => commit.run(&engine).await,
        }
    }
}

impl Drop for S3Stage<'_> {
    fn drop(&mut self) {
        let staged: Vec<String> = self.entries.drain(..).map(|e| e.staged).collect();
        if staged.is_empty() {
            return;
        }
        stage::discard_later(&self.store.engine, staged);
    }
}
