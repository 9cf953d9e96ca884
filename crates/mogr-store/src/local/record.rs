//! The record file: one per object and one per multipart part. The body comes first, then a
//! JSON trailer with the metadata, its length and a magic tag, so a single rename publishes
//! body and metadata together and ranged reads seek straight into the body.

use std::io::{self, SeekFrom};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cached_io::Reach;
use crate::types::{ObjectAttrs, ObjectMeta};

/// Ends every record; a file without it is not one of ours or was cut short.
const MAGIC: &[u8; 8] = b"MOGRREC1";
/// Trailer length (u32, big-endian) followed by [`MAGIC`].
const FOOTER_LEN: usize = 12;
/// Trailers are small (user metadata is bounded by the HTTP layer); refuse absurd lengths
/// rather than allocating them from a damaged file.
const MAX_TRAILER_LEN: u32 = 4 << 20;

/// Metadata stored in a record's trailer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct RecordHeader {
    /// The object key (or the upload's key for a part); checked on read.
    pub key: String,
    /// Body length in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// CRC-64/XZ of the body.
    pub crc64: u64,
    /// Write time, seconds since the epoch.
    pub mtime_secs: u64,
    /// Write time, sub-second nanoseconds.
    pub mtime_nanos: u32,
    /// HTTP attributes and user metadata.
    #[serde(default)]
    pub attrs: ObjectAttrs,
}

impl RecordHeader {
    /// A header stamped with `mtime`.
    pub(crate) fn new(
        key: &str,
        size: u64,
        etag: String,
        crc64: u64,
        mtime: SystemTime,
        attrs: ObjectAttrs,
    ) -> RecordHeader {
        let (mtime_secs, mtime_nanos) = split_time(mtime);
        RecordHeader {
            key: key.to_string(),
            size,
            etag,
            crc64,
            mtime_secs,
            mtime_nanos,
            attrs,
        }
    }

    /// The write time.
    pub(crate) fn last_modified(&self) -> SystemTime {
        join_time(self.mtime_secs, self.mtime_nanos)
    }

    /// The object metadata this header describes.
    pub(crate) fn to_meta(&self) -> ObjectMeta {
        ObjectMeta {
            key: self.key.clone(),
            size: self.size,
            etag: self.etag.clone(),
            crc64: self.crc64,
            last_modified: self.last_modified(),
            attrs: self.attrs.clone(),
        }
    }

    /// The bytes appended after the body.
    pub(crate) fn encode_trailer(&self) -> io::Result<Vec<u8>> {
        let mut out = serde_json::to_vec(self).map_err(io::Error::other)?;
        let len = u32::try_from(out.len())
            .ok()
            .filter(|len| *len <= MAX_TRAILER_LEN)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "metadata too large"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(MAGIC);
        Ok(out)
    }
}

/// Seconds and nanoseconds since the epoch (clamped to the epoch for earlier times).
pub(crate) fn split_time(t: SystemTime) -> (u64, u32) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    (since.as_secs(), since.subsec_nanos())
}

/// The inverse of [`split_time`].
pub(crate) fn join_time(secs: u64, nanos: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, nanos.min(999_999_999))
}

fn corrupt(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("damaged record: {why}"))
}

/// The trailer length named by a footer.
fn trailer_len(footer: &[u8; FOOTER_LEN], file_len: u64) -> io::Result<u64> {
    let (len_bytes, magic) = footer.split_at(4);
    if magic != MAGIC {
        return Err(corrupt("no trailer tag"));
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(len_bytes);
    let len = u32::from_be_bytes(len);
    if len > MAX_TRAILER_LEN || u64::from(len) + FOOTER_LEN as u64 > file_len {
        return Err(corrupt("trailer length out of range"));
    }
    Ok(u64::from(len))
}

/// Parse a trailer and check it agrees with the file's length.
fn parse_trailer(json: &[u8], body_len: u64) -> io::Result<RecordHeader> {
    let header: RecordHeader = serde_json::from_slice(json).map_err(|e| corrupt(&e.to_string()))?;
    if header.size != body_len {
        return Err(corrupt("size does not match the file"));
    }
    Ok(header)
}

/// Open a record and read its trailer; `None` if the file does not exist. The file is
/// left positioned at the start of the body. One trip to the blocking pool in all.
pub(crate) async fn open_record(
    path: &Path,
) -> io::Result<Option<(tokio::fs::File, RecordHeader)>> {
    let path = path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || open_record_blocking(&path))
        .await
        .map_err(io::Error::other)??;
    Ok(opened.map(|(file, header)| (tokio::fs::File::from_std(file), header)))
}

/// [`open_record`] with blocking I/O; the file is positioned at the start of the body.
pub(crate) fn open_record_blocking(
    path: &Path,
) -> io::Result<Option<(std::fs::File, RecordHeader)>> {
    use std::io::Seek;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let header = read_trailer(&file, Reach::Disk)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(Some((file, header)))
}

/// Read a record's trailer with blocking I/O (for the index scan at open).
pub(crate) fn read_header_blocking(path: &Path) -> io::Result<RecordHeader> {
    read_trailer(&std::fs::File::open(path)?, Reach::Disk)
}

/// The trailer of an open record, checked against the file's length, read as `reach` allows
/// (`WouldBlock` from [`Reach::Memory`] if the disk would be needed).
pub(crate) fn read_trailer(file: &std::fs::File, reach: Reach) -> io::Result<RecordHeader> {
    let file_len = file.metadata()?.len();
    trailer_from(file_len, |buf, at| reach.read_exact_at(file, buf, at))
}

/// The trailer of a record of `file_len` bytes, read with `read_at(buffer, offset)`.
fn trailer_from(
    file_len: u64,
    mut read_at: impl FnMut(&mut [u8], u64) -> io::Result<()>,
) -> io::Result<RecordHeader> {
    if file_len < FOOTER_LEN as u64 {
        return Err(corrupt("too short"));
    }
    let mut footer = [0u8; FOOTER_LEN];
    read_at(&mut footer, file_len - FOOTER_LEN as u64)?;
    let json_len = trailer_len(&footer, file_len)?;
    let body_len = file_len - FOOTER_LEN as u64 - json_len;
    let mut json = vec![0u8; json_len as usize];
    read_at(&mut json, body_len)?;
    parse_trailer(&json, body_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn trailer_round_trips_and_damage_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        let mut attrs = ObjectAttrs::default();
        attrs.user_meta.insert("a".into(), "b".into());
        let header = RecordHeader::new("k", 3, "e".into(), 7, SystemTime::now(), attrs);
        let mut bytes = b"abc".to_vec();
        bytes.extend(header.encode_trailer().unwrap());
        std::fs::write(&path, &bytes).unwrap();

        let (_, read) = open_record(&path).await.unwrap().unwrap();
        assert_eq!(read.to_meta(), header.to_meta());
        assert_eq!(
            read_header_blocking(&path).unwrap().to_meta(),
            header.to_meta()
        );

        // A record cut short loses its tag; a body that grew no longer matches its size.
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(open_record(&path).await.is_err());
        let mut longer = b"x".to_vec();
        longer.extend_from_slice(&bytes);
        std::fs::write(&path, &longer).unwrap();
        assert!(read_header_blocking(&path).is_err());
        assert!(open_record(&dir.path().join("missing"))
            .await
            .unwrap()
            .is_none());
    }
}
