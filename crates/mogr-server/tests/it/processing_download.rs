//! Processing on download over HTTP: every wire form of the rule, response headers, metadata
//! APIs, signed-rule tampering, HEAD, 404 first, ignore-error and refusals.

use crate::common::*;
use crate::processing_common::*;
use image::ImageFormat;

const BUCKET: &str = "dl-1250000000";

fn server_with_photo() -> (TestServer, Vec<u8>) {
    let srv = TestServer::start();
    srv.create_bucket(BUCKET);
    let photo = jpeg(64, 48);
    srv.put(BUCKET, "dir/photo.jpg", &photo);
    (srv, photo)
}

/// Status, error code and body: what "the same answer" means across wire forms.
fn outcome(r: &Resp) -> (u16, Option<String>, Vec<u8>) {
    let code = (r.status >= 400).then(|| r.xml("Code")).flatten();
    let body = if r.status >= 400 {
        r.xml("Message").unwrap_or_default().into_bytes()
    } else {
        r.body.clone()
    };
    (r.status, code, body)
}

#[test]
fn format_png_returns_a_png_with_source_last_modified_and_an_etag_of_its_own() {
    let (srv, _) = server_with_photo();
    let head = srv.req("HEAD", BUCKET, "dir/photo.jpg").send();
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/png",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.exact("Content-Type"), Some("image/png"));
    assert_eq!(format_of(&r.body), ImageFormat::Png);
    assert_eq!(dims(&r.body), (64, 48));
    assert_eq!(
        r.exact("Content-Length"),
        Some(r.body.len().to_string().as_str())
    );
    assert_eq!(r.exact("Last-Modified"), head.exact("Last-Modified"));
    assert!(r.exact("Last-Modified").is_some());
    let etag = r.exact("ETag").expect("processed output has an ETag");
    assert_ne!(
        Some(etag),
        head.exact("ETag"),
        "processed output must not carry the source ETag"
    );
    // 40 hex digits: never mistaken for the MD5 of the bytes.
    assert_eq!(etag.trim_matches('"').len(), 40);
}

#[test]
fn every_wire_form_of_the_rule_means_the_same_rule() {
    let (srv, _) = server_with_photo();
    let key = "dir/photo.jpg";
    let rule = "imageMogr2/format/png";
    let reference = get_rule_unsigned(&srv, "GET", BUCKET, key, rule);
    assert_eq!(reference.status, 200, "{}", reference.text());
    assert_eq!(format_of(&reference.body), ImageFormat::Png);
    let enc = encoded(rule);
    let forms: Vec<(&str, Resp)> = vec![
        (
            "raw with =",
            get_rule_unsigned(&srv, "GET", BUCKET, key, &format!("{rule}=")),
        ),
        (
            "encoded with =",
            get_rule_unsigned(&srv, "GET", BUCKET, key, &format!("{enc}=")),
        ),
        (
            "encoded without =",
            get_rule_unsigned(&srv, "GET", BUCKET, key, &enc),
        ),
        (
            "signed in the header",
            get_rule_signed(&srv, BUCKET, key, rule),
        ),
        (
            "presigned, rule after q-*",
            presigned(
                &srv,
                "GET",
                BUCKET,
                key,
                &[(rule, "")],
                "",
                &format!("{enc}="),
            ),
        ),
        (
            "presigned, rule before q-*",
            presigned(
                &srv,
                "GET",
                BUCKET,
                key,
                &[(rule, "")],
                &format!("{enc}="),
                "",
            ),
        ),
        (
            "presigned, unsigned raw rule after",
            presigned(&srv, "GET", BUCKET, key, &[], "", rule),
        ),
        (
            "presigned, unsigned raw rule before",
            presigned(&srv, "GET", BUCKET, key, &[], rule, ""),
        ),
    ];
    for (name, r) in forms {
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        assert_eq!(r.exact("Content-Type"), Some("image/png"), "{name}");
        assert_eq!(r.body, reference.body, "{name}");
    }
}

