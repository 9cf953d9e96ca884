//! Test harness: an in-process server on an ephemeral port and a raw HTTP/1.1 client that
//! keeps the response head byte-exact (header spellings are part of what we test).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mogr_cos::encode::{url_encode, url_encode_path};
use mogr_server::ServerConfig;

pub const SECRET_ID: &str = "AKIDEXAMPLE";
pub const SECRET_KEY: &str = "SECRETEXAMPLE";
pub const REGION_HOST: &str = "cos.ap-guangzhou.myqcloud.com";

/// A running server with its own data folder and runtime.
pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    pub fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            credentials: vec![(SECRET_ID.to_string(), SECRET_KEY.to_string())],
            ..ServerConfig::default()
        };
        tweak(&mut cfg);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (addr, _handle) = rt.block_on(mogr_server::spawn(cfg)).unwrap();
        TestServer { addr, dir, _rt: rt }
    }

    /// Host header naming `bucket` virtual-host style, as the Python SDK sends it in IP mode.
    pub fn vhost(bucket: &str) -> String {
        format!("{bucket}.{REGION_HOST}")
    }

    /// The port-ful address as a Host value (path-style / Domain mode).
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// A signed virtual-host request on `bucket` for decoded `key` ("" for the bucket).
    pub fn req(&self, method: &str, bucket: &str, key: &str) -> Req {
        Req::new(self.addr, method, &Self::vhost(bucket), &format!("/{key}"))
    }

    /// A signed request with an explicit Host and decoded path.
    pub fn req_host(&self, method: &str, host: &str, path: &str) -> Req {
        Req::new(self.addr, method, host, path)
    }

    /// Creates a bucket (asserting 200).
    pub fn create_bucket(&self, bucket: &str) {
        let r = self.req("PUT", bucket, "").send();
        assert_eq!(r.status, 200, "create {bucket}: {}", r.text());
    }

    /// Stores an object (asserting 200) and returns the response.
    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) -> Resp {
        let r = self.req("PUT", bucket, key).body(body.to_vec()).send();
        assert_eq!(r.status, 200, "put {key}: {}", r.text());
        r
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// How a request is authenticated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Auth {
    Header,
    Anonymous,
    /// Presigned query parameters (`q-*`, lists double-encoded).
    Presigned,
    /// `sign=<UrlEncode(Authorization)>`.
    SignParam,
}

/// Header (name, value) pairs in order.
pub type Headers = Vec<(String, String)>;

pub enum ReqBody {
    Bytes(Vec<u8>),
    /// `len` bytes produced by `fill(offset, buf)`, sent with Content-Length.
    Generated {
        len: u64,
        fill: fn(u64, &mut [u8]),
    },
    /// Sent with `Transfer-Encoding: chunked`, in chunks of the given size.
    Chunked(Vec<u8>, usize),
}

pub struct Req {
    addr: SocketAddr,
    pub method: String,
    pub host: String,
    /// Decoded path (`/key`), signed as is.
    pub path: String,
    /// Raw wire path override (for `..` and odd encodings).
    pub raw_path: Option<String>,
    /// Decoded query params, all signed.
    pub params: Vec<(String, String)>,
    /// Params put on the wire instead of `params` (which are still what gets signed).
    pub wire_params: Option<Vec<(String, String)>>,
    /// Raw query text appended unsigned (e.g. a hand-written rule).
    pub raw_query: Option<String>,
    pub headers: Vec<(String, String)>,
    /// Headers sent but not signed.
    pub unsigned_headers: Vec<(String, String)>,
    pub body: ReqBody,
    pub auth: Auth,
    pub secret_key: String,
    pub secret_id: String,
    pub time: (u64, u64),
    /// Sign the host without its port (Python SDK in Domain mode).
    pub sign_host: Option<String>,
    pub expect_continue: bool,
}

impl Req {
    pub fn new(addr: SocketAddr, method: &str, host: &str, path: &str) -> Req {
        let t = now();
        Req {
            addr,
            method: method.to_string(),
            host: host.to_string(),
            path: path.to_string(),
            raw_path: None,
            params: Vec::new(),
            wire_params: None,
            raw_query: None,
            headers: Vec::new(),
            unsigned_headers: Vec::new(),
            body: ReqBody::Bytes(Vec::new()),
            auth: Auth::Header,
            secret_id: SECRET_ID.to_string(),
            secret_key: SECRET_KEY.to_string(),
            time: (t - 60, t + 3600),
            sign_host: None,
            expect_continue: false,
        }
    }

