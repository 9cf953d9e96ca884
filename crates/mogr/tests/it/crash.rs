//! SIGKILL of the real `mogr serve` in the middle of writes, then a restart on the same data:
//! every object acknowledged before the kill reads back byte for byte, nothing partial is
//! ever listed or served, the staging area and the journal are empty after the restart, and
//! the retried request does what it would have done.
//!
//! Each write is killed once at a fixed point (a staged file has appeared: the body or result
//! is being written) and once at a random moment of the request. The random moments come
//! from a seed printed on failure; `MOGR_CRASH_SEED=<n>` replays one.

use std::collections::BTreeMap;
use std::io::Write;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::live_server::{
    entries, md5_hex, pseudo_random, read_response, xml_field, Client, Request, Response, Server,
};

/// What a test knows about the bucket: every key that must read back, with its MD5.
struct World {
    dir: tempfile::TempDir,
    server: Option<Server>,
    /// Keys acknowledged with 200 (or found whole after a kill), and their MD5.
    acked: BTreeMap<String, String>,
    rng: u64,
    seed: u64,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let seed = std::env::var("MOGR_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        let server = Server::start(&dir.path().join("data"));
        let create = server.client().send(&Request::new("PUT", ""), b"");
        assert_eq!(create.status, 200, "create bucket: {}", create.text());
        World {
            dir,
            server: Some(server),
            acked: BTreeMap::new(),
            rng: seed | 1,
            seed,
        }
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn client(&self) -> Client {
        self.server.as_ref().expect("server running").client()
    }

    /// A random duration below `max` (xorshift over the test's seed).
    fn random_delay(&mut self, max: Duration) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let micros = max.as_micros().max(1) as u64;
        Duration::from_micros(self.rng % micros)
    }

    /// PUT `body` at `key` and remember it.
    fn put(&mut self, key: &str, body: &[u8]) {
        let res = self.client().send(&Request::new("PUT", key), body);
        assert_eq!(res.status, 200, "PUT {key}: {}", res.text());
        self.acked.insert(key.to_string(), md5_hex(body));
    }

    /// SIGKILL the server, start it again on the same data, and check what a restart must
    /// show: staging and journal empty, every acknowledged object whole, nothing else partial.
    fn kill_and_restart(&mut self, context: &str) {
        let data = self.server.take().expect("server running").kill();
        let server = Server::start(&data);
        let why = format!("{context} (seed {})", self.seed);
        // The store opens (and sweeps) after the "listening" line; an answer means it is open.
        let ready = server.client().send(&Request::new("HEAD", ""), b"");
        assert_eq!(ready.status, 200, "HEAD bucket after restart: {why}");
        assert_eq!(
            entries(&data.join("tmp")),
            Vec::<std::path::PathBuf>::new(),
            "staging after restart: {why}"
        );
        assert_eq!(
            entries(&data.join("journal")),
            Vec::<std::path::PathBuf>::new(),
            "journal after restart: {why}"
        );
        self.server = Some(server);
        for (key, md5) in &self.acked {
            let got = self.get(key);
            assert_eq!(got.status, 200, "acknowledged {key} after restart: {why}");
            assert_eq!(
                &md5_hex(&got.body),
                md5,
                "acknowledged {key} after restart: {why}"
            );
        }
    }

    fn get(&self, key: &str) -> Response {
        self.client().send(&Request::new("GET", key), b"")
    }

    /// The body of `key`, `None` on 404; anything else fails the test.
    fn read(&self, key: &str) -> Option<Vec<u8>> {
        let res = self.get(key);
        match res.status {
            200 => Some(res.body),
            404 => None,
            other => panic!("GET {key}: {other} {}", res.text()),
        }
    }

    /// Every key the bucket lists.
    fn listed(&self) -> Vec<String> {
        let res = self
            .client()
            .send(&Request::new("GET", "").query("max-keys", "1000"), b"");
        assert_eq!(res.status, 200, "list: {}", res.text());
        let text = res.text();
        let mut keys = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("<Key>") {
            let tail = &rest[start + 5..];
            let end = tail.find("</Key>").expect("closed Key");
            keys.push(tail[..end].to_string());
            rest = &tail[end..];
        }
        keys
    }

