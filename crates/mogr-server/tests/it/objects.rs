//! Object and bucket operations over real HTTP.

use crate::common::*;

const B: &str = "photos-1250000000";
const DOC_BODY: &[u8] = b"[Object Content]";

#[test]
fn bucket_lifecycle() {
    let s = TestServer::start();
    s.create_bucket(B);
    let again = s.req("PUT", B, "").send();
    assert_eq!(again.status, 409);
    assert_eq!(
        again.xml("Code").as_deref(),
        Some("BucketAlreadyOwnedByYou")
    );

    let head = s.req("HEAD", B, "").send();
    assert_eq!(head.status, 200);
    assert_eq!(head.exact("x-cos-bucket-region"), Some("ap-guangzhou"));

    let list = s.req_host("GET", &s.host_port(), "/").send();
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.xml_all("Name"), vec![B.to_string()]);

    s.put(B, "a.txt", b"x");
    let busy = s.req("DELETE", B, "").send();
    assert_eq!(busy.status, 409);
    assert_eq!(busy.xml("Code").as_deref(), Some("BucketNotEmpty"));
    assert_eq!(s.req("DELETE", B, "a.txt").send().status, 204);
    assert_eq!(s.req("DELETE", B, "").send().status, 204);

    let gone = s.req("HEAD", B, "").send();
    assert_eq!(gone.status, 404);
    assert!(gone.body.is_empty());
    let missing = s.req("GET", B, "a.txt").send();
    assert_eq!(missing.status, 404);
    assert_eq!(missing.xml("Code").as_deref(), Some("NoSuchBucket"));
}

#[test]
fn put_get_head_delete_round_trip() {
    let s = TestServer::start();
    s.create_bucket(B);
    let put = s.put(B, "dir/obj.txt", DOC_BODY);
    // The COS doc example: these exact values.
    assert_eq!(
        put.exact("ETag"),
        Some("\"ee8de918d05640145b18f70f4c3aa602\"")
    );
    assert_eq!(
        put.exact("x-cos-hash-crc64ecma"),
        Some("16749565679157681890")
    );

    let get = s.req("GET", B, "dir/obj.txt").send();
    assert_eq!(get.status, 200);
    assert_eq!(get.body, DOC_BODY);
    assert_eq!(get.exact("Content-Length"), Some("16"));
    assert_eq!(get.exact("Content-Type"), Some("application/octet-stream"));
    assert_eq!(get.exact("Accept-Ranges"), Some("bytes"));
    assert_eq!(
        get.exact("ETag"),
        Some("\"ee8de918d05640145b18f70f4c3aa602\"")
    );
    assert_eq!(
        get.exact("x-cos-hash-crc64ecma"),
        Some("16749565679157681890")
    );
    let lm = get.exact("Last-Modified").unwrap();
    assert!(httpdate::parse_http_date(lm).is_ok(), "{lm}");
    assert!(lm.ends_with(" GMT"));

    let head = s.req("HEAD", B, "dir/obj.txt").send();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.exact("Content-Length"), Some("16"));
    assert_eq!(head.exact("ETag"), get.exact("ETag"));
    assert_eq!(head.exact("Last-Modified"), Some(lm));

    assert_eq!(s.req("DELETE", B, "dir/obj.txt").send().status, 204);
    // Deleting again still succeeds.
    assert_eq!(s.req("DELETE", B, "dir/obj.txt").send().status, 204);
    let missing = s.req("GET", B, "dir/obj.txt").send();
    assert_eq!(missing.status, 404);
    assert_eq!(missing.xml("Code").as_deref(), Some("NoSuchKey"));
    assert!(missing.xml("Message").is_some());
    assert_eq!(
        missing.xml("Resource").as_deref(),
        Some(format!("{}/dir/obj.txt", TestServer::vhost(B)).as_str())
    );
    assert_eq!(
        missing.xml("RequestId").as_deref(),
        missing.exact("x-cos-request-id")
    );
    assert_eq!(missing.exact("Content-Type"), Some("application/xml"));
    let head_missing = s.req("HEAD", B, "dir/obj.txt").send();
    assert_eq!(head_missing.status, 404);
    assert!(head_missing.body.is_empty());
}

