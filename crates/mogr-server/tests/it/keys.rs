//! Keys that XML cannot carry: control characters are refused when a key is written, so every
//! listing, plain or `encoding-type=url`, is a document a client can parse.

use serde::Deserialize;

use crate::common::*;

const B: &str = "keys-1250000000";

/// Keys with C0 controls or DEL, which no plain listing could name.
const CONTROL_KEYS: [&str; 8] = [
    "a\u{1}b",
    "non\u{fffe}char",
    "non\u{ffff}char",
    "line\nbreak.jpg",
    "cr\rlf",
    "tab\there",
    "del\u{7f}",
    "dir/\u{1b}[31mred",
];

/// Keys that need escaping in XML or in a URL, but are fine.
const ORDINARY_KEYS: [&str; 6] = [
    "a<b>&c.txt",
    "dir/quote\"'s.png",
    "space key",
    "100%.jpg",
    "]]>.txt",
    "照片/图 1.jpg",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListBucketResult {
    #[serde(default)]
    contents: Vec<Contents>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Contents {
    key: String,
}

/// XML 1.0 `Char`: what a document may contain at all, even escaped. quick-xml does not check
/// characters, so this does.
fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The keys of a listing, after checking the body is a well-formed XML document.
fn listed_keys(resp: &Resp) -> Vec<String> {
    assert_eq!(resp.status, 200, "{}", resp.text());
    let text = std::str::from_utf8(&resp.body).expect("listing is not UTF-8");
    if let Some(bad) = text.chars().find(|c| !is_xml_char(*c)) {
        panic!("listing carries {bad:?}, which XML 1.0 does not allow: {text:?}");
    }
    let doc: ListBucketResult = quick_xml::de::from_str(text)
        .unwrap_or_else(|e| panic!("listing does not parse: {e}: {text:?}"));
    doc.contents.into_iter().map(|c| c.key).collect()
}

fn pct_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[test]
fn keys_with_control_characters_are_refused_and_listings_parse() {
    let s = TestServer::start();
    s.create_bucket(B);
    for key in ORDINARY_KEYS {
        s.put(B, key, key.as_bytes());
    }
    for key in CONTROL_KEYS {
        let put = s.req("PUT", B, key).body(b"x".to_vec()).send();
        assert_eq!(put.status, 400, "PUT {key:?}: {}", put.text());
        assert_eq!(
            put.xml("Code").as_deref(),
            Some("InvalidURI"),
            "PUT {key:?}"
        );
        let initiate = s.req("POST", B, key).param("uploads", "").send();
        assert_eq!(
            initiate.status,
            400,
            "initiate {key:?}: {}",
            initiate.text()
        );
        assert_eq!(
            initiate.xml("Code").as_deref(),
            Some("InvalidURI"),
            "initiate {key:?}"
        );
    }

    let mut want: Vec<String> = ORDINARY_KEYS.iter().map(|k| k.to_string()).collect();
    want.sort();
    let plain = s.req("GET", B, "").send();
    assert_eq!(listed_keys(&plain), want, "plain listing");
    let encoded = s.req("GET", B, "").param("encoding-type", "url").send();
    let decoded: Vec<String> = listed_keys(&encoded)
        .iter()
        .map(|k| pct_decode(k))
        .collect();
    assert_eq!(decoded, want, "encoding-type=url listing");
    let uploads = s.req("GET", B, "").param("uploads", "").send();
    assert_eq!(uploads.status, 200, "{}", uploads.text());
    assert_eq!(uploads.xml_all("UploadId"), Vec::<String>::new());

    // Every refused key really is absent: each ordinary key still holds its own bytes.
    for key in ORDINARY_KEYS {
        let got = s.req("GET", B, key).send();
        assert_eq!(got.status, 200, "GET {key:?}");
        assert_eq!(got.body, key.as_bytes(), "GET {key:?}");
    }
}

#[test]
fn listing_parameters_with_control_characters_are_refused_not_echoed() {
    let s = TestServer::start();
    s.create_bucket(B);
    s.put(B, "a.txt", b"a");
    for name in ["prefix", "marker", "delimiter"] {
        let r = s.req("GET", B, "").param(name, "a\u{ffff}").send();
        assert_eq!(r.status, 400, "{name}: {}", r.text());
        assert_eq!(r.xml("Code").as_deref(), Some("InvalidArgument"), "{name}");
        assert!(!r.text().contains('\u{ffff}'), "{name}");
    }
    for name in ["prefix", "key-marker", "upload-id-marker"] {
        let r = s
            .req("GET", B, "")
            .param("uploads", "")
            .param(name, "\u{7f}")
            .send();
        assert_eq!(r.status, 400, "uploads {name}: {}", r.text());
    }
    let r = s.req("GET", B, "").param("prefix", "a").send();
    assert_eq!(listed_keys(&r), vec!["a.txt".to_string()]);
}
