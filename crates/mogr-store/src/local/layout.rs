//! Where things live under the data root. On-disk names never contain key text: objects are
//! addressed by the SHA-1 of their key, so no key can name a path outside its bucket.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};

/// Directory holding the buckets.
const BUCKETS_DIR: &str = "buckets";
/// Staging area for temp files; inside the root so a rename never crosses filesystems.
const TMP_DIR: &str = "tmp";
/// Intent records of multi-record commits not yet known to be complete.
const JOURNAL_DIR: &str = "journal";
/// A bucket's facts (creation time, ACL).
pub(crate) const BUCKET_FILE: &str = "bucket.json";
/// A bucket's mogr settings (styles, style separators); absent until first set.
pub(crate) const SETTINGS_FILE: &str = "settings.json";
/// Per-bucket directory of objects.
pub(crate) const OBJECTS_DIR: &str = "objects";
/// Per-bucket directory of multipart uploads.
pub(crate) const UPLOADS_DIR: &str = "uploads";
/// An upload's options.
pub(crate) const UPLOAD_FILE: &str = "upload.json";
/// Suffix of published object records.
pub(crate) const OBJECT_EXT: &str = "obj";

/// Paths under one data root.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    /// A layout rooted at `root`.
    pub(crate) fn new(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
        }
    }

    /// The data root.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of all buckets.
    pub(crate) fn buckets_dir(&self) -> PathBuf {
        self.root.join(BUCKETS_DIR)
    }

    /// The staging directory.
    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join(TMP_DIR)
    }

    /// The directory of commit intent records.
    pub(crate) fn journal_dir(&self) -> PathBuf {
        self.root.join(JOURNAL_DIR)
    }

    /// A fresh intent record path; names sort in creation order, so intents left by a crash
    /// are rolled forward in the order they were made.
    pub(crate) fn journal_path(&self) -> PathBuf {
        self.journal_dir()
            .join(format!("{}.json", time_ordered_id()))
    }

    /// `path` relative to the root, `/`-separated, for an intent record; `None` if it is
    /// not under the root or not plain text (every path we build is ASCII).
    pub(crate) fn relative(&self, path: &Path) -> Option<String> {
        let rest = path.strip_prefix(&self.root).ok()?;
        let parts: Option<Vec<&str>> = rest
            .components()
            .map(|c| match c {
                Component::Normal(name) => name.to_str(),
                _ => None,
            })
            .collect();
        parts.filter(|p| !p.is_empty()).map(|p| p.join("/"))
    }

    /// The inverse of [`Layout::relative`]; `None` for anything that could leave the root
    /// (an absolute path, `..`, `.` or an empty segment).
    pub(crate) fn resolve(&self, relative: &str) -> Option<PathBuf> {
        let mut path = self.root.clone();
        for segment in relative.split('/') {
            let plain = !segment.is_empty()
                && segment != "."
                && segment != ".."
                && !segment.contains(['\\', '\0']);
            if !plain {
                return None;
            }
            path.push(segment);
        }
        Some(path)
    }

    /// A fresh, unused path in the staging directory.
    pub(crate) fn tmp_path(&self, suffix: &str) -> PathBuf {
        let id: [u8; 16] = rand::random();
        self.tmp_dir().join(format!("{}.{suffix}", hex::encode(id)))
    }

    /// A bucket's directory; `bucket` must already be validated (it is `[a-z0-9-]+`).
    pub(crate) fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.buckets_dir().join(bucket)
    }

    /// Where the object `key` of `bucket` is stored, and the fan-out directory holding it.
    pub(crate) fn object_path(&self, bucket: &str, key: &str) -> (PathBuf, PathBuf) {
        let name = hex::encode(Sha1::digest(key.as_bytes()));
        // Two levels of 256 directories keep directories small for millions of keys.
        let dir = self
            .bucket_dir(bucket)
            .join(OBJECTS_DIR)
            .join(&name[0..2])
            .join(&name[2..4]);
        let path = dir.join(format!("{name}.{OBJECT_EXT}"));
        (path, dir)
    }

    /// A bucket's uploads directory.
    pub(crate) fn uploads_dir(&self, bucket: &str) -> PathBuf {
        self.bucket_dir(bucket).join(UPLOADS_DIR)
    }

    /// An upload's directory; `upload_id` must already be checked with [`is_upload_id`].
    pub(crate) fn upload_dir(&self, bucket: &str, upload_id: &str) -> PathBuf {
        self.uploads_dir(bucket).join(upload_id)
    }

    /// Where part `number` of an upload is stored.
    pub(crate) fn part_path(&self, bucket: &str, upload_id: &str, number: u32) -> PathBuf {
        self.upload_dir(bucket, upload_id)
            .join(format!("part-{number:05}"))
    }
}