#[test]
fn percent_encoded_angle_brackets_and_base64_padding_reach_the_rule_intact() {
    let (srv, _) = server_with_photo();
    let key = "dir/photo.jpg";
    // Raw and encoded forms must be judged identically, whatever the engine supports.
    for (raw_form, encoded_form) in [
        // A bare `>` is not valid in a request line; clients send `%3E`.
        (
            "imageMogr2/thumbnail/32x32%3E",
            "imageMogr2%2Fthumbnail%2F32x32%3E=",
        ),
        (
            "imageMogr2/thumbnail/32x32%3C",
            "imageMogr2%2Fthumbnail%2F32x32%3C",
        ),
        (
            "watermark/2/text/5pWw/fill/I0ZGRkZGRg==",
            "watermark%2F2%2Ftext%2F5pWw%2Ffill%2FI0ZGRkZGRg%3D%3D=",
        ),
    ] {
        let a = get_rule_unsigned(&srv, "GET", BUCKET, key, raw_form);
        let b = get_rule_unsigned(&srv, "GET", BUCKET, key, encoded_form);
        assert_eq!(outcome(&a), outcome(&b), "{raw_form} vs {encoded_form}");
        assert!(
            a.status == 200 || a.status == 400,
            "{raw_form}: {}",
            a.text()
        );
    }
    // An unsupported processor is named, so the whole rule (padding and all) was seen.
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        key,
        "watermark/2/text/5pWw/fill/I0ZGRkZGRg==",
    );
    if r.status == 400 {
        assert!(
            r.xml("Message").unwrap().contains("watermark"),
            "{}",
            r.text()
        );
    }
}

#[test]
fn image_info_ave_and_exif_answer_json() {
    let (srv, photo) = server_with_photo();
    let r = get_rule_signed(&srv, BUCKET, "dir/photo.jpg", "imageInfo");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r
        .exact("Content-Type")
        .unwrap()
        .starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["width"], "64");
    assert_eq!(v["height"], "48");
    assert_eq!(v["format"], "jpeg");
    if let Some(size) = v.get("size") {
        assert_eq!(size, &serde_json::Value::String(photo.len().to_string()));
    }

    for (rule, wire) in [
        ("imageInfo", "imageInfo"),
        ("imageAve", "imageAve="),
        ("exif", "exif"),
    ] {
        let r = get_rule_unsigned(&srv, "GET", BUCKET, "dir/photo.jpg", wire);
        assert_eq!(r.status, 200, "{rule}: {}", r.text());
        assert!(
            r.exact("Content-Type")
                .unwrap()
                .starts_with("application/json"),
            "{rule}"
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert!(v.is_object(), "{rule}: {v}");
    }
    let ave = get_rule_unsigned(&srv, "GET", BUCKET, "dir/photo.jpg", "imageAve");
    let v: serde_json::Value = serde_json::from_slice(&ave.body).unwrap();
    let rgb = v["RGB"].as_str().unwrap();
    assert!(rgb.starts_with("0x") && rgb.len() == 8, "{rgb}");
}

