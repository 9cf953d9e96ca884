//! One cache entry on disk: a small JSON header naming what the entry is, then the bytes.
//!
//! `MAGIC`, the header length (u32, big-endian), the header, the body. The header repeats
//! the entry's key (so a read proves the file is the variant asked for) and carries the
//! body's length and CRC-64, checked on every full read: a damaged entry is never served.
//! Entries are written to a temp file and renamed into place, so a reader sees a whole
//! entry or none; they are not synced, since a torn entry after a crash fails its check.

use std::fs::File;
use std::io::{self, Read, Write};

use bytes::Bytes;
use mogr_store::cached_io::would_block;
pub use mogr_store::cached_io::Reach;
use std::path::{Path, PathBuf};

use super::key::VariantKey;

/// Starts every entry.
const MAGIC: &[u8; 8] = b"MOGRVAR1";
/// Magic plus the header length.
const PREAMBLE: usize = 12;
/// Headers hold a key (<= 850 bytes), a rule and a few names; anything bigger is damage.
const MAX_HEADER: u32 = 64 * 1024;
/// Largest entry read and checked on the async thread when memory holds it; bigger ones go
/// to the blocking pool (copying and checking 1 MiB takes about 0.1 ms).
const MEMORY_READ_MAX: u64 = 1024 * 1024;

/// What an entry says about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntryHeader {
    /// Source bucket.
    pub bucket: String,
    /// Source key.
    pub key: String,
    /// Source ETag the variant was made from.
    pub source_etag: String,
    /// Canonical rule.
    pub rule: String,
    /// Engine fingerprint.
    pub fingerprint: String,
    /// `Content-Type` of the body.
    pub mime: String,
    /// Body length.
    pub len: u64,
    /// CRC-64/XZ of the body.
    pub crc64: u64,
}

impl EntryHeader {
    /// Whether this entry is the variant `key` names.
    pub fn is_for(&self, key: &VariantKey) -> bool {
        self.bucket == key.bucket
            && self.key == key.key
            && self.source_etag == key.source_etag
            && self.rule == key.rule
            && self.fingerprint == key.fingerprint
    }
}

/// Why an entry cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// There is no such file (never written, evicted or purged).
    #[error("no entry")]
    Missing,
    /// The file is damaged or belongs to another variant: drop it.
    #[error("damaged entry: {0}")]
    Damaged(&'static str),
    /// Reading failed.
    #[error(transparent)]
    Io(io::Error),
    /// Memory does not hold it all ([`Reach::Memory`]): read it from disk instead.
    #[error("not in memory")]
    WouldBlock,
}

fn open(path: &Path, reach: Reach) -> Result<File, EntryError> {
    reach.open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => EntryError::Missing,
        _ if would_block(&e) => EntryError::WouldBlock,
        _ => EntryError::Io(e),
    })
}

/// Fills `buf` from `offset`; a failure other than "not in memory" is damage named `what`.
fn read_at(
    file: &File,
    buf: &mut [u8],
    offset: u64,
    reach: Reach,
    what: &'static str,
) -> Result<(), EntryError> {
    reach
        .read_exact_at(file, buf, offset)
        .map_err(|e| match would_block(&e) {
            true => EntryError::WouldBlock,
            false => EntryError::Damaged(what),
        })
}

/// Reads and checks the header; returns it with the file's length and the body offset.
fn read_header(file: &File, reach: Reach) -> Result<(EntryHeader, u64, u64), EntryError> {
    let file_len = file.metadata().map_err(EntryError::Io)?.len();
    let mut pre = [0u8; PREAMBLE];
    read_at(file, &mut pre, 0, reach, "too short")?;
    let mut json = vec![0u8; header_len(&pre)? as usize];
    read_at(file, &mut json, PREAMBLE as u64, reach, "header cut short")?;
    let (header, body_at) = parse_header(&json, file_len)?;
    Ok((header, file_len, body_at))
}

