//! The processed-variant cache over HTTP: hits, invalidation, authorisation, conditional
//! requests, damaged entries, single flight, the byte bound, restarts and caching headers.
//! Engine runs are read from the server's own counter, never inferred from timing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use image::ImageFormat;
use mogr_server::processing::Variants;
use mogr_server::ServerConfig;

use crate::common::*;
use crate::processing_common::*;

const BUCKET: &str = "cache-1250000000";
const KEY: &str = "dir/photo.jpg";
const RULE: &str = "imageMogr2/thumbnail/40x/format/png";

/// A server with a handle on its variant cache, over a data folder that may outlive it.
struct Cached {
    addr: SocketAddr,
    data: PathBuf,
    variants: Arc<Variants>,
    _rt: tokio::runtime::Runtime,
}

impl Cached {
    fn start(data: &Path, tweak: impl FnOnce(&mut ServerConfig)) -> Cached {
        let (addr, state, rt) = start_over(data, tweak);
        let variants = Arc::clone(&state.variants);
        Cached {
            addr,
            data: data.to_path_buf(),
            variants,
            _rt: rt,
        }
    }

    /// A fresh server with the bucket and a 64x48 JPEG at `KEY`.
    fn with_photo(data: &Path, tweak: impl FnOnce(&mut ServerConfig)) -> Cached {
        let srv = Cached::start(data, tweak);
        let r = srv.req("PUT", "").send();
        assert_eq!(r.status, 200, "{}", r.text());
        srv.put(KEY, &jpeg(64, 48));
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

    fn put(&self, key: &str, body: &[u8]) -> Resp {
        let r = self.req("PUT", key).body(body.to_vec()).send();
        assert_eq!(r.status, 200, "{}", r.text());
        r
    }

    /// A signed request with `raw_query` appended as written.
    fn rule_req(&self, method: &str, raw_query: &str) -> Req {
        let mut req = self.req(method, KEY);
        req.raw_query = Some(raw_query.to_string());
        req
    }

    fn get(&self, raw_query: &str) -> Resp {
        self.rule_req("GET", raw_query).send()
    }

    fn engine_runs(&self) -> u64 {
        self.variants.stats().engine_runs
    }

    /// Every entry file of the cache.
    fn entry_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![self.data.join("cache").join("v1")];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    out.push(e.path());
                }
            }
        }
        out
    }
}

fn cache_header(r: &Resp) -> Option<&str> {
    r.header("x-mogr-cache")
}

#[test]
fn a_second_request_in_another_spelling_is_a_hit_with_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |_| {});
    let first = srv.get(RULE);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(cache_header(&first), Some("miss"));
    assert_eq!(format_of(&first.body), ImageFormat::Png);
    assert_eq!(dims(&first.body), (40, 30));
    for spelling in [
        RULE.to_string(),
        encoded(RULE),
        format!("{}=", encoded(RULE)),
        "imageMogr2/format/png/thumbnail/40x".to_string(),
    ] {
        let again = srv.get(&spelling);
        assert_eq!(again.status, 200, "{spelling}: {}", again.text());
        assert_eq!(cache_header(&again), Some("hit"), "{spelling}");
        assert_eq!(again.body, first.body, "{spelling}");
        assert_eq!(again.header("etag"), first.header("etag"), "{spelling}");
        assert_eq!(again.exact("Content-Type"), Some("image/png"));
    }
    assert_eq!(srv.engine_runs(), 1);
    // HEAD is answered from the entry's header.
    let head = srv.rule_req("HEAD", RULE).send();
    assert_eq!(head.status, 200);
    assert_eq!(cache_header(&head), Some("hit"));
    assert_eq!(
        head.header("content-length"),
        Some(first.body.len().to_string().as_str())
    );
    assert_eq!(head.header("etag"), first.header("etag"));
    assert_eq!(srv.engine_runs(), 1);
    let stats = srv.variants.stats();
    assert_eq!((stats.stores, stats.entries), (1, 1));
    assert!(stats.hits >= 5, "{stats:?}");
}

