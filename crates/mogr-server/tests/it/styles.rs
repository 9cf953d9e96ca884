//! Image styles over HTTP: the `?style` API (on the `.cos.` and `.pic.` hosts), `style/<name>`
//! in the three processing modes, the separator download form, and styles across a restart.

use crate::common::*;
use crate::processing_common::*;
use image::ImageFormat;

const BUCKET: &str = "styles-1250000000";

fn add_style_xml(name: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<AddStyle><StyleName>{name}</StyleName>\
         <StyleBody>{body}</StyleBody></AddStyle>"
    )
}

fn put_style(srv: &TestServer, name: &str, body: &str) -> Resp {
    srv.req("PUT", BUCKET, "")
        .param("style", "")
        .body(add_style_xml(name, body))
        .send()
}

fn save(srv: &TestServer, name: &str, body: &str) {
    let r = put_style(srv, name, body);
    assert_eq!(r.status, 200, "{}", r.text());
}

fn styles_of(srv: &TestServer) -> Vec<(String, String)> {
    let r = srv.req("GET", BUCKET, "").param("style", "").send();
    assert_eq!(r.status, 200, "{}", r.text());
    r.xml_all("StyleName")
        .into_iter()
        .zip(r.xml_all("StyleBody"))
        .collect()
}

fn server_with_photo() -> TestServer {
    let srv = TestServer::start();
    srv.create_bucket(BUCKET);
    srv.put(BUCKET, "photo.jpg", &jpeg(80, 40));
    srv
}

#[test]
fn styles_are_saved_listed_and_deleted() {
    let srv = server_with_photo();
    assert!(styles_of(&srv).is_empty());
    save(&srv, "small", "imageMogr2/thumbnail/20x");
    save(&srv, "png", "imageMogr2/format/png");
    // Saving again replaces.
    save(&srv, "small", "imageMogr2/thumbnail/10x");
    assert_eq!(
        styles_of(&srv),
        vec![
            ("png".to_string(), "imageMogr2/format/png".to_string()),
            ("small".to_string(), "imageMogr2/thumbnail/10x".to_string()),
        ]
    );
    // The by-name query the SDKs send as a GET body.
    let one = srv
        .req("GET", BUCKET, "")
        .param("style", "")
        .body("<GetStyle><StyleName>png</StyleName></GetStyle>")
        .send();
    assert_eq!(one.status, 200, "{}", one.text());
    assert_eq!(one.xml_all("StyleName"), vec!["png".to_string()]);

    let del = srv
        .req("DELETE", BUCKET, "")
        .param("style", "")
        .body("<DeleteStyle><StyleName>png</StyleName></DeleteStyle>")
        .send();
    assert_eq!(del.status, 200, "{}", del.text());
    assert_eq!(styles_of(&srv).len(), 1);

    // The image domain addresses the same bucket.
    let pic = srv
        .req_host(
            "GET",
            &format!("{BUCKET}.pic.ap-guangzhou.myqcloud.com"),
            "/",
        )
        .param("style", "")
        .send();
    assert_eq!(pic.status, 200, "{}", pic.text());
    assert_eq!(pic.xml_all("StyleName"), vec!["small".to_string()]);
}

#[test]
fn bad_styles_are_refused_when_saved() {
    let srv = server_with_photo();
    save(&srv, "a", "imageMogr2/format/png");
    for (name, body, needle) in [
        ("self", "style/self", "loop"),
        ("b", "style/c", "does not exist"),
        ("bad name", "imageInfo", "StyleName"),
        ("x", "imageMogr2/thumbnail/zz", "thumbnail"),
        ("y", "nonsense/1", "nonsense"),
    ] {
        let r = put_style(&srv, name, body);
        let message = assert_error(&r, 400, "InvalidArgument");
        assert!(message.contains(needle), "{name}: {message}");
    }
    // A loop through another style: b -> a is fine, then a -> b closes the circle.
    save(&srv, "b", "style/a");
    let message = assert_error(&put_style(&srv, "a", "style/b"), 400, "InvalidArgument");
    assert!(message.contains("a -> b -> a"), "{message}");
    // Nothing refused was stored, and `a` kept its rule.
    assert_eq!(
        styles_of(&srv),
        vec![
            ("a".to_string(), "imageMogr2/format/png".to_string()),
            ("b".to_string(), "style/a".to_string()),
        ]
    );
    let long = "imageMogr2/format/png".repeat(300);
    assert_error(&put_style(&srv, "long", &long), 400, "InvalidArgument");
    let malformed = srv
        .req("PUT", BUCKET, "")
        .param("style", "")
        .body("<AddStyle><StyleName>z</StyleName></AddStyle>")
        .send();
    assert_error(&malformed, 400, "MalformedXML");
}