    pub fn param(mut self, k: &str, v: &str) -> Req {
        self.params.push((k.to_string(), v.to_string()));
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn unsigned_header(mut self, k: &str, v: &str) -> Req {
        self.unsigned_headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Req {
        self.body = ReqBody::Bytes(b.into());
        self
    }

    pub fn auth(mut self, a: Auth) -> Req {
        self.auth = a;
        self
    }

    fn content_length(&self) -> Option<u64> {
        match &self.body {
            ReqBody::Bytes(b) => (!b.is_empty()
                || matches!(self.method.as_str(), "PUT" | "POST" | "DELETE"))
            .then_some(b.len() as u64),
            ReqBody::Generated { len, .. } => Some(*len),
            ReqBody::Chunked(..) => None,
        }
    }

    /// All headers on the wire, lower-cased names, plus the subset that is signed.
    fn wire_headers(&self) -> (Headers, Headers) {
        let mut signed = vec![(
            "host".to_string(),
            self.sign_host.clone().unwrap_or_else(|| self.host.clone()),
        )];
        let mut wire = vec![("Host".to_string(), self.host.clone())];
        if let Some(len) = self.content_length() {
            signed.push(("content-length".into(), len.to_string()));
            wire.push(("Content-Length".into(), len.to_string()));
        }
        if matches!(self.body, ReqBody::Chunked(..)) {
            wire.push(("Transfer-Encoding".into(), "chunked".into()));
        }
        if self.expect_continue {
            signed.push(("expect".into(), "100-continue".into()));
            wire.push(("Expect".into(), "100-continue".into()));
        }
        for (k, v) in &self.headers {
            signed.push((k.to_ascii_lowercase(), v.clone()));
            wire.push((k.clone(), v.clone()));
        }
        for (k, v) in &self.unsigned_headers {
            wire.push((k.clone(), v.clone()));
        }
        (wire, signed)
    }

    pub fn send(self) -> Resp {
        let mut body = Vec::new();
        let mut resp = self.send_to(&mut |chunk| body.extend_from_slice(chunk));
        resp.body = body;
        resp
    }

    /// Sends, streaming the response body into `sink` instead of memory.
    pub fn send_to(self, sink: &mut dyn FnMut(&[u8])) -> Resp {
        let (mut wire, signed) = self.wire_headers();
        let authz = mogr_cos::auth::sign(
            &self.method,
            &self.path,
            &self.params,
            &signed,
            &self.secret_id,
            &self.secret_key,
            self.time.0,
            self.time.1,
        );
        let mut query: Vec<String> = Vec::new();
        match self.auth {
            Auth::Header => wire.push(("Authorization".into(), authz)),
            Auth::Anonymous => {}
            Auth::Presigned => {
                for kv in authz.split('&') {
                    let (k, v) = kv.split_once('=').unwrap();
                    query.push(format!("{k}={}", url_encode(v)));
                }
            }
            Auth::SignParam => query.push(format!("sign={}", url_encode(&authz))),
        }
        for (k, v) in self.wire_params.as_ref().unwrap_or(&self.params) {
            query.push(format!("{}={}", url_encode(k), url_encode(v)));
        }
        if let Some(raw) = &self.raw_query {
            query.push(raw.clone());
        }
        let mut target = self
            .raw_path
            .clone()
            .unwrap_or_else(|| url_encode_path(&self.path));
        if !query.is_empty() {
            target.push('?');
            target.push_str(&query.join("&"));
        }
        let mut head = format!("{} {target} HTTP/1.1\r\n", self.method);
        for (k, v) in &wire {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("Connection: close\r\n\r\n");

        let stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        writer.write_all(head.as_bytes()).unwrap();
        if self.expect_continue {
            let interim = read_head(&mut reader);
            if !interim.starts_with("HTTP/1.1 100") {
                return finish_response(interim, &mut reader, &self.method, sink);
            }
        }
        match &self.body {
            ReqBody::Bytes(b) => {
                let _ = writer.write_all(b);
            }
            ReqBody::Generated { len, fill } => {
                let mut buf = vec![0u8; 1 << 20];
                let mut off = 0u64;
                while off < *len {
                    let n = ((*len - off) as usize).min(buf.len());
                    fill(off, &mut buf[..n]);
                    if writer.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    off += n as u64;
                }
            }
            ReqBody::Chunked(b, size) => {
                // A server may answer (and stop reading) before the body ends: stop writing
                // and read its answer, as with the generated bodies above.
                let _ = b.chunks((*size).max(1)).try_for_each(|chunk| {
                    writer.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                    writer.write_all(chunk)?;
                    writer.write_all(b"\r\n")
                });
                let _ = writer.write_all(b"0\r\n\r\n");
            }
        }
        let head = read_head(&mut reader);
        finish_response(head, &mut reader, &self.method, sink)
    }
}

fn read_head(reader: &mut impl BufRead) -> String {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).unwrap();
        if n == 0 {
            break;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    head
}

fn finish_response(
    head: String,
    reader: &mut impl BufRead,
    method: &str,
    sink: &mut dyn FnMut(&[u8]),
) -> Resp {
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head:?}"));
    let headers: Vec<(String, String)> = head
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let resp = Resp {
        status,
        head,
        headers,
        body: Vec::new(),
    };
    let no_body = method == "HEAD" || status == 204 || status == 304 || status < 200;
    if no_body {
        return resp;
    }
    if resp
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim(), 16).unwrap();
            if size == 0 {
                let mut crlf = String::new();
                reader.read_line(&mut crlf).unwrap();
                break;
            }
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            sink(&chunk[..size]);
        }
    } else if let Some(len) = resp.header("content-length") {
        let mut left: u64 = len.parse().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        while left > 0 {
            let n = (left as usize).min(buf.len());
            reader.read_exact(&mut buf[..n]).unwrap();
            sink(&buf[..n]);
            left -= n as u64;
        }
    } else {
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        sink(&rest);
    }
    resp
}

