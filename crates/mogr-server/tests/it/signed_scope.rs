//! What a signature vouches for, over real HTTP: a presigned URL or a signed request must not
//! be widened by anything the signer did not list (extra headers, sub-resources, overrides,
//! other keys, other buckets, longer lifetimes).

use crate::common::*;
use crate::processing_common::*;

const A: &str = "scope-a-1250000000";
const B: &str = "scope-b-1250000000";

fn server() -> TestServer {
    let srv = TestServer::start();
    srv.create_bucket(A);
    srv.create_bucket(B);
    srv
}

#[test]
fn a_presigned_put_cannot_carry_an_unsigned_pic_operations_header() {
    let srv = server();
    srv.put(B, "victim.png", b"precious");
    let photo = jpeg(40, 30);
    let ops = pic_ops(
        false,
        &[
            ("/victim.png", "imageMogr2/format/png", Some(B)),
            ("/elsewhere.png", "imageMogr2/format/png", None),
        ],
    );
    let r = srv
        .req("PUT", A, "uploads/u.png")
        .auth(Auth::Presigned)
        .unsigned_header("Pic-Operations", &ops)
        .body(photo.clone())
        .send();
    let msg = assert_error(&r, 403, "AccessDenied");
    assert!(msg.contains("pic-operations"), "{msg}");
    assert_eq!(get_object(&srv, B, "victim.png").body, b"precious");
    assert_eq!(head_status(&srv, A, "elsewhere.png"), 404);
    assert_eq!(head_status(&srv, A, "uploads/u.png"), 404);

    // The same header signed is the owner's own request: it works.
    let r = srv
        .req("PUT", A, "uploads/u.png")
        .auth(Auth::Presigned)
        .header("Pic-Operations", &ops)
        .body(photo)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        format_of(&get_object(&srv, B, "victim.png").body),
        image::ImageFormat::Png
    );
}

#[test]
fn anonymous_pic_operations_targets_are_authorised_one_by_one() {
    let srv = server();
    // A is world-writable, B is private.
    let r = srv
        .req("PUT", A, "")
        .param("acl", "")
        .header("x-cos-acl", "public-read-write")
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    srv.put(B, "victim.png", b"precious");
    let photo = jpeg(40, 30);

    let into_b = pic_ops(false, &[("/victim.png", "imageMogr2/format/png", Some(B))]);
    let r = srv
        .req("PUT", A, "in.jpg")
        .auth(Auth::Anonymous)
        .header("Pic-Operations", &into_b)
        .body(photo.clone())
        .send();
    assert_error(&r, 403, "AccessDenied");
    assert_eq!(get_object(&srv, B, "victim.png").body, b"precious");
    assert_eq!(head_status(&srv, A, "in.jpg"), 404);

    let into_a = pic_ops(false, &[("/out.png", "imageMogr2/format/png", None)]);
    let r = srv
        .req("PUT", A, "in.jpg")
        .auth(Auth::Anonymous)
        .header("Pic-Operations", &into_a)
        .body(photo)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(head_status(&srv, A, "out.png"), 200);
}

