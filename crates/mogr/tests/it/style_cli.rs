//! `mogr style` against a running `mogr serve`, signing with the credentials the server
//! generated in its data folder.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

const BUCKET: &str = "clistyle-1250000000";

/// A running server, killed and reaped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mogr() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mogr"));
    for var in [
        "MOGR_SECRET_ID",
        "MOGR_SECRET_KEY",
        "MOGR_SECRET_KEY_FILE",
        "MOGR_CONFIG",
        "MOGR_ENDPOINT",
        "MOGR_BUCKET",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Starts `mogr serve` on a free port with `data`; returns it and its address.
fn serve(data: &str) -> (Server, String) {
    let mut server = Server(
        mogr()
            .args(["serve", "--listen", "127.0.0.1:0", "--data", data])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mogr serve"),
    );
    let mut out = BufReader::new(server.0.stdout.take().expect("stdout"));
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).expect("read stdout") > 0,
            "server exited"
        );
        if let Some(rest) = line.strip_prefix("mogr listening on http://") {
            let addr = rest.split_whitespace().next().expect("address").to_string();
            return (server, addr);
        }
    }
}

/// Creates the bucket with a signed path-style `PUT /<bucket>/`.
fn create_bucket(addr: &str, data: &std::path::Path) {
    let stored = std::fs::read_to_string(data.join(".mogr-credentials.json")).unwrap();
    let pair: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let auth = mogr_cos::auth::sign(
        "PUT",
        &format!("/{BUCKET}/"),
        &[],
        &[("host".to_string(), addr.to_string())],
        pair["secret_id"].as_str().unwrap(),
        pair["secret_key"].as_str().unwrap(),
        now - 60,
        now + 600,
    );
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "PUT /{BUCKET}/ HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

fn style(addr: &str, data: &str, args: &[&str]) -> Output {
    mogr()
        .args(["style", "--endpoint", &format!("http://{addr}")])
        .args(["--bucket", BUCKET, "--data", data])
        .args(args)
        .output()
        .expect("run mogr style")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn styles_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data_path = dir.path().join("data");
    let data = data_path.to_str().unwrap();
    let (_server, addr) = serve(data);
    create_bucket(&addr, &data_path);

    assert_eq!(ok(style(&addr, data, &["list"])), "");
    ok(style(
        &addr,
        data,
        &["put", "small", "imageMogr2/thumbnail/10x"],
    ));
    ok(style(
        &addr,
        data,
        &["put", "small-png", "style/small|imageMogr2/format/png"],
    ));
    assert_eq!(
        ok(style(&addr, data, &["list"])),
        "small\timageMogr2/thumbnail/10x\nsmall-png\tstyle/small|imageMogr2/format/png\n"
    );
    assert_eq!(
        ok(style(&addr, data, &["list", "small"])),
        "small\timageMogr2/thumbnail/10x\n"
    );

    // The server's refusal reaches the operator as a one-line error and exit status 1.
    let looped = style(&addr, data, &["put", "small", "style/small-png"]);
    assert_eq!(looped.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&looped.stderr);
    assert!(
        stderr.contains("InvalidArgument") && stderr.contains("small -> small-png -> small"),
        "{stderr}"
    );

    assert_eq!(ok(style(&addr, data, &["separators"])), "\n");
    ok(style(&addr, data, &["separators", "-!"]));
    assert_eq!(ok(style(&addr, data, &["separators"])), "!-\n");

    ok(style(&addr, data, &["delete", "small-png"]));
    assert_eq!(
        ok(style(&addr, data, &["list"])),
        "small\timageMogr2/thumbnail/10x\n"
    );
}

#[test]
fn wrong_credentials_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data_path = dir.path().join("data");
    let data = data_path.to_str().unwrap();
    let (_server, addr) = serve(data);
    let out = mogr()
        .args(["style", "--endpoint", &format!("http://{addr}")])
        .args(["--bucket", BUCKET, "--secret-id", "AKIDnobody"])
        .args(["--secret-key", "wrong", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("403"), "{stderr}");
}