#[test]
fn empty_object_round_trips() {
    let s = TestServer::start();
    s.create_bucket(B);
    let put = s.put(B, "empty", b"");
    assert_eq!(
        put.exact("ETag"),
        Some("\"d41d8cd98f00b204e9800998ecf8427e\"")
    );
    let get = s.req("GET", B, "empty").send();
    assert_eq!(get.status, 200);
    assert_eq!(get.exact("Content-Length"), Some("0"));
    assert!(get.body.is_empty());
}

#[test]
fn attributes_and_user_meta_round_trip() {
    let s = TestServer::start();
    s.create_bucket(B);
    let r = s
        .req("PUT", B, "pic.png")
        .header("Content-Type", "image/png")
        .header("Content-Disposition", "attachment; filename=\"p.png\"")
        .header("Content-Encoding", "identity")
        .header("Cache-Control", "max-age=600")
        .header("Expires", "Thu, 01 Dec 2094 16:00:00 GMT")
        .header("x-cos-meta-color", "red")
        .header("X-Cos-Meta-Author", "Ann Lee")
        .body(b"png-bytes".to_vec())
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    for method in ["GET", "HEAD"] {
        let g = s.req(method, B, "pic.png").send();
        assert_eq!(g.status, 200);
        assert_eq!(g.exact("Content-Type"), Some("image/png"));
        assert_eq!(
            g.exact("Content-Disposition"),
            Some("attachment; filename=\"p.png\"")
        );
        assert_eq!(g.exact("Content-Encoding"), Some("identity"));
        assert_eq!(g.exact("Cache-Control"), Some("max-age=600"));
        assert_eq!(g.exact("Expires"), Some("Thu, 01 Dec 2094 16:00:00 GMT"));
        // COS sends user metadata names lower-case.
        assert_eq!(g.exact("x-cos-meta-color"), Some("red"));
        assert_eq!(g.exact("x-cos-meta-author"), Some("Ann Lee"));
    }
}