#[test]
fn a_signed_rule_changed_after_signing_is_refused() {
    let (srv, _) = server_with_photo();
    let key = "dir/photo.jpg";
    let signed = [("imageMogr2/format/png", "")];
    let ok = presigned(
        &srv,
        "GET",
        BUCKET,
        key,
        &signed,
        "",
        "imageMogr2%2Fformat%2Fpng=",
    );
    assert_eq!(ok.status, 200, "{}", ok.text());

    // Sign one rule, send another in its place.
    let r = presigned(
        &srv,
        "GET",
        BUCKET,
        key,
        &signed,
        "",
        "imageMogr2%2Fformat%2Fwebp=",
    );
    assert_error(&r, 403, "SignatureDoesNotMatch");
    // Sign one rule and send none: the signed rule cannot be stripped off either.
    let r = presigned(&srv, "GET", BUCKET, key, &signed, "", "");
    assert_error(&r, 403, "SignatureDoesNotMatch");
    // Keep the signed rule but put an unsigned one in front of it.
    let r = presigned(
        &srv,
        "GET",
        BUCKET,
        key,
        &signed,
        "imageMogr2/format/webp",
        "imageMogr2%2Fformat%2Fpng=",
    );
    assert_error(&r, 403, "AccessDenied");

    // Header-signed rule, a different rule on the wire.
    let t = now();
    let authz = mogr_cos::auth::sign(
        "get",
        &format!("/{key}"),
        &[("imageMogr2/format/png".to_string(), String::new())],
        &[("host".to_string(), TestServer::vhost(BUCKET))],
        SECRET_ID,
        SECRET_KEY,
        t - 60,
        t + 3600,
    );
    let mut req = srv
        .req("GET", BUCKET, key)
        .auth(Auth::Anonymous)
        .unsigned_header("Authorization", &authz);
    req.raw_query = Some("imageMogr2%2Fformat%2Fgif=".into());
    assert_error(&req.send(), 403, "SignatureDoesNotMatch");
}

#[test]
fn download_processing_never_writes_to_the_store() {
    let (srv, photo) = server_with_photo();
    for rule in [
        "imageMogr2/format/png",
        "imageMogr2/format/webp",
        "imageInfo",
    ] {
        let r = get_rule_unsigned(&srv, "GET", BUCKET, "dir/photo.jpg", rule);
        assert_eq!(r.status, 200, "{rule}: {}", r.text());
    }
    assert_eq!(list_keys(&srv, BUCKET), vec!["dir/photo.jpg".to_string()]);
    assert_eq!(get_object(&srv, BUCKET, "dir/photo.jpg").body, photo);
}

#[test]
fn head_with_a_rule_reports_the_processed_length_and_type() {
    let (srv, _) = server_with_photo();
    let get = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/png",
    );
    let head = get_rule_unsigned(
        &srv,
        "HEAD",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/png",
    );
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.exact("Content-Type"), Some("image/png"));
    assert_eq!(
        head.exact("Content-Length"),
        Some(get.body.len().to_string().as_str())
    );
    assert_eq!(head.header("etag"), get.header("etag"));
    assert!(head.header("etag").is_some());
}

#[test]
fn a_missing_object_is_404_no_such_key_before_the_rule_is_judged() {
    let (srv, _) = server_with_photo();
    for rule in [
        "imageMogr2/format/png",
        "imageMogr2/no-such-op/1",
        "imageInfo",
    ] {
        let r = get_rule_unsigned(&srv, "GET", BUCKET, "missing.jpg", rule);
        assert_error(&r, 404, "NoSuchKey");
    }
}

#[test]
fn range_is_ignored_and_the_source_etag_does_not_match_processed_output() {
    let (srv, _) = server_with_photo();
    let full = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/png",
    );
    let etag = srv
        .req("HEAD", BUCKET, "dir/photo.jpg")
        .send()
        .exact("ETag")
        .unwrap()
        .to_string();
    let mut req = srv
        .req("GET", BUCKET, "dir/photo.jpg")
        .header("Range", "bytes=0-9")
        .header("If-None-Match", &etag);
    req.raw_query = Some("imageMogr2/format/png".into());
    let r = req.send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-range"), None);
    assert_eq!(r.body, full.body);
}

#[test]
fn interlace_gives_a_progressive_jpeg_and_baseline_stays_baseline() {
    let (srv, _) = server_with_photo();
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/jpg/interlace/1",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.exact("Content-Type"), Some("image/jpeg"));
    assert!(is_progressive_jpeg(&r.body));
    assert_eq!(dims(&r.body), (64, 48));
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/jpg",
    );
    assert!(!is_progressive_jpeg(&r.body));
}

