//! Processing in the cloud over HTTP: `POST /<key>?image_process` with `Pic-Operations`.

use crate::common::*;
use crate::processing_common::*;
use image::ImageFormat;

const BUCKET: &str = "cloud-1250000000";

fn server_with_photo() -> (TestServer, Vec<u8>) {
    let srv = TestServer::start();
    srv.create_bucket(BUCKET);
    let photo = jpeg(50, 40);
    srv.put(BUCKET, "src/photo.jpg", &photo);
    (srv, photo)
}

#[test]
fn image_process_stores_outputs_and_leaves_the_source_untouched() {
    let (srv, photo) = server_with_photo();
    let before = srv.req("HEAD", BUCKET, "src/photo.jpg").send();
    let ops = pic_ops(
        true,
        &[
            ("out.png", "imageMogr2/format/png", None),
            ("/flat.webp", "imageMogr2/format/webp", None),
        ],
    );
    let r = image_process(&srv, BUCKET, "src/photo.jpg", &ops).send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.exact("Content-Type"), Some("application/xml"));

    let (original, info) = original_info(&r);
    assert_eq!(original["Key"], "src/photo.jpg");
    assert_eq!(Some(original["ETag"].as_str()), before.exact("ETag"));
    let info = info.unwrap();
    assert_eq!(
        (info["Width"].as_str(), info["Height"].as_str()),
        ("50", "40")
    );

    let objects = process_objects(&r);
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["Key"], "src/out.png");
    assert_eq!(objects[1]["Key"], "flat.webp");
    for (o, format) in objects.iter().zip([ImageFormat::Png, ImageFormat::WebP]) {
        let got = get_object(&srv, BUCKET, &o["Key"]);
        let head = srv.req("HEAD", BUCKET, &o["Key"]).send();
        assert_eq!(Some(o["ETag"].as_str()), head.exact("ETag"));
        assert_eq!(o["Size"], got.body.len().to_string());
        assert_eq!(format_of(&got.body), format);
        assert_eq!(dims(&got.body), (50, 40));
    }

    let after = get_object(&srv, BUCKET, "src/photo.jpg");
    assert_eq!(after.body, photo);
    assert_eq!(after.exact("ETag"), before.exact("ETag"));
    assert_eq!(after.exact("Last-Modified"), before.exact("Last-Modified"));
}

#[test]
fn image_process_accepts_the_bare_sub_resource() {
    let (srv, _) = server_with_photo();
    let ops = pic_ops(false, &[("bare.png", "imageMogr2/format/png", None)]);
    // `?image_process` with no `=`, signed as the GO SDK does (Pic-Operations included: an
    // unsigned one is refused, see `signed_scope`).
    let t = now();
    let authz = mogr_cos::auth::sign(
        "post",
        "/src/photo.jpg",
        &[("image_process".to_string(), String::new())],
        &[
            ("host".to_string(), TestServer::vhost(BUCKET)),
            ("pic-operations".to_string(), ops.clone()),
        ],
        SECRET_ID,
        SECRET_KEY,
        t - 60,
        t + 3600,
    );
    let mut req = srv
        .req("POST", BUCKET, "src/photo.jpg")
        .auth(Auth::Anonymous)
        .unsigned_header("Authorization", &authz)
        .unsigned_header("Pic-Operations", &ops);
    req.raw_query = Some("image_process".into());
    let r = req.send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(process_objects(&r)[0]["Key"], "src/bare.png");
    assert_eq!(head_status(&srv, BUCKET, "src/bare.png"), 200);
}

#[test]
fn a_failing_rule_stores_no_output() {
    let (srv, photo) = server_with_photo();
    let ops = pic_ops(
        false,
        &[
            ("ok.png", "imageMogr2/format/png", None),
            ("bad.png", "imageMogr2/format/tpg", None),
        ],
    );
    let r = image_process(&srv, BUCKET, "src/photo.jpg", &ops).send();
    assert_error(&r, 400, "InvalidArgument");
    assert_eq!(list_keys(&srv, BUCKET), vec!["src/photo.jpg".to_string()]);
    assert_eq!(get_object(&srv, BUCKET, "src/photo.jpg").body, photo);

    let r = image_process(&srv, BUCKET, "src/photo.jpg", "{oops").send();
    assert_error(&r, 400, "InvalidPicOperations");
}

#[test]
fn a_fileid_naming_the_source_replaces_it() {
    let (srv, _) = server_with_photo();
    let ops = pic_ops(false, &[("photo.jpg", "imageMogr2/format/png", None)]);
    let r = image_process(&srv, BUCKET, "src/photo.jpg", &ops).send();
    assert_eq!(r.status, 200, "{}", r.text());
    let stored = get_object(&srv, BUCKET, "src/photo.jpg");
    assert_eq!(format_of(&stored.body), ImageFormat::Png);
    let (original, _) = original_info(&r);
    assert_eq!(Some(original["ETag"].as_str()), stored.exact("ETag"));
}

#[test]
fn a_missing_source_is_404_no_such_key() {
    let (srv, _) = server_with_photo();
    let ops = pic_ops(false, &[("x.png", "imageMogr2/format/png", None)]);
    let r = image_process(&srv, BUCKET, "nope.jpg", &ops).send();
    assert_error(&r, 404, "NoSuchKey");
    assert_eq!(list_keys(&srv, BUCKET), vec!["src/photo.jpg".to_string()]);
}
