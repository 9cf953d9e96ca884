//! Processing on upload over HTTP: `PUT` with `Pic-Operations` and Complete Multipart Upload
//! with it. The `<UploadResult>` must agree with what GET/HEAD of the stored objects return,
//! and a failing rule must leave the bucket exactly as it was.

use crate::common::*;
use crate::processing_common::*;
use image::ImageFormat;

const BUCKET: &str = "up-1250000000";
const OTHER: &str = "other-1250000000";

fn server() -> TestServer {
    let srv = TestServer::start();
    srv.create_bucket(BUCKET);
    srv
}

/// Asserts an `Object` entry matches the stored object (HEAD ETag and length, decoded bytes).
fn assert_matches_stored(srv: &TestServer, bucket: &str, obj: &Fields) -> Vec<u8> {
    let key = &obj["Key"];
    let got = get_object(srv, bucket, key);
    let head = srv.req("HEAD", bucket, key).send();
    assert_eq!(Some(obj["ETag"].as_str()), head.exact("ETag"), "{key}");
    assert_eq!(obj["Size"], got.body.len().to_string(), "{key}");
    assert_eq!(
        Some(obj["Size"].as_str()),
        head.exact("Content-Length"),
        "{key}"
    );
    assert_eq!(obj["ETag"], format!("\"{}\"", md5_hex(&got.body)), "{key}");
    got.body
}

#[test]
fn put_stores_the_original_and_one_object_per_rule_in_rule_order() {
    let srv = server();
    let photo = jpeg(80, 60);
    let ops = pic_ops(
        true,
        &[
            ("out/small.png", "imageMogr2/format/png", None),
            ("/abs/p.webp", "imageMogr2/format/webp", None),
            ("prog.jpg", "imageMogr2/format/jpg/interlace/1", None),
        ],
    );
    let r = put_pic(&srv, BUCKET, "p1/photo.jpg", &photo, &ops);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.exact("Content-Type"), Some("application/xml"));
    // The header ETag is the original's MD5 whatever the rules produced.
    assert_eq!(
        r.exact("ETag"),
        Some(format!("\"{}\"", md5_hex(&photo)).as_str())
    );
    assert_eq!(
        r.exact("x-cos-hash-crc64ecma"),
        Some(crc64(&photo).to_string().as_str())
    );

    let (original, info) = original_info(&r);
    assert_eq!(original["Key"], "p1/photo.jpg");
    assert_eq!(
        original["Location"],
        format!("{}/p1/photo.jpg", TestServer::vhost(BUCKET))
    );
    assert_eq!(original["ETag"], format!("\"{}\"", md5_hex(&photo)));
    let info = info.expect("is_pic_info=1 asks for ImageInfo");
    assert_eq!(info["Format"].to_ascii_lowercase(), "jpeg");
    assert_eq!(
        (info["Width"].as_str(), info["Height"].as_str()),
        ("80", "60")
    );
    assert!(info["Orientation"].parse::<u32>().is_ok());
    if let Some(q) = info.get("Quality") {
        assert!(q.parse::<u32>().unwrap() <= 100);
    }
    if let Some(ave) = info.get("Ave") {
        assert!(ave.starts_with("0x") && ave.len() == 8, "{ave}");
    }
    assert!(
        !info.contains_key("FrameCount"),
        "a still has no FrameCount"
    );

    let objects = process_objects(&r);
    let keys: Vec<&str> = objects.iter().map(|o| o["Key"].as_str()).collect();
    assert_eq!(keys, ["p1/out/small.png", "abs/p.webp", "p1/prog.jpg"]);
    for o in &objects {
        assert_eq!(
            o["Location"],
            format!("{}/{}", TestServer::vhost(BUCKET), o["Key"])
        );
        assert_eq!((o["Width"].as_str(), o["Height"].as_str()), ("80", "60"));
    }
    assert_eq!(objects[0]["Format"].to_ascii_lowercase(), "png");
    assert_eq!(objects[1]["Format"].to_ascii_lowercase(), "webp");
    let png_bytes = assert_matches_stored(&srv, BUCKET, &objects[0]);
    assert_eq!(format_of(&png_bytes), ImageFormat::Png);
    assert_eq!(dims(&png_bytes), (80, 60));
    let webp_bytes = assert_matches_stored(&srv, BUCKET, &objects[1]);
    assert_eq!(format_of(&webp_bytes), ImageFormat::WebP);
    let jpg_bytes = assert_matches_stored(&srv, BUCKET, &objects[2]);
    assert!(is_progressive_jpeg(&jpg_bytes));
    assert!(objects[2]["Quality"].parse::<u32>().unwrap() <= 100);

    // The original is stored byte for byte, and each output has its own Content-Type.
    assert_eq!(get_object(&srv, BUCKET, "p1/photo.jpg").body, photo);
    let png_get = get_object(&srv, BUCKET, "p1/out/small.png");
    assert_eq!(png_get.exact("Content-Type"), Some("image/png"));
}