    /// Checks that `key` is either absent or exactly one of `whole` (MD5s), listed only then.
    /// Returns the MD5 found.
    fn whole_or_absent(&self, key: &str, whole: &[&str], context: &str) -> Option<String> {
        let listed = self.listed().iter().any(|k| k == key);
        let found = self.read(key).map(|b| md5_hex(&b));
        let why = format!("{context} (seed {})", self.seed);
        if let Some(md5) = &found {
            assert!(
                whole.contains(&md5.as_str()),
                "{key} is partial after a kill: {why}"
            );
        }
        assert_eq!(
            listed,
            found.is_some(),
            "{key}: listing and GET disagree: {why}"
        );
        found
    }

    /// Kills the server at `moment` while `req` with `body` is under way; the response
    /// the client got before the kill, if any.
    fn kill_during(
        &mut self,
        req: Request,
        body: Vec<u8>,
        moment: Moment,
        context: &str,
    ) -> Option<Response> {
        let client = self.client();
        let staged_before = entries(&self.data().join("tmp")).len();
        let request: JoinHandle<Option<Response>> = std::thread::spawn(move || {
            let mut stream = client.start(&req, body.len());
            let _ = stream.write_all(&body);
            read_response(&mut stream).ok()
        });
        match moment {
            Moment::Staged => {
                let tmp = self.data().join("tmp");
                let deadline = Instant::now() + Duration::from_secs(20);
                while entries(&tmp).len() <= staged_before
                    && !request.is_finished()
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            Moment::After(delay) => std::thread::sleep(delay),
        }
        self.kill_and_restart(context);
        let answered = request.join().expect("request thread");
        // Only a complete, successful answer is an acknowledgement.
        answered.filter(|r| (200..300).contains(&r.status))
    }
}

/// When to kill.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// As soon as the request has put a new file into the staging area.
    Staged,
    /// After a fixed time.
    After(Duration),
}

