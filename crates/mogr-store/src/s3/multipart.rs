//! Multipart uploads whose state lives in the engine, so the parts of one upload may reach
//! different mogr nodes. Each part is an engine object of its own (staged, checked, then
//! published like any write), so COS's 1 MiB parts and reading an unfinished upload's body
//! both work on any engine. Completion streams the parts, in order, into an engine
//! multipart upload of a staged key, one engine part per mogr part, so the engine computes
//! the same `<md5-of-md5s>-N` ETag COS reports (Garage accepts parts of any size), and then
//! publishes it like a PUT.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};

use super::engine::{body_stream, Engine};
use super::{layout, meta, stage, S3Store};
use crate::local::upload_list;
use crate::types::{
    validate_key, ByteStream, CompletedPart, ListUploadsPage, ListUploadsQuery, MultipartUpload,
    ObjectAttrs, ObjectMeta, PartInfo, PutOptions, MIN_PART_SIZE,
};
use crate::{Crc64, StoreError};

/// Highest part number.
const MAX_PART_NUMBER: u32 = 10_000;

/// A stored part as a completion sees it.
struct StoredPart {
    number: u32,
    size: u64,
    etag: String,
}

/// A checked completion: the parts to join, in order, and the resulting ETag.
struct Plan {
    attrs: ObjectAttrs,
    parts: Vec<StoredPart>,
    etag: String,
    size: u64,
}

impl S3Store {
    pub(crate) async fn create_multipart_impl(
        &self,
        bucket: &str,
        key: &str,
        opts: PutOptions,
    ) -> Result<String, StoreError> {
        self.buckets.info(&self.engine, bucket).await?;
        validate_key(key)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let upload_id = layout::new_upload_id(now);
        let state = serde_json::to_vec(&opts.attrs).map_err(std::io::Error::other)?;
        self.engine
            .put(&layout::upload(bucket, &upload_id, key), state.into(), None)
            .await?;
        Ok(upload_id)
    }

