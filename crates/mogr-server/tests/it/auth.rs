//! Signatures in every transport, expiry, mismatches and anonymous access by bucket ACL.

use crate::common::*;

const B: &str = "secure-1250000000";

fn server_with_object() -> TestServer {
    let s = TestServer::start();
    s.create_bucket(B);
    s.put(B, "dir/a b+c中.jpg", b"hello");
    s
}

#[test]
fn header_signature_over_a_decoded_utf8_path() {
    let s = server_with_object();
    let r = s.req("GET", B, "dir/a b+c中.jpg").send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, b"hello");
}

#[test]
fn presigned_get_and_put_urls() {
    let s = server_with_object();
    // A signed parameter whose name needs encoding, so q-url-param-list is double-encoded.
    let get = s
        .req("GET", B, "dir/a b+c中.jpg")
        .param("response-content-type", "text/plain")
        .param("custom/param", "v 1")
        .auth(Auth::Presigned)
        .send();
    assert_eq!(get.status, 200, "{}", get.text());
    assert_eq!(get.body, b"hello");
    assert_eq!(get.exact("Content-Type"), Some("text/plain"));

    let put = s
        .req("PUT", B, "presigned.txt")
        .body(b"via url".to_vec())
        .auth(Auth::Presigned)
        .send();
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(s.req("GET", B, "presigned.txt").send().body, b"via url");

    // Tampering with a signed parameter breaks the signature.
    let mut tampered = s
        .req("GET", B, "dir/a b+c中.jpg")
        .param("response-content-type", "text/plain")
        .auth(Auth::Presigned);
    tampered.wire_params = Some(vec![("response-content-type".into(), "text/html".into())]);
    let res = tampered.send();
    assert_eq!(res.status, 403, "{}", res.text());
}

#[test]
fn sign_parameter_form() {
    let s = server_with_object();
    let r = s
        .req("GET", B, "dir/a b+c中.jpg")
        .auth(Auth::SignParam)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, b"hello");
}

#[test]
fn signed_host_with_and_without_port() {
    let s = server_with_object();
    let host = s.host_port();
    let path = format!("/{B}/dir/a b+c中.jpg");
    let with_port = s.req_host("GET", &host, &path).send();
    assert_eq!(with_port.status, 200, "{}", with_port.text());
    // The Python SDK in Domain mode signs the hostname without the port.
    let mut r = s.req_host("GET", &host, &path);
    r.sign_host = Some("127.0.0.1".into());
    let without_port = r.send();
    assert_eq!(without_port.status, 200, "{}", without_port.text());
}

#[test]
fn expired_signature_is_access_denied() {
    let s = server_with_object();
    let mut r = s.req("GET", B, "dir/a b+c中.jpg");
    let t = now();
    r.time = (t - 7200, t - 3600);
    let res = r.send();
    assert_eq!(res.status, 403);
    assert_eq!(res.xml("Code").as_deref(), Some("AccessDenied"));
    assert_eq!(res.xml("Message").as_deref(), Some("Request has expired"));
    assert!(res.exact("x-cos-trace-id").is_some());
}

#[test]
fn wrong_secret_is_signature_mismatch_with_debug_strings() {
    let s = server_with_object();
    let mut r = s.req("GET", B, "dir/a b+c中.jpg");
    r.secret_key = "not-the-secret".into();
    let res = r.send();
    assert_eq!(res.status, 403);
    assert_eq!(res.xml("Code").as_deref(), Some("SignatureDoesNotMatch"));
    let sts = res.xml("StringToSign").unwrap();
    assert!(sts.starts_with("sha1\n"), "{sts:?}");
    let fs = res.xml("FormatString").unwrap();
    assert!(fs.starts_with("get\n/dir/a b+c中.jpg\n"), "{fs:?}");
    assert!(res.xml("RequestId").is_some());
    assert!(res.xml("Resource").is_some());
}

#[test]
fn unknown_access_key_is_refused() {
    let s = server_with_object();
    let mut r = s.req("GET", B, "dir/a b+c中.jpg");
    r.secret_id = "AKIDUNKNOWN".into();
    let res = r.send();
    assert_eq!(res.status, 403);
    assert_eq!(res.xml("Code").as_deref(), Some("InvalidAccessKeyId"));
}