#[test]
fn only_the_owner_may_read_or_write_styles() {
    let srv = server_with_photo();
    let public = srv
        .req("PUT", BUCKET, "")
        .param("acl", "")
        .header("x-cos-acl", "public-read-write")
        .send();
    assert_eq!(public.status, 200, "{}", public.text());
    save(&srv, "small", "imageMogr2/thumbnail/20x");
    let anonymous_put = srv
        .req("PUT", BUCKET, "")
        .param("style", "")
        .body(add_style_xml("evil", "imageInfo"))
        .auth(Auth::Anonymous)
        .send();
    assert_error(&anonymous_put, 403, "AccessDenied");
    let anonymous_get = srv
        .req("GET", BUCKET, "")
        .param("style", "")
        .auth(Auth::Anonymous)
        .send();
    assert_error(&anonymous_get, 403, "AccessDenied");
    let anonymous_delete = srv
        .req("DELETE", BUCKET, "")
        .param("style", "")
        .body("<DeleteStyle><StyleName>small</StyleName></DeleteStyle>")
        .auth(Auth::Anonymous)
        .send();
    assert_error(&anonymous_delete, 403, "AccessDenied");
    assert_eq!(styles_of(&srv).len(), 1);
    // Using a style needs only read access to the object.
    let used = raw(&srv, "GET", BUCKET, "photo.jpg", "style/small");
    assert_eq!(used.status, 200, "{}", used.text());
    assert_eq!(dims(&used.body), (20, 10));
}

#[test]
fn style_rules_run_in_all_three_modes() {
    let srv = server_with_photo();
    save(&srv, "small", "imageMogr2/thumbnail/20x");
    save(&srv, "small-png", "style/small|imageMogr2/format/png");

    let down = get_rule_signed(&srv, BUCKET, "photo.jpg", "style/small-png");
    assert_eq!(down.status, 200, "{}", down.text());
    assert_eq!(format_of(&down.body), ImageFormat::Png);
    assert_eq!(dims(&down.body), (20, 10));
    let raw_form = get_rule_unsigned(&srv, "GET", BUCKET, "photo.jpg", "style/small");
    assert_eq!(raw_form.status, 200, "{}", raw_form.text());
    assert_eq!(format_of(&raw_form.body), ImageFormat::Jpeg);
    assert_eq!(dims(&raw_form.body), (20, 10));

    let ops = pic_ops(false, &[("up.png", "style/small-png", None)]);
    let up = put_pic(&srv, BUCKET, "upload.jpg", &jpeg(80, 40), &ops);
    assert_eq!(up.status, 200, "{}", up.text());
    let stored = get_object(&srv, BUCKET, "up.png");
    assert_eq!(format_of(&stored.body), ImageFormat::Png);
    assert_eq!(dims(&stored.body), (20, 10));

    let ops = pic_ops(false, &[("cloud.jpg", "style/small", None)]);
    let cloud = image_process(&srv, BUCKET, "photo.jpg", &ops).send();
    assert_eq!(cloud.status, 200, "{}", cloud.text());
    assert_eq!(dims(&get_object(&srv, BUCKET, "cloud.jpg").body), (20, 10));
}