#[test]
fn response_overrides_replace_stored_attributes() {
    let s = TestServer::start();
    s.create_bucket(B);
    s.req("PUT", B, "f.bin")
        .header("Content-Type", "application/x-foo")
        .body(b"data".to_vec())
        .send();
    let g = s
        .req("GET", B, "f.bin")
        .param("response-content-type", "text/plain; charset=utf-8")
        .param("response-content-language", "zh-CN")
        .param("response-expires", "Wed, 21 Oct 2015 07:28:00 GMT")
        .param("response-cache-control", "no-cache")
        .param(
            "response-content-disposition",
            "attachment; filename=\"x y.txt\"",
        )
        .param("response-content-encoding", "gzip")
        .send();
    assert_eq!(g.status, 200, "{}", g.text());
    assert_eq!(g.body, b"data");
    assert_eq!(g.exact("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(g.exact("Content-Language"), Some("zh-CN"));
    assert_eq!(g.exact("Expires"), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    assert_eq!(g.exact("Cache-Control"), Some("no-cache"));
    assert_eq!(
        g.exact("Content-Disposition"),
        Some("attachment; filename=\"x y.txt\"")
    );
    assert_eq!(g.exact("Content-Encoding"), Some("gzip"));
}

#[test]
fn content_md5_mismatch_is_bad_digest_and_stores_nothing() {
    let s = TestServer::start();
    s.create_bucket(B);
    let bad = s
        .req("PUT", B, "k")
        .header("Content-MD5", &md5_b64(b"something else"))
        .body(DOC_BODY.to_vec())
        .send();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.xml("Code").as_deref(), Some("BadDigest"));
    assert_eq!(s.req("HEAD", B, "k").send().status, 404);

    let good = s
        .req("PUT", B, "k")
        .header("Content-MD5", "7o3pGNBWQBRbGPcPTDqmAg==")
        .body(DOC_BODY.to_vec())
        .send();
    assert_eq!(good.status, 200);
    // A failed overwrite leaves the previous object in place.
    let bad = s
        .req("PUT", B, "k")
        .header("Content-MD5", "7o3pGNBWQBRbGPcPTDqmAg==")
        .body(b"tampered".to_vec())
        .send();
    assert_eq!(bad.xml("Code").as_deref(), Some("BadDigest"));
    assert_eq!(s.req("GET", B, "k").send().body, DOC_BODY);

    let malformed = s
        .req("PUT", B, "k2")
        .header("Content-MD5", "not-base64!")
        .body(b"x".to_vec())
        .send();
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.xml("Code").as_deref(), Some("InvalidDigest"));
}

#[test]
fn range_forms_and_unsatisfiable() {
    let s = TestServer::start();
    s.create_bucket(B);
    s.put(B, "r", DOC_BODY);
    let full_crc = crc64(DOC_BODY).to_string();
    let cases = [
        ("bytes=8-14", 206, "bytes 8-14/16", &DOC_BODY[8..=14]),
        ("bytes=8-", 206, "bytes 8-15/16", &DOC_BODY[8..]),
        ("bytes=-4", 206, "bytes 12-15/16", &DOC_BODY[12..]),
        ("bytes=0-999", 206, "bytes 0-15/16", DOC_BODY),
    ];
    for (range, status, content_range, body) in cases {
        let g = s.req("GET", B, "r").header("Range", range).send();
        assert_eq!(g.status, status, "{range}");
        assert_eq!(g.exact("Content-Range"), Some(content_range), "{range}");
        assert_eq!(
            g.exact("Content-Length"),
            Some(body.len().to_string().as_str())
        );
        assert_eq!(g.body, body, "{range}");
        // The CRC header always describes the whole object.
        assert_eq!(g.exact("x-cos-hash-crc64ecma"), Some(full_crc.as_str()));
    }
    let bad = s.req("GET", B, "r").header("Range", "bytes=16-20").send();
    assert_eq!(bad.status, 416);
    assert_eq!(bad.xml("Code").as_deref(), Some("InvalidRange"));
    assert_eq!(bad.exact("Content-Range"), Some("bytes */16"));
    let multi = s.req("GET", B, "r").header("Range", "bytes=0-1,4-5").send();
    assert_eq!(multi.status, 200);
    assert_eq!(multi.body, DOC_BODY);
    assert_eq!(multi.exact("Content-Range"), None);
}

#[test]
fn conditional_requests() {
    let s = TestServer::start();
    s.create_bucket(B);
    s.put(B, "c", DOC_BODY);
    let etag = "\"ee8de918d05640145b18f70f4c3aa602\"";
    let lm = s
        .req("HEAD", B, "c")
        .send()
        .exact("Last-Modified")
        .unwrap()
        .to_string();

    let nm = s.req("GET", B, "c").header("If-None-Match", etag).send();
    assert_eq!(nm.status, 304);
    assert!(nm.body.is_empty());
    assert_eq!(nm.exact("ETag"), Some(etag));
    assert_eq!(nm.exact("Last-Modified"), Some(lm.as_str()));
    let ims = s.req("GET", B, "c").header("If-Modified-Since", &lm).send();
    assert_eq!(ims.status, 304);
    let changed = s
        .req("GET", B, "c")
        .header("If-Modified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")
        .send();
    assert_eq!(changed.status, 200);
    assert_eq!(changed.body, DOC_BODY);

    let im = s.req("GET", B, "c").header("If-Match", "\"0000\"").send();
    assert_eq!(im.status, 412);
    assert_eq!(im.xml("Code").as_deref(), Some("PreconditionFailed"));
    let ius = s
        .req("GET", B, "c")
        .header("If-Unmodified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")
        .send();
    assert_eq!(ius.status, 412);
    let ok = s.req("GET", B, "c").header("If-Match", etag).send();
    assert_eq!(ok.status, 200);
    let head412 = s.req("HEAD", B, "c").header("If-Match", "\"0000\"").send();
    assert_eq!(head412.status, 412);
    assert!(head412.body.is_empty());
}

#[test]
fn list_objects_v1_with_encoding() {
    let s = TestServer::start();
    s.create_bucket(B);
    let keys = [
        "a b.txt",
        "dir/100%.jpg",
        "dir/sub/x.jpg",
        "dir/y+z.jpg",
        "照片/2020年/IMG0001.jpg",
        "zz",
    ];
    for k in keys {
        s.put(B, k, k.as_bytes());
    }
    // What the Python SDK sends: every parameter, encoding-type=url.
    let all = s
        .req("GET", B, "")
        .param("prefix", "")
        .param("delimiter", "")
        .param("marker", "")
        .param("max-keys", "1000")
        .param("encoding-type", "url")
        .send();
    assert_eq!(all.status, 200, "{}", all.text());
    assert_eq!(all.exact("x-cos-bucket-region"), Some("ap-guangzhou"));
    let got: Vec<String> = all.xml_all("Key").iter().map(|k| pct_decode(k)).collect();
    let mut sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    sorted.sort();
    assert_eq!(got, sorted, "byte order");
    let raw_keys = all.xml_all("Key");
    assert!(raw_keys.contains(&"a%20b.txt".to_string()), "{raw_keys:?}");
    assert!(raw_keys.contains(&"dir/100%25.jpg".to_string()));
    assert!(raw_keys.contains(&"dir/y%2Bz.jpg".to_string()));
    assert_eq!(all.xml("IsTruncated").as_deref(), Some("false"));
    assert_eq!(all.xml("EncodingType").as_deref(), Some("url"));

    let delim = s
        .req("GET", B, "")
        .param("prefix", "dir/")
        .param("delimiter", "/")
        .send();
    assert_eq!(delim.xml_all("Key"), vec!["dir/100%.jpg", "dir/y+z.jpg"]);
    assert_eq!(delim.xml_all("Prefix"), vec!["dir/", "dir/sub/"]);
    assert_eq!(delim.xml("Delimiter").as_deref(), Some("/"));

    let top = s.req("GET", B, "").param("delimiter", "/").send();
    assert_eq!(top.xml_all("Key"), vec!["a b.txt", "zz"]);
    let prefixes = top.xml_all("Prefix");
    assert_eq!(&prefixes[1..], ["dir/", "照片/"]);

    let page = s.req("GET", B, "").param("max-keys", "2").send();
    assert_eq!(page.xml_all("Key"), vec!["a b.txt", "dir/100%.jpg"]);
    assert_eq!(page.xml("IsTruncated").as_deref(), Some("true"));
    assert_eq!(page.xml("NextMarker").as_deref(), Some("dir/100%.jpg"));
    let next = s
        .req("GET", B, "")
        .param("max-keys", "2")
        .param("marker", "dir/100%.jpg")
        .send();
    assert_eq!(next.xml_all("Key"), vec!["dir/sub/x.jpg", "dir/y+z.jpg"]);
    assert_eq!(next.xml("Marker").as_deref(), Some("dir/100%.jpg"));

    let bad = s.req("GET", B, "").param("max-keys", "lots").send();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.xml("Code").as_deref(), Some("InvalidArgument"));
}