#[test]
fn image_info_is_left_out_unless_asked_and_animations_report_frames() {
    let srv = server();
    let anim = gif_anim(20, 10, 3);
    let r = put_pic(
        &srv,
        BUCKET,
        "a.gif",
        &anim,
        &pic_ops(false, &[("a.webp", "imageMogr2/format/webp", None)]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("<ImageInfo>"));
    let objects = process_objects(&r);
    assert_eq!(objects[0]["FrameCount"], "3");
    let webp = assert_matches_stored(&srv, BUCKET, &objects[0]);
    assert_eq!(frame_count(&webp), 3);

    let r = put_pic(
        &srv,
        BUCKET,
        "b.gif",
        &anim,
        &pic_ops(true, &[("b.gif.png", "imageMogr2/format/png", None)]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (_, info) = original_info(&r);
    let info = info.unwrap();
    assert_eq!(info["Format"].to_ascii_lowercase(), "gif");
    assert_eq!(info["FrameCount"], "3");
    assert!(
        !process_objects(&r)[0].contains_key("FrameCount"),
        "a PNG is a still"
    );
}

#[test]
fn a_failing_rule_stores_nothing_and_leaves_an_existing_object_as_it_was() {
    let srv = server();
    let photo = jpeg(40, 30);
    let before = b"the object that was here before".to_vec();
    srv.put(BUCKET, "keep/photo.jpg", &before);
    let before_head = srv.req("HEAD", BUCKET, "keep/photo.jpg").send();

    let cases = [
        // The second rule is bad: nothing at all may be stored, not even the first output.
        (
            pic_ops(
                false,
                &[
                    ("ok.png", "imageMogr2/format/png", None),
                    ("bad.png", "imageMogr2/format/nope", None),
                ],
            ),
            400,
            "InvalidArgument",
        ),
        (
            pic_ops(
                false,
                &[
                    ("ok.png", "imageMogr2/format/png", None),
                    ("bad.tpg", "imageMogr2/format/tpg", None),
                ],
            ),
            400,
            "InvalidArgument",
        ),
    ];
    for (ops, status, code) in cases {
        let r = put_pic(&srv, BUCKET, "keep/photo.jpg", &photo, &ops);
        assert_error(&r, status, code);
        assert_eq!(head_status(&srv, BUCKET, "keep/ok.png"), 404);
        assert_eq!(head_status(&srv, BUCKET, "keep/bad.png"), 404);
    }
    // Undecodable upload: the rules cannot run, so the original is not stored either.
    let r = put_pic(
        &srv,
        BUCKET,
        "keep/photo.jpg",
        b"not an image at all",
        &pic_ops(false, &[("x.png", "imageMogr2/format/png", None)]),
    );
    assert_error(&r, 400, "InvalidImageFormat");
    let r = put_pic(
        &srv,
        BUCKET,
        "fresh.jpg",
        b"not an image at all",
        &pic_ops(false, &[("x.png", "imageMogr2/format/png", None)]),
    );
    assert_error(&r, 400, "InvalidImageFormat");
    assert_eq!(head_status(&srv, BUCKET, "fresh.jpg"), 404);

    let after = get_object(&srv, BUCKET, "keep/photo.jpg");
    assert_eq!(after.body, before);
    assert_eq!(after.exact("ETag"), before_head.exact("ETag"));
    assert_eq!(
        after.exact("Last-Modified"),
        before_head.exact("Last-Modified")
    );
    assert_eq!(list_keys(&srv, BUCKET), vec!["keep/photo.jpg".to_string()]);
}

#[test]
fn over_a_limit_fails_atomically_unless_ignore_error_stores_the_original() {
    let srv = TestServer::start_with(|cfg| cfg.engine.limits.max_frames = 2);
    srv.create_bucket(BUCKET);
    let anim = gif_anim(20, 10, 3);
    let ops = pic_ops(
        false,
        &[
            ("first.gif", "imageMogr2/ignore-error/1/format/png", None),
            ("second.png", "imageMogr2/format/png", None),
        ],
    );
    let r = put_pic(&srv, BUCKET, "anim.gif", &anim, &ops);
    assert_error(&r, 400, "ImageResolutionExceed");
    assert!(list_keys(&srv, BUCKET).is_empty());

    // is_pic_info=1 too: an over-limit original is still described from its headers.
    let ops = pic_ops(
        true,
        &[("same.gif", "imageMogr2/ignore-error/1/format/png", None)],
    );
    let r = put_pic(&srv, BUCKET, "anim.gif", &anim, &ops);
    assert_eq!(r.status, 200, "{}", r.text());
    let objects = process_objects(&r);
    let stored = assert_matches_stored(&srv, BUCKET, &objects[0]);
    assert_eq!(stored, anim);
    assert_eq!(objects[0]["Format"].to_ascii_lowercase(), "gif");
    let (_, info) = original_info(&r);
    let info = info.unwrap();
    assert_eq!(info["Format"].to_ascii_lowercase(), "gif");
    assert_eq!(info["FrameCount"], "3");
    assert_eq!(
        (info["Width"].as_str(), info["Height"].as_str()),
        ("20", "10")
    );
}

#[test]
fn bad_pic_operations_headers_are_400_invalid_pic_operations_and_store_nothing() {
    let srv = server();
    let photo = jpeg(16, 16);
    let six = pic_ops(false, &[("a.png", "imageMogr2/format/png", None); 6]);
    for ops in [
        "{not json".to_string(),
        six,
        r#"{"rules":[{"rule":"imageMogr2/format/png"}]}"#.to_string(),
        pic_ops(false, &[("folder/", "imageMogr2/format/png", None)]),
        pic_ops(
            false,
            &[("../../escape.png", "imageMogr2/format/png", None)],
        ),
    ] {
        let r = put_pic(&srv, BUCKET, "d/photo.jpg", &photo, &ops);
        assert_error(&r, 400, "InvalidPicOperations");
    }
    assert!(list_keys(&srv, BUCKET).is_empty());
    // Five is the most allowed.
    let five = pic_ops(false, &[("a.png", "imageMogr2/format/png", None); 5]);
    assert_eq!(
        put_pic(&srv, BUCKET, "d/photo.jpg", &photo, &five).status,
        200
    );
}

#[test]
fn fileids_resolve_absolute_relative_and_upwards() {
    let srv = server();
    let photo = jpeg(16, 16);
    let ops = pic_ops(
        false,
        &[
            ("/p2/abs.png", "imageMogr2/format/png", None),
            ("p2/rel.png", "imageMogr2/format/png", None),
            ("../up.png", "imageMogr2/format/png", None),
            ("./here.png", "imageMogr2/format/png", None),
        ],
    );
    let r = put_pic(&srv, BUCKET, "p1/test1.jpg", &photo, &ops);
    assert_eq!(r.status, 200, "{}", r.text());
    let keys: Vec<String> = process_objects(&r)
        .into_iter()
        .map(|o| o["Key"].clone())
        .collect();
    assert_eq!(
        keys,
        ["p2/abs.png", "p1/p2/rel.png", "up.png", "p1/here.png"]
    );
    for key in &keys {
        assert_eq!(
            format_of(&get_object(&srv, BUCKET, key).body),
            ImageFormat::Png
        );
    }
}

#[test]
fn a_rule_may_write_to_another_existing_bucket() {
    let srv = server();
    srv.create_bucket(OTHER);
    let photo = jpeg(16, 16);
    let ops = pic_ops(
        false,
        &[
            ("thumbs/a.png", "imageMogr2/format/png", Some(OTHER)),
            ("a.webp", "imageMogr2/format/webp", None),
        ],
    );
    let r = put_pic(&srv, BUCKET, "a.jpg", &photo, &ops);
    assert_eq!(r.status, 200, "{}", r.text());
    let objects = process_objects(&r);
    assert_eq!(objects[0]["Key"], "thumbs/a.png");
    assert_eq!(
        objects[0]["Location"],
        format!("{}/thumbs/a.png", TestServer::vhost(OTHER))
    );
    assert_matches_stored(&srv, OTHER, &objects[0]);
    assert_eq!(head_status(&srv, BUCKET, "thumbs/a.png"), 404);
    assert_matches_stored(&srv, BUCKET, &objects[1]);

    let ops = pic_ops(
        false,
        &[("x.png", "imageMogr2/format/png", Some("nosuch-1250000000"))],
    );
    let r = put_pic(&srv, BUCKET, "b.jpg", &photo, &ops);
    assert_error(&r, 404, "NoSuchBucket");
    assert_eq!(head_status(&srv, BUCKET, "b.jpg"), 404);
}

#[test]
fn an_output_named_like_the_original_replaces_it() {
    let srv = server();
    let photo = jpeg(24, 24);
    let r = put_pic(
        &srv,
        BUCKET,
        "same.jpg",
        &photo,
        &pic_ops(false, &[("same.jpg", "imageMogr2/format/png", None)]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.exact("ETag"),
        Some(format!("\"{}\"", md5_hex(&photo)).as_str())
    );
    let stored = get_object(&srv, BUCKET, "same.jpg");
    assert_eq!(format_of(&stored.body), ImageFormat::Png);
    let (original, _) = original_info(&r);
    assert_eq!(Some(original["ETag"].as_str()), stored.exact("ETag"));
}

#[test]
fn a_body_over_the_processing_limit_is_image_too_large() {
    let srv = TestServer::start_with(|cfg| cfg.engine.limits.max_input_bytes = 1000);
    srv.create_bucket(BUCKET);
    let photo = png(200, 200);
    assert!(photo.len() > 1000);
    let r = put_pic(
        &srv,
        BUCKET,
        "big.png",
        &photo,
        &pic_ops(false, &[("b.jpg", "imageMogr2/format/jpg", None)]),
    );
    assert_error(&r, 400, "ImageTooLarge");
    assert!(list_keys(&srv, BUCKET).is_empty());
}

#[test]
fn a_wrong_content_md5_is_bad_digest_and_stores_nothing() {
    let srv = server();
    let photo = jpeg(16, 16);
    let r = srv
        .req("PUT", BUCKET, "m.jpg")
        .header(
            "Pic-Operations",
            &pic_ops(false, &[("m.png", "imageMogr2/format/png", None)]),
        )
        .header("Content-MD5", &md5_b64(b"something else"))
        .body(photo)
        .send();
    assert_error(&r, 400, "BadDigest");
    assert!(list_keys(&srv, BUCKET).is_empty());
}

/// Complete refuses parts under 1 MiB except the last.
const MIN_PART: usize = 1024 * 1024;

/// A small JPEG grown past [`MIN_PART`] with COM (comment) segments after SOI, so it can
/// travel in two valid parts; decoders skip comments, so its pixels are those of `jpeg`.
fn padded_jpeg(w: u32, h: u32) -> Vec<u8> {
    let plain = jpeg(w, h);
    let (soi, rest) = plain.split_at(2);
    let mut out = soi.to_vec();
    let payload = vec![b'.'; 65_000];
    while out.len() < MIN_PART + 1024 {
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
    }
    out.extend_from_slice(rest);
    out
}

/// Initiates an upload of `key` and uploads `body` in two parts (the first exactly
/// [`MIN_PART`]); returns the upload id and the Complete body.
fn two_part_upload(srv: &TestServer, key: &str, body: &[u8]) -> (String, String) {
    assert!(body.len() > MIN_PART, "a two-part body must exceed 1 MiB");
    let r = srv.req("POST", BUCKET, key).param("uploads", "").send();
    assert_eq!(r.status, 200, "{}", r.text());
    let upload_id = r.xml("UploadId").unwrap();
    let (a, b) = body.split_at(MIN_PART);
    let mut parts = String::new();
    for (n, chunk) in [(1, a), (2, b)] {
        let r = srv
            .req("PUT", BUCKET, key)
            .param("partNumber", &n.to_string())
            .param("uploadId", &upload_id)
            .body(chunk.to_vec())
            .send();
        assert_eq!(r.status, 200, "{}", r.text());
        let etag = r.exact("ETag").unwrap().to_string();
        parts.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    (
        upload_id,
        format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>"),
    )
}

#[test]
fn complete_multipart_with_pic_operations_processes_the_assembled_object() {
    let srv = server();
    let photo = padded_jpeg(64, 32);
    let (upload_id, complete) = two_part_upload(&srv, "mp/photo.jpg", &photo);
    let ops = pic_ops(true, &[("photo.png", "imageMogr2/format/png", None)]);
    let r = srv
        .req("POST", BUCKET, "mp/photo.jpg")
        .param("uploadId", &upload_id)
        .header("Pic-Operations", &ops)
        .body(complete.clone())
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("<CompleteMultipartUploadResult>"),
        "{}",
        r.text()
    );
    let stored = get_object(&srv, BUCKET, "mp/photo.jpg");
    assert_eq!(stored.body, photo);
    assert_eq!(r.xml("Key").as_deref(), Some("mp/photo.jpg"));
    assert_eq!(r.xml("ETag").as_deref(), stored.exact("ETag"));
    let info = fields(&section(&r.text(), "ImageInfo").unwrap());
    assert_eq!(
        (info["Width"].as_str(), info["Height"].as_str()),
        ("64", "32")
    );
    let objects = process_objects(&r);
    assert_eq!(objects[0]["Key"], "mp/photo.png");
    let png = assert_matches_stored(&srv, BUCKET, &objects[0]);
    assert_eq!(dims(&png), (64, 32));

    // The upload was retired in the same commit: a retried Complete cannot publish it again
    // over a newer PUT of the key.
    srv.put(BUCKET, "mp/photo.jpg", b"newer");
    let retry = srv
        .req("POST", BUCKET, "mp/photo.jpg")
        .param("uploadId", &upload_id)
        .header("Pic-Operations", &ops)
        .body(complete)
        .send();
    assert_error(&retry, 404, "NoSuchUpload");
    assert_eq!(get_object(&srv, BUCKET, "mp/photo.jpg").body, b"newer");
}

#[test]
fn a_failing_rule_on_complete_leaves_the_upload_uncommitted() {
    let srv = server();
    let photo = padded_jpeg(16, 16);
    let (upload_id, complete) = two_part_upload(&srv, "mp/bad.jpg", &photo);
    let ops = pic_ops(
        false,
        &[
            ("ok.png", "imageMogr2/format/png", None),
            ("bad.png", "imageMogr2/format/nope", None),
        ],
    );
    let r = srv
        .req("POST", BUCKET, "mp/bad.jpg")
        .param("uploadId", &upload_id)
        .header("Pic-Operations", &ops)
        .body(complete.clone())
        .send();
    assert_error(&r, 400, "InvalidArgument");
    assert!(list_keys(&srv, BUCKET).is_empty());
    // The upload is still there: completing it plainly works.
    let r = srv
        .req("POST", BUCKET, "mp/bad.jpg")
        .param("uploadId", &upload_id)
        .body(complete)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get_object(&srv, BUCKET, "mp/bad.jpg").body, photo);
}

#[test]
fn an_anonymous_caller_may_write_another_bucket_only_when_it_is_public_read_write() {
    let srv = TestServer::start();
    for (bucket, acl) in [(BUCKET, "public-read-write"), (OTHER, "private")] {
        let r = srv.req("PUT", bucket, "").header("x-cos-acl", acl).send();
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let photo = jpeg(16, 16);
    let anonymous_put = |ops: &str| {
        srv.req("PUT", BUCKET, "anon.jpg")
            .auth(Auth::Anonymous)
            .header("Pic-Operations", ops)
            .body(photo.clone())
            .send()
    };
    let r = anonymous_put(&pic_ops(
        false,
        &[("x.png", "imageMogr2/format/png", Some(OTHER))],
    ));
    assert_error(&r, 403, "AccessDenied");
    assert!(list_keys(&srv, BUCKET).is_empty());
    assert!(list_keys(&srv, OTHER).is_empty());

    let r = anonymous_put(&pic_ops(false, &[("x.png", "imageMogr2/format/png", None)]));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(head_status(&srv, BUCKET, "x.png"), 200);
}

#[test]
fn quality_is_always_reported_and_100_for_lossless_images() {
    let srv = server();
    let ops = pic_ops(
        true,
        &[
            ("q/out.png", "imageMogr2/format/png", None),
            ("q/out.gif", "imageMogr2/format/gif", None),
            ("q/out.jpg", "imageMogr2/format/jpg/quality/70", None),
        ],
    );
    let r = put_pic(&srv, BUCKET, "q/in.png", &png(32, 24), &ops);
    assert_eq!(r.status, 200, "{}", r.text());
    let (_, info) = original_info(&r);
    assert_eq!(info.expect("ImageInfo")["Quality"], "100");
    let objects = process_objects(&r);
    assert_eq!(objects[0]["Quality"], "100");
    assert_eq!(objects[1]["Quality"], "100");
    assert_eq!(objects[2]["Quality"], "70");
}
