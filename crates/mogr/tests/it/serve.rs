//! `mogr serve` as a user starts it: generated credentials, config file, the ready line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A running server, killed and reaped when dropped (also when a test panics).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `mogr serve` and collect stdout up to the "listening on" line.
fn start(args: &[&str]) -> (Server, String, String) {
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_mogr"))
            .arg("serve")
            .args(args)
            .env_remove("MOGR_SECRET_ID")
            .env_remove("MOGR_SECRET_KEY")
            .env_remove("MOGR_SECRET_KEY_FILE")
            .env_remove("MOGR_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mogr serve"),
    );
    let mut out = BufReader::new(server.0.stdout.take().expect("stdout"));
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).expect("read stdout") == 0 {
            panic!("server exited before it was ready: {text}");
        }
        text.push_str(&line);
        if let Some(rest) = line.strip_prefix("mogr listening on http://") {
            let addr = rest.split_whitespace().next().expect("address").to_string();
            return (server, text, addr);
        }
    }
}

/// An anonymous GET of the service root: the status line and whole response.
fn anonymous_get(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp
}

/// A GET of the service root signed with `id`/`key`: the whole response.
fn signed_get(addr: &str, id: &str, key: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let auth = mogr_cos::auth::sign(
        "GET",
        "/",
        &[],
        &[("host".to_string(), addr.to_string())],
        id,
        key,
        now - 60,
        now + 600,
    );
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp
}

fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(name))
        .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[test]
fn generates_prints_and_reuses_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();

    let (server, text, addr) = start(&["--listen", "127.0.0.1:0", "--data", data]);
    let id = field(&text, "SecretId");
    let key = field(&text, "SecretKey");
    assert!(id.starts_with("AKID") && id.len() > 20, "{text}");
    assert!(key.len() >= 32, "{text}");
    // Unsigned requests are refused with a COS error body.
    let resp = anonymous_get(&addr);
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    assert!(resp.contains("<Code>AccessDenied</Code>"), "{resp}");
    drop(server);

    let stored = std::fs::read_to_string(dir.path().join("data/.mogr-credentials.json")).unwrap();
    assert!(stored.contains(&id) && stored.contains(&key));

    let (_server, text, _) = start(&["--listen", "127.0.0.1:0", "--data", data]);
    assert!(
        text.contains(&id),
        "restart must reuse the stored pair: {text}"
    );
    assert!(
        !text.contains(&key),
        "the secret is printed only when generated: {text}"
    );
}

#[test]
fn config_file_sets_listen_data_and_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let cfg = dir.path().join("mogr.toml");
    std::fs::write(
        &cfg,
        format!(
            "listen = \"127.0.0.1:0\"\ndata = {:?}\nimage_queue = 3\n\n[[credentials]]\nsecret_id = \"AKIDfromfile\"\nsecret_key = \"keyfromfile\"\n\n[limits]\nmax_frames = 10\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();
    let (server, text, addr) = start(&["--config", cfg.to_str().unwrap()]);
    assert!(text.contains(data.to_str().unwrap()), "{text}");
    assert!(
        !text.contains("generated"),
        "credentials came from the file: {text}"
    );
    assert!(data.is_dir());
    assert!(anonymous_get(&addr).starts_with("HTTP/1.1 403"));
    drop(server);
    assert!(!data.join(".mogr-credentials.json").exists());
}

#[test]
fn bad_config_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mogr.toml");
    std::fs::write(&cfg, "listen = 9000\nnonsense = true\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mogr"))
        .args(["serve", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("mogr: config "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn secret_key_file_keeps_the_key_out_of_the_process_list() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key_file = dir.path().join("secret-key");
    // Editors leave a trailing newline; it is not part of the key.
    std::fs::write(&key_file, "keyfromafile\n").unwrap();
    let (server, text, addr) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--data",
        data.to_str().unwrap(),
        "--secret-id",
        "AKIDfilekey",
        "--secret-key-file",
        key_file.to_str().unwrap(),
    ]);
    assert!(!text.contains("generated"), "{text}");
    let ok = signed_get(&addr, "AKIDfilekey", "keyfromafile");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let wrong = signed_get(&addr, "AKIDfilekey", "keyfromafile\n");
    assert!(wrong.starts_with("HTTP/1.1 403"), "{wrong}");
    drop(server);
    assert!(!data.join(".mogr-credentials.json").exists());

    // The same from the environment, and from a config file's credentials.
    let cfg = dir.path().join("mogr.toml");
    std::fs::write(
        &cfg,
        format!(
            "listen = \"127.0.0.1:0\"\ndata = {:?}\nbody_idle_timeout_secs = 10\nbody_min_rate = 0\n\n[limits]\nmax_processing_secs = 20\n\n[[credentials]]\nsecret_id = \"AKIDconf\"\nsecret_key_file = {:?}\n",
            data.to_str().unwrap(),
            key_file.to_str().unwrap()
        ),
    )
    .unwrap();
    let (_server, _, addr) = start(&["--config", cfg.to_str().unwrap()]);
    let ok = signed_get(&addr, "AKIDconf", "keyfromafile");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
}

#[test]
fn secret_key_file_from_the_environment_and_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("k");
    std::fs::write(&key_file, "  envkey  ").unwrap();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_mogr"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path().join("data"))
            .env("MOGR_SECRET_ID", "AKIDenv")
            .env_remove("MOGR_SECRET_KEY")
            .env("MOGR_SECRET_KEY_FILE", &key_file)
            .env_remove("MOGR_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mogr serve"),
    );
    let mut out = BufReader::new(server.0.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("mogr listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let ok = signed_get(&addr, "AKIDenv", "envkey");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    drop(server);

    // A key on the command line and a key file at once is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_mogr"))
        .args([
            "serve",
            "--secret-id",
            "a",
            "--secret-key",
            "b",
            "--secret-key-file",
        ])
        .arg(&key_file)
        .env_remove("MOGR_SECRET_ID")
        .env_remove("MOGR_SECRET_KEY")
        .env_remove("MOGR_SECRET_KEY_FILE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be used with"), "{err}");
}