fn pct_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[test]
fn batch_delete_with_md5_and_quiet() {
    let s = TestServer::start();
    s.create_bucket(B);
    for k in ["a", "b&c", "d"] {
        s.put(B, k, b"x");
    }
    let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Delete><Quiet>false</Quiet>\
        <Object><Key>a</Key></Object><Object><Key>b&amp;c</Key></Object>\
        <Object><Key>never-existed</Key></Object></Delete>";
    let r = s
        .req("POST", B, "")
        .param("delete", "")
        .header("Content-MD5", &md5_b64(body.as_bytes()))
        .header("Content-Type", "application/xml")
        .body(body)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.xml_all("Key"), vec!["a", "b&c", "never-existed"]);
    assert_eq!(s.req("HEAD", B, "a").send().status, 404);
    assert_eq!(s.req("HEAD", B, "b&c").send().status, 404);

    let quiet = "<Delete><Quiet>true</Quiet><Object><Key>d</Key></Object></Delete>";
    let r = s.req("POST", B, "").param("delete", "").body(quiet).send();
    assert_eq!(r.status, 200);
    assert!(r.xml_all("Key").is_empty(), "{}", r.text());
    assert_eq!(s.req("HEAD", B, "d").send().status, 404);

    let wrong_md5 = s
        .req("POST", B, "")
        .param("delete", "")
        .header("Content-MD5", &md5_b64(b"other"))
        .body(quiet)
        .send();
    assert_eq!(wrong_md5.status, 400);
    assert_eq!(wrong_md5.xml("Code").as_deref(), Some("BadDigest"));
    let malformed = s
        .req("POST", B, "")
        .param("delete", "")
        .body("<Delete>")
        .send();
    assert_eq!(malformed.xml("Code").as_deref(), Some("MalformedXML"));
}

