//! A full disk under the real `mogr serve`: the data folder is a small tmpfs. A write that
//! does not fit answers 503 `ServiceUnavailable` (a condition of the server, not of the
//! request; SDKs retry it), leaves nothing behind, every stored object stays readable, and
//! writes succeed again once space is freed.
//!
//! Mounting needs root (CAP_SYS_ADMIN); without it the test prints "skipped: cannot mount"
//! and does nothing else.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::live_server::{entries, md5_hex, pseudo_random, xml_field, Request, Server};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` reads it); `None` when not permitted.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size}"))
            .arg("mogr-test")
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a process that still holds a file there must not keep the mount alive.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system holding `path` up: writes a file there until there is no space.
fn fill(path: &Path) -> PathBuf {
    let filler = path.join("filler");
    let mut file = std::fs::File::create(&filler).expect("create filler");
    let chunk = vec![0x5au8; 64 << 10];
    while file.write_all(&chunk).is_ok() {}
    // Smaller pieces fill the last partial page.
    let byte = [0x5au8; 1];
    while file.write_all(&byte).is_ok() && file.flush().is_ok() {}
    filler
}

#[test]
fn a_full_disk_answers_a_cos_error_keeps_objects_readable_and_recovers() {
    let Some(disk) = Tmpfs::mount("32m") else {
        eprintln!("skipped: cannot mount a tmpfs (needs root); the full-disk test did not run");
        return;
    };
    let data = disk.path().join("data");
    let server = Server::start(&data);
    let client = server.client();
    assert_eq!(client.send(&Request::new("PUT", ""), b"").status, 200);
    let stored: Vec<(String, Vec<u8>)> = vec![
        ("photos/a.bin".into(), pseudo_random(4 << 20, 1)),
        ("photos/b.bin".into(), pseudo_random(1 << 20, 2)),
        ("c.txt".into(), b"a small object".to_vec()),
    ];
    for (key, body) in &stored {
        let res = client.send(&Request::new("PUT", key), body);
        assert_eq!(res.status, 200, "PUT {key}: {}", res.text());
    }
    let readable = |why: &str| {
        for (key, body) in &stored {
            let res = client.send(&Request::new("GET", key), b"");
            assert_eq!(res.status, 200, "GET {key} {why}: {}", res.text());
            assert_eq!(md5_hex(&res.body), md5_hex(body), "GET {key} {why}");
        }
        let list = client.send(&Request::new("GET", ""), b"").text();
        assert_eq!(list.matches("<Key>").count(), stored.len(), "{why}: {list}");
        assert_eq!(
            entries(&data.join("tmp")),
            Vec::<PathBuf>::new(),
            "staging {why}"
        );
    };

    // Bigger than the whole disk: refused once the space runs out, nothing left behind.
    let res = client.send(
        &Request::new("PUT", "huge.bin"),
        &pseudo_random(48 << 20, 3),
    );
    assert_eq!(res.status, 503, "{}", res.text());
    assert_eq!(res.code(), "ServiceUnavailable", "{}", res.text());
    readable("after a PUT larger than the disk");
    assert_eq!(
        client.send(&Request::new("HEAD", "huge.bin"), b"").status,
        404
    );

    // A multipart upload begun while there was space.
    let init = client.send(&Request::new("POST", "mp.bin").query("uploads", ""), b"");
    assert_eq!(init.status, 200, "{}", init.text());
    let upload_id = xml_field(&init.text(), "UploadId").expect("UploadId");
    let part = |n: &str| {
        Request::new("PUT", "mp.bin")
            .query("partNumber", n)
            .query("uploadId", &upload_id)
    };

    // No space at all: a PUT and a part upload are refused the same way.
    let filler = fill(disk.path());
    let res = client.send(
        &Request::new("PUT", "small.txt"),
        &pseudo_random(256 << 10, 4),
    );
    assert_eq!(
        (res.status, res.code()),
        (503, "ServiceUnavailable".into()),
        "{}",
        res.text()
    );
    let body = pseudo_random(256 << 10, 5);
    let res = client.send(&part("1"), &body);
    assert_eq!(
        (res.status, res.code()),
        (503, "ServiceUnavailable".into()),
        "{}",
        res.text()
    );
    readable("on a full disk");

    // Space returns: writes work again, and what was stored before is still there.
    std::fs::remove_file(filler).expect("remove filler");
    let later = pseudo_random(8 << 20, 6);
    let res = client.send(&Request::new("PUT", "later.bin"), &later);
    assert_eq!(res.status, 200, "PUT after space returned: {}", res.text());
    let res = client.send(&Request::new("GET", "later.bin"), b"");
    assert_eq!(md5_hex(&res.body), md5_hex(&later));
    let res = client.send(&Request::new("DELETE", "later.bin"), b"");
    assert_eq!(res.status, 204);
    // The retried part upload and the completion.
    let res = client.send(&part("1"), &body);
    assert_eq!(res.status, 200, "retried part: {}", res.text());
    let etag = res.header("etag").expect("ETag").to_string();
    let complete = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    let done = Request::new("POST", "mp.bin").query("uploadId", &upload_id);
    let res = client.send(&done, complete.as_bytes());
    assert_eq!(res.status, 200, "complete: {}", res.text());
    let res = client.send(&Request::new("GET", "mp.bin"), b"");
    assert_eq!(md5_hex(&res.body), md5_hex(&body));
    let res = client.send(&Request::new("DELETE", "mp.bin"), b"");
    assert_eq!(res.status, 204);
    readable("after space returned");
    drop(server);
}