/// The header's length from the preamble.
fn header_len(pre: &[u8; PREAMBLE]) -> Result<u32, EntryError> {
    if &pre[..8] != MAGIC {
        return Err(EntryError::Damaged("bad magic"));
    }
    let len = u32::from_be_bytes([pre[8], pre[9], pre[10], pre[11]]);
    if len > MAX_HEADER {
        return Err(EntryError::Damaged("header too long"));
    }
    Ok(len)
}

/// The header from its JSON, checked against the file's length; with the body's offset.
fn parse_header(json: &[u8], file_len: u64) -> Result<(EntryHeader, u64), EntryError> {
    let header: EntryHeader =
        serde_json::from_slice(json).map_err(|_| EntryError::Damaged("header unreadable"))?;
    let body_at = PREAMBLE as u64 + json.len() as u64;
    if body_at.checked_add(header.len) != Some(file_len) {
        return Err(EntryError::Damaged("length mismatch"));
    }
    Ok((header, body_at))
}

/// The whole file, in one read, into memory that is not zeroed first.
fn read_whole(file: &mut File, file_len: u64, reach: Reach) -> Result<Vec<u8>, EntryError> {
    let len = usize::try_from(file_len).map_err(|_| EntryError::Damaged("too long"))?;
    match reach {
        Reach::Memory => {
            mogr_store::cached_io::read_vec_at(file, len, 0).map_err(|e| match would_block(&e) {
                true => EntryError::WouldBlock,
                false => EntryError::Damaged("cut short"),
            })
        }
        Reach::Disk => {
            let mut whole = Vec::with_capacity(len);
            file.take(file_len)
                .read_to_end(&mut whole)
                .map_err(|_| EntryError::Damaged("cut short"))?;
            Ok(whole)
        }
    }
}

/// The header of the entry at `path` if it is `key`'s and its length is right; the body is
/// not read (HEAD and purges need only this).
pub fn read_head(
    path: &Path,
    key: Option<&VariantKey>,
    reach: Reach,
) -> Result<EntryHeader, EntryError> {
    let file = open(path, reach)?;
    let (header, _, _) = read_header(&file, reach)?;
    match key {
        Some(k) if !header.is_for(k) => Err(EntryError::Damaged("another variant")),
        _ => Ok(header),
    }
}

/// The whole entry at `path`, checked: it is `key`'s, and the body has the recorded length
/// and CRC-64. One read of the whole file (the body is a slice of it).
pub fn read_verified(
    path: &Path,
    key: &VariantKey,
    reach: Reach,
) -> Result<(EntryHeader, Bytes), EntryError> {
    let mut file = open(path, reach)?;
    let file_len = file.metadata().map_err(EntryError::Io)?.len();
    if reach == Reach::Memory && file_len > MEMORY_READ_MAX {
        return Err(EntryError::WouldBlock);
    }
    let whole = read_whole(&mut file, file_len, reach)?;
    if whole.len() as u64 != file_len {
        return Err(EntryError::Damaged("cut short"));
    }
    let pre: &[u8; PREAMBLE] = whole
        .get(..PREAMBLE)
        .and_then(|p| p.try_into().ok())
        .ok_or(EntryError::Damaged("too short"))?;
    let json_end = PREAMBLE + header_len(pre)? as usize;
    let json = whole
        .get(PREAMBLE..json_end)
        .ok_or(EntryError::Damaged("header cut short"))?;
    let (header, body_at) = parse_header(json, file_len)?;
    if !header.is_for(key) {
        return Err(EntryError::Damaged("another variant"));
    }
    let body = Bytes::from(whole).slice(body_at as usize..);
    if mogr_store::crc64(&body) != header.crc64 {
        return Err(EntryError::Damaged("checksum mismatch"));
    }
    Ok((header, body))
}