#[test]
fn multipart_upload_complete_list_abort() {
    let s = TestServer::start();
    s.create_bucket(B);
    let init = s
        .req("POST", B, "big.bin")
        .param("uploads", "")
        .header("Content-Type", "application/x-big")
        .header("x-cos-meta-origin", "multipart")
        .send();
    assert_eq!(init.status, 200, "{}", init.text());
    let upload_id = init.xml("UploadId").unwrap();
    assert_eq!(init.xml("Key").as_deref(), Some("big.bin"));

    let parts: Vec<Vec<u8>> = (0..3u8)
        .map(|i| {
            let len = if i < 2 { 1024 * 1024 + 7 } else { 1000 };
            (0..len).map(|j| (j as u8).wrapping_mul(i + 3)).collect()
        })
        .collect();
    let mut etags = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let n = (i + 1).to_string();
        let r = s
            .req("PUT", B, "big.bin")
            .param("partNumber", &n)
            .param("uploadId", &upload_id)
            .body(part.clone())
            .send();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.exact("ETag"),
            Some(format!("\"{}\"", md5_hex(part)).as_str())
        );
        assert_eq!(
            r.exact("x-cos-hash-crc64ecma"),
            Some(crc64(part).to_string().as_str())
        );
        etags.push(r.exact("ETag").unwrap().to_string());
    }

    let listed = s
        .req("GET", B, "big.bin")
        .param("uploadId", &upload_id)
        .send();
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.xml_all("PartNumber"), vec!["1", "2", "3"]);
    assert_eq!(listed.xml_all("ETag"), etags);
    let sizes: Vec<String> = parts.iter().map(|p| p.len().to_string()).collect();
    assert_eq!(listed.xml_all("Size"), sizes);
    let paged = s
        .req("GET", B, "big.bin")
        .param("uploadId", &upload_id)
        .param("max-parts", "2")
        .send();
    assert_eq!(paged.xml_all("PartNumber"), vec!["1", "2"]);
    assert_eq!(paged.xml("IsTruncated").as_deref(), Some("true"));

    let complete_body = format!(
        "<CompleteMultipartUpload>{}</CompleteMultipartUpload>",
        etags
            .iter()
            .enumerate()
            .map(|(i, e)| format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{e}</ETag></Part>",
                i + 1
            ))
            .collect::<String>()
    );
    let done = s
        .req("POST", B, "big.bin")
        .param("uploadId", &upload_id)
        .body(complete_body)
        .send();
    assert_eq!(done.status, 200, "{}", done.text());
    let mut concat_md5s = Vec::new();
    for p in &parts {
        use md5::{Digest, Md5};
        concat_md5s.extend_from_slice(&Md5::digest(p));
    }
    let expected_etag = format!("{}-3", md5_hex(&concat_md5s));
    assert_eq!(done.xml("ETag"), Some(format!("\"{expected_etag}\"")));
    assert_eq!(done.xml("Bucket").as_deref(), Some(B));
    let whole: Vec<u8> = parts.concat();
    assert_eq!(
        done.exact("x-cos-hash-crc64ecma"),
        Some(crc64(&whole).to_string().as_str())
    );

    let get = s.req("GET", B, "big.bin").send();
    assert_eq!(get.status, 200);
    assert_eq!(md5_hex(&get.body), md5_hex(&whole));
    assert_eq!(
        get.exact("ETag"),
        Some(format!("\"{expected_etag}\"").as_str())
    );
    assert_eq!(get.exact("Content-Type"), Some("application/x-big"));
    assert_eq!(get.exact("x-cos-meta-origin"), Some("multipart"));

    let init2 = s.req("POST", B, "other.bin").param("uploads", "").send();
    let id2 = init2.xml("UploadId").unwrap();
    s.req("PUT", B, "other.bin")
        .param("partNumber", "1")
        .param("uploadId", &id2)
        .body(b"abc".to_vec())
        .send();
    let aborted = s
        .req("DELETE", B, "other.bin")
        .param("uploadId", &id2)
        .send();
    assert_eq!(aborted.status, 204);
    let after = s.req("GET", B, "other.bin").param("uploadId", &id2).send();
    assert_eq!(after.status, 404);
    assert_eq!(after.xml("Code").as_deref(), Some("NoSuchUpload"));
    assert_eq!(s.req("HEAD", B, "other.bin").send().status, 404);
}

