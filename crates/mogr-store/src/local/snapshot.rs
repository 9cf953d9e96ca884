//! A bucket's key index written down whole: the point the change log starts from at open.
//!
//! One binary file, `index/snapshot`: a header (tag, generation, entry count), the entries
//! in key order, and a footer holding the CRC-64 of everything before it. It is written to a
//! temp file, synced, and renamed over the old one, so a reader sees either snapshot whole;
//! a file that is cut short or damaged fails its checksum and the index is rebuilt from the
//! records instead.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::bucket::IndexEntry;
use super::record::{join_time, split_time};

/// Opens every snapshot.
const MAGIC: &[u8; 8] = b"MOGRIDX1";
/// Ends every snapshot, after the checksum.
const END: &[u8; 8] = b"MOGRIDXE";
/// The snapshot's file name in the index directory.
pub(crate) const SNAPSHOT_FILE: &str = "snapshot";
/// Prefix of snapshots being written (left over only by a crash; removed at open).
const TEMP_PREFIX: &str = "snapshot.tmp-";

/// A snapshot that was read back: the generation of the first log not folded into it.
pub(crate) struct Loaded {
    /// Logs of this generation and later are replayed on top.
    pub generation: u64,
    /// The index.
    pub index: BTreeMap<String, IndexEntry>,
}

fn damaged(why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("damaged index snapshot: {why}"),
    )
}

/// The snapshot's bytes.
fn encode(generation: u64, index: &BTreeMap<String, IndexEntry>) -> io::Result<Vec<u8>> {
    // About 90 bytes an entry for typical keys; a guess, not a limit.
    let mut out = Vec::with_capacity(32 + index.len() * 90);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&generation.to_le_bytes());
    out.extend_from_slice(&(index.len() as u64).to_le_bytes());
    for (key, entry) in index {
        let key_len = u32::try_from(key.len()).map_err(|_| damaged("key too long"))?;
        let etag_len = u16::try_from(entry.etag.len()).map_err(|_| damaged("etag too long"))?;
        let (secs, nanos) = split_time(entry.last_modified);
        out.extend_from_slice(&key_len.to_le_bytes());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(&entry.size.to_le_bytes());
        out.extend_from_slice(&etag_len.to_le_bytes());
        out.extend_from_slice(entry.etag.as_bytes());
        out.extend_from_slice(&entry.crc64.to_le_bytes());
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&nanos.to_le_bytes());
    }
    let sum = crate::crc64(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out.extend_from_slice(END);
    Ok(out)
}

/// Reads fixed-size fields off the front of a byte slice.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(damaged("cut short"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u64(&mut self) -> io::Result<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn string(&mut self, len: usize) -> io::Result<String> {
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| damaged("text is not UTF-8"))
    }
}

/// Parse a snapshot, checking its checksum first.
fn decode(bytes: &[u8]) -> io::Result<Loaded> {
    let trailer = 8 + END.len();
    if bytes.len() < MAGIC.len() + 16 + trailer || !bytes.starts_with(MAGIC) {
        return Err(damaged("no header"));
    }
    let (body, footer) = bytes.split_at(bytes.len() - trailer);
    let (sum, end) = footer.split_at(8);
    let mut want = [0u8; 8];
    want.copy_from_slice(sum);
    if end != END || crate::crc64(body) != u64::from_le_bytes(want) {
        return Err(damaged("checksum mismatch"));
    }
    let mut cur = Cursor {
        rest: &body[MAGIC.len()..],
    };
    let generation = cur.u64()?;
    let count = cur.u64()?;
    let mut entries = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(1 << 24));
    for _ in 0..count {
        let key_len = u32::from_le_bytes(cur.array()?) as usize;
        let key = cur.string(key_len)?;
        let size = cur.u64()?;
        let etag_len = u16::from_le_bytes(cur.array()?) as usize;
        let etag = cur.string(etag_len)?;
        let crc64 = cur.u64()?;
        let secs = cur.u64()?;
        let nanos = u32::from_le_bytes(cur.array()?);
        entries.push((
            key,
            IndexEntry {
                size,
                etag,
                crc64,
                last_modified: join_time(secs, nanos),
            },
        ));
    }
    if !cur.rest.is_empty() {
        return Err(damaged("trailing bytes"));
    }
    // Written in key order, so this is a bulk build rather than a million inserts.
    Ok(Loaded {
        generation,
        index: entries.into_iter().collect(),
    })
}

/// Read the snapshot in `dir`: `Ok(None)` if there is none, an error if it is damaged.
pub(crate) fn read(dir: &Path) -> io::Result<Option<Loaded>> {
    match std::fs::read(dir.join(SNAPSHOT_FILE)) {
        Ok(bytes) => decode(&bytes).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Write `index` as the snapshot of `dir` durably, replacing the previous one atomically.
pub(crate) fn write(
    dir: &Path,
    generation: u64,
    index: &BTreeMap<String, IndexEntry>,
) -> io::Result<()> {
    let bytes = encode(generation, index)?;
    let salt: [u8; 8] = rand::random();
    let temp = dir.join(format!("{TEMP_PREFIX}{}", hex::encode(salt)));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, dir.join(SNAPSHOT_FILE))?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Make the next open rebuild the index from the records (when the log can no longer be
/// trusted to hold every change). Succeeds if there is no snapshot left.
pub(crate) fn discard(dir: &Path) -> io::Result<()> {
    match std::fs::remove_file(dir.join(SNAPSHOT_FILE)) {
        Ok(()) => std::fs::File::open(dir)?.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Snapshots a crash left half written.
pub(crate) fn leftovers(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMP_PREFIX))
        {
            out.push(entry.path());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn entry(size: u64) -> IndexEntry {
        IndexEntry {
            size,
            etag: format!("{size:032x}"),
            crc64: size * 7,
            last_modified: UNIX_EPOCH + Duration::new(1_700_000_000 + size, 123),
        }
    }

    #[test]
    fn round_trips_and_refuses_any_damage() {
        let dir = tempfile::tempdir().unwrap();
        let index: BTreeMap<String, IndexEntry> = ["a", "中文/键", "z\n"]
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), entry(i as u64)))
            .collect();
        write(dir.path(), 7, &index).unwrap();
        let loaded = read(dir.path()).unwrap().unwrap();
        assert_eq!(loaded.generation, 7);
        let keys: Vec<_> = loaded.index.keys().cloned().collect();
        assert_eq!(keys, ["a", "z\n", "中文/键"]);
        let got = &loaded.index["中文/键"];
        assert_eq!((got.size, got.crc64), (1, 7));
        assert_eq!(got.last_modified, entry(1).last_modified);

        let bytes = std::fs::read(dir.path().join(SNAPSHOT_FILE)).unwrap();
        for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(dir.path().join(SNAPSHOT_FILE), &bytes[..cut]).unwrap();
            assert!(read(dir.path()).is_err(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[30] ^= 1;
        std::fs::write(dir.path().join(SNAPSHOT_FILE), &flipped).unwrap();
        assert!(read(dir.path()).is_err());
        discard(dir.path()).unwrap();
        assert!(read(dir.path()).unwrap().is_none());
    }
}