#[test]
fn animations_keep_their_frames() {
    let (srv, _) = server_with_photo();
    let anim = gif_anim(24, 16, 4);
    srv.put(BUCKET, "anim.gif", &anim);
    let r = get_rule_unsigned(&srv, "GET", BUCKET, "anim.gif", "imageMogr2/format/webp");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.exact("Content-Type"), Some("image/webp"));
    assert_eq!(format_of(&r.body), ImageFormat::WebP);
    assert_eq!(frame_count(&r.body), 4);
    let r = get_rule_unsigned(&srv, "GET", BUCKET, "anim.gif", "imageMogr2/format/gif");
    assert_eq!(frame_count(&r.body), 4);
}

#[test]
fn over_a_limit_is_an_error_unless_ignore_error_returns_the_original() {
    let srv = TestServer::start_with(|cfg| {
        cfg.engine.limits.max_frames = 2;
        cfg.engine.limits.max_pixels = 10_000;
    });
    srv.create_bucket(BUCKET);
    let anim = gif_anim(24, 16, 3);
    let big = png(120, 100);
    srv.put(BUCKET, "anim.gif", &anim);
    srv.put(BUCKET, "big.png", &big);

    let r = get_rule_unsigned(&srv, "GET", BUCKET, "anim.gif", "imageMogr2/format/png");
    assert_error(&r, 400, "ImageResolutionExceed");
    let r = get_rule_unsigned(&srv, "GET", BUCKET, "big.png", "imageMogr2/format/jpg");
    assert_error(&r, 400, "ImageResolutionExceed");

    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "anim.gif",
        "imageMogr2/ignore-error/1/format/png",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, anim);
    assert_eq!(r.exact("Content-Type"), Some("image/gif"));
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "big.png",
        "imageMogr2/format/jpg/ignore-error/1",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, big);
}

#[test]
fn a_source_over_the_byte_limit_is_image_too_large() {
    let srv = TestServer::start_with(|cfg| cfg.engine.limits.max_input_bytes = 1000);
    srv.create_bucket(BUCKET);
    let photo = png(200, 200);
    assert!(photo.len() > 1000);
    srv.put(BUCKET, "p.png", &photo);
    let r = get_rule_unsigned(&srv, "GET", BUCKET, "p.png", "imageMogr2/format/jpg");
    assert_error(&r, 400, "ImageTooLarge");
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "p.png",
        "imageMogr2/ignore-error/1/format/jpg",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, photo);
}

#[test]
fn tpg_is_refused_with_a_pointer_to_avif_and_heif() {
    let (srv, _) = server_with_photo();
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/tpg",
    );
    let message = assert_error(&r, 400, "InvalidArgument").to_ascii_lowercase();
    assert!(
        message.contains("avif") && message.contains("heif"),
        "{message}"
    );
}

#[test]
fn bad_rules_and_non_images_get_400s() {
    let (srv, _) = server_with_photo();
    srv.put(BUCKET, "notes.txt", b"just some text, not an image");
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/nope",
    );
    assert_error(&r, 400, "InvalidArgument");
    let r = get_rule_unsigned(&srv, "GET", BUCKET, "notes.txt", "imageMogr2/format/png");
    assert_error(&r, 400, "InvalidImageFormat");
}

#[test]
fn avif_and_heif_outputs_carry_their_brands() {
    let (srv, _) = server_with_photo();
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/avif",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.exact("Content-Type"), Some("image/avif"));
    assert!(
        isobmff_brands(&r.body).iter().any(|b| b == "avif"),
        "{:?}",
        isobmff_brands(&r.body)
    );
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "dir/photo.jpg",
        "imageMogr2/format/heif",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.exact("Content-Type").unwrap().starts_with("image/hei"));
    assert!(isobmff_brands(&r.body)
        .iter()
        .any(|b| b == "heic" || b == "mif1"));
}