#[test]
fn invalid_keys_are_refused() {
    let s = TestServer::start();
    s.create_bucket(B);
    for raw in ["/a/../b", "/%2E%2E/x", "/..", "/a/%00b"] {
        let mut r = s.req("PUT", B, "placeholder").body(b"x".to_vec());
        r.raw_path = Some(raw.to_string());
        r.path = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .unwrap()
            .into_owned();
        let res = r.send();
        assert_eq!(res.status, 400, "{raw}: {}", res.text());
        assert_eq!(res.xml("Code").as_deref(), Some("InvalidURI"), "{raw}");
    }
    let long = "k".repeat(851);
    let res = s.req("PUT", B, &long).body(b"x".to_vec()).send();
    assert_eq!(res.status, 400);
    assert_eq!(res.xml("Code").as_deref(), Some("KeyTooLong"));
    let ok = "k".repeat(850);
    assert_eq!(s.req("PUT", B, &ok).body(b"x".to_vec()).send().status, 200);
    let listed = s.req("GET", B, "").send();
    assert_eq!(listed.xml_all("Key"), vec![ok]);
}

#[test]
fn chunked_upload_and_expect_continue() {
    let s = TestServer::start();
    s.create_bucket(B);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut r = s.req("PUT", B, "chunked");
    r.body = ReqBody::Chunked(data.clone(), 7777);
    let res = r.send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.exact("ETag"),
        Some(format!("\"{}\"", md5_hex(&data)).as_str())
    );
    assert_eq!(s.req("GET", B, "chunked").send().body, data);

    let mut r = s.req("PUT", B, "expect").body(data.clone());
    r.expect_continue = true;
    let res = r.send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(s.req("GET", B, "expect").send().body, data);
}

#[test]
fn entity_too_large_is_refused_before_and_during_the_body() {
    let s = TestServer::start_with(|c| c.max_object_size = 1000);
    s.create_bucket(B);
    let declared = s.req("PUT", B, "big").body(vec![1u8; 1001]).send();
    assert_eq!(declared.status, 400);
    assert_eq!(declared.xml("Code").as_deref(), Some("EntityTooLarge"));
    let mut r = s.req("PUT", B, "big");
    r.body = ReqBody::Chunked(vec![1u8; 5000], 300);
    let streamed = r.send();
    assert_eq!(streamed.status, 400);
    assert_eq!(streamed.xml("Code").as_deref(), Some("EntityTooLarge"));
    assert_eq!(s.req("HEAD", B, "big").send().status, 404);
    assert_eq!(
        s.req("PUT", B, "ok").body(vec![1u8; 1000]).send().status,
        200
    );
}

