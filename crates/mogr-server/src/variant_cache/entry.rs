//! One cache entry on disk: a small JSON header naming what the entry is, then the bytes.
//!
//! `MAGIC`, the header length (u32, big-endian), the header, the body. The header repeats
//! the entry's key (so a read proves the file is the variant asked for) and carries the
//! body's length and CRC-64, checked on every full read: a damaged entry is never served.
//! Entries are written to a temp file and renamed into place, so a reader sees a whole
//! entry or none; they are not synced, since a torn entry after a crash fails its check.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::key::VariantKey;

/// Starts every entry.
const MAGIC: &[u8; 8] = b"MOGRVAR1";
/// Magic plus the header length.
const PREAMBLE: usize = 12;
/// Headers hold a key (<= 850 bytes), a rule and a few names; anything bigger is damage.
const MAX_HEADER: u32 = 64 * 1024;

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
}

fn open(path: &Path) -> Result<File, EntryError> {
    File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => EntryError::Missing,
        _ => EntryError::Io(e),
    })
}

/// Reads and checks the header; returns it with the file's length and the body offset.
fn read_header(file: &mut File) -> Result<(EntryHeader, u64, u64), EntryError> {
    let file_len = file.metadata().map_err(EntryError::Io)?.len();
    let mut pre = [0u8; PREAMBLE];
    file.read_exact(&mut pre)
        .map_err(|_| EntryError::Damaged("too short"))?;
    if &pre[..8] != MAGIC {
        return Err(EntryError::Damaged("bad magic"));
    }
    let header_len = u32::from_be_bytes([pre[8], pre[9], pre[10], pre[11]]);
    if header_len > MAX_HEADER {
        return Err(EntryError::Damaged("header too long"));
    }
    let mut json = vec![0u8; header_len as usize];
    file.read_exact(&mut json)
        .map_err(|_| EntryError::Damaged("header cut short"))?;
    let header: EntryHeader =
        serde_json::from_slice(&json).map_err(|_| EntryError::Damaged("header unreadable"))?;
    let body_at = (PREAMBLE as u64) + u64::from(header_len);
    if file_len != body_at + header.len {
        return Err(EntryError::Damaged("length mismatch"));
    }
    Ok((header, file_len, body_at))
}

/// The header of the entry at `path` if it is `key`'s and its length is right; the body is
/// not read (HEAD and purges need only this).
pub fn read_head(path: &Path, key: Option<&VariantKey>) -> Result<EntryHeader, EntryError> {
    let mut file = open(path)?;
    let (header, _, _) = read_header(&mut file)?;
    match key {
        Some(k) if !header.is_for(k) => Err(EntryError::Damaged("another variant")),
        _ => Ok(header),
    }
}

/// The whole entry at `path`, checked: it is `key`'s, and the body has the recorded length
/// and CRC-64.
pub fn read_verified(path: &Path, key: &VariantKey) -> Result<(EntryHeader, Vec<u8>), EntryError> {
    let mut file = open(path)?;
    let (header, _, _) = read_header(&mut file)?;
    if !header.is_for(key) {
        return Err(EntryError::Damaged("another variant"));
    }
    let len = usize::try_from(header.len).map_err(|_| EntryError::Damaged("too long"))?;
    // read_to_end fills spare capacity without zeroing it first (this is the hit path).
    let mut body = Vec::with_capacity(len);
    (&mut file)
        .take(len as u64)
        .read_to_end(&mut body)
        .map_err(|_| EntryError::Damaged("body cut short"))?;
    if body.len() != len {
        return Err(EntryError::Damaged("body cut short"));
    }
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

    #[test]
    fn round_trip_and_every_kind_of_damage_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ab").join("entry");
        let body = b"variant bytes".repeat(100);
        let size = write(dir.path(), &path, &header(&body), &body).unwrap();
        assert_eq!(size, std::fs::metadata(&path).unwrap().len());
        let (h, got) = read_verified(&path, &key()).unwrap();
        assert_eq!(got, body);
        assert_eq!(h.mime, "image/png");
        assert_eq!(
            read_head(&path, Some(&key())).unwrap().len,
            body.len() as u64
        );

        let mut other = key();
        other.source_etag = "changed".into();
        assert!(matches!(
            read_verified(&path, &other),
            Err(EntryError::Damaged(_))
        ));

        // A flipped byte in the body fails the checksum.
        let mut raw = std::fs::read(&path).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        std::fs::write(&path, &raw).unwrap();
        assert!(matches!(
            read_verified(&path, &key()),
            Err(EntryError::Damaged("checksum mismatch"))
        ));
        // A cut file fails the length check, even for a header-only read.
        std::fs::write(&path, &raw[..raw.len() - 5]).unwrap();
        assert!(matches!(
            read_head(&path, Some(&key())),
            Err(EntryError::Damaged("length mismatch"))
        ));
        std::fs::write(&path, b"garbage").unwrap();
        assert!(matches!(
            read_verified(&path, &key()),
            Err(EntryError::Damaged(_))
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            read_verified(&path, &key()),
            Err(EntryError::Missing)
        ));
    }
}
