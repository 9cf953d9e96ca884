//! Bounded work: a client that leaves stops its job, a job over the time limit stops with a
//! COS error (or the original with `ignore-error/1`), cheap requests are served while heavy
//! work holds every worker, a full pool refuses an upload before buffering it, stalled
//! request bodies time out without leaving anything behind, and `response-*` overrides apply
//! to processed downloads.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mogr_cos::encode::{url_encode, url_encode_path};
use mogr_server::processing::ImageProcessor;
use mogr_server::{BodyTimeouts, ServerConfig};

use crate::common::*;
use crate::processing_common::*;

const BUCKET: &str = "bounds-1250000000";

/// A heavy chain: every stage re-encodes the whole picture with libaom or x265.
const HEAVY_RULE: &str = "imageMogr2/format/avif|imageMogr2/format/heif|imageMogr2/format/avif|imageMogr2/format/heif|imageMogr2/format/avif|imageMogr2/format/heif|imageMogr2/format/avif|imageMogr2/format/heif";

/// Longest any step of these tests waits for the server.
const PATIENCE: Duration = Duration::from_secs(120);

/// A server run in-process with a handle on its image processor.
struct Bounded {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    images: Arc<ImageProcessor>,
    _rt: tokio::runtime::Runtime,
}

impl Bounded {
    fn start(tweak: impl FnOnce(&mut ServerConfig)) -> Bounded {
        let dir = tempfile::tempdir().unwrap();
        let (addr, state, rt) = start_over(dir.path(), tweak);
        let images = Arc::clone(&state.images);
        let srv = Bounded {
            addr,
            dir,
            images,
            _rt: rt,
        };
        let r = srv.req("PUT", "").send();
        assert_eq!(r.status, 200, "{}", r.text());
        srv
    }

    fn req(&self, method: &str, key: &str) -> Req {
        Req::new(
            self.addr,
            method,
            &TestServer::vhost(BUCKET),
            &format!("/{key}"),
        )
    }