#[test]
fn path_style_and_default_bucket_addressing() {
    let s = TestServer::start_with(|c| c.default_bucket = Some("default-1250000000".into()));
    let host = s.host_port();
    assert_eq!(
        s.req_host("PUT", &host, &format!("/{B}")).send().status,
        200
    );
    assert_eq!(
        s.req_host("PUT", &host, "/default-1250000000")
            .send()
            .status,
        200
    );
    let put = s
        .req_host("PUT", &host, &format!("/{B}/dir/k.txt"))
        .body(b"path-style".to_vec())
        .send();
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(s.req("GET", B, "dir/k.txt").send().body, b"path-style");

    // Domain mode: the first segment names no bucket, so the whole path is a key.
    let put = s
        .req_host("PUT", &host, "/notabucket/x.txt")
        .body(b"domain".to_vec())
        .send();
    assert_eq!(put.status, 200, "{}", put.text());
    let put2 = s
        .req_host("PUT", &host, "/dir-2024/y.txt")
        .body(b"domain2".to_vec())
        .send();
    assert_eq!(put2.status, 200, "{}", put2.text());
    let listed = s.req("GET", "default-1250000000", "").send();
    assert_eq!(
        listed.xml_all("Key"),
        vec!["dir-2024/y.txt", "notabucket/x.txt"]
    );
    let list_default = s.req_host("GET", &host, "/").send();
    assert_eq!(
        list_default.xml("Name").as_deref(),
        Some("default-1250000000")
    );
}

#[test]
fn unknown_subresources_and_methods() {
    let s = TestServer::start();
    s.create_bucket(B);
    let cors = s.req("GET", B, "").param("cors", "").send();
    assert_eq!(cors.status, 501);
    assert_eq!(cors.xml("Code").as_deref(), Some("NotImplemented"));
    let patch = s.req("PATCH", B, "k").send();
    assert_eq!(patch.status, 405);
    assert_eq!(patch.xml("Code").as_deref(), Some("MethodNotAllowed"));
}

#[test]
fn cors_preflight_and_exposed_headers() {
    let s = TestServer::start();
    s.create_bucket(B);
    s.put(B, "k", b"x");
    let pre = s
        .req("OPTIONS", B, "k")
        .auth(Auth::Anonymous)
        .header("Origin", "http://example.com")
        .header("Access-Control-Request-Method", "PUT")
        .send();
    assert_eq!(pre.status, 200);
    assert_eq!(pre.exact("Access-Control-Allow-Origin"), Some("*"));
    assert!(pre
        .exact("Access-Control-Allow-Methods")
        .unwrap()
        .contains("PUT"));
    // Browsers do not count Authorization under `*`: it must be named.
    assert_eq!(
        pre.exact("Access-Control-Allow-Headers"),
        Some("*, Authorization")
    );
    let expose = pre.exact("Access-Control-Expose-Headers").unwrap();
    for h in [
        "ETag",
        "Content-Length",
        "x-cos-request-id",
        "x-cos-hash-crc64ecma",
    ] {
        assert!(expose.contains(h), "{expose}");
    }
    let get = s
        .req("GET", B, "k")
        .header("Origin", "http://example.com")
        .send();
    assert_eq!(get.exact("Access-Control-Allow-Origin"), Some("*"));
    assert!(get
        .exact("Access-Control-Expose-Headers")
        .unwrap()
        .contains("ETag"));
    let no_origin = s.req("GET", B, "k").send();
    assert_eq!(no_origin.exact("Access-Control-Allow-Origin"), None);
}