#[test]
fn overwrite_and_delete_make_variants_unreachable_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |_| {});
    let before = srv.get(RULE);
    assert_eq!(dims(&before.body), (40, 30));
    srv.put(KEY, &jpeg(80, 80));
    let after = srv.get(RULE);
    assert_eq!(after.status, 200);
    assert_eq!(cache_header(&after), Some("miss"));
    assert_eq!(dims(&after.body), (40, 40));
    assert_ne!(after.header("etag"), before.header("etag"));
    // An If-None-Match with the old variant's ETag no longer matches.
    let old_etag = before.header("etag").unwrap().to_string();
    let r = srv
        .rule_req("GET", RULE)
        .header("If-None-Match", &old_etag)
        .send();
    assert_eq!(r.status, 200);
    assert_eq!(dims(&r.body), (40, 40));

    let r = srv.req("DELETE", KEY).send();
    assert_eq!(r.status, 204, "{}", r.text());
    let gone = srv.get(RULE);
    assert_error(&gone, 404, "NoSuchKey");
    let gone = srv.rule_req("HEAD", RULE).send();
    assert_eq!(gone.status, 404);
    assert_eq!(srv.engine_runs(), 2);
}

#[test]
fn same_content_overwrite_keeps_the_variant_but_takes_the_new_last_modified() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |_| {});
    let first = srv.get(RULE);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = srv
        .req("PUT", KEY)
        .header("Content-Type", "text/html")
        .header("Cache-Control", "no-store")
        .body(jpeg(64, 48))
        .send();
    assert_eq!(r.status, 200);
    let again = srv.get(RULE);
    assert_eq!(cache_header(&again), Some("hit"));
    assert_eq!(again.body, first.body);
    // Headers come from the source as it is now, the type from the output.
    assert_eq!(again.exact("Content-Type"), Some("image/png"));
    assert_eq!(again.header("cache-control"), Some("no-store"));
    assert_ne!(again.header("last-modified"), first.header("last-modified"));
}

#[test]
fn an_unauthorised_caller_is_refused_even_for_a_cached_variant() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |_| {});
    assert_eq!(cache_header(&srv.get(RULE)), Some("miss"));
    let anonymous = srv.rule_req("GET", RULE).auth(Auth::Anonymous).send();
    assert_error(&anonymous, 403, "AccessDenied");
    let anonymous = srv.rule_req("HEAD", RULE).auth(Auth::Anonymous).send();
    assert_eq!(anonymous.status, 403);

    let acl = |value: &str| {
        let r = srv
            .req("PUT", "")
            .param("acl", "")
            .header("x-cos-acl", value)
            .send();
        assert_eq!(r.status, 200, "{}", r.text());
    };
    acl("public-read");
    let anonymous = srv.rule_req("GET", RULE).auth(Auth::Anonymous).send();
    assert_eq!(anonymous.status, 200);
    assert_eq!(cache_header(&anonymous), Some("hit"));
    // Taking the bucket private again closes the cached variant too.
    acl("private");
    let anonymous = srv.rule_req("GET", RULE).auth(Auth::Anonymous).send();
    assert_error(&anonymous, 403, "AccessDenied");
    assert_eq!(srv.engine_runs(), 1);
}

#[test]
fn matching_etag_or_date_answers_304_without_running_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |_| {});
    // Even before anything is cached: the ETag is known from the source and the rule.
    let head = srv.rule_req("HEAD", RULE).send();
    let etag = head.header("etag").unwrap().to_string();
    let last_modified = head.header("last-modified").unwrap().to_string();
    assert_eq!(srv.engine_runs(), 1);
    srv.variants.cache().purge(None, "").unwrap();
    let listed = format!("\"nope\", {etag}");
    for (name, value) in [
        ("If-None-Match", etag.as_str()),
        ("If-None-Match", listed.as_str()),
        ("If-Modified-Since", last_modified.as_str()),
    ] {
        let r = srv.rule_req("GET", RULE).header(name, value).send();
        assert_eq!(r.status, 304, "{name}: {value}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), Some(etag.as_str()));
    }
    assert_eq!(srv.engine_runs(), 1);
    let r = srv
        .rule_req("GET", RULE)
        .header("If-None-Match", "\"other\"")
        .send();
    assert_eq!(r.status, 200);
    let r = srv
        .rule_req("GET", RULE)
        .header("If-Match", "\"other\"")
        .send();
    assert_error(&r, 412, "PreconditionFailed");
}