/// Length of an upload id in hex digits.
const UPLOAD_ID_LEN: usize = 32;

/// A new upload id: a [`time_ordered_id`]. Ids of one key thus sort in initiation order,
/// which is the order List Multipart Uploads promises, and an upload-id-marker keeps its
/// place even after its upload is gone.
pub(crate) fn new_upload_id() -> String {
    time_ordered_id()
}

/// 16 hex digits of the creation time in nanoseconds, then 16 random ones: unique, and
/// ordered by creation within the process even when the clock is coarse or steps back.
fn time_ordered_id() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last.saturating_add(1)))
        })
        .unwrap_or(now);
    let nanos = now.max(previous.saturating_add(1));
    let salt: [u8; UPLOAD_ID_LEN / 4] = rand::random();
    format!("{nanos:016x}{}", hex::encode(salt))
}

/// Whether `id` has the shape of an id from [`new_upload_id`]; anything else would be a path
/// component chosen by the client.
pub(crate) fn is_upload_id(id: &str) -> bool {
    id.len() == UPLOAD_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The part number encoded in a part file name.
pub(crate) fn part_number_of(file_name: &str) -> Option<u32> {
    let digits = file_name.strip_prefix("part-")?;
    if digits.len() != 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_come_from_the_key_hash_not_the_key() {
        let layout = Layout::new(Path::new("/data"));
        let (path, dir) = layout.object_path("b-1", "../../etc/passwd");
        assert!(path.starts_with("/data/buckets/b-1/objects"));
        assert!(path.starts_with(&dir));
        assert!(!path.to_string_lossy().contains("passwd"));
        assert_eq!(path.components().count(), 8);
    }

    #[test]
    fn upload_ids_are_checked_before_use_as_paths() {
        assert!(is_upload_id(&new_upload_id()));
        let (first, second) = (new_upload_id(), new_upload_id());
        assert!(
            first < second,
            "{first} then {second}: ids must sort by creation"
        );
        assert!(!is_upload_id("../../../../../../../../../../etc"));
        assert!(!is_upload_id("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_upload_id(""));
    }

    #[test]
    fn intent_paths_stay_under_the_root() {
        let layout = Layout::new(Path::new("/data"));
        let (path, _) = layout.object_path("b-1", "k");
        let relative = layout.relative(&path).unwrap();
        assert!(relative.starts_with("buckets/b-1/objects/"));
        assert_eq!(layout.resolve(&relative), Some(path));
        assert_eq!(layout.relative(Path::new("/elsewhere/x")), None);
        for bad in [
            "",
            "/etc/passwd",
            "a/../../x",
            "./a",
            "a//b",
            "..",
            "a/b\\c",
        ] {
            assert_eq!(layout.resolve(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn part_file_names_round_trip() {
        let layout = Layout::new(Path::new("/d"));
        let path = layout.part_path("b-1", &"a".repeat(32), 42);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap();
        assert_eq!(part_number_of(name), Some(42));
        assert_eq!(part_number_of("part-1"), None);
        assert_eq!(part_number_of("upload.json"), None);
    }
}