#[test]
fn get_never_mixes_two_versions_under_overwrites() {
    let s = TestServer::start();
    s.create_bucket(B);
    let long = vec![b'x'; 200_000];
    let short = vec![b'y'; 10];
    let long_etag = format!("\"{}\"", md5_hex(&long));
    let short_etag = format!("\"{}\"", md5_hex(&short));
    s.put(B, "race", &long);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                s.put(B, "race", if i.is_multiple_of(2) { &short } else { &long });
                i += 1;
            }
        });
        let mut outcomes = std::collections::BTreeMap::new();
        for _ in 0..300 {
            let r = s
                .req("GET", B, "race")
                .header("Range", "bytes=100-199")
                .send();
            // Whatever version a GET opens, its status, Content-Range, ETag and bytes agree.
            match r.status {
                206 => {
                    assert_eq!(r.exact("Content-Range"), Some("bytes 100-199/200000"));
                    assert_eq!(r.exact("ETag"), Some(long_etag.as_str()));
                    assert_eq!(r.body, vec![b'x'; 100]);
                }
                416 => {
                    assert_eq!(r.exact("Content-Range"), Some("bytes */10"));
                    assert_eq!(r.xml("Code").as_deref(), Some("InvalidRange"));
                }
                other => panic!("GET during overwrites answered {other}: {}", r.text()),
            }
            *outcomes.entry(r.status).or_insert(0) += 1;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        println!("range GETs during overwrites: {outcomes:?}");
    });
    // Whole-object GETs report the size of the bytes they send.
    let r = s.req("GET", B, "race").send();
    let etag = r.exact("ETag").unwrap();
    assert!(etag == long_etag || etag == short_etag);
    assert_eq!(format!("\"{}\"", md5_hex(&r.body)), etag);
}

#[test]
fn preconditions_come_before_an_unsatisfiable_range() {
    let s = TestServer::start();
    s.create_bucket(B);
    s.put(B, "c", DOC_BODY);
    let etag = "\"ee8de918d05640145b18f70f4c3aa602\"";
    let past_end = "bytes=100-";
    for method in ["GET", "HEAD"] {
        let r = s
            .req(method, B, "c")
            .header("If-None-Match", etag)
            .header("Range", past_end)
            .send();
        assert_eq!(r.status, 304, "{method}");
        assert_eq!(r.exact("ETag"), Some(etag), "{method}");
        let r = s
            .req(method, B, "c")
            .header("If-Match", "\"0000\"")
            .header("Range", past_end)
            .send();
        assert_eq!(r.status, 412, "{method}");
        let r = s.req(method, B, "c").header("Range", past_end).send();
        assert_eq!(r.status, 416, "{method}");
        assert_eq!(r.exact("Content-Range"), Some("bytes */16"), "{method}");
        let r = s
            .req(method, B, "c")
            .header("If-Match", etag)
            .header("Range", "bytes=-3")
            .send();
        assert_eq!(r.status, 206, "{method}");
        assert_eq!(r.exact("Content-Range"), Some("bytes 13-15/16"), "{method}");
        assert_eq!(r.exact("Content-Length"), Some("3"), "{method}");
    }
}

#[test]
fn bucket_shaped_invalid_names_are_invalid_bucket_name() {
    let s = TestServer::start();
    let host = s.host_port();
    for r in [
        s.req_host("PUT", &TestServer::vhost("Upper-1250000000"), "/"),
        s.req_host("GET", &TestServer::vhost("Upper-1250000000"), "/k.txt"),
        s.req_host("PUT", &host, "/Upper-1250000000"),
        s.req_host("GET", &host, "/Upper-1250000000/x"),
        s.req_host("GET", &host, "/under_score-1250000000"),
    ] {
        let what = format!("{} {}{}", r.method, r.host, r.path);
        let res = r.send();
        assert_eq!(res.status, 400, "{what}: {}", res.text());
        assert_eq!(
            res.xml("Code").as_deref(),
            Some("InvalidBucketName"),
            "{what}"
        );
    }
    // Names without a bucket's shape still mean the service level.
    let r = s.req_host("GET", &host, "/").send();
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn requests_with_many_headers_are_served() {
    let s = TestServer::start();
    s.create_bucket(B);
    s.put(B, "k", b"v");
    // hyper's default limit is 100 fields; SDK headers plus user metadata can exceed it.
    let mut r = s.req("GET", B, "k");
    for i in 0..150 {
        r = r.unsigned_header(&format!("x-extra-{i}"), "1");
    }
    let res = r.send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.body, b"v");
    // Past the raised limit hyper itself refuses the head.
    let mut r = s.req("GET", B, "k");
    for i in 0..300 {
        r = r.unsigned_header(&format!("x-extra-{i}"), "1");
    }
    assert_eq!(r.send().status, 431);
}