#[test]
fn a_damaged_entry_is_dropped_and_recomputed_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |_| {});
    let first = srv.get(RULE);
    let files = srv.entry_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let mut raw = std::fs::read(&files[0]).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 0xff;
    std::fs::write(&files[0], &raw).unwrap();

    let again = srv.get(RULE);
    assert_eq!(again.status, 200);
    assert_eq!(cache_header(&again), Some("miss"));
    assert_eq!(again.body, first.body);
    assert_eq!(srv.variants.stats().corrupt, 1);
    assert_eq!(srv.engine_runs(), 2);
    // A cut entry fails even the header-only read of HEAD.
    let files = srv.entry_files();
    let raw = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &raw[..raw.len() / 2]).unwrap();
    let head = srv.rule_req("HEAD", RULE).send();
    assert_eq!(head.status, 200);
    assert_eq!(cache_header(&head), Some("miss"));
    assert_eq!(
        head.header("content-length"),
        Some(first.body.len().to_string().as_str())
    );
    assert_eq!(cache_header(&srv.get(RULE)), Some("hit"));
}

#[test]
fn concurrent_identical_requests_run_the_engine_once() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |_| {});
    srv.put("big.jpg", &jpeg_of(&noise(1600, 1200)));
    const CLIENTS: usize = 8;
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let rule = "imageMogr2/thumbnail/800x/format/webp/quality/90";
    let responses: Vec<Resp> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let srv = &srv;
                s.spawn(move || {
                    let mut req = srv.req("GET", "big.jpg");
                    req.raw_query = Some(rule.into());
                    barrier.wait();
                    req.send()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &responses {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, responses[0].body);
    }
    assert_eq!(dims(&responses[0].body), (800, 600));
    let misses = responses
        .iter()
        .filter(|r| cache_header(r) == Some("miss"))
        .count();
    assert_eq!(misses, 1);
    assert_eq!(srv.engine_runs(), 1);
}

#[test]
fn the_byte_bound_evicts_least_recently_used_entries() {
    let dir = tempfile::tempdir().unwrap();
    // Noise does not compress: each 64x64 PNG below is 8-14 KiB, so 32 KiB holds two.
    let srv = Cached::with_photo(dir.path(), |c| c.cache.max_bytes = 32 * 1024);
    srv.put("noise.jpg", &jpeg_of(&noise(64, 64)));
    let rules = [
        "imageMogr2/format/png",
        "imageMogr2/format/png/rotate/90",
        "imageMogr2/format/png/rotate/180",
        "imageMogr2/format/png/rotate/270",
    ];
    let get = |rule: &str| {
        let mut req = srv.req("GET", "noise.jpg");
        req.raw_query = Some(rule.into());
        req.send()
    };
    for rule in rules {
        let r = get(rule);
        assert_eq!(cache_header(&r), Some("miss"), "{rule}");
        assert!(
            (8 << 10..14 << 10).contains(&r.body.len()),
            "{}",
            r.body.len()
        );
    }
    let stats = srv.variants.stats();
    assert_eq!(stats.evictions, 2, "{stats:?}");
    assert!(stats.bytes <= 32 * 1024, "{stats:?}");
    assert_eq!(srv.entry_files().len(), 2);
    // The oldest went first; the newest are still there.
    assert_eq!(cache_header(&get(rules[3])), Some("hit"));
    assert_eq!(cache_header(&get(rules[2])), Some("hit"));
    assert_eq!(cache_header(&get(rules[0])), Some("miss"));
}

#[test]
fn entries_survive_a_restart_and_zero_bytes_turns_the_cache_off() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let srv = Cached::with_photo(dir.path(), |_| {});
        srv.get(RULE)
    };
    assert_eq!(cache_header(&first), Some("miss"));
    let srv = Cached::start(dir.path(), |_| {});
    let again = srv.get(RULE);
    assert_eq!(cache_header(&again), Some("hit"));
    assert_eq!(again.body, first.body);
    assert_eq!(srv.engine_runs(), 0);
    drop(srv);

    let off = Cached::start(dir.path(), |c| c.cache.max_bytes = 0);
    for _ in 0..2 {
        let r = off.get(RULE);
        assert_eq!(r.status, 200);
        assert_eq!(cache_header(&r), Some("bypass"));
        assert_eq!(r.body, first.body);
    }
    assert_eq!(off.engine_runs(), 2);
}