pub struct Resp {
    pub status: u16,
    /// The raw response head, status line included.
    pub head: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// Case-insensitive header lookup.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Case-sensitive: the spelling on the wire must be exactly `name`.
    pub fn exact(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text of the first `<tag>` element in the body.
    pub fn xml(&self, tag: &str) -> Option<String> {
        xml_all(&self.text(), tag).into_iter().next()
    }

    /// The texts of every `<tag>` element in the body.
    pub fn xml_all(&self, tag: &str) -> Vec<String> {
        xml_all(&self.text(), tag)
    }
}

/// Every `<tag>text</tag>` (and `<tag/>` as empty) in document order, entities decoded.
pub fn xml_all(text: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let empty = format!("<{tag}/>");
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let o = rest.find(&open);
        let e = rest.find(&empty);
        match (o, e) {
            (Some(o), e) if e.is_none_or(|e| o < e) => {
                let after = &rest[o + open.len()..];
                let end = after.find(&close).unwrap();
                out.push(unescape(&after[..end]));
                rest = &after[end + close.len()..];
            }
            (_, Some(e)) => {
                out.push(String::new());
                rest = &rest[e + empty.len()..];
            }
            _ => break,
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(data))
}

pub fn md5_b64(data: &[u8]) -> String {
    use base64::Engine;
    use md5::{Digest, Md5};
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(data))
}

/// CRC-64/XZ as COS's `x-cos-hash-crc64ecma`.
pub fn crc64(data: &[u8]) -> u64 {
    crc::Crc::<u64>::new(&crc::CRC_64_XZ).checksum(data)
}

/// A server over `data` (a folder that may outlive it) with the test credentials and `tweak`ed
/// settings, on a runtime of its own: its address, its state (shared with the running server)
/// and the runtime, which must live as long as the server is used.
pub fn start_over(
    data: &std::path::Path,
    tweak: impl FnOnce(&mut ServerConfig),
) -> (SocketAddr, mogr_server::AppState, tokio::runtime::Runtime) {
    let mut cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_path_buf(),
        credentials: vec![(SECRET_ID.to_string(), SECRET_KEY.to_string())],
        ..ServerConfig::default()
    };
    tweak(&mut cfg);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (addr, state) = rt.block_on(async {
        let store = mogr_server::server::open_store(&cfg).await.unwrap();
        let state = mogr_server::AppState::new(cfg, store);
        let (addr, _handle) = mogr_server::spawn_state(state.clone()).await.unwrap();
        (addr, state)
    });
    (addr, state, rt)
}