/// Writes an entry at `path` through a temp file in `tmp_dir` (same file system) and a
/// rename; returns the bytes the file takes.
pub fn write(tmp_dir: &Path, path: &Path, header: &EntryHeader, body: &[u8]) -> io::Result<u64> {
    let json = serde_json::to_vec(header).map_err(io::Error::other)?;
    let header_len = u32::try_from(json.len())
        .ok()
        .filter(|&n| n <= MAX_HEADER)
        .ok_or_else(|| io::Error::other("entry header too long"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut temp = tempfile::Builder::new()
        .prefix("variant")
        .tempfile_in(tmp_dir)?;
    let mut pre = [0u8; PREAMBLE];
    pre[..8].copy_from_slice(MAGIC);
    pre[8..].copy_from_slice(&header_len.to_be_bytes());
    temp.write_all(&pre)?;
    temp.write_all(&json)?;
    temp.write_all(body)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok((PREAMBLE + json.len() + body.len()) as u64)
}

/// Where entries live: `<root>/v1/<bucket>/<first two hex digits>/<id hex>`.
pub fn entry_path(entries: &Path, bucket: &str, id_hex: &str) -> PathBuf {
    entries.join(bucket).join(&id_hex[..2]).join(id_hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> VariantKey {
        VariantKey {
            bucket: "b-1".into(),
            key: "k.jpg".into(),
            source_etag: "e".into(),
            inputs: String::new(),
            rule: "imageMogr2/format/png".into(),
            fingerprint: "f".into(),
        }
    }

    fn header(body: &[u8]) -> EntryHeader {
        let k = key();
        EntryHeader {
            bucket: k.bucket,
            key: k.key,
            source_etag: k.source_etag,
            rule: k.rule,
            fingerprint: k.fingerprint,
            mime: "image/png".into(),
            len: body.len() as u64,
            crc64: mogr_store::crc64(body),
        }
    }

    /// What the cache does: memory first, the disk if memory does not hold it all.
    fn verified(path: &Path, key: &VariantKey, reach: Reach) -> Result<Bytes, EntryError> {
        match read_verified(path, key, reach) {
            Err(EntryError::WouldBlock) => read_verified(path, key, Reach::Disk),
            other => other,
        }
        .map(|(_, body)| body)
    }

    fn head(path: &Path, key: &VariantKey, reach: Reach) -> Result<EntryHeader, EntryError> {
        match read_head(path, Some(key), reach) {
            Err(EntryError::WouldBlock) => read_head(path, Some(key), Reach::Disk),
            other => other,
        }
    }

    #[test]
    fn round_trip_and_every_kind_of_damage_is_caught() {
        for reach in [Reach::Disk, Reach::Memory] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ab").join("entry");
            let body = b"variant bytes".repeat(100);
            let size = write(dir.path(), &path, &header(&body), &body).unwrap();
            assert_eq!(size, std::fs::metadata(&path).unwrap().len());
            // Just written: memory holds it (where the kernel can say so).
            let (h, got) = match read_verified(&path, &key(), reach) {
                Err(EntryError::WouldBlock) => read_verified(&path, &key(), Reach::Disk),
                other => other,
            }
            .unwrap();
            assert_eq!(got, body);
            assert_eq!(h.mime, "image/png");
            assert_eq!(head(&path, &key(), reach).unwrap().len, body.len() as u64);

            let mut other = key();
            other.source_etag = "changed".into();
            assert!(matches!(
                verified(&path, &other, reach),
                Err(EntryError::Damaged(_))
            ));

            // A flipped byte in the body fails the checksum.
            let mut raw = std::fs::read(&path).unwrap();
            let last = raw.len() - 1;
            raw[last] ^= 1;
            std::fs::write(&path, &raw).unwrap();
            assert!(matches!(
                verified(&path, &key(), reach),
                Err(EntryError::Damaged("checksum mismatch"))
            ));
            // A cut file fails the length check, even for a header-only read.
            std::fs::write(&path, &raw[..raw.len() - 5]).unwrap();
            assert!(matches!(
                head(&path, &key(), reach),
                Err(EntryError::Damaged("length mismatch"))
            ));
            std::fs::write(&path, b"garbage").unwrap();
            assert!(matches!(
                verified(&path, &key(), reach),
                Err(EntryError::Damaged(_))
            ));
            std::fs::remove_file(&path).unwrap();
            assert!(matches!(
                verified(&path, &key(), reach),
                Err(EntryError::Missing)
            ));
        }
    }
}