#[test]
fn unsigned_subresources_cannot_ride_on_a_presigned_url() {
    let srv = server();
    // A presigned listing URL with `&acl` / `&uploads` appended.
    for extra in ["acl", "uploads"] {
        let r = presigned(&srv, "GET", A, "", &[], "", extra);
        let msg = assert_error(&r, 403, "AccessDenied");
        assert!(msg.contains(extra), "{extra}: {msg}");
    }
    // The plain presigned listing still works.
    let r = presigned(&srv, "GET", A, "", &[], "", "");
    assert_eq!(r.status, 200, "{}", r.text());

    // A presigned bucket PUT with `&acl` and an unsigned x-cos-acl must not open the bucket.
    let mut req = srv.req("PUT", B, "").auth(Auth::Presigned);
    req.raw_query = Some("acl".into());
    let r = req.unsigned_header("x-cos-acl", "public-read-write").send();
    assert_error(&r, 403, "AccessDenied");
    let anon = srv
        .req("PUT", B, "x.txt")
        .auth(Auth::Anonymous)
        .body(b"x".to_vec())
        .send();
    assert_error(&anon, 403, "AccessDenied");

    // Signed, the same sub-resource is fine.
    let r = srv
        .req("GET", A, "")
        .param("acl", "")
        .auth(Auth::Presigned)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn unsigned_response_overrides_cannot_ride_on_a_presigned_get() {
    let srv = server();
    srv.put(A, "note.txt", b"<script>alert(1)</script>");
    let r = presigned(
        &srv,
        "GET",
        A,
        "note.txt",
        &[],
        "",
        "response-content-type=text%2Fhtml",
    );
    let msg = assert_error(&r, 403, "AccessDenied");
    assert!(msg.contains("response-content-type"), "{msg}");
    // Signed, the override applies.
    let r = presigned(
        &srv,
        "GET",
        A,
        "note.txt",
        &[("response-content-type", "text/plain")],
        "",
        "response-content-type=text%2Fplain",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/plain"));
}

#[test]
fn unsigned_x_cos_headers_are_refused_on_signed_requests() {
    let srv = server();
    let r = srv
        .req("PUT", A, "m.txt")
        .auth(Auth::Presigned)
        .unsigned_header("x-cos-meta-owner", "mallory")
        .body(b"x".to_vec())
        .send();
    let msg = assert_error(&r, 403, "AccessDenied");
    assert!(msg.contains("x-cos-meta-owner"), "{msg}");
    assert_eq!(head_status(&srv, A, "m.txt"), 404);
    // Empty values carry nothing: the JS SDK leaves them out of its signature.
    let r = srv
        .req("PUT", A, "m.txt")
        .unsigned_header("x-cos-meta-empty", "")
        .body(b"x".to_vec())
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_signature_for_a_space_does_not_reach_the_plus_key() {
    let srv = server();
    srv.put(A, "a b.txt", b"space");
    srv.put(A, "a+b.txt", b"plus");
    // Signed for `a b.txt`, sent to the wire path `/a+b.txt`.
    let mut get = srv.req("GET", A, "a b.txt");
    get.raw_path = Some("/a+b.txt".into());
    assert_error(&get.send(), 403, "SignatureDoesNotMatch");
    let mut put = srv.req("PUT", A, "a b.txt").body(b"overwritten".to_vec());
    put.raw_path = Some("/a+b.txt".into());
    assert_error(&put.send(), 403, "SignatureDoesNotMatch");
    assert_eq!(get_object(&srv, A, "a+b.txt").body, b"plus");
    assert_eq!(get_object(&srv, A, "a b.txt").body, b"space");
}

#[test]
fn signatures_valid_for_more_than_seven_days_are_refused() {
    let srv = server();
    srv.put(A, "k.txt", b"k");
    let t = now();
    for (end, want) in [
        (t + 7 * 86400 - 120, 200),
        (t + 8 * 86400, 403),
        (18_446_744_073_709_551_615, 403),
    ] {
        for auth in [Auth::Header, Auth::Presigned] {
            let mut req = srv.req("GET", A, "k.txt").auth(auth);
            req.time = (t - 60, end);
            let r = req.send();
            assert_eq!(r.status, want, "{auth:?} end {end}: {}", r.text());
            if want == 403 {
                assert_error(&r, 403, "AccessDenied");
            }
        }
    }
}

#[test]
fn a_virtual_host_signature_must_sign_the_host() {
    let srv = server();
    srv.put(B, "secret.txt", b"bucket b");
    // A signature with no `host` in its header list, replayed with another bucket's Host.
    let t = now();
    let authz = mogr_cos::auth::sign(
        "get",
        "/secret.txt",
        &[],
        &[],
        SECRET_ID,
        SECRET_KEY,
        t - 60,
        t + 600,
    );
    let r = srv
        .req("GET", B, "secret.txt")
        .auth(Auth::Anonymous)
        .unsigned_header("Authorization", &authz)
        .send();
    let msg = assert_error(&r, 403, "AccessDenied");
    assert!(msg.contains("Host"), "{msg}");
    // Path-style names the bucket in the signed path: no Host needed there.
    let path = format!("/{B}/secret.txt");
    let authz = mogr_cos::auth::sign(
        "get",
        &path,
        &[],
        &[],
        SECRET_ID,
        SECRET_KEY,
        t - 60,
        t + 600,
    );
    let r = srv
        .req_host("GET", &srv.host_port(), &path)
        .auth(Auth::Anonymous)
        .unsigned_header("Authorization", &authz)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, b"bucket b");
}

#[test]
fn a_duplicated_signed_metadata_header_is_refused() {
    let srv = server();
    let r = srv
        .req("PUT", A, "dup.txt")
        .header("x-cos-meta-owner", "alice")
        .unsigned_header("x-cos-meta-owner", "mallory")
        .body(b"x".to_vec())
        .send();
    assert_error(&r, 400, "InvalidRequest");
    assert_eq!(head_status(&srv, A, "dup.txt"), 404);
}

#[test]
fn a_key_without_a_bucket_is_a_clear_400() {
    let srv = server();
    let r = srv.req_host("GET", &srv.host_port(), "/photo.jpg").send();
    let msg = assert_error(&r, 400, "InvalidRequest");
    assert!(msg.contains("no bucket"), "{msg}");
    assert!(!r.text().contains("ListAllMyBucketsResult"));
    // The service level itself still lists buckets.
    let r = srv.req_host("GET", &srv.host_port(), "/").send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("ListAllMyBucketsResult"));
}

#[test]
fn a_case_variant_copy_of_a_signed_parameter_cannot_replace_its_value() {
    let srv = server();
    srv.put(A, "x.html", b"<script>alert(1)</script>");
    srv.put(A, "public/p.txt", b"p");
    srv.put(A, "secret/s.txt", b"s");
    let r = presigned(
        &srv,
        "GET",
        A,
        "x.html",
        &[("response-content-type", "text/plain")],
        "RESPONSE-CONTENT-TYPE=text%2Fplain",
        "response-content-type=text%2Fhtml",
    );
    assert_error(&r, 400, "InvalidRequest");
    let r = presigned(
        &srv,
        "GET",
        A,
        "",
        &[("prefix", "public/")],
        "PREFIX=public%2F",
        "prefix=secret%2F",
    );
    assert_error(&r, 400, "InvalidRequest");
    assert!(!r.text().contains("secret/s.txt"));
}
