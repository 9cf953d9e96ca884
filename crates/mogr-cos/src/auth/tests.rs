//! Signature tests against the public COS test vectors and against requests captured from the
//! official Python SDK with a frozen clock (docs/cos-protocol.md, "Signature").

use super::*;
use crate::encode::decode_path;
use http::{HeaderName, HeaderValue};
use sha1::{Digest, Sha1};

const DOC_ID: &str = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q";
const DOC_KEY: &str = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz";
const DOC_HOST: &str = "examplebucket-1250000000.cos.ap-beijing.myqcloud.com";
const PY_ID: &str = "AKIDEXAMPLE";
const PY_KEY: &str = "SECRETEXAMPLE";
const PY_HOST: &str = "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com";
const PY_NOW: u64 = 1_700_000_000;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A received request: wire path and raw query as they come off the socket.
struct Received {
    method: &'static str,
    wire_path: &'static str,
    query: Query,
    headers: HeaderMap,
}

impl Received {
    fn new(
        method: &'static str,
        wire_path: &'static str,
        raw_query: Option<&str>,
        hdrs: &[(&str, &str)],
    ) -> Self {
        Received {
            method,
            wire_path,
            query: Query::parse(raw_query),
            headers: headers(hdrs),
        }
    }

    fn with_auth(mut self, auth: &str) -> Self {
        self.headers
            .insert(AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        self
    }

    /// extract() then verify(), as the server does.
    fn check(&self, secret: &str, now: u64) -> Result<SignatureParams, AuthError> {
        let params = extract(&self.headers, &self.query)?.expect("request is signed");
        let path = decode_path(self.wire_path).unwrap();
        let req = AuthRequest {
            method: self.method,
            path: &path,
            query: &self.query,
            headers: &self.headers,
        };
        verify(&req, &params, secret, now).map(|()| params)
    }

    /// The server's FormatString/StringToSign, obtained by verifying with a wrong key.
    fn server_strings(&self) -> (String, String) {
        match self.check("wrong-secret", self.any_valid_time()) {
            Err(AuthError::Mismatch {
                string_to_sign,
                format_string,
            }) => (string_to_sign, format_string),
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    fn any_valid_time(&self) -> u64 {
        extract(&self.headers, &self.query)
            .unwrap()
            .unwrap()
            .sign_time
            .0
    }
}

fn auth_header(ak: &str, time: &str, headers: &str, params: &str, sig: &str) -> String {
    format!(
        "q-sign-algorithm=sha1&q-ak={ak}&q-sign-time={time}&q-key-time={time}\
         &q-header-list={headers}&q-url-param-list={params}&q-signature={sig}"
    )
}

fn sha1_hex(s: &str) -> String {
    hex::encode(Sha1::digest(s.as_bytes()))
}

// ---- public vectors: the official PUT/GET examples, the Go SDK, a rule, image_process ----

fn v1_request() -> Received {
    Received::new(
        "PUT",
        "/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)",
        None,
        &[
            ("date", "Thu, 16 May 2019 06:45:51 GMT"),
            ("host", DOC_HOST),
            ("content-type", "text/plain"),
            ("content-length", "13"),
            ("content-md5", "mQ/fVh815F3k6TAUm8m0eg=="),
            ("x-cos-acl", "private"),
            ("x-cos-grant-read", "uin=\"100000000011\""),
        ],
    )
}

#[test]
fn v1_official_put() {
    let list = "content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read";
    let sig = "3b8851a11a569213c17ba8fa7dcf2abec6935172";
    let req = v1_request().with_auth(&auth_header(DOC_ID, "1557989151;1557996351", list, "", sig));
    let p = req.check(DOC_KEY, 1_557_989_151 + 60).unwrap();
    assert_eq!(p.access_key, DOC_ID);
    assert_eq!(p.header_list.join(";"), list);

    let (sts, fs) = req.server_strings();
    assert_eq!(
        fs,
        "put\n/exampleobject(腾讯云)\n\ncontent-length=13&content-md5=mQ%2FfVh815F3k6TAUm8m0eg%3D%3D\
         &content-type=text%2Fplain&date=Thu%2C%2016%20May%202019%2006%3A45%3A51%20GMT\
         &host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com&x-cos-acl=private\
         &x-cos-grant-read=uin%3D%22100000000011%22\n"
    );
    assert_eq!(sha1_hex(&fs), "8b2751e77f43a0995d6e9eb9477f4b685cca4172");
    assert_eq!(
        sts,
        "sha1\n1557989151;1557996351\n8b2751e77f43a0995d6e9eb9477f4b685cca4172\n"
    );
    assert_eq!(
        hmac_sha1_hex(DOC_KEY.as_bytes(), b"1557989151;1557996351"),
        "eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f"
    );

    let signed = sign(
        "PUT",
        "/exampleobject(腾讯云)",
        &[],
        &owned(&[
            ("Date", "Thu, 16 May 2019 06:45:51 GMT"),
            ("Host", DOC_HOST),
            ("Content-Type", "text/plain"),
            ("Content-Length", "13"),
            ("Content-MD5", "mQ/fVh815F3k6TAUm8m0eg=="),
            ("x-cos-acl", "private"),
            ("x-cos-grant-read", "uin=\"100000000011\""),
        ]),
        DOC_ID,
        DOC_KEY,
        1_557_989_151,
        1_557_996_351,
    );
    assert_eq!(
        signed,
        auth_header(DOC_ID, "1557989151;1557996351", list, "", sig)
    );
}

#[test]
fn v2_official_get_with_params() {
    let sig = "01681b8c9d798a678e43b685a9f1bba0f6c0e012";
    let req = Received::new(
        "GET",
        "/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)",
        Some(
            "response-content-type=application%2Foctet-stream&response-cache-control=max-age%3D600",
        ),
        &[
            ("date", "Thu, 16 May 2019 06:55:53 GMT"),
            ("host", DOC_HOST),
        ],
    )
    .with_auth(&auth_header(
        DOC_ID,
        "1557989753;1557996953",
        "date;host",
        "response-cache-control;response-content-type",
        sig,
    ));
    req.check(DOC_KEY, 1_557_989_800).unwrap();
    let (_, fs) = req.server_strings();
    assert_eq!(sha1_hex(&fs), "54ecfe22f59d3514fdc764b87a32d8133ea611e6");
    assert!(fs.contains(
        "\nresponse-cache-control=max-age%3D600&response-content-type=application%2Foctet-stream\n"
    ));
    assert_eq!(
        hmac_sha1_hex(DOC_KEY.as_bytes(), b"1557989753;1557996953"),
        "937914bf490e9e8c189836aad2052e4feeb35eaf"
    );
    let signed = sign(
        "get",
        "/exampleobject(腾讯云)",
        &owned(&[
            ("response-content-type", "application/octet-stream"),
            ("response-cache-control", "max-age=600"),
        ]),
        &owned(&[
            ("date", "Thu, 16 May 2019 06:55:53 GMT"),
            ("host", DOC_HOST),
        ]),
        DOC_ID,
        DOC_KEY,
        1_557_989_753,
        1_557_996_953,
    );
    assert!(signed.ends_with(&format!("&q-signature={sig}")));
}

#[test]
fn v3_go_sdk_unit_test() {
    let (ak, sk) = (
        "QmFzZTY0IGlzIGEgZ2VuZXJp",
        "AKIDZfbOA78asKUYBcXFrJD0a1ICvR98JM",
    );
    let sig = "ce4ac0ecbcdb30538b3fee0a97cc6389694ce53a";
    let req = Received::new(
        "PUT",
        "/testfile2",
        None,
        &[
            ("host", "testbucket-125000000.cos.ap-guangzhou.myqcloud.com"),
            (
                "x-cos-content-sha1",
                "db8ac1c259eb89d4a131b253bacfca5f319d54f2",
            ),
            ("x-cos-stroage-class", "nearline"),
        ],
    )
    .with_auth(&auth_header(
        ak,
        "1480932292;1481012292",
        "host;x-cos-content-sha1;x-cos-stroage-class",
        "",
        sig,
    ));
    req.check(sk, 1_480_932_292).unwrap();
}

#[test]
fn v3_third_party_range_vector() {
    let sig = "4b6cbab14ce01381c29032423481ebffd514e8be";
    let hdrs = [
        ("host", "bucket1-1254000000.cos.ap-beijing.myqcloud.com"),
        ("range", "bytes=0-3"),
    ];
    let req = Received::new("GET", "/testfile", None, &hdrs).with_auth(&auth_header(
        DOC_ID,
        "1417773892;1417853898",
        "host;range",
        "",
        sig,
    ));
    req.check(DOC_KEY, 1_417_800_000).unwrap();
    let signed = sign(
        "GET",
        "/testfile",
        &[],
        &owned(&hdrs),
        DOC_ID,
        DOC_KEY,
        1_417_773_892,
        1_417_853_898,
    );
    assert!(signed.ends_with(sig));
}

const V4_PRESIGNED: &str = "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q\
    &q-sign-time=1557989151%3B1557996351&q-key-time=1557989151%3B1557996351&q-header-list=host\
    &q-url-param-list=imagemogr2%252fthumbnail%252f%252150p\
    &q-signature=c1c5a8a4477be584c5e2425b31aebe562324c894&imageMogr2%2Fthumbnail%2F%2150p=";

#[test]
fn v4_presigned_rule_url_from_the_query() {
    let req = Received::new(
        "GET",
        "/exampleobject.jpg",
        Some(V4_PRESIGNED),
        &[("host", DOC_HOST)],
    );
    let p = req.check(DOC_KEY, 1_557_990_000).unwrap();
    assert_eq!(
        p.url_param_list,
        vec!["imagemogr2%2fthumbnail%2f%2150p".to_string()]
    );
    assert_eq!(p.sign_time, (1_557_989_151, 1_557_996_351));
    assert_eq!(
        req.query.rule().as_deref(),
        Some("imageMogr2/thumbnail/!50p")
    );
    let rule_param = req
        .query
        .iter()
        .find(|q| q.key.starts_with("imageMogr2"))
        .unwrap();
    assert!(p.covers(rule_param));

    let (sts, fs) = req.server_strings();
    assert_eq!(
        fs,
        "get\n/exampleobject.jpg\nimagemogr2%2fthumbnail%2f%2150p=\nhost=examplebucket-1250000000.cos.ap-beijing.myqcloud.com\n"
    );
    assert_eq!(
        sts,
        "sha1\n1557989151;1557996351\n6a8079da286e87b0e01931681a205b1e4c0dc20f\n"
    );

    // The same signature in the header with the rule as GO and browsers write it.
    let hdr = auth_header(
        DOC_ID,
        "1557989151;1557996351",
        "host",
        "imagemogr2%2fthumbnail%2f%2150p",
        "c1c5a8a4477be584c5e2425b31aebe562324c894",
    );
    for raw in [
        "imageMogr2/thumbnail/!50p",
        "imageMogr2%2Fthumbnail%2F!50p",
        "imageMogr2%2Fthumbnail%2F%2150p=",
    ] {
        let req = Received::new(
            "GET",
            "/exampleobject.jpg",
            Some(raw),
            &[("host", DOC_HOST)],
        )
        .with_auth(&hdr);
        req.check(DOC_KEY, 1_557_990_000)
            .unwrap_or_else(|e| panic!("{raw}: {e:?}"));
    }

    // presign_query() reproduces the PY URL byte for byte.
    let ours = presign_query(
        "GET",
        "/exampleobject.jpg",
        &owned(&[("imageMogr2/thumbnail/!50p", "")]),
        &owned(&[("host", DOC_HOST)]),
        DOC_ID,
        DOC_KEY,
        1_557_989_151,
        1_557_996_351,
    );
    assert_eq!(ours, V4_PRESIGNED);
}

#[test]
fn v4_format_png_and_piped_rule() {
    for (raw_rule, list, sig) in [
        (
            "imageMogr2%2Fformat%2Fpng=",
            "imagemogr2%252fformat%252fpng",
            "911b336a8df5da398f2061422a77565b7adc4418",
        ),
        (
            "imageMogr2%2Fthumbnail%2F%2150p%7Cwatermark%2F2%2Ftext%2F5pWw5o2u5LiH6LGh=",
            "imagemogr2%252fthumbnail%252f%252150p%257cwatermark%252f2%252ftext%252f5pww5o2u5lih6lgh",
            "464710c484bbb73ef5047f85d3ea4e5cb4326283",
        ),
    ] {
        let query = format!(
            "q-sign-algorithm=sha1&q-ak={DOC_ID}&q-sign-time=1557989151%3B1557996351\
             &q-key-time=1557989151%3B1557996351&q-header-list=host&q-url-param-list={list}\
             &q-signature={sig}&{raw_rule}"
        );
        let req = Received::new("GET", "/exampleobject.jpg", Some(&query), &[("host", DOC_HOST)]);
        req.check(DOC_KEY, 1_557_990_000).unwrap_or_else(|e| panic!("{raw_rule}: {e:?}"));
    }
}

#[test]
fn v5_image_process_post() {
    let pic = r#"{"is_pic_info":1,"rules":[{"fileid":"thumb.png","rule":"imageMogr2/thumbnail/!50p/format/png"}]}"#;
    let req = Received::new(
        "POST",
        "/exampleobject.jpg",
        Some("image_process"),
        &[("host", DOC_HOST), ("pic-operations", pic)],
    )
    .with_auth(&auth_header(
        DOC_ID,
        "1557989151;1557996351",
        "host;pic-operations",
        "image_process",
        "3faee62b09851ea40ac9eade9aa928ce4ed8fc96",
    ));
    req.check(DOC_KEY, 1_557_990_000).unwrap();
    let (_, fs) = req.server_strings();
    assert_eq!(
        fs,
        "post\n/exampleobject.jpg\nimage_process=\nhost=examplebucket-1250000000.cos.ap-beijing.myqcloud.com\
         &pic-operations=%7B%22is_pic_info%22%3A1%2C%22rules%22%3A%5B%7B%22fileid%22%3A%22thumb.png%22%2C\
         %22rule%22%3A%22imageMogr2%2Fthumbnail%2F%2150p%2Fformat%2Fpng%22%7D%5D%7D\n"
    );
}

// ---- requests captured from the Python SDK 1.9.44 ----

#[test]
fn py_a_get_with_rule() {
    let req = Received::new(
        "GET",
        "/dir/photo.jpg",
        Some("imageMogr2%2Fformat%2Fwebp="),
        &[("host", PY_HOST)],
    )
    .with_auth(&auth_header(
        PY_ID,
        "1699999940;1700010000",
        "host",
        "imagemogr2%2fformat%2fwebp",
        "e6728aea9b45d2cec6d122ebd054171539fe25f1",
    ));
    req.check(PY_KEY, PY_NOW).unwrap();
    let (sts, _) = req.server_strings();
    assert_eq!(
        sts,
        "sha1\n1699999940;1700010000\n2ee2e7d4d9b62d15b8b3b1663bb8ab9376559658\n"
    );
    assert_eq!(
        hmac_sha1_hex(PY_KEY.as_bytes(), b"1699999940;1700010000"),
        "b02f3d3f962eeb547c3e7cd542714b92da8d53d4"
    );
}

#[test]
fn py_b_put_with_pic_operations() {
    let pic = r#"{"is_pic_info": 1, "rules": [{"fileid": "photo.png", "rule": "imageMogr2/format/png"}]}"#;
    let hdrs = [
        ("host", PY_HOST),
        ("content-length", "1041"),
        ("pic-operations", pic),
    ];
    let sig = "3e17e07803bd00e2e6709f8ae0eeb1b0af726478";
    let list = "content-length;host;pic-operations";
    let req = Received::new("PUT", "/dir/up.jpg", None, &hdrs).with_auth(&auth_header(
        PY_ID,
        "1699999940;1700010000",
        list,
        "",
        sig,
    ));
    req.check(PY_KEY, PY_NOW).unwrap();
    let (sts, _) = req.server_strings();
    assert!(sts.ends_with("\neb4d5df3b7c73813e8dd54148363c6909a2c715c\n"));
    let signed = sign(
        "PUT",
        "/dir/up.jpg",
        &[],
        &owned(&hdrs),
        PY_ID,
        PY_KEY,
        1_699_999_940,
        1_700_010_000,
    );
    assert_eq!(
        signed,
        auth_header(PY_ID, "1699999940;1700010000", list, "", sig)
    );
}

#[test]
fn py_c_image_process() {
    let pic =
        r#"{"is_pic_info":1,"rules":[{"fileid":"cloud.webp","rule":"imageMogr2/format/webp"}]}"#;
    let req = Received::new(
        "POST",
        "/dir/photo.jpg",
        Some("image_process="),
        &[
            ("host", PY_HOST),
            ("content-length", "0"),
            ("pic-operations", pic),
        ],
    )
    .with_auth(&auth_header(
        PY_ID,
        "1699999940;1700010000",
        "content-length;host;pic-operations",
        "image_process",
        "5b61853296f000611caff24bad99b4439e9d865d",
    ));
    req.check(PY_KEY, PY_NOW).unwrap();
    let (sts, _) = req.server_strings();
    assert!(sts.ends_with("\nd6444b93b7d597f0a4bea81c62950068b7115681\n"));
}

#[test]
fn py_d_decoded_path_with_space_plus_and_utf8() {
    let req = Received::new(
        "GET",
        "/dir/a%20b%2Bc%E4%B8%AD.jpg",
        None,
        &[("host", PY_HOST)],
    )
    .with_auth(&auth_header(
        PY_ID,
        "1699999940;1700010000",
        "host",
        "",
        "d7c8cab4ffb3a7638bb42338045e6ad274546083",
    ));
    req.check(PY_KEY, PY_NOW).unwrap();
    let (sts, fs) = req.server_strings();
    assert_eq!(fs, format!("get\n/dir/a b+c中.jpg\n\nhost={PY_HOST}\n"));
    assert!(sts.ends_with("\n64fddbc0d307ceb78f88986e1a0d8e5bde88bbaa\n"));
}

const PY_E_QUERY: &str = "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLE&q-sign-time=1699999940%3B1700000300\
    &q-key-time=1699999940%3B1700000300&q-header-list=host&q-url-param-list=imagemogr2%252fformat%252fpng\
    &q-signature=13042395bc6dc2e9cb92d47665a2d5aaf0008c74&imageMogr2%2Fformat%2Fpng=";

#[test]
fn py_e_presigned_url() {
    let req = Received::new(
        "GET",
        "/dir/photo.jpg",
        Some(PY_E_QUERY),
        &[("host", PY_HOST)],
    );
    let p = req.check(PY_KEY, PY_NOW).unwrap();
    assert_eq!(p.access_key, PY_ID);
    assert_eq!(p.sign_time, (1_699_999_940, 1_700_000_300));
    assert_eq!(req.query.rule().as_deref(), Some("imageMogr2/format/png"));
    let (_, fs) = req.server_strings();
    assert_eq!(
        fs,
        format!("get\n/dir/photo.jpg\nimagemogr2%2fformat%2fpng=\nhost={PY_HOST}\n")
    );
}

// ---- behaviour around the vectors ----

#[test]
fn sign_merged_query_form() {
    // `sign=<UrlEncode(Authorization)>` (PHP createPresignedUrl, GO SignMerged).
    let auth = auth_header(
        DOC_ID,
        "1557989151;1557996351",
        "host",
        "imagemogr2%2fthumbnail%2f%2150p",
        "c1c5a8a4477be584c5e2425b31aebe562324c894",
    );
    let query = format!(
        "sign={}&imageMogr2%2Fthumbnail%2F%2150p=",
        url_encode(&auth)
    );
    let req = Received::new(
        "GET",
        "/exampleobject.jpg",
        Some(&query),
        &[("host", DOC_HOST)],
    );
    req.check(DOC_KEY, 1_557_990_000).unwrap();
}

#[test]
fn host_signed_without_port_verifies_against_host_with_port() {
    let now = 1_800_000_000;
    for (signed_host, wire_host) in [
        ("127.0.0.1", "127.0.0.1:9000"),
        ("127.0.0.1:9000", "127.0.0.1:9000"),
        (PY_HOST, &*format!("{PY_HOST}:8443")),
        ("[::1]", "[::1]:9000"),
    ] {
        let auth = sign(
            "GET",
            "/a.jpg",
            &[],
            &owned(&[("host", signed_host)]),
            PY_ID,
            PY_KEY,
            now - 60,
            now + 300,
        );
        let req = Received::new("GET", "/a.jpg", None, &[("host", wire_host)]).with_auth(&auth);
        req.check(PY_KEY, now)
            .unwrap_or_else(|e| panic!("{signed_host} vs {wire_host}: {e:?}"));
    }
    // The reverse (signed with a port, received without) must not pass.
    let auth = sign(
        "GET",
        "/a.jpg",
        &[],
        &owned(&[("host", "127.0.0.1:9000")]),
        PY_ID,
        PY_KEY,
        now - 60,
        now + 300,
    );
    let req = Received::new("GET", "/a.jpg", None, &[("host", "127.0.0.1")]).with_auth(&auth);
    assert!(matches!(
        req.check(PY_KEY, now),
        Err(AuthError::Mismatch { .. })
    ));
}

#[test]
fn time_window_allows_skew_before_start_and_nothing_after_end() {
    let req = Received::new(
        "GET",
        "/dir/photo.jpg",
        Some(PY_E_QUERY),
        &[("host", PY_HOST)],
    );
    let (start, end) = (1_699_999_940, 1_700_000_300);
    assert!(req.check(PY_KEY, end).is_ok());
    assert!(req.check(PY_KEY, start - CLOCK_SKEW_SECS).is_ok());
    assert_eq!(req.check(PY_KEY, end + 1).unwrap_err(), AuthError::Expired);
    assert_eq!(
        req.check(PY_KEY, start - CLOCK_SKEW_SECS - 1).unwrap_err(),
        AuthError::Expired
    );
    assert_eq!(
        CosError::from(AuthError::Expired).code,
        ErrorCode::AccessDenied
    );
}

#[test]
fn tampered_or_stripped_signed_rule_is_a_mismatch() {
    for query in [
        PY_E_QUERY.replace("imageMogr2%2Fformat%2Fpng=", "imageMogr2%2Fformat%2Fgif="),
        PY_E_QUERY.replace("&imageMogr2%2Fformat%2Fpng=", ""),
    ] {
        let req = Received::new("GET", "/dir/photo.jpg", Some(&query), &[("host", PY_HOST)]);
        let err = req.check(PY_KEY, PY_NOW).unwrap_err();
        assert!(
            matches!(err, AuthError::Mismatch { .. }),
            "{query}: {err:?}"
        );
        let cos = CosError::from(err);
        assert_eq!(cos.code, ErrorCode::SignatureDoesNotMatch);
        assert!(cos
            .format_string
            .unwrap()
            .starts_with("get\n/dir/photo.jpg\n"));
    }
}

#[test]
fn unsigned_extra_params_are_ignored_but_not_covered() {
    let query = format!("{PY_E_QUERY}&x-cos-security-token=abc&imageMogr2/strip");
    let req = Received::new("GET", "/dir/photo.jpg", Some(&query), &[("host", PY_HOST)]);
    let p = req.check(PY_KEY, PY_NOW).unwrap();
    let strip = req
        .query
        .iter()
        .find(|q| q.key == "imageMogr2/strip")
        .unwrap();
    assert!(!p.covers(strip));
}

#[test]
fn other_tampering_is_a_mismatch() {
    let sig = "e6728aea9b45d2cec6d122ebd054171539fe25f1";
    let good = auth_header(
        PY_ID,
        "1699999940;1700010000",
        "host",
        "imagemogr2%2fformat%2fwebp",
        sig,
    );
    let cases: [(&str, &str, &str, String); 4] = [
        ("GET", "/dir/other.jpg", PY_HOST, good.clone()),
        ("PUT", "/dir/photo.jpg", PY_HOST, good.clone()),
        (
            "GET",
            "/dir/photo.jpg",
            "evil-1250000000.cos.ap-guangzhou.myqcloud.com",
            good.clone(),
        ),
        (
            "GET",
            "/dir/photo.jpg",
            PY_HOST,
            good.replace("host&", "host;range&"),
        ),
    ];
    for (method, path, host, auth) in cases {
        let req = Received::new(
            method,
            path,
            Some("imageMogr2%2Fformat%2Fwebp="),
            &[("host", host)],
        )
        .with_auth(&auth);
        assert!(
            matches!(req.check(PY_KEY, PY_NOW), Err(AuthError::Mismatch { .. })),
            "{method} {path} {host} {auth}"
        );
    }
}

#[test]
fn a_signature_for_a_space_does_not_cover_a_plus() {
    // The key is the percent-decoded path with `+` literal; the signature must cover exactly
    // that path, or a URL signed for `a b.jpg` would read or overwrite `a+b.jpg`.
    let now = 1_800_000_000;
    let auth = sign(
        "GET",
        "/a b.jpg",
        &[],
        &owned(&[("host", PY_HOST)]),
        PY_ID,
        PY_KEY,
        now,
        now + 60,
    );
    let plus = Received::new("GET", "/a+b.jpg", None, &[("host", PY_HOST)]).with_auth(&auth);
    assert!(matches!(
        plus.check(PY_KEY, now),
        Err(AuthError::Mismatch { .. })
    ));
    let space = Received::new("GET", "/a b.jpg", None, &[("host", PY_HOST)]).with_auth(&auth);
    space.check(PY_KEY, now).unwrap();
}

#[test]
fn a_window_longer_than_seven_days_is_refused() {
    let now = 1_800_000_000;
    let signed = |end: u64| {
        let auth = sign(
            "GET",
            "/a.jpg",
            &[],
            &owned(&[("host", PY_HOST)]),
            PY_ID,
            PY_KEY,
            now,
            end,
        );
        Received::new("GET", "/a.jpg", None, &[("host", PY_HOST)]).with_auth(&auth)
    };
    signed(now + MAX_SIGN_WINDOW_SECS)
        .check(PY_KEY, now)
        .unwrap();
    for end in [now + MAX_SIGN_WINDOW_SECS + 1, 18_446_744_073_709_551_615] {
        let err = signed(end).check(PY_KEY, now).unwrap_err();
        assert_eq!(err, AuthError::WindowTooLong, "end {end}");
        assert_eq!(CosError::from(err).code, ErrorCode::AccessDenied);
    }
}

#[test]
fn a_signed_header_sent_twice_is_refused() {
    let now = 1_800_000_000;
    let auth = sign(
        "PUT",
        "/a.txt",
        &[],
        &owned(&[("host", PY_HOST), ("x-cos-meta-owner", "alice")]),
        PY_ID,
        PY_KEY,
        now,
        now + 60,
    );
    let mut req = Received::new(
        "PUT",
        "/a.txt",
        None,
        &[("host", PY_HOST), ("x-cos-meta-owner", "alice")],
    )
    .with_auth(&auth);
    req.check(PY_KEY, now).unwrap();
    req.headers
        .append("x-cos-meta-owner", "mallory".parse().unwrap());
    let err = req.check(PY_KEY, now).unwrap_err();
    assert_eq!(
        err,
        AuthError::RepeatedSignedHeader("x-cos-meta-owner".into())
    );
    assert_eq!(CosError::from(err).code, ErrorCode::InvalidRequest);
    // An unsigned header may repeat: the signature makes no claim about it.
    req.headers.remove("x-cos-meta-owner");
    req.headers
        .insert("x-cos-meta-owner", "alice".parse().unwrap());
    req.headers.append("accept", "a".parse().unwrap());
    req.headers.append("accept", "b".parse().unwrap());
    req.check(PY_KEY, now).unwrap();
}

#[test]
fn anonymous_requests_have_no_signature() {
    let q = Query::parse(Some("imageMogr2/format/png"));
    assert_eq!(extract(&HeaderMap::new(), &q).unwrap(), None);
    for empty in ["", "   "] {
        let h = headers(&[("authorization", empty)]);
        assert_eq!(extract(&h, &q).unwrap(), None, "{empty:?}");
    }
    // An empty header does not hide a query signature.
    let h = headers(&[("authorization", "")]);
    let q = Query::parse(Some(PY_E_QUERY));
    assert_eq!(extract(&h, &q).unwrap().unwrap().access_key, PY_ID);
}

#[test]
fn malformed_and_unsupported_authorizations() {
    let q = Query::default();
    for (auth, want_malformed) in [
        ("garbage", true),
        ("q-sign-algorithm=sha1&q-ak=AK&q-signature=ab", true),
        (
            "q-sign-algorithm=sha1&q-ak=AK&q-sign-time=5;1&q-signature=ab",
            true,
        ),
        (
            "q-sign-algorithm=sha1&q-ak=AK&q-sign-time=a;b&q-signature=ab",
            true,
        ),
        ("q-sign-algorithm=sha1&q-sign-time=1;2&q-signature=ab", true),
        ("q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1;2", true),
        (
            "q-sign-algorithm=sha256&q-ak=AK&q-sign-time=1;2&q-signature=ab",
            false,
        ),
    ] {
        let err = extract(&headers(&[("authorization", auth)]), &q).unwrap_err();
        match err {
            AuthError::Malformed(_) => assert!(want_malformed, "{auth}"),
            AuthError::UnsupportedAlgorithm(a) => {
                assert!(!want_malformed, "{auth}");
                assert_eq!(a, "sha256");
            }
            other => panic!("{auth}: {other:?}"),
        }
    }
}

#[test]
fn key_time_alone_fills_sign_time() {
    let h = headers(&[(
        "authorization",
        "q-sign-algorithm=sha1&q-ak=AK&q-key-time=1%3B2&q-signature=AB",
    )]);
    let p = extract(&h, &Query::default()).unwrap().unwrap();
    assert_eq!(p.sign_time, (1, 2));
    assert_eq!(p.key_time, (1, 2));
    assert_eq!(p.signature, "ab");
}

#[test]
fn over_decoded_param_list_entries_are_re_encoded() {
    // A client that single-encoded the list in the query: one decode leaves raw names.
    let query = PY_E_QUERY.replace("imagemogr2%252fformat%252fpng", "imagemogr2%2fformat%2fpng");
    let req = Received::new("GET", "/dir/photo.jpg", Some(&query), &[("host", PY_HOST)]);
    req.check(PY_KEY, PY_NOW).unwrap();
}

/// An Authorization naming `host` `n` times, against a `Host` with a port.
fn repeated_host_request(n: usize) -> Received {
    let now = PY_NOW;
    let list = vec!["host"; n].join(";");
    let auth = auth_header(
        PY_ID,
        &format!("{};{}", now - 60, now + 60),
        &list,
        "",
        "0000000000000000000000000000000000000000",
    );
    Received::new("GET", "/a.jpg", None, &[("host", "127.0.0.1:9000")]).with_auth(&auth)
}

#[test]
fn a_header_named_twice_is_malformed_not_exponential() {
    // Each repeated `host` used to double the candidate strings: 30 entries meant 2^30.
    for n in [2, 30, 64] {
        let err = repeated_host_request(n).check(PY_KEY, PY_NOW).unwrap_err();
        assert!(
            matches!(&err, AuthError::Malformed(m) if m.contains("twice")),
            "{n} host entries: {err:?}"
        );
        assert_eq!(CosError::from(err).code, ErrorCode::AccessDenied);
    }
    // Case does not make a second entry distinct.
    let h = headers(&[(
        "authorization",
        "q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1;2&q-header-list=Host;host&q-signature=ab",
    )]);
    assert!(matches!(
        extract(&h, &Query::default()),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn a_param_named_twice_or_too_many_is_malformed() {
    let with_params = |list: &str| {
        let h = headers(&[(
            "authorization",
            &format!(
                "q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1;2&q-url-param-list={list}&q-signature=ab"
            ),
        )]);
        extract(&h, &Query::default())
    };
    for list in [
        "acl;acl",
        "uploads;prefix;uploads",
        "imagemogr2%2fstrip;imageMogr2%2Fstrip",
    ] {
        assert!(
            matches!(with_params(list), Err(AuthError::Malformed(_))),
            "{list}"
        );
    }
    let names = |n: usize| {
        (0..n)
            .map(|i| format!("p{i}"))
            .collect::<Vec<_>>()
            .join(";")
    };
    let at_cap = with_params(&names(MAX_URL_PARAM_LIST)).unwrap().unwrap();
    assert_eq!(at_cap.url_param_list.len(), MAX_URL_PARAM_LIST);
    assert!(matches!(
        with_params(&names(MAX_URL_PARAM_LIST + 1)),
        Err(AuthError::Malformed(_))
    ));

    let headers_list = |n: usize| {
        let list = (0..n)
            .map(|i| format!("x-h{i}"))
            .collect::<Vec<_>>()
            .join(";");
        let h = headers(&[(
            "authorization",
            &format!(
                "q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1;2&q-header-list={list}&q-signature=ab"
            ),
        )]);
        extract(&h, &Query::default())
    };
    assert_eq!(
        headers_list(MAX_HEADER_LIST)
            .unwrap()
            .unwrap()
            .header_list
            .len(),
        MAX_HEADER_LIST
    );
    assert!(matches!(
        headers_list(MAX_HEADER_LIST + 1),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn a_thousand_signed_params_verify_and_a_signed_name_may_not_repeat() {
    let now = 1_800_000_000;
    let params: Vec<(String, String)> = (0..MAX_URL_PARAM_LIST)
        .map(|i| (format!("p{i}"), format!("v {i}/")))
        .collect();
    let auth = sign(
        "GET",
        "/a.jpg",
        &params,
        &owned(&[("host", PY_HOST)]),
        PY_ID,
        PY_KEY,
        now,
        now + 60,
    );
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    let query = query.join("&");
    let req = Received::new("GET", "/a.jpg", Some(&query), &[("host", PY_HOST)]).with_auth(&auth);
    req.check(PY_KEY, now).unwrap();

    // A second copy of a signed name, in any case and on either side, is refused: the
    // signature covers one value and a handler could read the other.
    for tampered in [
        format!("{query}&p0=tampered"),
        format!("p0=tampered&{query}"),
        format!("P0=tampered&{query}"),
        format!("{query}&%70%30=tampered"),
    ] {
        let req =
            Received::new("GET", "/a.jpg", Some(&tampered), &[("host", PY_HOST)]).with_auth(&auth);
        let err = req.check(PY_KEY, now).unwrap_err();
        assert!(
            matches!(&err, AuthError::RepeatedSignedParameter(_)),
            "{err:?}"
        );
        assert_eq!(CosError::from(err).code, ErrorCode::InvalidRequest);
    }
    // Unsigned names may repeat.
    let extra = format!("{query}&free=1&free=2");
    let req = Received::new("GET", "/a.jpg", Some(&extra), &[("host", PY_HOST)]).with_auth(&auth);
    req.check(PY_KEY, now).unwrap();
}