    fn put(&self, key: &str, body: &[u8]) {
        let r = self.req("PUT", key).body(body.to_vec()).send();
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// Sends a signed request head (and `body`, if any) and returns the open connection
    /// without reading the answer.
    fn open(
        &self,
        method: &str,
        key: &str,
        params: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> TcpStream {
        let host = TestServer::vhost(BUCKET);
        let path = format!("/{key}");
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut signed = vec![("host".to_string(), host.clone())];
        signed.extend(
            headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())),
        );
        let t = now();
        let auth = mogr_cos::auth::sign(
            method,
            &path,
            &params,
            &signed,
            SECRET_ID,
            SECRET_KEY,
            t - 60,
            t + 3600,
        );
        let mut target = url_encode_path(&path);
        if !params.is_empty() {
            let query: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
                .collect();
            target = format!("{target}?{}", query.join("&"));
        }
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!(
            "Authorization: {auth}\r\nConnection: close\r\n\r\n"
        ));
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        stream
    }

    /// Objects under the bucket, through the API.
    fn exists(&self, key: &str) -> bool {
        let r = self.req("HEAD", key).send();
        assert!(r.status == 200 || r.status == 404, "{}", r.head);
        r.status == 200
    }

    /// Files left in the store's staging folder.
    fn staged_files(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("tmp")).map_or(0, |d| d.count())
    }

    /// Waits until an expensive job holds every heavy place. Panics if that does not happen
    /// within `PATIENCE`.
    fn wait_until_heavy_lane_is_full(&self) {
        let start = Instant::now();
        while self.images.free_heavy_permits() > 0 {
            assert!(start.elapsed() < PATIENCE, "the heavy job never started");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads a whole `Connection: close` answer: status, `<Code>` if any, body.
fn answer(stream: &mut TcpStream) -> (u16, Option<String>, Vec<u8>) {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer: {text:?}"));
    let code = xml_all(&text, "Code").into_iter().next();
    let body = text
        .find("\r\n\r\n")
        .map_or(Vec::new(), |at| raw[at + 4..].to_vec());
    (status, code, body)
}

/// A noise photo that takes seconds per AVIF/HEIF stage, and a small PNG.
fn seed_images(srv: &Bounded) {
    srv.put("big.jpg", &jpeg_of(&noise(2400, 1800)));
    srv.put("tiny.png", &png(640, 480));
}

#[test]
fn a_cheap_request_is_served_while_heavy_work_holds_the_only_worker() {
    let srv = Bounded::start(|cfg| {
        cfg.image_workers = 1;
        cfg.image_queue = 0;
    });
    seed_images(&srv);
    let heavy = srv.open("GET", "big.jpg", &[(HEAVY_RULE, "")], &[], b"");
    srv.wait_until_heavy_lane_is_full();

    // FIFO admission would refuse this (503) or queue it behind minutes of encoding.
    let r = srv.req("GET", "big.jpg").param("imageInfo", "").send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("\"width\":\"2400\""), "{}", r.text());
    let r = srv.req("GET", "tiny.png").param("imageInfo", "").send();
    assert_eq!(r.status, 200, "{}", r.text());

    // Heavy requests are still refused at once while the place is taken.
    let r = srv
        .req("GET", "big.jpg")
        .param("imageMogr2/format/heif", "")
        .send();
    assert_error(&r, 503, "SlowDown");
    assert_eq!(r.header("Retry-After"), Some("1"));
    heavy.shutdown(std::net::Shutdown::Both).unwrap();
}

#[test]
fn a_client_that_leaves_stops_its_job_and_frees_the_pool() {
    let srv = Bounded::start(|cfg| {
        cfg.image_workers = 1;
        cfg.image_queue = 0;
    });
    seed_images(&srv);
    assert_eq!(srv.images.cancelled_jobs(), 0);
    let all_memory = srv.images.free_memory();
    let heavy = srv.open("GET", "big.jpg", &[(HEAVY_RULE, "")], &[], b"");
    srv.wait_until_heavy_lane_is_full();
    // The place is taken before the source is read and the job handed to a worker; a
    // client that leaves in between stops a job that never existed (nothing to count). The
    // job's memory is reserved last, right before the hand-off, with no wait in between.
    let start = Instant::now();
    while srv.images.free_memory() == all_memory {
        assert!(
            start.elapsed() < PATIENCE,
            "the heavy job never reserved memory"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(heavy);

    let start = Instant::now();
    while srv.images.cancelled_jobs() == 0 {
        assert!(
            start.elapsed() < PATIENCE,
            "the abandoned job was not stopped"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Its place is free again: a request that needs it (a 4 MP WebP encode is not cheap) is
    // admitted and completes.
    let r = srv
        .req("GET", "big.jpg")
        .param("imageMogr2/format/webp", "")
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(dims(&r.body), (2400, 1800));
    assert_eq!(srv.images.cancelled_jobs(), 1);
}

#[test]
fn a_job_over_the_time_limit_fails_or_returns_the_original_with_ignore_error() {
    let srv = Bounded::start(|cfg| {
        cfg.processing_time_limit = Some(Duration::from_millis(1));
    });
    let original = jpeg(1200, 900);
    srv.put("photo.jpg", &original);

    let r = srv
        .req("GET", "photo.jpg")
        .param("imageMogr2/format/avif", "")
        .send();
    let message = assert_error(&r, 400, "ImageTooLarge");
    assert!(message.contains("time"), "{message}");
    let r = srv
        .req("HEAD", "photo.jpg")
        .param("imageMogr2/format/avif", "")
        .send();
    assert_eq!(r.status, 400, "{}", r.head);

    let r = srv
        .req("GET", "photo.jpg")
        .param("imageMogr2/ignore-error/1/format/avif", "")
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, original);
    assert_eq!(r.header("Content-Type"), Some("image/jpeg"));

    // A header read fits in any budget.
    let r = srv.req("GET", "photo.jpg").param("imageInfo", "").send();
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_full_pool_refuses_a_pic_operations_upload_before_reading_its_body() {
    let srv = Bounded::start(|cfg| {
        cfg.image_workers = 1;
        cfg.image_queue = 0;
    });
    seed_images(&srv);
    let heavy = srv.open("GET", "big.jpg", &[(HEAVY_RULE, "")], &[], b"");
    srv.wait_until_heavy_lane_is_full();

    // Declares 8 MiB, sends the first 128 KiB of a large photo, then waits for the answer.
    let photo = jpeg_of(&noise(2400, 1800));
    let ops =
        r#"{"is_pic_info":1,"rules":[{"fileid":"out.avif","rule":"imageMogr2/format/avif"}]}"#;
    let declared = (8u64 << 20).to_string();
    let mut upload = srv.open(
        "PUT",
        "up.jpg",
        &[],
        &[("Pic-Operations", ops), ("Content-Length", &declared)],
        &photo[..128 * 1024],
    );
    let (status, code, _) = answer(&mut upload);
    assert_eq!(
        (status, code.as_deref()),
        (503, Some("SlowDown")),
        "refused before the rest of the body"
    );
    heavy.shutdown(std::net::Shutdown::Both).unwrap();
    assert!(!srv.exists("up.jpg"));
    assert!(!srv.exists("out.avif"));
}

#[test]
fn stalled_and_trickling_bodies_time_out_and_leave_nothing() {
    let srv = Bounded::start(|cfg| {
        cfg.body_timeouts = BodyTimeouts {
            idle: Some(Duration::from_secs(1)),
            min_rate: 2000,
        };
    });
    // A plain PUT: ten bytes of a thousand, then nothing.
    let mut put = srv.open(
        "PUT",
        "stalled.bin",
        &[],
        &[("Content-Length", "1000")],
        b"0123456789",
    );
    let (status, code, _) = answer(&mut put);
    assert_eq!((status, code.as_deref()), (400, Some("RequestTimeout")));
    assert!(!srv.exists("stalled.bin"));
    assert_eq!(srv.staged_files(), 0);

    // A Pic-Operations PUT sending a byte every 300 ms: never idle for a second, far below
    // 2000 bytes per second.
    let ops = r#"{"rules":[{"fileid":"t.png","rule":"imageMogr2/format/png"}]}"#;
    let mut trickle = srv.open(
        "PUT",
        "trickle.jpg",
        &[],
        &[("Pic-Operations", ops), ("Content-Length", "100000")],
        b"",
    );
    let mut reader = trickle.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let start = Instant::now();
        // Stops when the server has answered and closed, or after a minute.
        while start.elapsed() < Duration::from_secs(60) && trickle.write_all(b"x").is_ok() {
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let (status, code, _) = answer(&mut reader);
    assert_eq!((status, code.as_deref()), (400, Some("RequestTimeout")));
    writer.join().unwrap();
    assert!(!srv.exists("trickle.jpg"));
    assert!(!srv.exists("t.png"));
    assert_eq!(srv.staged_files(), 0);

    // Bodies that arrive promptly are unaffected.
    srv.put("fine.bin", &vec![7u8; 300_000]);
    assert!(srv.exists("fine.bin"));
}

#[test]
fn response_overrides_apply_to_processed_downloads() {
    let srv = Bounded::start(|_| {});
    srv.put("a.jpg", &jpeg(64, 48));
    let r = srv
        .req("GET", "a.jpg")
        .param("imageMogr2/format/png", "")
        .param("response-content-type", "application/x-mogr-test")
        .param(
            "response-content-disposition",
            "attachment; filename=\"a.png\"",
        )
        .param("response-cache-control", "no-cache")
        .param("response-content-language", "zh-CN")
        .param("response-expires", "Thu, 01 Dec 2094 16:00:00 GMT")
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(dims(&r.body), (64, 48));
    assert_eq!(r.header("Content-Type"), Some("application/x-mogr-test"));
    assert_eq!(
        r.header("Content-Disposition"),
        Some("attachment; filename=\"a.png\"")
    );
    assert_eq!(r.header("Cache-Control"), Some("no-cache"));
    assert_eq!(r.header("Content-Language"), Some("zh-CN"));
    assert_eq!(r.header("Expires"), Some("Thu, 01 Dec 2094 16:00:00 GMT"));

    // Without overrides, the output's own type.
    let r = srv
        .req("GET", "a.jpg")
        .param("imageMogr2/format/png", "")
        .send();
    assert_eq!(r.header("Content-Type"), Some("image/png"));
    assert_eq!(r.header("Content-Disposition"), None);
}
