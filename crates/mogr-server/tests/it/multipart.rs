//! Multipart uploads as the SDKs drive them: List Multipart Uploads (asked by PY
//! `upload_file` before every multipart upload) and the part-size rule on Complete.

use crate::common::*;

const B: &str = "uploads-1250000000";
const MIB: usize = 1024 * 1024;

fn initiate(s: &TestServer, key: &str) -> String {
    let r = s.req("POST", B, key).param("uploads", "").send();
    assert_eq!(r.status, 200, "{}", r.text());
    r.xml("UploadId").unwrap()
}

fn upload_part(s: &TestServer, key: &str, id: &str, number: u32, body: Vec<u8>) -> String {
    let r = s
        .req("PUT", B, key)
        .param("partNumber", &number.to_string())
        .param("uploadId", id)
        .body(body)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    r.exact("ETag").unwrap().to_string()
}

fn complete_body(parts: &[(u32, &str)]) -> String {
    let parts: String = parts
        .iter()
        .map(|(n, e)| format!("<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"))
        .collect();
    format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>")
}

/// `GET /?uploads` with every parameter PY `list_multipart_uploads` sends.
fn list_uploads(
    s: &TestServer,
    prefix: &str,
    key_marker: &str,
    id_marker: &str,
    max: &str,
) -> Resp {
    let r = s
        .req("GET", B, "")
        .param("uploads", "")
        .param("prefix", prefix)
        .param("delimiter", "")
        .param("key-marker", key_marker)
        .param("upload-id-marker", id_marker)
        .param("max-uploads", max)
        .param("encoding-type", "url")
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    r
}

fn pct_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[test]
fn list_multipart_uploads_answers_what_upload_file_asks() {
    let s = TestServer::start();
    s.create_bucket(B);
    let key = "dir/a b+中.bin";
    let first = initiate(&s, key);
    let other = initiate(&s, "dir/other.bin");
    let second = initiate(&s, key);
    initiate(&s, "elsewhere/x.bin");

    // upload_file asks with prefix=<key> and takes the last upload whose Key is the key.
    let r = list_uploads(&s, key, "", "", "1000");
    assert_eq!(r.exact("Content-Type"), Some("application/xml"));
    assert_eq!(r.xml("Bucket").as_deref(), Some(B));
    assert_eq!(r.xml("Encoding-Type").as_deref(), Some("url"));
    assert_eq!(
        r.xml("Prefix").as_deref(),
        Some("dir/a%20b%2B%E4%B8%AD.bin")
    );
    assert_eq!(r.xml("MaxUploads").as_deref(), Some("1000"));
    assert_eq!(r.xml("IsTruncated").as_deref(), Some("false"));
    let keys: Vec<String> = r.xml_all("Key").iter().map(|k| pct_decode(k)).collect();
    assert_eq!(keys, [key, key]);
    assert_eq!(r.xml_all("UploadId"), [first.clone(), second.clone()]);
    assert_eq!(r.xml_all("StorageClass"), ["STANDARD", "STANDARD"]);
    assert_eq!(r.xml("DisplayName").as_deref(), Some("1250000000"));
    let initiated = r.xml("Initiated").unwrap();
    assert!(
        initiated.len() == 24 && initiated.ends_with(".000Z") && initiated.contains('T'),
        "{initiated}"
    );

    // Paging one upload at a time with both markers visits all four, by key then age.
    let mut seen = Vec::new();
    let (mut key_marker, mut id_marker) = (String::new(), String::new());
    loop {
        let page = list_uploads(&s, "", &key_marker, &id_marker, "1");
        seen.extend(page.xml_all("UploadId"));
        if page.xml("IsTruncated").as_deref() != Some("true") {
            break;
        }
        key_marker = pct_decode(&page.xml("NextKeyMarker").unwrap());
        id_marker = page.xml("NextUploadIdMarker").unwrap();
        assert!(seen.len() <= 4, "paging does not end");
    }
    assert_eq!(seen.len(), 4);
    assert_eq!(&seen[..3], [first.clone(), second.clone(), other.clone()]);

    let grouped = s
        .req("GET", B, "")
        .param("uploads", "")
        .param("delimiter", "/")
        .send();
    assert_eq!(grouped.status, 200, "{}", grouped.text());
    assert!(grouped.xml_all("Upload").is_empty());
    assert_eq!(grouped.xml_all("Prefix"), ["", "dir/", "elsewhere/"]);

    // A completed upload leaves the listing.
    let etag = upload_part(&s, key, &second, 1, b"only part".to_vec());
    let done = s
        .req("POST", B, key)
        .param("uploadId", &second)
        .body(complete_body(&[(1, &etag)]))
        .send();
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(
        list_uploads(&s, key, "", "", "1000").xml_all("UploadId"),
        [first]
    );

    let bad = s
        .req("GET", B, "")
        .param("uploads", "")
        .param("max-uploads", "many")
        .send();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.xml("Code").as_deref(), Some("InvalidArgument"));
    let anonymous = s
        .req("GET", B, "")
        .param("uploads", "")
        .auth(Auth::Anonymous)
        .send();
    assert_eq!(anonymous.status, 403);
    let missing = s
        .req("GET", "absent-1250000000", "")
        .param("uploads", "")
        .send();
    assert_eq!(missing.status, 404);
    assert_eq!(missing.xml("Code").as_deref(), Some("NoSuchBucket"));
}

#[test]
fn complete_refuses_small_parts_except_the_last() {
    let s = TestServer::start();
    s.create_bucket(B);
    let key = "small.bin";
    let id = initiate(&s, key);
    let small = upload_part(&s, key, &id, 1, vec![1u8; 100 * 1024]);
    let tail = upload_part(&s, key, &id, 2, vec![2u8; 100 * 1024]);

    let r = s
        .req("POST", B, key)
        .param("uploadId", &id)
        .body(complete_body(&[(1, &small), (2, &tail)]))
        .send();
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.xml("Code").as_deref(), Some("EntityTooSmall"));
    assert_eq!(s.req("HEAD", B, key).send().status, 404);

    // An unknown ETag is InvalidPart, even when the list is also too small.
    let r = s
        .req("POST", B, key)
        .param("uploadId", &id)
        .body(complete_body(&[
            (1, "\"00000000000000000000000000000000\""),
            (2, &tail),
        ]))
        .send();
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.xml("Code").as_deref(), Some("InvalidPart"));

    // Failed completes keep the upload: replace part 1 with exactly 1 MiB and finish.
    let big = upload_part(&s, key, &id, 1, vec![3u8; MIB]);
    let r = s
        .req("POST", B, key)
        .param("uploadId", &id)
        .body(complete_body(&[(1, &big), (2, &tail)]))
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    let got = s.req("GET", B, key).send();
    assert_eq!(got.body.len(), MIB + 100 * 1024);
}
