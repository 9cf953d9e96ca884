//! Multipart uploads: parts are records in the upload's directory; completing (a [`Stage`])
//! concatenates them into one staged object record, which is published, with whatever else
//! was staged with it, in one commit that also retires the upload.
//!
//! [`Stage`]: crate::Stage

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use md5::{Digest, Md5};
use tokio::io::AsyncReadExt;

use super::bucket::{Bucket, UploadFile};
use super::layout::{is_upload_id, new_upload_id, part_number_of, UPLOAD_FILE};
use super::objects::{Staged, READ_CHUNK};
use super::record::{join_time, open_record, RecordHeader};
use super::upload_list;
use super::writer::{stage_small_file, sync_dirs, RecordWriter};
use super::LocalStore;
use crate::types::{
    validate_key, ByteStream, CompletedPart, ListUploadsPage, ListUploadsQuery, MultipartUpload,
    ObjectAttrs, PartInfo, PutOptions, MIN_PART_SIZE,
};
use crate::{Result, StoreError};

/// Highest part number COS accepts.
const MAX_PART_NUMBER: u32 = 10_000;

/// A part chosen for completion, with the ETag it was validated against.
pub(super) struct ChosenPart {
    path: PathBuf,
    etag: String,
}

/// An ETag as a client quotes it, reduced to ours: no quotes, lower-case hex.
fn bare_etag(etag: &str) -> String {
    etag.trim().trim_matches('"').to_ascii_lowercase()
}

/// Open a part and check it is still the one that was validated (a part may be re-uploaded
/// while an upload completes).
async fn open_chosen(part: &ChosenPart) -> io::Result<(tokio::fs::File, RecordHeader)> {
    match open_record(&part.path).await? {
        Some((file, header)) if header.etag == part.etag => Ok((file, header)),
        _ => Err(io::Error::new(
            io::ErrorKind::NotFound,
            "a part changed while the upload was being assembled",
        )),
    }
}