    /// The upload's attributes; `NoSuchUpload` unless it is unfinished.
    async fn upload_attrs(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<ObjectAttrs, StoreError> {
        self.buckets.info(&self.engine, bucket).await?;
        validate_key(key)?;
        if !layout::is_upload_id(upload_id) {
            return Err(StoreError::NoSuchUpload);
        }
        let bytes = self
            .engine
            .get_small(&layout::upload(bucket, upload_id, key))
            .await?
            .ok_or(StoreError::NoSuchUpload)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Io(std::io::Error::other(format!("upload {upload_id}: {e}"))))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn upload_part_impl(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: ByteStream,
        content_md5: Option<[u8; 16]>,
    ) -> Result<PartInfo, StoreError> {
        if !(1..=MAX_PART_NUMBER).contains(&part_number) {
            return Err(StoreError::InvalidArgument(format!(
                "part number {part_number} is not in 1..={MAX_PART_NUMBER}"
            )));
        }
        self.upload_attrs(bucket, key, upload_id).await?;
        let (staged, digests) = stage::stage_stream(&self.engine, body, None, content_md5).await?;
        let part = digests.meta(key, ObjectAttrs::default());
        let dest = layout::part(bucket, upload_id, part_number);
        if let Err(e) = stage::publish(&self.engine, &staged, &dest, &part).await {
            stage::discard(&self.engine, &staged).await;
            return Err(e);
        }
        Ok(PartInfo {
            part_number,
            etag: part.etag,
            size: part.size,
            crc64: part.crc64,
            last_modified: part.last_modified,
        })
    }

    /// The parts stored so far, by number, from one listing (sizes and ETags only).
    async fn stored_parts(
        &self,
        bucket: &str,
        upload_id: &str,
    ) -> Result<Vec<StoredPart>, StoreError> {
        let prefix = layout::parts(bucket, upload_id);
        let mut parts: Vec<StoredPart> = self
            .engine
            .list_all(&prefix)
            .await?
            .into_iter()
            .filter_map(|(key, size, etag)| {
                let number = key.get(prefix.len()..)?.parse().ok()?;
                Some(StoredPart { number, size, etag })
            })
            .collect();
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    pub(crate) async fn list_parts_impl(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<MultipartUpload, StoreError> {
        let attrs = self.upload_attrs(bucket, key, upload_id).await?;
        let stored = self.stored_parts(bucket, upload_id).await?;
        // The CRC-64 and time of each part live in its metadata.
        let parts = futures::stream::iter(stored)
            .map(|p| async move {
                let headers = self
                    .engine
                    .head(&layout::part(bucket, upload_id, p.number))
                    .await?;
                let Some(headers) = headers else {
                    return Ok(None);
                };
                let m = meta::decode(key, &headers)?;
                Ok::<_, StoreError>(Some(PartInfo {
                    part_number: p.number,
                    etag: m.etag,
                    size: m.size,
                    crc64: m.crc64,
                    last_modified: m.last_modified,
                }))
            })
            .buffered(16)
            .try_filter_map(|p| async move { Ok(p) })
            .try_collect()
            .await?;
        Ok(MultipartUpload {
            upload_id: upload_id.to_string(),
            key: key.to_string(),
            opts: PutOptions {
                attrs,
                content_md5: None,
                length: None,
            },
            parts,
        })
    }

    /// Checks a completion request against the stored parts, as COS does.
    async fn plan(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<Plan, StoreError> {
        let attrs = self.upload_attrs(bucket, key, upload_id).await?;
        if parts.is_empty() {
            return Err(StoreError::InvalidPart(
                "the request lists no parts".to_string(),
            ));
        }
        if parts
            .windows(2)
            .any(|w| w[0].part_number >= w[1].part_number)
        {
            return Err(StoreError::InvalidPartOrder);
        }
        let mut stored = self.stored_parts(bucket, upload_id).await?;
        let mut chosen = Vec::with_capacity(parts.len());
        for wanted in parts {
            let etag = wanted.etag.trim_matches('"').to_ascii_lowercase();
            let found = stored
                .iter()
                .position(|p| p.number == wanted.part_number)
                .ok_or_else(|| {
                    StoreError::InvalidPart(format!("part {} was not uploaded", wanted.part_number))
                })?;
            if stored[found].etag != etag {
                return Err(StoreError::InvalidPart(format!(
                    "part {} has another ETag",
                    wanted.part_number
                )));
            }
            chosen.push(stored.swap_remove(found));
        }
        if let Some(small) = chosen[..chosen.len() - 1]
            .iter()
            .find(|p| p.size < MIN_PART_SIZE)
        {
            return Err(StoreError::EntityTooSmall {
                part_number: small.number,
                size: small.size,
                min: MIN_PART_SIZE,
            });
        }
        let mut md5s = Md5::new();
        for p in &chosen {
            let raw = hex::decode(&p.etag).map_err(|_| {
                StoreError::Io(std::io::Error::other("a stored part has a bad ETag"))
            })?;
            md5s.update(raw);
        }
        Ok(Plan {
            attrs,
            etag: format!("{}-{}", hex::encode(md5s.finalize()), chosen.len()),
            size: chosen.iter().map(|p| p.size).sum(),
            parts: chosen,
        })
    }

    /// The bodies of `parts`, one after the other, read from the engine as they are needed.
    fn joined(&self, bucket: &str, upload_id: &str, parts: &[StoredPart]) -> ByteStream {
        let engine = self.engine.clone();
        let keys: Vec<String> = parts
            .iter()
            .map(|p| layout::part(bucket, upload_id, p.number))
            .collect();
        Box::pin(
            futures::stream::iter(keys)
                .then(move |key| {
                    let engine = engine.clone();
                    async move {
                        match engine.get(&key, None).await {
                            Ok(Some(res)) => Ok(body_stream(res)),
                            Ok(None) => {
                                Err(std::io::Error::other("a part vanished while it was read"))
                            }
                            Err(e) => Err(std::io::Error::other(e)),
                        }
                    }
                })
                .try_flatten(),
        )
    }

    /// Joins the planned parts under a staged key; returns the key and the body's CRC-64.
    async fn assemble(
        &self,
        bucket: &str,
        upload_id: &str,
        plan: &Plan,
    ) -> Result<(String, u64), StoreError> {
        let staged = layout::staged();
        let engine_upload = self.engine.create_multipart(&staged).await?;
        let crc = Arc::new(Mutex::new(Crc64::new()));
        let sizes: Vec<u64> = plan.parts.iter().map(|p| p.size).collect();
        let groups = engine_parts(&sizes, self.min_engine_part);
        let mut etags = Vec::with_capacity(groups.len());
        for (i, group) in groups.into_iter().enumerate() {
            let number = u16::try_from(i + 1).unwrap_or(u16::MAX);
            let crc = crc.clone();
            let parts = plan.parts.get(group).unwrap_or_default();
            let length = parts.iter().map(|p| p.size).sum();
            let body = self
                .joined(bucket, upload_id, parts)
                .inspect_ok(move |chunk| {
                    crc.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .update(chunk)
                });
            let sent = self
                .engine
                .upload_part(
                    &staged,
                    &engine_upload,
                    number,
                    reqwest::Body::wrap_stream(body),
                    length,
                )
                .await;
            match sent {
                Ok(etag) => etags.push(etag),
                Err(e) => {
                    self.engine.abort_multipart(&staged, &engine_upload).await;
                    return Err(e);
                }
            }
        }
        if let Err(e) = self
            .engine
            .complete_multipart(&staged, &engine_upload, &etags)
            .await
        {
            self.engine.abort_multipart(&staged, &engine_upload).await;
            return Err(e);
        }
        let value = crc.lock().unwrap_or_else(PoisonError::into_inner).value();
        Ok((staged, value))
    }

    /// Checks a completion and assembles the parts under a staged key; returns the key and
    /// the assembled object's metadata. Nothing is published and the upload stays.
    pub(crate) async fn stage_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(String, ObjectMeta), StoreError> {
        let plan = self.plan(bucket, key, upload_id, parts).await?;
        let (assembled, crc64) = self.assemble(bucket, upload_id, &plan).await?;
        let meta = ObjectMeta {
            key: key.to_string(),
            size: plan.size,
            etag: plan.etag,
            crc64,
            last_modified: meta::now(),
            attrs: plan.attrs,
        };
        Ok((assembled, meta))
    }

    /// Removes an upload's state record first (so it is gone for every node), then its
    /// parts; a failure only leaves unreachable parts behind.
    async fn retire(&self, bucket: &str, key: &str, upload_id: &str) {
        if let Err(e) = retire_upload(&self.engine, bucket, key, upload_id).await {
            tracing::warn!(upload_id, error = %e, "could not drop an upload record");
        }
    }

    pub(crate) async fn abort_multipart_impl(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StoreError> {
        self.upload_attrs(bucket, key, upload_id).await?;
        self.retire(bucket, key, upload_id).await;
        Ok(())
    }

    pub(crate) async fn list_multipart_uploads_impl(
        &self,
        bucket: &str,
        query: &ListUploadsQuery,
    ) -> Result<ListUploadsPage, StoreError> {
        self.buckets.info(&self.engine, bucket).await?;
        let prefix = layout::uploads(bucket);
        let uploads = self
            .engine
            .list_all(&prefix)
            .await?
            .into_iter()
            .filter_map(|(name, _, _)| {
                let (id, key) = name.get(prefix.len()..)?.split_once('/')?;
                let initiated =
                    UNIX_EPOCH + Duration::from_nanos(layout::upload_initiated_nanos(id) as u64);
                Some(((key.to_string(), id.to_string()), initiated))
            })
            .collect();
        Ok(upload_list::page(&uploads, query))
    }
}

/// Removes an upload's state record (so it is gone for every node), then its parts; only
/// the record's removal can fail the call: a part left behind is unreachable garbage.
pub(crate) async fn retire_upload(
    engine: &Engine,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<(), StoreError> {
    engine
        .delete(&layout::upload(bucket, upload_id, key))
        .await?;
    let prefix = layout::parts(bucket, upload_id);
    if let Ok(parts) = engine.list_all(&prefix).await {
        for (part, _, _) in parts {
            let _ = engine.delete(&part).await;
        }
    }
    Ok(())
}

/// How mogr parts (their sizes, in order) map onto engine parts: one engine part each when
/// every part but the last holds at least `min` bytes (so the engine's listing ETag is the
/// `<md5 of part MD5s>-N` COS reports), else consecutive parts joined until each engine part
/// but the last reaches `min` (engines that refuse small parts; the listing ETag then differs
/// from the one HEAD and GET report).
fn engine_parts(sizes: &[u64], min: u64) -> Vec<std::ops::Range<usize>> {
    let all_but_last = sizes.split_last().map_or(&[][..], |(_, rest)| rest);
    if all_but_last.iter().all(|&s| s >= min) {
        return (0..sizes.len()).map(|i| i..i + 1).collect();
    }
    let mut groups = Vec::new();
    let (mut start, mut held) = (0, 0u64);
    for (i, &size) in sizes.iter().enumerate() {
        held += size;
        if held >= min {
            groups.push(start..i + 1);
            (start, held) = (i + 1, 0);
        }
    }
    if start < sizes.len() {
        groups.push(start..sizes.len());
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::engine_parts;

    #[test]
    fn small_parts_are_joined_only_when_the_engine_needs_it() {
        const MIB: u64 = 1 << 20;
        assert_eq!(engine_parts(&[MIB, MIB, 3], 0), [0..1, 1..2, 2..3]);
        assert_eq!(
            engine_parts(&[5 * MIB, 6 * MIB, 3], 5 * MIB),
            [0..1, 1..2, 2..3]
        );
        let one = |r: std::ops::Range<usize>| std::iter::once(r).collect::<Vec<_>>();
        assert_eq!(engine_parts(&[MIB; 3], 5 * MIB), one(0..3));
        assert_eq!(
            engine_parts(&[MIB, 2 * MIB, 3 * MIB, MIB, 5 * MIB, 2], 5 * MIB),
            [0..3, 3..5, 5..6]
        );
        assert_eq!(engine_parts(&[7], 5 * MIB), one(0..1));
        assert_eq!(
            engine_parts(&[], 5 * MIB),
            Vec::<std::ops::Range<usize>>::new()
        );
    }
}
