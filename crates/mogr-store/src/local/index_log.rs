//! A bucket's change log: every change to its key index since the snapshot, so an open
//! reads one snapshot and a short log instead of every record.
//!
//! `index/log-<generation>` holds one JSON line per publish or delete, written (under the
//! bucket's gate) before the rename or unlink it describes. A change is thus logged before
//! it can be seen, and only the last line of a log can describe a change that never
//! happened (the process died between the two); replay checks the keys of that line
//! against the records. A line whose change failed is followed by a `check` line naming
//! its keys, which replay also settles from the records.
//!
//! Lines are not synced one by one: a process that dies loses nothing the kernel already
//! holds. A machine that stops does, so the first line names the boot it was written in, and
//! a log from another boot is trusted only if it ends with the `sealed` line a clean close
//! writes after syncing; otherwise the index is rebuilt from the records.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::bucket::IndexEntry;
use super::record::{join_time, split_time};

/// Prefix of log file names; the generation follows as 16 hex digits.
const LOG_PREFIX: &str = "log-";

/// The first line of a log.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Header {
    /// The boot the log was written in.
    boot: String,
    /// Its generation.
    generation: u64,
}

/// One published record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Put {
    k: String,
    s: u64,
    e: String,
    c: u64,
    t: u64,
    n: u32,
}

impl Put {
    fn of(key: &str, entry: &IndexEntry) -> Put {
        let (t, n) = split_time(entry.last_modified);
        Put {
            k: key.to_string(),
            s: entry.size,
            e: entry.etag.clone(),
            c: entry.crc64,
            t,
            n,
        }
    }

    fn entry(&self) -> IndexEntry {
        IndexEntry {
            size: self.s,
            etag: self.e.clone(),
            crc64: self.c,
            last_modified: join_time(self.t, self.n),
        }
    }
}

/// One change: records published, keys deleted, keys to settle from the records.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Line {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    put: Vec<Put>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    del: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    check: Vec<String>,
    /// Written last, after a sync, by a clean close.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    sealed: bool,
}

impl Line {
    fn keys(&self) -> impl Iterator<Item = &str> {
        let puts = self.put.iter().map(|p| p.k.as_str());
        puts.chain(self.del.iter().chain(&self.check).map(String::as_str))
    }
}

/// The open log a bucket appends to.
#[derive(Debug)]
pub(crate) struct IndexLog {
    dir: PathBuf,
    file: File,
    generation: u64,
    /// Bytes known to end on a whole line.
    len: u64,
    /// Changes appended.
    changes: u64,
    /// A failed append could not be undone: the snapshot was discarded, so the next open
    /// rebuilds, and nothing more is logged until the next snapshot.
    broken: bool,
}

/// The name of generation `generation`'s log.
fn log_name(generation: u64) -> String {
    format!("{LOG_PREFIX}{generation:016x}")
}

/// The generation a file name belongs to, if it is a log.
fn generation_of(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(LOG_PREFIX)?;
    (digits.len() == 16)
        .then(|| u64::from_str_radix(digits, 16).ok())
        .flatten()
}