impl LocalStore {
    /// The upload `upload_id` of `key`; `NoSuchUpload` for unknown ids or another key's upload.
    async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(Arc<Bucket>, UploadFile)> {
        let bucket = self.bucket(bucket)?;
        validate_key(key)?;
        if !is_upload_id(upload_id) {
            return Err(StoreError::NoSuchUpload);
        }
        let path = self
            .layout
            .upload_dir(&bucket.name, upload_id)
            .join(UPLOAD_FILE);
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchUpload),
            Err(e) => return Err(e.into()),
        };
        let upload: UploadFile = serde_json::from_slice(&bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        if upload.key != key {
            return Err(StoreError::NoSuchUpload);
        }
        Ok((bucket, upload))
    }

    pub(super) async fn create_multipart_impl(
        &self,
        bucket: &str,
        key: &str,
        opts: PutOptions,
    ) -> Result<String> {
        let bucket = self.bucket(bucket)?;
        validate_key(key)?;
        let upload_id = new_upload_id();
        let facts = UploadFile {
            key: key.to_string(),
            attrs: opts.attrs,
            initiated_secs: super::record::split_time(SystemTime::now()).0,
        };
        let bytes = serde_json::to_vec(&facts).map_err(io::Error::other)?;
        let staged = stage_small_file(&self.layout, &bytes).await?;
        let dir = self.layout.upload_dir(&bucket.name, &upload_id);
        // Under the gate so a concurrent bucket delete either sees this upload or wins first.
        let gate = bucket.gate.lock().await;
        if gate.deleted {
            return Err(StoreError::NoSuchBucket);
        }
        tokio::fs::create_dir(&dir).await?;
        if let Err(e) = tokio::fs::rename(staged.path(), dir.join(UPLOAD_FILE)).await {
            let _ = tokio::fs::remove_dir(&dir).await;
            return Err(e.into());
        }
        staged.disarm();
        let initiated = join_time(facts.initiated_secs, 0);
        bucket
            .uploads()
            .insert((facts.key, upload_id.clone()), initiated);
        drop(gate);
        sync_dirs(vec![dir, self.layout.uploads_dir(&bucket.name)]).await?;
        Ok(upload_id)
    }

    pub(super) async fn upload_part_impl(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: ByteStream,
        content_md5: Option<[u8; 16]>,
    ) -> Result<PartInfo> {
        if !(1..=MAX_PART_NUMBER).contains(&part_number) {
            return Err(StoreError::InvalidArgument(format!(
                "part number {part_number} is not in 1..={MAX_PART_NUMBER}"
            )));
        }
        let (bucket, _) = self.upload(bucket, key, upload_id).await?;
        let mut writer = RecordWriter::create(&self.layout).await?;
        writer.write_stream(body).await?;
        writer.check_md5(content_md5).await?;
        let digests = writer.digests().await?;
        let header = RecordHeader::new(
            key,
            digests.size,
            hex::encode(digests.md5),
            digests.crc64,
            SystemTime::now(),
            ObjectAttrs::default(),
        );
        let temp = writer.seal(&header).await?;
        let path = self.layout.part_path(&bucket.name, upload_id, part_number);
        match tokio::fs::rename(temp.path(), &path).await {
            Ok(()) => temp.disarm(),
            // Aborted or completed meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchUpload),
            Err(e) => return Err(e.into()),
        }
        sync_dirs(vec![self.layout.upload_dir(&bucket.name, upload_id)]).await?;
        Ok(PartInfo {
            part_number,
            last_modified: header.last_modified(),
            etag: header.etag,
            size: header.size,
            crc64: header.crc64,
        })
    }

    pub(super) async fn list_parts_impl(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<MultipartUpload> {
        let (bucket, upload) = self.upload(bucket, key, upload_id).await?;
        let dir = self.layout.upload_dir(&bucket.name, upload_id);
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchUpload),
            Err(e) => return Err(e.into()),
        };
        let mut parts = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            let Some(number) = entry.file_name().to_str().and_then(part_number_of) else {
                continue;
            };
            // A part replaced or dropped between listing and reading is simply skipped.
            if let Some((_, header)) = open_record(&entry.path()).await? {
                parts.push(PartInfo {
                    part_number: number,
                    etag: header.etag.clone(),
                    size: header.size,
                    crc64: header.crc64,
                    last_modified: header.last_modified(),
                });
            }
        }
        parts.sort_by_key(|p| p.part_number);
        Ok(MultipartUpload {
            upload_id: upload_id.to_string(),
            key: upload.key,
            opts: PutOptions {
                attrs: upload.attrs,
                content_md5: None,
                length: None,
            },
            parts,
        })
    }

    /// Check a completion list: ascending part numbers, each uploaded with the ETag given,
    /// all but the last at least [`MIN_PART_SIZE`].
    pub(super) async fn choose_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(Arc<Bucket>, UploadFile, Vec<ChosenPart>)> {
        let (bucket, upload) = self.upload(bucket, key, upload_id).await?;
        if parts.is_empty() {
            return Err(StoreError::InvalidArgument("the part list is empty".into()));
        }
        if parts
            .windows(2)
            .any(|w| w[0].part_number >= w[1].part_number)
        {
            return Err(StoreError::InvalidPartOrder);
        }
        let mut chosen = Vec::with_capacity(parts.len());
        let mut sizes = Vec::with_capacity(parts.len());
        for part in parts {
            let number = part.part_number;
            let path = self.layout.part_path(&bucket.name, upload_id, number);
            let header = match (1..=MAX_PART_NUMBER).contains(&number) {
                true => open_record(&path).await?.map(|(_, header)| header),
                false => None,
            };
            let Some(header) = header else {
                return Err(StoreError::InvalidPart(format!(
                    "part {number} was not uploaded"
                )));
            };
            if bare_etag(&part.etag) != header.etag {
                return Err(StoreError::InvalidPart(format!(
                    "part {number} has ETag \"{}\", not {}",
                    header.etag, part.etag
                )));
            }
            chosen.push(ChosenPart {
                path,
                etag: header.etag,
            });
            sizes.push((number, header.size));
        }
        // Only once every listed part is known good, so a missing or mismatched part is
        // reported as such rather than as a size problem.
        if let Some((number, size)) = sizes
            .split_last()
            .and_then(|(_, all_but_last)| all_but_last.iter().find(|(_, s)| *s < MIN_PART_SIZE))
        {
            return Err(StoreError::EntityTooSmall {
                part_number: *number,
                size: *size,
                min: MIN_PART_SIZE,
            });
        }
        Ok((bucket, upload, chosen))
    }

    /// Read the chosen parts in order into a staged record of `key`.
    pub(super) async fn assemble(
        &self,
        bucket: &Arc<Bucket>,
        key: &str,
        attrs: ObjectAttrs,
        chosen: &[ChosenPart],
    ) -> Result<Staged> {
        let mut writer = RecordWriter::create(&self.layout).await?;
        let mut part_md5s = Md5::new();
        let mut buf = vec![0u8; READ_CHUNK * 4];
        for part in chosen {
            let (file, header) = open_chosen(part).await.map_err(|_| {
                StoreError::InvalidPart(
                    "a part changed while the upload was being completed".into(),
                )
            })?;
            let md5 = hex::decode(&header.etag)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            part_md5s.update(&md5);
            let mut body = file.take(header.size);
            loop {
                let n = body.read(&mut buf).await?;
                let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                    break;
                };
                writer.write(chunk).await?;
            }
        }
        let digests = writer.digests().await?;
        let etag = format!("{}-{}", hex::encode(part_md5s.finalize()), chosen.len());
        let header = RecordHeader::new(
            key,
            digests.size,
            etag,
            digests.crc64,
            SystemTime::now(),
            attrs,
        );
        Ok(Staged {
            bucket: bucket.clone(),
            temp: writer.seal(&header).await?,
            header,
        })
    }

    pub(super) async fn abort_multipart_impl(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<()> {
        let (bucket, _) = self.upload(bucket, key, upload_id).await?;
        let dir = self.layout.upload_dir(&bucket.name, upload_id);
        let grave = self.layout.tmp_path("gone");
        // Under the gate, which a completion holds while it checks for and retires the
        // upload, so an abort and a completion of the same upload cannot both win.
        let gate = bucket.gate.lock().await;
        if gate.deleted {
            return Err(StoreError::NoSuchBucket);
        }
        let moved = tokio::fs::rename(&dir, &grave).await;
        if moved.is_ok() {
            bucket
                .uploads()
                .remove(&(key.to_string(), upload_id.to_string()));
        }
        drop(gate);
        match moved {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchUpload),
            Err(e) => return Err(e.into()),
        }
        sync_dirs(vec![self.layout.uploads_dir(&bucket.name)]).await?;
        // Already invisible; the next open sweeps whatever is left.
        let _ = tokio::fs::remove_dir_all(&grave).await;
        Ok(())
    }

    pub(super) async fn list_multipart_uploads_impl(
        &self,
        bucket: &str,
        query: &ListUploadsQuery,
    ) -> Result<ListUploadsPage> {
        let bucket = self.bucket(bucket)?;
        let uploads = bucket.uploads();
        Ok(upload_list::page(&uploads, query))
    }
}
