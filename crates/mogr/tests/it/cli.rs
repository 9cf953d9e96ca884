//! The CLI driven as a user drives it: the real binary, real files, stdin and stdout.

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use image::{ImageFormat, RgbImage, RgbaImage};

fn mogr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mogr"))
        .args(args)
        .output()
        .expect("run mogr")
}

fn mogr_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mogr"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mogr");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait mogr")
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
    })
}

fn encode(img: &image::DynamicImage, fmt: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).expect("encode test input");
    out.into_inner()
}

/// Exit status 1 and exactly one line on stderr, never a panic (101).
fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("mogr: "), "stderr: {stderr}");
    assert!(
        stderr.to_lowercase().contains(&needle.to_lowercase()),
        "stderr {stderr:?} lacks {needle:?}"
    );
}

#[test]
fn process_png_to_webp_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.png");
    let dst = dir.path().join("out.webp");
    std::fs::write(&src, encode(&gradient(320, 200).into(), ImageFormat::Png)).unwrap();
    let out = mogr(&[
        "process",
        src.to_str().unwrap(),
        "imageMogr2/format/webp",
        "-o",
        dst.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&dst).unwrap();
    assert_eq!(image::guess_format(&bytes).unwrap(), ImageFormat::WebP);
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (320, 200));
}

#[test]
fn process_stdin_to_stdout_progressive_jpeg() {
    let src = encode(&gradient(64, 48).into(), ImageFormat::Png);
    let out = mogr_stdin(
        &[
            "process",
            "-",
            "imageMogr2/format/jpg/interlace/1",
            "-o",
            "-",
        ],
        &src,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jpeg = &out.stdout;
    assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF]);
    // SOF2 marks a progressive JPEG.
    assert!(
        jpeg.windows(2).any(|w| w == [0xFF, 0xC2]),
        "not progressive"
    );
    let img = image::load_from_memory(jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (64, 48));
}

#[test]
fn bad_rule_is_one_line_and_exit_1() {
    let src = encode(&gradient(8, 8).into(), ImageFormat::Png);
    let out = mogr_stdin(&["process", "-", "imageMogr2/format/nope", "-o", "-"], &src);
    assert_one_line_error(&out, "nope");
    assert!(out.stdout.is_empty());
}

#[test]
fn corrupt_input_is_one_line_and_exit_1() {
    let mut bytes = encode(&gradient(64, 64).into(), ImageFormat::Png);
    bytes.truncate(bytes.len() / 2);
    let out = mogr_stdin(
        &["process", "-", "imageMogr2/format/webp", "-o", "-"],
        &bytes,
    );
    assert_one_line_error(&out, "png");
    let out = mogr_stdin(&["process", "-", "imageMogr2/format/webp", "-o", "-"], b"");
    assert_one_line_error(&out, "format");
}

#[test]
fn missing_file_is_one_line_and_exit_1() {
    let out = mogr(&[
        "process",
        "/nonexistent/x.jpg",
        "imageMogr2/format/png",
        "-o",
        "-",
    ]);
    assert_one_line_error(&out, "/nonexistent/x.jpg");
}

#[test]
fn tpg_is_refused_naming_open_alternatives() {
    let src = encode(&gradient(16, 16).into(), ImageFormat::Png);
    let out = mogr_stdin(&["process", "-", "imageMogr2/format/tpg", "-o", "-"], &src);
    assert_one_line_error(&out, "avif");
    assert!(out.stdout.is_empty(), "no fake bytes");
}

#[test]
fn info_prints_image_info_json_with_string_values() {
    let src = encode(&RgbaImage::new(33, 17).into(), ImageFormat::Png);
    let out = mogr_stdin(&["info", "-"], &src);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "png");
    assert_eq!(v["width"], "33");
    assert_eq!(v["height"], "17");
    assert_eq!(v["size"], src.len().to_string());
}

#[test]
fn batch_processes_a_folder_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let output = dir.path().join("out");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    std::fs::write(
        input.join("a.png"),
        encode(&gradient(40, 30).into(), ImageFormat::Png),
    )
    .unwrap();
    std::fs::write(
        input.join("sub/b.jpg"),
        encode(&gradient(50, 20).into(), ImageFormat::Jpeg),
    )
    .unwrap();
    std::fs::write(
        input.join("c.bmp"),
        encode(&gradient(10, 10).into(), ImageFormat::Bmp),
    )
    .unwrap();
    std::fs::write(input.join("broken.jpg"), b"\xFF\xD8\xFF\xE0 not really").unwrap();
    let out = mogr(&[
        "batch",
        input.to_str().unwrap(),
        "imageMogr2/format/webp",
        "-o",
        output.to_str().unwrap(),
        "-j",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "one file is broken: {stdout}");
    assert!(stdout.contains("4 files, 3 ok, 1 failed"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.jpg"));
    for (rel, dims) in [
        ("a.webp", (40, 30)),
        ("sub/b.webp", (50, 20)),
        ("c.webp", (10, 10)),
    ] {
        let img = image::open(output.join(rel)).unwrap();
        assert_eq!((img.width(), img.height()), dims, "{rel}");
    }
    assert!(!Path::new(&output.join("broken.webp")).exists());
}