#[test]
fn unknown_styles_are_a_clear_400_in_every_mode() {
    let srv = server_with_photo();
    let down = get_rule_signed(&srv, BUCKET, "photo.jpg", "style/nope");
    let message = assert_error(&down, 400, "InvalidArgument");
    assert!(message.contains("style `nope` does not exist"), "{message}");
    let ops = pic_ops(false, &[("o.jpg", "style/nope", None)]);
    let up = put_pic(&srv, BUCKET, "new.jpg", &jpeg(8, 8), &ops);
    assert!(assert_error(&up, 400, "InvalidArgument").contains("nope"));
    // Nothing was stored for a refused upload.
    assert_eq!(head_status(&srv, BUCKET, "new.jpg"), 404);
    let cloud = image_process(&srv, BUCKET, "photo.jpg", &ops).send();
    assert!(assert_error(&cloud, 400, "InvalidArgument").contains("nope"));
    // A missing object is still 404 first.
    let missing = get_rule_signed(&srv, BUCKET, "absent.jpg", "style/nope");
    assert_error(&missing, 404, "NoSuchKey");
}

fn set_separators(srv: &TestServer, separators: &str) {
    let r = srv
        .req("PUT", BUCKET, "")
        .param("mogr-style-separators", "")
        .body(format!(
            "<StyleSeparators><Separators>{separators}</Separators></StyleSeparators>"
        ))
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn the_separator_form_needs_the_bucket_to_enable_it() {
    let srv = server_with_photo();
    save(&srv, "small", "imageMogr2/thumbnail/20x");
    save(&srv, "my-thumb", "imageMogr2/thumbnail/10x");
    // Off by default.
    assert_error(
        &srv.req("GET", BUCKET, "photo.jpg!small").send(),
        404,
        "NoSuchKey",
    );
    set_separators(&srv, "!-");
    let got = srv.req("GET", BUCKET, "photo.jpg!small").send();
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(dims(&got.body), (20, 10));
    // A style name that itself contains a separator.
    let got = srv.req("GET", BUCKET, "photo.jpg-my-thumb").send();
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(dims(&got.body), (10, 5));
    // HEAD answers the processed length.
    let head = srv.req("HEAD", BUCKET, "photo.jpg!small").send();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(got_len(&srv, "photo.jpg!small").as_str())
    );
    // `_` is not enabled.
    assert_error(
        &srv.req("GET", BUCKET, "photo.jpg_small").send(),
        404,
        "NoSuchKey",
    );
    // An object whose key looks styled is served as itself.
    srv.put(BUCKET, "photo.jpg-small", b"just bytes");
    assert_eq!(
        get_object(&srv, BUCKET, "photo.jpg-small").body,
        b"just bytes"
    );
    // Unknown separators are refused; "" turns the form off.
    let bad = srv
        .req("PUT", BUCKET, "")
        .param("mogr-style-separators", "")
        .body("<StyleSeparators><Separators>/</Separators></StyleSeparators>")
        .send();
    assert_error(&bad, 400, "InvalidArgument");
    set_separators(&srv, "");
    assert_error(
        &srv.req("GET", BUCKET, "photo.jpg!small").send(),
        404,
        "NoSuchKey",
    );
}

fn got_len(srv: &TestServer, key: &str) -> String {
    srv.req("GET", BUCKET, key).send().body.len().to_string()
}

#[test]
fn styles_survive_a_restart_and_go_with_their_bucket() {
    let data = tempfile::tempdir().unwrap();
    let start = || {
        let path = data.path().to_path_buf();
        TestServer::start_with(move |cfg| cfg.data_dir = path)
    };
    {
        let srv = start();
        srv.create_bucket(BUCKET);
        srv.put(BUCKET, "photo.jpg", &jpeg(80, 40));
        save(&srv, "small", "imageMogr2/thumbnail/20x");
        set_separators(&srv, "!");
    }
    let srv = start();
    assert_eq!(
        styles_of(&srv),
        vec![("small".to_string(), "imageMogr2/thumbnail/20x".to_string())]
    );
    let got = srv.req("GET", BUCKET, "photo.jpg!small").send();
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(dims(&got.body), (20, 10));

    // Deleting the bucket deletes its styles.
    assert_eq!(srv.req("DELETE", BUCKET, "photo.jpg").send().status, 204);
    let gone = srv.req("DELETE", BUCKET, "").send();
    assert_eq!(gone.status, 204, "{}", gone.text());
    srv.create_bucket(BUCKET);
    assert!(styles_of(&srv).is_empty());
}
