//! Operating `mogr serve`: the admin listener's metrics, health and readiness, the request
//! log, graceful shutdown on SIGTERM, and the connection limits.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ID: &str = "AKIDopstest0000000000000000000000";
const KEY: &str = "opstestsecretkey0123456789abcdef";
const BUCKET: &str = "ops-1250000000";

/// A `mogr serve` child, killed and reaped when dropped (also when a test panics).
struct Mogr {
    child: Child,
    addr: String,
    admin: Option<String>,
    log: PathBuf,
}

impl Drop for Mogr {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mogr serve` on free ports with the test credentials; stderr (the log) goes to
/// `<dir>/server-<n>.log`.
fn start(dir: &Path, extra: &[&str]) -> Mogr {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = dir.join(format!("server-{n}.log"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_mogr"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(dir.join("data"))
        .args(["--secret-id", ID, "--secret-key", KEY])
        .args(extra)
        .env_remove("MOGR_CONFIG")
        .env_remove("MOGR_ADMIN_LISTEN")
        .env_remove("MOGR_LOG_FORMAT")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn mogr serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut addr = None;
    let mut admin = None;
    let wants_admin = !extra.contains(&"off");
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("mogr serve exited before it was ready: {log_text}");
        }
        let first_word = |rest: &str| rest.split_whitespace().next().unwrap().to_string();
        if let Some(rest) = line.strip_prefix("mogr listening on http://") {
            addr = Some(first_word(rest));
        }
        if let Some(rest) = line.strip_prefix("mogr admin on http://") {
            admin = Some(first_word(rest));
        }
        if addr.is_some() && (admin.is_some() || !wants_admin) {
            break;
        }
    }
    Mogr {
        child,
        addr: addr.unwrap(),
        admin,
        log,
    }
}

impl Mogr {
    fn admin(&self) -> &str {
        self.admin.as_deref().expect("admin listener")
    }

    /// Sends SIGTERM.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (a hang guard, not a timing check).
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "mogr did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// An HTTP response as the tests read it.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response (Content-Length framed, or chunked) from `stream`.
fn read_response(stream: &mut impl Read) -> std::io::Result<Response> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = head[9..12].parse().unwrap();
    let mut res = Response {
        status,
        head,
        body: Vec::new(),
    };
    if let Some(len) = res.header("content-length") {
        let mut body = vec![0u8; len.parse().unwrap()];
        stream.read_exact(&mut body)?;
        res.body = body;
    } else if res
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        let mut reader = BufReader::new(stream);
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            res.body.extend_from_slice(&chunk[..size]);
        }
    }
    Ok(res)
}

/// One request on a fresh connection (`Connection: close`).
fn request(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    read_response(&mut s).expect("response")
}

/// The Authorization value for `method` on the decoded `path`, signed with `key`.
fn authorization(addr: &str, method: &str, path: &str, key: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    mogr_cos::auth::sign(
        method,
        path,
        &[],
        &[("host".to_string(), addr.to_string())],
        ID,
        key,
        now - 60,
        now + 600,
    )
}

/// A signed path-style request.
fn signed(addr: &str, method: &str, path: &str, query: &str, body: &[u8]) -> Response {
    let auth = authorization(addr, method, path, KEY);
    let target = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    };
    request(addr, method, &target, &[("Authorization", auth)], body)
}

fn get(addr: &str, path: &str) -> Response {
    request(addr, "GET", path, &[], b"")
}

/// A 64x48 PNG.
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// The samples of a Prometheus text exposition: `name{labels}` -> value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

fn sample(all: &BTreeMap<String, f64>, series: &str) -> f64 {
    *all.get(series)
        .unwrap_or_else(|| panic!("no sample {series} in {all:#?}"))
}

fn scrape(admin: &str) -> BTreeMap<String, f64> {
    let res = get(admin, "/metrics");
    assert_eq!(res.status, 200);
    assert!(res
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    samples(&res.text())
}

/// The request log lines (JSON, target `mogr::request`) of a log file.
fn request_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "mogr::request")
        .collect()
}

#[test]
fn metrics_move_and_each_request_is_logged_once_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut mogr = start(
        dir.path(),
        &["--admin-listen", "127.0.0.1:0", "--log-format", "json"],
    );
    let (addr, admin) = (mogr.addr.clone(), mogr.admin().to_string());
    let png = png();
    let object = format!("/{BUCKET}/dir/a.png");

    assert_eq!(get(&admin, "/health").status, 200);
    let ready = get(&admin, "/ready");
    assert_eq!((ready.status, ready.text().trim()), (200, "ready"));

    let mut answered = Vec::new();
    let mut keep = |res: Response| {
        let id = res
            .header("x-cos-request-id")
            .expect("request id")
            .to_string();
        answered.push(id);
        res
    };
    assert_eq!(
        keep(signed(&addr, "PUT", &format!("/{BUCKET}"), "", b"")).status,
        200
    );
    assert_eq!(keep(signed(&addr, "PUT", &object, "", &png)).status, 200);
    let got = keep(signed(&addr, "GET", &object, "", b""));
    assert_eq!((got.status, &got.body), (200, &png));
    let webp = keep(signed(&addr, "GET", &object, "imageMogr2/format/webp", b""));
    assert_eq!(webp.status, 200, "{}", webp.text());
    let decoded =
        image::load_from_memory_with_format(&webp.body, image::ImageFormat::WebP).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 48));
    // Presigned: the signature travels in the query string.
    let presigned_query = authorization(&addr, "GET", &object, KEY);
    let presigned = keep(request(
        &addr,
        "GET",
        &format!("{object}?{presigned_query}"),
        &[],
        b"",
    ));
    assert_eq!((presigned.status, &presigned.body), (200, &png));
    // A wrong key: refused, and the refusal is logged with its code.
    let wrong = authorization(&addr, "GET", &object, "not-the-key");
    let refused = keep(request(
        &addr,
        "GET",
        &object,
        &[("Authorization", wrong)],
        b"",
    ));
    assert_eq!(refused.status, 403);
    // On the public port, /metrics is an object path like any other, not the metrics page.
    let public_metrics = keep(get(&addr, "/metrics"));
    assert!(
        (400..500).contains(&public_metrics.status),
        "{}",
        public_metrics.text()
    );
    assert!(public_metrics.text().contains("<Error><Code>"));
    assert!(!public_metrics.text().contains("mogr_http_requests_total"));

    let m = scrape(&admin);
    let requests = |op: &str, status: u16| {
        sample(
            &m,
            &format!(r#"mogr_http_requests_total{{operation="{op}",status="{status}"}}"#),
        )
    };
    assert_eq!(requests("PutBucket", 200), 1.0);
    assert_eq!(requests("PutObject", 200), 1.0);
    assert_eq!(requests("GetObject", 200), 2.0);
    assert_eq!(requests("GetObjectProcessed", 200), 1.0);
    assert_eq!(requests("GetObject", 403), 1.0);
    assert_eq!(
        sample(
            &m,
            r#"mogr_http_request_duration_seconds_count{operation="PutObject"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &m,
            r#"mogr_http_request_duration_seconds_bucket{operation="GetObject",le="+Inf"}"#
        ),
        3.0
    );
    assert_eq!(
        sample(
            &m,
            r#"mogr_http_request_bytes_total{operation="PutObject"}"#
        ),
        png.len() as f64
    );
    assert_eq!(
        sample(
            &m,
            r#"mogr_http_response_bytes_total{operation="GetObjectProcessed"}"#
        ),
        webp.body.len() as f64
    );
    assert!(
        sample(
            &m,
            r#"mogr_http_response_bytes_total{operation="GetObject"}"#
        ) >= 2.0 * png.len() as f64
    );
    assert_eq!(
        sample(
            &m,
            r#"mogr_image_jobs_total{mode="download",format="webp",outcome="ok"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &m,
            r#"mogr_image_job_duration_seconds_count{mode="download"}"#
        ),
        1.0
    );
    assert_eq!(sample(&m, "mogr_image_pool_busy_workers"), 0.0);
    assert_eq!(sample(&m, "mogr_image_pool_queued_jobs"), 0.0);
    assert!(sample(&m, "mogr_connections_accepted_total") >= answered.len() as f64);

    mogr.terminate();
    assert!(mogr.wait_exit().success());

    let log = std::fs::read_to_string(&mogr.log).unwrap();
    for secret in [KEY, "q-signature", "Authorization", &presigned_query] {
        assert!(!log.contains(secret), "the log shows {secret:?}:\n{log}");
    }
    let lines = request_lines(&log);
    let logged: Vec<String> = lines
        .iter()
        .map(|l| l["request_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged.len(), answered.len(), "{log}");
    assert_eq!(
        logged.iter().collect::<BTreeSet<_>>(),
        answered.iter().collect::<BTreeSet<_>>()
    );
    for line in &lines {
        for field in [
            "request_id",
            "operation",
            "bucket",
            "key",
            "rule",
            "status",
            "error_code",
            "bytes_in",
            "bytes_out",
            "duration_ms",
        ] {
            assert!(line.get(field).is_some(), "no {field} in {line}");
        }
    }
    let line_of = |id: &str| lines.iter().find(|l| l["request_id"] == id).unwrap();
    let put = line_of(&answered[1]);
    assert_eq!(put["operation"], "PutObject");
    assert_eq!(put["bucket"], BUCKET);
    assert_eq!(put["key"], "dir/a.png");
    assert_eq!(put["status"], 200);
    assert_eq!(put["bytes_in"], png.len() as u64);
    let processed = line_of(&answered[3]);
    assert_eq!(processed["operation"], "GetObjectProcessed");
    assert_eq!(processed["rule"], "imageMogr2/format/webp");
    assert_eq!(processed["bytes_out"], webp.body.len() as u64);
    let refused_line = line_of(&answered[5]);
    assert_eq!(refused_line["status"], 403);
    assert_eq!(refused_line["error_code"], "SignatureDoesNotMatch");
}

/// Waits until `data/tmp` holds at least `n` staged files: the uploads are being written
/// (a staged file appears once an upload has sent more than the 1 MiB write buffer).
fn wait_staged(data: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(data.join("tmp")).map_or(0, |d| d.count()) < n {
        assert!(Instant::now() < deadline, "uploads never reached the store");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a PUT of `total` bytes on `addr`, sending only the first `sent` of them.
fn partial_put(addr: &str, path: &str, total: usize, sent: usize) -> TcpStream {
    let auth = authorization(addr, "PUT", path, KEY);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Length: {total}\r\n\r\n"
    )
    .unwrap();
    s.write_all(&vec![b'x'; sent]).unwrap();
    s
}

#[test]
fn sigterm_finishes_requests_in_flight_then_cuts_the_rest_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut mogr = start(
        dir.path(),
        &["--admin-listen", "127.0.0.1:0", "--shutdown-timeout", "3"],
    );
    let (addr, admin) = (mogr.addr.clone(), mogr.admin().to_string());
    assert_eq!(
        signed(&addr, "PUT", &format!("/{BUCKET}"), "", b"").status,
        200
    );

    let small_path = format!("/{BUCKET}/small.bin");
    let big_path = format!("/{BUCKET}/big.bin");
    // Each sends more than the store's 1 MiB write buffer, so each has a staged file.
    let (small_len, big_len) = (3 * 1024 * 1024, 64 * 1024 * 1024);
    let mut small = partial_put(&addr, &small_path, small_len, small_len / 2);
    let mut big = partial_put(&addr, &big_path, big_len, 2 * 1024 * 1024);
    wait_staged(&data, 2);

    mogr.terminate();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = get(&admin, "/ready");
        if ready.status == 503 {
            assert_eq!(ready.text().trim(), "shutting down");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/ready never reported the shutdown"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // No new connections once draining.
    assert!(
        TcpStream::connect(&addr).is_err(),
        "still accepting after SIGTERM"
    );
    assert_eq!(get(&admin, "/health").status, 200);

    // The request in flight may finish.
    small
        .write_all(&vec![b'x'; small_len - small_len / 2])
        .unwrap();
    let done = read_response(&mut small).unwrap();
    assert_eq!(done.status, 200, "{}", done.text());

    // The stalled one is cut when the timeout ends, and the process exits 0.
    let status = mogr.wait_exit();
    assert_eq!(status.code(), Some(0));
    let mut rest = Vec::new();
    let cut = big.read_to_end(&mut rest);
    assert!(
        cut.is_err() || !String::from_utf8_lossy(&rest).contains(" 200 "),
        "{cut:?}"
    );
    // Nothing partial left behind: no staged file, no object.
    let staged: Vec<_> = std::fs::read_dir(data.join("tmp")).unwrap().collect();
    assert!(staged.is_empty(), "staged files left: {staged:?}");
    let log = std::fs::read_to_string(&mogr.log).unwrap();
    assert!(log.contains("shutdown timeout reached"), "{log}");

    let again = start(dir.path(), &["--admin-listen", "off"]);
    let stored = signed(&again.addr, "GET", &small_path, "", b"");
    assert_eq!((stored.status, stored.body.len()), (200, small_len));
    assert_eq!(signed(&again.addr, "HEAD", &big_path, "", b"").status, 404);
}

#[test]
fn idle_and_slow_header_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mogr.toml");
    std::fs::write(
        &cfg,
        "header_read_timeout_secs = 2\nidle_timeout_secs = 1\n",
    )
    .unwrap();
    let mogr = start(
        dir.path(),
        &["--admin-listen", "off", "--config", cfg.to_str().unwrap()],
    );

    // Kept alive after an answer, then closed once idle.
    let mut idle = TcpStream::connect(&mogr.addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(idle, "GET / HTTP/1.1\r\nHost: {}\r\n\r\n", mogr.addr).unwrap();
    assert_eq!(read_response(&mut idle).unwrap().status, 403);
    let mut rest = Vec::new();
    assert_eq!(idle.read_to_end(&mut rest).unwrap(), 0);

    // A head that never ends: closed without an answer.
    let mut slow = TcpStream::connect(&mogr.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(slow, "GET / HTTP/1.1\r\nHost: {}\r\n", mogr.addr).unwrap();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}

#[test]
fn connections_over_the_limit_wait_for_a_free_slot() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mogr.toml");
    std::fs::write(&cfg, "max_connections = 2\n").unwrap();
    let mogr = start(
        dir.path(),
        &["--admin-listen", "off", "--config", cfg.to_str().unwrap()],
    );
    let open = |addr: &str| {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        s
    };
    let mut first = open(&mogr.addr);
    let mut second = open(&mogr.addr);
    for s in [&mut first, &mut second] {
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        assert_eq!(read_response(s).unwrap().status, 403);
    }
    // Both kept alive: a third connection is not served...
    let mut third = open(&mogr.addr);
    third
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut byte = [0u8; 1];
    let waited = third.read(&mut byte);
    assert!(waited.is_err(), "served over the limit: {waited:?}");
    // ...until one of them closes.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(read_response(&mut third).unwrap().status, 403);
}
