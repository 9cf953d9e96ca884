//! The local store behind the HTTP API: listings are the same after a restart (which loads
//! the persisted index), and unfinished multipart uploads expire.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use mogr_server::ServerConfig;

use crate::common::*;

const B: &str = "scale-1250000000";

/// A server on `data` (which outlives it, unlike [`TestServer`]'s).
struct Running {
    addr: SocketAddr,
    _rt: tokio::runtime::Runtime,
}

impl Running {
    fn start(data: &Path, tweak: impl FnOnce(&mut ServerConfig)) -> Running {
        let (addr, _, rt) = start_over(data, tweak);
        Running { addr, _rt: rt }
    }

    fn req(&self, method: &str, key: &str) -> Req {
        Req::new(self.addr, method, &TestServer::vhost(B), &format!("/{key}"))
    }

    /// Every page of a listing, raw, following NextMarker.
    fn listing(&self, prefix: &str, delimiter: &str, max: usize) -> Vec<String> {
        let mut pages = Vec::new();
        let mut marker = String::new();
        loop {
            let r = self
                .req("GET", "")
                .param("prefix", prefix)
                .param("delimiter", delimiter)
                .param("marker", &marker)
                .param("max-keys", &max.to_string())
                .send();
            assert_eq!(r.status, 200, "{}", r.text());
            pages.push(r.text());
            match r.xml("NextMarker") {
                Some(next) => marker = next,
                None => return pages,
            }
        }
    }

    fn uploads(&self) -> Vec<String> {
        let r = self.req("GET", "").param("uploads", "").send();
        assert_eq!(r.status, 200, "{}", r.text());
        r.xml_all("UploadId")
    }
}

#[test]
fn listings_are_the_same_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), |_| {});
    assert_eq!(server.req("PUT", "").send().status, 200);
    for i in 0..40 {
        let key = format!("album/{}/{i:02}.jpg", i % 4);
        let r = server.req("PUT", &key).body(format!("photo {i}")).send();
        assert_eq!(r.status, 200, "{}", r.text());
    }
    for key in ["album/1/01.jpg", "album/2/02.jpg"] {
        assert_eq!(server.req("DELETE", key).send().status, 204);
    }
    let shapes = [
        ("", "/", 2),
        ("album/", "/", 3),
        ("album/3/", "", 4),
        ("", "", 1000),
    ];
    let before: Vec<_> = shapes
        .iter()
        .map(|(p, d, m)| server.listing(p, d, *m))
        .collect();
    assert!(before[3][0].contains("<Key>album/3/39.jpg</Key>"));
    assert!(!before[3][0].contains("album/1/01.jpg"));
    drop(server);

    let server = Running::start(dir.path(), |_| {});
    let after: Vec<_> = shapes
        .iter()
        .map(|(p, d, m)| server.listing(p, d, *m))
        .collect();
    assert_eq!(after, before);
}

#[test]
fn unfinished_multipart_uploads_expire() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), |cfg| {
        cfg.multipart_expiry = Some(Duration::from_secs(1));
    });
    assert_eq!(server.req("PUT", "").send().status, 200);
    let r = server.req("POST", "big.bin").param("uploads", "").send();
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.xml("UploadId").unwrap();
    let part = |number: &str| {
        server
            .req("PUT", "big.bin")
            .param("partNumber", number)
            .param("uploadId", &id)
            .body(vec![1u8; 1000])
            .send()
    };
    assert_eq!(part("1").status, 200);

    let deadline = Instant::now() + Duration::from_secs(15);
    while !server.uploads().is_empty() {
        assert!(Instant::now() < deadline, "the upload did not expire");
        std::thread::sleep(Duration::from_millis(200));
    }
    let late = part("2");
    assert_eq!(late.status, 404, "{}", late.text());
    assert_eq!(late.xml("Code").as_deref(), Some("NoSuchUpload"));
    // The bucket is empty again, so it can be deleted.
    assert_eq!(server.req("DELETE", "").send().status, 204);
}
