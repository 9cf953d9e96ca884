//! Watermarks over HTTP: which URLs name a watermark, the same-bucket rule, and refusals
//! before any processing (the SDK suites cover the three modes end to end).

use std::io::Cursor;

use base64::Engine as _;
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};

use crate::common::*;
use crate::processing_common::*;

const BUCKET: &str = "wm-1250000000";
const OTHER: &str = "wmother-1250000000";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn solid_png(w: u32, h: u32, c: [u8; 4]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(RgbaImage::from_pixel(w, h, Rgba(c)))
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn setup() -> TestServer {
    let srv = TestServer::start();
    srv.create_bucket(BUCKET);
    srv.create_bucket(OTHER);
    srv.put(BUCKET, "src.png", &solid_png(100, 50, [90, 90, 90, 255]));
    srv.put(BUCKET, "logo.png", &solid_png(10, 6, [255, 0, 0, 255]));
    srv.put(OTHER, "logo.png", &solid_png(10, 6, [255, 0, 0, 255]));
    srv
}

fn rule(url: &str) -> String {
    format!(
        "watermark/1/image/{}/gravity/northwest/dx/3/dy/2/dissolve/100",
        b64(url)
    )
}

/// The top-left corner of the red pixels.
fn red_at(bytes: &[u8]) -> Option<(u32, u32)> {
    let img = image::load_from_memory(bytes).unwrap().to_rgba8();
    img.enumerate_pixels()
        .find(|(_, _, p)| p.0[0] > 200 && p.0[1] < 60)
        .map(|(x, y, _)| (x, y))
}

#[test]
fn path_style_url_against_this_server_names_the_object() {
    let srv = setup();
    let host = srv.host_port();
    let url = format!("http://{host}/{BUCKET}/logo.png");
    // Path-style request to the server's own address, as a Domain-mode client sends it.
    let mut req = srv.req_host("GET", &host, &format!("/{BUCKET}/src.png"));
    req.raw_query = Some(rule(&url));
    let r = req.send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(red_at(&r.body), Some((3, 2)));
    // The COS domain of the bucket names the same object on a virtual-host request.
    let cos = format!("http://{}/logo.png", TestServer::vhost(BUCKET));
    let r = get_rule_unsigned(&srv, "GET", BUCKET, "src.png", &rule(&cos));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(red_at(&r.body), Some((3, 2)));
}

#[test]
fn other_buckets_hosts_and_missing_objects_are_refused() {
    let srv = setup();
    let cases = [
        (
            format!("http://{}/logo.png", TestServer::vhost(OTHER)),
            400,
            "InvalidArgument",
        ),
        (
            format!("http://{}/{OTHER}/logo.png", srv.host_port()),
            400,
            "InvalidArgument",
        ),
        (
            "http://127.0.0.1:1/wm-1250000000/logo.png".to_string(),
            400,
            "InvalidArgument",
        ),
        (
            "http://metadata.google.internal/x".to_string(),
            400,
            "InvalidArgument",
        ),
        (
            format!("http://{}/none.png", TestServer::vhost(BUCKET)),
            404,
            "NoSuchKey",
        ),
    ];
    for (url, status, code) in cases {
        let r = get_rule_unsigned(&srv, "GET", BUCKET, "src.png", &rule(&url));
        assert_eq!(
            (r.status, r.xml("Code").as_deref()),
            (status, Some(code)),
            "{url}: {}",
            r.text()
        );
        assert!(
            r.xml("Message").unwrap_or_default().contains("watermark"),
            "{}",
            r.text()
        );
    }
}

#[test]
fn an_oversized_watermark_object_is_refused_from_its_size() {
    let srv = setup();
    // Not an image at all: only its size is looked at.
    srv.put(BUCKET, "huge.png", &vec![0u8; (10 << 20) + 1]);
    let url = format!("http://{}/huge.png", TestServer::vhost(BUCKET));
    let r = get_rule_unsigned(&srv, "GET", BUCKET, "src.png", &rule(&url));
    assert_eq!(
        (r.status, r.xml("Code").as_deref()),
        (400, Some("ImageTooLarge")),
        "{}",
        r.text()
    );
}

#[test]
fn text_watermarks_on_upload_use_the_installed_fonts() {
    let srv = setup();
    let text = format!(
        "watermark/2/text/{}/font/{}/fill/{}/fontsize/20/gravity/northwest/dissolve/100",
        b64("水印"),
        b64("SimHei.ttf"),
        b64("#FF0000")
    );
    let ops = pic_ops(false, &[("out.png", &text, None)]);
    let r = put_pic(
        &srv,
        BUCKET,
        "up.png",
        &solid_png(100, 50, [90, 90, 90, 255]),
        &ops,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let out = srv.req("GET", BUCKET, "out.png").send();
    assert_eq!(out.status, 200);
    let at = red_at(&out.body).expect("text drawn");
    assert!(at.0 < 20 && at.1 < 20, "{at:?}");
}

#[test]
fn an_unsigned_rule_on_a_presigned_link_cannot_read_other_private_keys() {
    // The bucket is private: a presigned link for src.png grants that one key. A watermark rule
    // appended to it, unsigned, must not read logo.png with the link's authority.
    let srv = setup();
    let cos = format!("http://{}/logo.png", TestServer::vhost(BUCKET));
    let wm = rule(&cos);
    let r = presigned(&srv, "GET", BUCKET, "src.png", &[], "", &wm);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("AccessDenied"), "{}", r.text());
    // Signed by the owner, the same rule is the owner's choice and reads the watermark.
    let signed = format!("{}=", encoded(&wm));
    let r = presigned(
        &srv,
        "GET",
        BUCKET,
        "src.png",
        &[(wm.as_str(), "")],
        "",
        &signed,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(red_at(&r.body), Some((3, 2)));
}
