//! A real `mogr serve` process on a data folder, and a signed HTTP/1.1 client small enough to
//! stop anywhere in a request: the crash and fault tests kill and restart the server between
//! (and in the middle of) requests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};

/// The credentials every test server is started with.
pub const SECRET_ID: &str = "AKIDcrashtest0000000000";
/// The SecretKey matching [`SECRET_ID`].
pub const SECRET_KEY: &str = "crash-test-secret-key-0123456789";
/// The bucket the tests create.
pub const BUCKET: &str = "crash-1250000000";

/// A running `mogr serve`; SIGKILLed and reaped when dropped (also when a test panics).
pub struct Server {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// The data folder.
    pub data: PathBuf,
}

impl Server {
    /// Starts `mogr serve` on `data` and waits for its "listening" line.
    pub fn start(data: &Path) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_mogr"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY])
            .env_remove("MOGR_CONFIG")
            .env_remove("MOGR_SECRET_KEY_FILE")
            .stdout(Stdio::piped())
            // MOGR_TEST_SERVER_LOG=1 shows the server's log while debugging a test.
            .stderr(if std::env::var_os("MOGR_TEST_SERVER_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("spawn mogr serve");
        // Owned by a `Server` from here on, so a failed start still kills and reaps it.
        let mut server = Server {
            child,
            addr: String::new(),
            data: data.to_path_buf(),
        };
        let stdout = server.child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            let n = lines.read_line(&mut line).expect("read server stdout");
            assert!(n > 0, "mogr serve exited before it was ready");
            if let Some(rest) = line.strip_prefix("mogr listening on http://") {
                server.addr = rest.split_whitespace().next().expect("address").to_string();
                // Keep draining stdout so the server never blocks on a full pipe.
                let show = std::env::var_os("MOGR_TEST_SERVER_LOG").is_some();
                std::thread::spawn(move || {
                    for line in lines.lines().map_while(Result::ok) {
                        if show {
                            eprintln!("server: {line}");
                        }
                    }
                });
                return server;
            }
        }
    }

    /// SIGKILL, as an OOM killer or a power cut would end it: no shutdown code runs.
    pub fn kill(mut self) -> PathBuf {
        self.child.kill().expect("SIGKILL mogr serve");
        self.child.wait().expect("reap mogr serve");
        self.data.clone()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A client for this server.
    pub fn client(&self) -> Client {
        Client {
            addr: self.addr.clone(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response read to the end.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, for messages and XML fields.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The COS `<Code>` of an error body.
    pub fn code(&self) -> String {
        xml_field(&self.text(), "Code").unwrap_or_default()
    }
}

/// The text of the first `<name>` element of `xml`.
pub fn xml_field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].to_string())
}

/// One request: method, path-style object path, query parameters and extra headers.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `PUT`, ...
    pub method: &'static str,
    /// The decoded path, `/bucket/key`.
    pub path: String,
    /// Decoded query parameters; all are signed.
    pub query: Vec<(String, String)>,
    /// Extra headers; all are signed.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// `method` on `key` of [`BUCKET`] (an empty key is the bucket itself).
    pub fn new(method: &'static str, key: &str) -> Request {
        Request {
            method,
            path: format!("/{BUCKET}/{key}"),
            query: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: &str) -> Request {
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// A signed HTTP/1.1 client, one connection per request.
#[derive(Debug, Clone)]
pub struct Client {
    /// `host:port`.
    pub addr: String,
}

impl Client {
    /// Sends `req` with `body` and reads the whole response.
    pub fn send(&self, req: &Request, body: &[u8]) -> Response {
        let mut stream = self.start(req, body.len());
        // The body goes out on its own thread while the answer is read: a server that
        // refuses a request early stops reading, and its answer is what the test checks.
        let mut writer = stream.try_clone().expect("clone stream");
        let body = body.to_vec();
        let sender = std::thread::spawn(move || {
            let _ = writer.write_all(&body);
        });
        let res = read_response(&mut stream);
        let _ = stream.shutdown(std::net::Shutdown::Both);
        let _ = sender.join();
        res.unwrap_or_else(|e| panic!("{} {}: {e}", req.method, req.path))
    }

    /// Connects and writes the signed request head for a body of `len` bytes; the caller
    /// writes (some of) the body and reads the response.
    pub fn start(&self, req: &Request, len: usize) -> TcpStream {
        let stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let mut writer = stream.try_clone().expect("clone stream");
        writer
            .write_all(self.head(req, len).as_bytes())
            .expect("write request head");
        stream
    }

    /// The request line and headers, signed for the next ten minutes.
    fn head(&self, req: &Request, len: usize) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let mut signed = req.headers.clone();
        signed.push(("host".to_string(), self.addr.clone()));
        let auth = mogr_cos::auth::sign(
            req.method,
            &req.path,
            &req.query,
            &signed,
            SECRET_ID,
            SECRET_KEY,
            now - 60,
            now + 600,
        );
        let mut target = encode(&req.path, true);
        for (i, (name, value)) in req.query.iter().enumerate() {
            target.push(if i == 0 { '?' } else { '&' });
            target.push_str(&encode(name, false));
            target.push('=');
            target.push_str(&encode(value, false));
        }
        let mut head = format!(
            "{} {target} HTTP/1.1\r\nHost: {}\r\nAuthorization: {auth}\r\nContent-Length: {len}\r\nConnection: close\r\n",
            req.method, self.addr
        );
        for (name, value) in &req.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        head
    }
}

/// Percent-encodes everything but unreserved characters (and `/` in paths).
fn encode(text: &str, path: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (path && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads a `Connection: close` response to its end.
pub fn read_response(stream: &mut TcpStream) -> std::io::Result<Response> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no response head in {} bytes", raw.len())))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let bad = || std::io::Error::other("bad chunked body");
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let size_text = std::str::from_utf8(&raw[..eol]).map_err(|_| bad())?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad())?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(raw.get(..size).ok_or_else(bad)?);
        raw = raw.get(size + 2..).ok_or_else(bad)?;
    }
}

/// Hex MD5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// Deterministic bytes (xorshift), so a failure reproduces.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The entries of a folder (empty when it does not exist).
pub fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}