/// A photo-like PNG for the processing requests.
fn photo_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        let v = ((x * 7 + y * 3) % 251) as u8;
        image::Rgb([v, (x / 3) as u8, (y / 2) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}

fn pic_operations(outputs: &[(&str, &str)]) -> String {
    let rules: Vec<String> = outputs
        .iter()
        .map(|(fileid, rule)| format!(r#"{{"fileid":"{fileid}","rule":"{rule}"}}"#))
        .collect();
    format!(r#"{{"is_pic_info":1,"rules":[{}]}}"#, rules.join(","))
}

/// Checks a processed output's magic bytes.
fn assert_image(bytes: &[u8], key: &str) {
    let ok = bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || (bytes.len() > 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP");
    assert!(ok, "{key} is not a whole JPEG or WebP");
    assert!(
        image::load_from_memory(bytes).is_ok(),
        "{key} does not decode"
    );
}

#[test]
fn sigkill_during_a_large_put_publishes_nothing_partial() {
    let mut w = World::new();
    w.put("keep/a.bin", &pseudo_random(3 << 20, 1));
    w.put("keep/b.txt", b"small and acknowledged");

    // Half the body sent, the rest never comes: the server dies while staging it.
    let big = pseudo_random(32 << 20, 2);
    let client = w.client();
    let mut stream = client.start(&Request::new("PUT", "big.bin"), big.len());
    stream.write_all(&big[..8 << 20]).expect("send half");
    let tmp = w.data().join("tmp");
    let deadline = Instant::now() + Duration::from_secs(20);
    while entries(&tmp).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!entries(&tmp).is_empty(), "the PUT never staged anything");
    w.kill_and_restart("kill in the middle of a PUT body");
    drop(stream);
    assert_eq!(w.whole_or_absent("big.bin", &[], "half-sent PUT"), None);
    // The retry stores the object.
    w.put("big.bin", &big);

    // Overwrites killed at random moments: the old or the new version, never a mix.
    for round in 0..3u64 {
        let old = w.acked["keep/a.bin"].clone();
        let new_body = pseudo_random(16 << 20, 10 + round);
        let new = md5_hex(&new_body);
        let delay = w.random_delay(Duration::from_millis(400));
        let context = format!("overwrite killed after {delay:?}");
        // Either version may be there after the kill; checked below.
        w.acked.remove("keep/a.bin");
        let answer = w.kill_during(
            Request::new("PUT", "keep/a.bin"),
            new_body,
            Moment::After(delay),
            &context,
        );
        let found = w.whole_or_absent("keep/a.bin", &[&old, &new], &context);
        let found = found.unwrap_or_else(|| panic!("keep/a.bin vanished: {context}"));
        if answer.is_some() {
            assert_eq!(found, new, "acknowledged overwrite lost: {context}");
        }
        w.acked.insert("keep/a.bin".into(), found);
    }
    w.kill_and_restart("final check");
}

/// Starts a multipart upload of `parts` and returns its id and the Complete body.
fn multipart_upload(w: &World, key: &str, parts: &[Vec<u8>]) -> (String, String) {
    let client = w.client();
    let init = client.send(&Request::new("POST", key).query("uploads", ""), b"");
    assert_eq!(init.status, 200, "initiate: {}", init.text());
    let upload_id = xml_field(&init.text(), "UploadId").expect("UploadId");
    let mut complete = String::from("<CompleteMultipartUpload>");
    for (i, part) in parts.iter().enumerate() {
        let n = (i + 1).to_string();
        let req = Request::new("PUT", key)
            .query("partNumber", &n)
            .query("uploadId", &upload_id);
        let res = client.send(&req, part);
        assert_eq!(res.status, 200, "part {n}: {}", res.text());
        let etag = res.header("etag").expect("part ETag").to_string();
        complete.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    complete.push_str("</CompleteMultipartUpload>");
    (upload_id, complete)
}

#[test]
fn sigkill_during_a_multipart_complete_completes_it_whole_or_not_at_all() {
    let mut w = World::new();
    w.put("keep/a.txt", b"acknowledged before any kill");
    let delay = w.random_delay(Duration::from_millis(300));
    for (round, moment) in [Moment::Staged, Moment::After(delay)]
        .into_iter()
        .enumerate()
    {
        let key = format!("mp-{round}.bin");
        let parts: Vec<Vec<u8>> = (0..3).map(|i| pseudo_random(6 << 20, 100 + i)).collect();
        let whole = md5_hex(&parts.concat());
        let (upload_id, complete) = multipart_upload(&w, &key, &parts);
        let req = Request::new("POST", &key).query("uploadId", &upload_id);
        let context = format!("Complete killed at {moment:?}");
        let answer = w.kill_during(req.clone(), complete.clone().into_bytes(), moment, &context);
        let found = w.whole_or_absent(&key, &[&whole], &context);
        if answer.is_some() {
            assert!(found.is_some(), "acknowledged Complete lost: {context}");
        }
        // The retry: completes a surviving upload, or finds it already completed.
        let retry = w.client().send(&req, complete.as_bytes());
        match found {
            None => assert_eq!(retry.status, 200, "retried Complete: {}", retry.text()),
            Some(_) => assert!(
                retry.status == 200 || retry.code() == "NoSuchUpload",
                "retried Complete of a completed upload: {} {}",
                retry.status,
                retry.text()
            ),
        }
        assert_eq!(
            w.whole_or_absent(&key, &[&whole], "after the retry"),
            Some(whole.clone())
        );
        w.acked.insert(key, whole);
    }
    w.kill_and_restart("final check");
}

#[test]
fn sigkill_during_a_pic_operations_upload_stores_all_outputs_or_none() {
    let mut w = World::new();
    let photo = photo_png();
    let header = pic_operations(&[
        ("/out/photo.webp", "imageMogr2/format/webp"),
        (
            "/out/photo-small.jpg",
            "imageMogr2/thumbnail/200x/format/jpg",
        ),
    ]);
    let req = Request::new("PUT", "photo.png").header("Pic-Operations", &header);
    // How long one takes here, so the random kills fall inside one.
    let started = Instant::now();
    let res = w.client().send(
        &Request::new("PUT", "timing.png").header(
            "Pic-Operations",
            &pic_operations(&[("/timing.webp", "imageMogr2/format/webp")]),
        ),
        &photo,
    );
    assert_eq!(res.status, 200, "{}", res.text());
    let took = started.elapsed();
    w.acked.insert("timing.png".into(), md5_hex(&photo));

    let moments = [
        Moment::Staged,
        Moment::After(w.random_delay(took * 2)),
        Moment::After(w.random_delay(took * 2)),
    ];
    for moment in moments {
        let context = format!("Pic-Operations upload killed at {moment:?} (one takes {took:?})");
        let answer = w.kill_during(req.clone(), photo.clone(), moment, &context);
        let original = w.whole_or_absent("photo.png", &[&md5_hex(&photo)], &context);
        let outputs: Vec<Option<Vec<u8>>> = ["out/photo.webp", "out/photo-small.jpg"]
            .iter()
            .map(|k| w.read(k))
            .collect();
        let present =
            outputs.iter().filter(|o| o.is_some()).count() + usize::from(original.is_some());
        assert!(
            present == 0 || present == 3,
            "{present} of 3 objects after a kill: {context}"
        );
        if answer.is_some() {
            assert_eq!(present, 3, "acknowledged upload lost: {context}");
        }
        for (key, out) in ["out/photo.webp", "out/photo-small.jpg"]
            .iter()
            .zip(&outputs)
        {
            if let Some(bytes) = out {
                assert_image(bytes, key);
            }
        }
        // Clean up for the next round, so "none" stays observable.
        for key in ["photo.png", "out/photo.webp", "out/photo-small.jpg"] {
            let res = w.client().send(&Request::new("DELETE", key), b"");
            assert_eq!(res.status, 204, "DELETE {key}: {}", res.text());
        }
    }
    // The retried upload stores everything.
    let res = w.client().send(&req, &photo);
    assert_eq!(res.status, 200, "retried upload: {}", res.text());
    for key in ["out/photo.webp", "out/photo-small.jpg"] {
        assert_image(&w.read(key).expect("output stored"), key);
    }
    w.acked.insert("photo.png".into(), md5_hex(&photo));
    w.kill_and_restart("final check");
}

#[test]
fn sigkill_during_image_process_keeps_the_source_and_stores_all_outputs_or_none() {
    let mut w = World::new();
    let photo = photo_png();
    w.put("src/photo.png", &photo);
    let header = pic_operations(&[
        ("/proc/a.webp", "imageMogr2/format/webp"),
        ("/proc/b.jpg", "imageMogr2/thumbnail/320x/format/jpg"),
    ]);
    let req = Request::new("POST", "src/photo.png")
        .query("image_process", "")
        .header("Pic-Operations", &header);
    let started = Instant::now();
    let res = w.client().send(&req, b"");
    assert_eq!(res.status, 200, "{}", res.text());
    let took = started.elapsed();
    for key in ["proc/a.webp", "proc/b.jpg"] {
        let res = w.client().send(&Request::new("DELETE", key), b"");
        assert_eq!(res.status, 204, "DELETE {key}");
    }

    let moments = [
        Moment::Staged,
        Moment::After(w.random_delay(took * 2)),
        Moment::After(w.random_delay(took * 2)),
    ];
    for moment in moments {
        let context = format!("image_process killed at {moment:?} (one takes {took:?})");
        let answer = w.kill_during(req.clone(), Vec::new(), moment, &context);
        let outputs: Vec<Option<Vec<u8>>> = ["proc/a.webp", "proc/b.jpg"]
            .iter()
            .map(|k| w.read(k))
            .collect();
        let present = outputs.iter().filter(|o| o.is_some()).count();
        assert!(
            present == 0 || present == 2,
            "{present} of 2 outputs after a kill: {context}"
        );
        if answer.is_some() {
            assert_eq!(present, 2, "acknowledged outputs lost: {context}");
        }
        for (key, out) in ["proc/a.webp", "proc/b.jpg"].iter().zip(&outputs) {
            if let Some(bytes) = out {
                assert_image(bytes, key);
            }
        }
        // Retried: both outputs, source untouched (kill_and_restart checked it).
        let res = w.client().send(&req, b"");
        assert_eq!(res.status, 200, "retried image_process: {}", res.text());
        for key in ["proc/a.webp", "proc/b.jpg"] {
            assert_image(&w.read(key).expect("output stored"), key);
            let res = w.client().send(&Request::new("DELETE", key), b"");
            assert_eq!(res.status, 204, "DELETE {key}");
        }
    }
    w.kill_and_restart("final check");
}

#[test]
fn sigkill_during_deletes_leaves_each_object_whole_or_gone() {
    let mut w = World::new();
    w.put("keep/stays.bin", &pseudo_random(1 << 20, 7));
    for round in 0..3u64 {
        let bodies: Vec<(String, Vec<u8>)> = (0..20)
            .map(|i| {
                (
                    format!("del-{round}/{i:02}.bin"),
                    pseudo_random(64 << 10, round * 100 + i),
                )
            })
            .collect();
        let md5s: BTreeMap<String, String> = bodies
            .iter()
            .map(|(k, b)| (k.clone(), md5_hex(b)))
            .collect();
        for (key, body) in &bodies {
            w.put(key, body);
        }
        // Racing a delete, these may or may not survive the kill.
        for key in md5s.keys() {
            w.acked.remove(key);
        }
        // One DELETE and one multi-object delete race the kill.
        let (single, rest) = bodies.split_first().expect("keys");
        let delete_xml = format!(
            "<Delete><Quiet>false</Quiet>{}</Delete>",
            rest.iter()
                .map(|(k, _)| format!("<Object><Key>{k}</Key></Object>"))
                .collect::<String>()
        );
        let multi = Request::new("POST", "").query("delete", "");
        let client = w.client();
        let single_key = single.0.clone();
        let single_req = Request::new("DELETE", &single_key);
        let single_thread = std::thread::spawn(move || {
            let mut stream = client.start(&single_req, 0);
            read_response(&mut stream).ok()
        });
        let delay = w.random_delay(Duration::from_millis(30));
        let context = format!("deletes killed after {delay:?}");
        let multi_answer = w.kill_during(
            multi.clone(),
            delete_xml.clone().into_bytes(),
            Moment::After(delay),
            &context,
        );
        let single_answer = single_thread.join().expect("DELETE thread");
        for (key, md5) in &md5s {
            let found = w.whole_or_absent(key, &[md5], &context);
            let deleted = if key == &single_key {
                single_answer.as_ref().is_some_and(|r| r.status == 204)
            } else {
                multi_answer.is_some()
            };
            if deleted {
                assert_eq!(
                    found, None,
                    "acknowledged delete of {key} undone: {context}"
                );
            }
        }
        // Retried: everything goes, and deleting what is gone is still a success.
        let res = w.client().send(&Request::new("DELETE", &single_key), b"");
        assert_eq!(res.status, 204, "retried DELETE: {}", res.text());
        let res = w.client().send(&multi, delete_xml.as_bytes());
        assert_eq!(res.status, 200, "retried multi-delete: {}", res.text());
        assert!(!res.text().contains("<Error>"), "{}", res.text());
        for key in md5s.keys() {
            assert_eq!(w.read(key), None, "{key} after the retried delete");
        }
    }
    w.kill_and_restart("final check");
}