#[test]
fn anonymous_access_follows_the_bucket_acl() {
    let s = server_with_object();
    let key = "dir/a b+c中.jpg";
    let anon_get = || s.req("GET", B, key).auth(Auth::Anonymous).send();
    let anon_put = || {
        s.req("PUT", B, "anon.txt")
            .body(b"anon".to_vec())
            .auth(Auth::Anonymous)
            .send()
    };
    let denied = anon_get();
    assert_eq!(denied.status, 403);
    assert_eq!(denied.xml("Code").as_deref(), Some("AccessDenied"));
    // `Authorization: ` with an empty value is anonymous too (PY Anonymous=True).
    let empty_auth = s
        .req("GET", B, key)
        .auth(Auth::Anonymous)
        .unsigned_header("Authorization", "")
        .send();
    assert_eq!(empty_auth.status, 403);
    assert_eq!(empty_auth.xml("Code").as_deref(), Some("AccessDenied"));
    let anon_list = s.req("GET", B, "").auth(Auth::Anonymous).send();
    assert_eq!(anon_list.status, 403);

    let acl = s
        .req("PUT", B, "")
        .param("acl", "")
        .header("x-cos-acl", "public-read")
        .send();
    assert_eq!(acl.status, 200, "{}", acl.text());
    let read = s.req("GET", B, "").param("acl", "").send();
    assert!(
        read.text().contains("<Permission>READ</Permission>"),
        "{}",
        read.text()
    );
    assert_eq!(anon_get().status, 200);
    assert_eq!(
        s.req("HEAD", B, key).auth(Auth::Anonymous).send().status,
        200
    );
    assert_eq!(s.req("GET", B, "").auth(Auth::Anonymous).send().status, 200);
    assert_eq!(anon_put().status, 403);
    let anon_acl = s
        .req("GET", B, "")
        .param("acl", "")
        .auth(Auth::Anonymous)
        .send();
    assert_eq!(anon_acl.status, 403);

    // The XML form of PUT ?acl.
    let body = "<AccessControlPolicy><Owner><ID>1250000000</ID></Owner><AccessControlList>\
        <Grant><Grantee><URI>http://cam.qcloud.com/groups/global/AllUsers</URI></Grantee>\
        <Permission>READ</Permission></Grant>\
        <Grant><Grantee><URI>http://cam.qcloud.com/groups/global/AllUsers</URI></Grantee>\
        <Permission>WRITE</Permission></Grant></AccessControlList></AccessControlPolicy>";
    let acl = s.req("PUT", B, "").param("acl", "").body(body).send();
    assert_eq!(acl.status, 200, "{}", acl.text());
    let put = anon_put();
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(s.req("GET", B, "anon.txt").send().body, b"anon");

    let private = s
        .req("PUT", B, "")
        .param("acl", "")
        .header("x-cos-acl", "private")
        .send();
    assert_eq!(private.status, 200);
    assert_eq!(anon_get().status, 403);
    let bucket_created_public = s
        .req("PUT", "open-1250000000", "")
        .header("x-cos-acl", "public-read")
        .send();
    assert_eq!(bucket_created_public.status, 200);
    s.put("open-1250000000", "x", b"x");
    let anon = s
        .req("GET", "open-1250000000", "x")
        .auth(Auth::Anonymous)
        .send();
    assert_eq!(anon.status, 200);
}

#[test]
fn literal_plus_in_the_path_stays_a_plus() {
    let s = server_with_object();
    let mut r = s.req("GET", B, "dir/a b+c中.jpg");
    r.raw_path = Some("/dir/a%20b+c%E4%B8%AD.jpg".into());
    let res = r.send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.body, b"hello");
}

#[test]
fn anonymous_response_overrides_are_refused() {
    let s = server_with_object();
    let key = "dir/a b+c中.jpg";
    let acl = s
        .req("PUT", B, "")
        .param("acl", "")
        .header("x-cos-acl", "public-read")
        .send();
    assert_eq!(acl.status, 200, "{}", acl.text());
    let anon = s
        .req("GET", B, key)
        .param("response-content-type", "text/html")
        .auth(Auth::Anonymous)
        .send();
    assert_eq!(anon.status, 400, "{}", anon.text());
    assert_eq!(anon.xml("Code").as_deref(), Some("InvalidRequest"));
    assert!(anon.text().contains("signed request"), "{}", anon.text());
    let anon_head = s
        .req("HEAD", B, key)
        .param("response-content-disposition", "attachment")
        .auth(Auth::Anonymous)
        .send();
    assert_eq!(anon_head.status, 400);
    assert_eq!(anon_head.exact("Content-Disposition"), None);

    let plain = s.req("GET", B, key).auth(Auth::Anonymous).send();
    assert_eq!(plain.status, 200);
    let signed = s
        .req("GET", B, key)
        .param("response-content-type", "text/html")
        .send();
    assert_eq!(signed.status, 200, "{}", signed.text());
    assert_eq!(signed.exact("Content-Type"), Some("text/html"));
}

#[test]
fn a_signed_header_named_many_times_is_refused_at_once() {
    let s = server_with_object();
    let now = now();
    let hosts = vec!["host"; 30].join(";");
    let auth = format!(
        "q-sign-algorithm=sha1&q-ak={SECRET_ID}&q-sign-time={};{}&q-key-time={};{}\
         &q-header-list={hosts}&q-url-param-list=&q-signature={}",
        now - 60,
        now + 60,
        now - 60,
        now + 60,
        "0".repeat(40)
    );
    // The port on Host used to double the candidate strings for every `host` entry.
    let r = s
        .req_host("GET", &format!("{}:9000", TestServer::vhost(B)), "/dir/x")
        .auth(Auth::Anonymous)
        .unsigned_header("Authorization", &auth)
        .send();
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.xml("Code").as_deref(), Some("AccessDenied"));
    assert!(r.text().contains("twice"), "{}", r.text());
}