#[test]
fn cache_control_comes_from_the_source_the_bucket_or_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |c| {
        c.cache.cache_control = Some("public, max-age=60".into());
        c.cache
            .bucket_cache_control
            .insert("other-1250000000".into(), "max-age=5".into());
    });
    assert_eq!(
        srv.get(RULE).header("cache-control"),
        Some("public, max-age=60")
    );
    let override_ = srv
        .req("GET", KEY)
        .param(RULE, "")
        .param("response-cache-control", "no-cache")
        .param("response-content-disposition", "attachment")
        .send();
    assert_eq!(override_.status, 200, "{}", override_.text());
    assert_eq!(override_.header("cache-control"), Some("no-cache"));
    assert_eq!(override_.header("content-disposition"), Some("attachment"));

    let other = Req::new(srv.addr, "PUT", &TestServer::vhost("other-1250000000"), "/").send();
    assert_eq!(other.status, 200);
    let put = Req::new(
        srv.addr,
        "PUT",
        &TestServer::vhost("other-1250000000"),
        "/a.jpg",
    )
    .body(jpeg(64, 48))
    .send();
    assert_eq!(put.status, 200);
    let mut req = Req::new(
        srv.addr,
        "GET",
        &TestServer::vhost("other-1250000000"),
        "/a.jpg",
    );
    req.raw_query = Some(RULE.into());
    assert_eq!(req.send().header("cache-control"), Some("max-age=5"));
}

#[test]
fn purge_removes_a_bucket_or_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |_| {});
    srv.put("other/x.jpg", &jpeg(64, 48));
    srv.get(RULE);
    let mut req = srv.req("GET", "other/x.jpg");
    req.raw_query = Some(RULE.into());
    assert_eq!(cache_header(&req.send()), Some("miss"));
    assert_eq!(srv.entry_files().len(), 2);

    let purged = srv.variants.cache().purge(Some(BUCKET), "dir/").unwrap();
    assert_eq!(purged.entries(), 1);
    assert_eq!(srv.entry_files().len(), 1);
    assert_eq!(cache_header(&srv.get(RULE)), Some("miss"));
    // From outside, on the folder alone, as `mogr cache purge` does.
    let purged =
        mogr_server::variant_cache::purge::purge_dir(&dir.path().join("cache"), Some(BUCKET), "")
            .unwrap();
    assert_eq!(purged.entries(), 2);
    assert!(srv.entry_files().is_empty());
    assert_eq!(cache_header(&srv.get(RULE)), Some("miss"));
}

/// A watermarked variant is keyed by the watermark image's version too: a hit needs no new
/// engine run, a replaced watermark image makes a new variant drawn with it, and a deleted one
/// is refused even though variants drawn with it are still stored.
#[test]
fn a_watermark_image_version_is_part_of_the_variant_key() {
    use base64::Engine as _;
    let solid = |c: [u8; 4]| {
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(8, 8, image::Rgba(c)))
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    let corner = |bytes: &[u8]| {
        let img = image::load_from_memory(bytes).unwrap().to_rgb8();
        img.get_pixel(2, 2).0
    };
    let dir = tempfile::tempdir().unwrap();
    let srv = Cached::with_photo(dir.path(), |_| {});
    srv.put("wm/logo.png", &solid([255, 0, 0, 255]));
    let url = format!("http://{}/wm/logo.png", TestServer::vhost(BUCKET));
    let rule = format!(
        "imageMogr2/format/png|watermark/1/image/{}/gravity/northwest/dx/0/dy/0/dissolve/100",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&url)
    );

    let first = srv.get(&rule);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(cache_header(&first), Some("miss"));
    let [r, g, b] = corner(&first.body);
    assert!(
        r > 200 && g < 60 && b < 60,
        "red watermark, got {r},{g},{b}"
    );
    let again = srv.get(&rule);
    assert_eq!(cache_header(&again), Some("hit"));
    assert_eq!(again.body, first.body);
    assert_eq!(srv.engine_runs(), 1);

    srv.put("wm/logo.png", &solid([0, 0, 255, 255]));
    let replaced = srv.get(&rule);
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    assert_eq!(cache_header(&replaced), Some("miss"));
    let [r, g, b] = corner(&replaced.body);
    assert!(
        b > 200 && r < 60 && g < 60,
        "blue watermark, got {r},{g},{b}"
    );
    assert_ne!(replaced.header("etag"), first.header("etag"));
    assert_eq!(srv.engine_runs(), 2);

    assert_eq!(srv.req("DELETE", "wm/logo.png").send().status, 204);
    let gone = srv.get(&rule);
    assert_eq!(gone.status, 404, "{}", gone.text());
    assert_eq!(gone.xml("Code").as_deref(), Some("NoSuchKey"));
    assert_eq!(srv.engine_runs(), 2);
}