/// Every log in `dir`, by generation.
pub(crate) fn logs(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(generation) = entry.file_name().to_str().and_then(generation_of) {
            out.push((generation, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// This boot's identity: a log from the same boot lost nothing when its process died.
/// Where the system does not tell, every boot counts as a new one.
pub(crate) fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

impl IndexLog {
    /// Start generation `generation`'s log in `dir` (replacing any file of that name).
    pub(crate) fn create(dir: &Path, generation: u64, boot: &str) -> io::Result<IndexLog> {
        let path = dir.join(log_name(generation));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)?;
        let header = Header {
            boot: boot.to_string(),
            generation,
        };
        let mut line = serde_json::to_vec(&header).map_err(io::Error::other)?;
        line.push(b'\n');
        file.write_all(&line)?;
        // The header must outlive a crash of the machine, or the log is not ours to trust.
        file.sync_all()?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(IndexLog {
            dir: dir.to_path_buf(),
            file,
            generation,
            len: line.len() as u64,
            changes: 0,
            broken: false,
        })
    }

    /// The generation being written.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Keys changed (counted once per change) since this log was started.
    pub(crate) fn changes(&self) -> u64 {
        self.changes
    }

    /// Whether logging stopped after a failure (a new snapshot starts it again).
    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Log that these records are about to be published.
    pub(crate) fn puts<'a>(
        &mut self,
        entries: impl IntoIterator<Item = (&'a str, &'a IndexEntry)>,
    ) -> io::Result<()> {
        let put = entries.into_iter().map(|(k, e)| Put::of(k, e)).collect();
        self.append(&Line {
            put,
            ..Line::default()
        })
    }

    /// Log that `key` is about to be deleted.
    pub(crate) fn delete(&mut self, key: &str) -> io::Result<()> {
        self.append(&Line {
            del: vec![key.to_string()],
            ..Line::default()
        })
    }

    /// Log that a logged change of `keys` failed, so replay must settle them from the
    /// records. If even that cannot be logged, the snapshot is discarded.
    pub(crate) fn failed<'a>(&mut self, keys: impl IntoIterator<Item = &'a str>) {
        let check = keys.into_iter().map(str::to_string).collect();
        if self
            .append(&Line {
                check,
                ..Line::default()
            })
            .is_err()
        {
            self.give_up();
        }
    }

    fn append(&mut self, line: &Line) -> io::Result<()> {
        if self.broken {
            return Ok(());
        }
        let mut bytes = serde_json::to_vec(line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        match self.file.write_all(&bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                self.changes += line.keys().count() as u64;
                Ok(())
            }
            Err(e) => {
                // A torn line would swallow the next one: cut it off, or stop trusting the log.
                if self.file.set_len(self.len).is_err() {
                    self.give_up();
                }
                Err(e)
            }
        }
    }

    /// Stop logging and make the next open rebuild from the records.
    fn give_up(&mut self) {
        self.broken = true;
        let _ = super::snapshot::discard(&self.dir);
    }

    /// Sync the log and mark it complete, so a later boot may trust it (a clean close).
    pub(crate) fn seal(&mut self) -> io::Result<()> {
        if self.broken {
            return Ok(());
        }
        self.file.sync_all()?;
        self.append(&Line {
            sealed: true,
            ..Line::default()
        })?;
        self.file.sync_all()
    }
}

impl Drop for IndexLog {
    fn drop(&mut self) {
        // Best effort: an unsealed log only costs a rebuild after the machine restarts.
        let _ = self.seal();
    }
}

/// Why a log cannot be replayed: the index must be rebuilt from the records.
#[derive(Debug)]
pub(crate) struct Untrusted;

/// Replay the log at `path` onto `index`. `settle` reads a key's record (`None`: no such
/// object). Returns how many changes were replayed.
pub(crate) fn replay(
    path: &Path,
    boot: &str,
    index: &mut BTreeMap<String, IndexEntry>,
    settle: &dyn Fn(&str) -> io::Result<Option<IndexEntry>>,
) -> io::Result<Result<u64, Untrusted>> {
    let bytes = std::fs::read(path)?;
    // The piece after the last newline is a line cut short by a dying process, before the
    // change it describes began: drop it.
    let whole = match bytes.iter().rposition(|b| *b == b'\n') {
        Some(end) => &bytes[..end],
        None => return Ok(Err(Untrusted)),
    };
    let mut lines = whole.split(|b| *b == b'\n');
    let Some(Ok(header)) = lines.next().map(serde_json::from_slice::<Header>) else {
        return Ok(Err(Untrusted));
    };
    let mut parsed = Vec::new();
    for raw in lines {
        match serde_json::from_slice::<Line>(raw) {
            Ok(line) => parsed.push(line),
            Err(_) => return Ok(Err(Untrusted)),
        }
    }
    let sealed = parsed.last().is_some_and(|l| l.sealed);
    if header.boot != boot && !sealed {
        return Ok(Err(Untrusted));
    }
    let mut to_settle: Vec<String> = Vec::new();
    let mut changes = 0;
    for line in &parsed {
        for put in &line.put {
            index.insert(put.k.clone(), put.entry());
        }
        for key in &line.del {
            index.remove(key);
        }
        to_settle.extend(line.check.iter().cloned());
        changes += u64::from(!line.sealed);
    }
    // The last change may have died before it was done.
    if let Some(last) = parsed.iter().rev().find(|l| !l.sealed) {
        to_settle.extend(last.keys().map(str::to_string));
    }
    for key in to_settle {
        match settle(&key)? {
            Some(entry) => index.insert(key, entry),
            None => index.remove(&key),
        };
    }
    Ok(Ok(changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn entry(size: u64) -> IndexEntry {
        IndexEntry {
            size,
            etag: "e".into(),
            crc64: 1,
            last_modified: UNIX_EPOCH + Duration::from_secs(size),
        }
    }

    fn keys(index: &BTreeMap<String, IndexEntry>) -> Vec<&str> {
        index.keys().map(String::as_str).collect()
    }

    #[test]
    fn replays_changes_and_settles_the_last_one_from_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = IndexLog::create(dir.path(), 3, "boot-a").unwrap();
        log.puts([("a", &entry(1)), ("b\nx", &entry(2))]).unwrap();
        log.delete("a").unwrap();
        log.puts([("c", &entry(3))]).unwrap();
        let path = dir.path().join(log_name(3));
        std::mem::forget(log);
        // The process died before `c` was renamed into place: no record.
        let none = |_: &str| Ok(None);
        let mut index = BTreeMap::new();
        let changes = replay(&path, "boot-a", &mut index, &none).unwrap().unwrap();
        assert_eq!(changes, 3);
        assert_eq!(keys(&index), ["b\nx"]);
        assert_eq!(index["b\nx"].size, 2);

        // A torn last line is dropped; a log from another boot is not trusted unsealed.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"put\":[{\"k\":\"d\"");
        std::fs::write(&path, &bytes).unwrap();
        let mut index = BTreeMap::new();
        replay(&path, "boot-a", &mut index, &none).unwrap().unwrap();
        assert_eq!(keys(&index), ["b\nx"]);
        assert!(replay(&path, "boot-b", &mut BTreeMap::new(), &none)
            .unwrap()
            .is_err());
        assert_eq!(logs(dir.path()).unwrap(), [(3, path)]);
    }

    #[test]
    fn a_sealed_log_is_trusted_after_a_restart_of_the_machine() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = IndexLog::create(dir.path(), 0, "boot-a").unwrap();
        log.puts([("k", &entry(5))]).unwrap();
        log.failed(["gone"]);
        drop(log);
        let path = dir.path().join(log_name(0));
        let settle = |key: &str| Ok((key == "k").then(|| entry(9)));
        let mut index = BTreeMap::new();
        index.insert("gone".to_string(), entry(1));
        let changes = replay(&path, "boot-b", &mut index, &settle)
            .unwrap()
            .unwrap();
        assert_eq!(changes, 2);
        // The failed change of `gone` was settled from the records, which lack it.
        assert_eq!(keys(&index), ["k"]);
        assert_eq!(index["k"].size, 5);
    }
}
