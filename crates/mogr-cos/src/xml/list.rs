//! `GET Bucket` (List Objects v1) response.

use std::time::SystemTime;

use super::writer::XmlWriter;
use crate::encode::url_encode_path_if;
use crate::time_fmt::iso8601;

/// One `<Contents>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// Object key (decoded; encoded on output when `encoding-type=url` was asked).
    pub key: String,
    /// Last modification time.
    pub last_modified: SystemTime,
    /// ETag without quotes.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// Owner ID (also used as DisplayName).
    pub owner_id: String,
}

/// `<ListBucketResult>` exactly as COS lays it out (docs/cos-protocol.md, "Listings").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListBucketResult {
    /// Bucket name (`name-appid`).
    pub name: String,
    /// Requested prefix (decoded).
    pub prefix: String,
    /// Requested marker (decoded).
    pub marker: String,
    /// Effective max-keys.
    pub max_keys: u32,
    /// Requested delimiter; the element is sent only when `Some`.
    pub delimiter: Option<String>,
    /// `encoding-type=url` was requested: encode keys, prefixes and markers, keeping `/`.
    pub encoding_url: bool,
    /// More results follow.
    pub is_truncated: bool,
    /// The last key or prefix returned, when truncated.
    pub next_marker: Option<String>,
    /// Common prefixes (decoded), sent before `Contents`.
    pub common_prefixes: Vec<String>,
    /// Objects.
    pub contents: Vec<ListEntry>,
}

impl ListBucketResult {
    /// Encodes a key-like value when `encoding-type=url` was requested.
    fn enc(&self, s: &str) -> String {
        url_encode_path_if(self.encoding_url, s)
    }

    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("ListBucketResult");
        w.text("Name", &self.name);
        if self.encoding_url {
            w.text("EncodingType", "url");
        }
        w.text("Prefix", &self.enc(&self.prefix));
        w.text("Marker", &self.enc(&self.marker));
        w.value("MaxKeys", self.max_keys);
        if let Some(d) = &self.delimiter {
            // PY does not unquote Delimiter, so it is never encoded.
            w.text("Delimiter", d);
        }
        w.value("IsTruncated", self.is_truncated);
        if let Some(m) = &self.next_marker {
            w.text("NextMarker", &self.enc(m));
        }
        for p in &self.common_prefixes {
            w.open("CommonPrefixes");
            w.text("Prefix", &self.enc(p));
            w.close("CommonPrefixes");
        }
        for c in &self.contents {
            w.open("Contents");
            w.text("Key", &self.enc(&c.key));
            w.text("LastModified", &iso8601(c.last_modified));
            w.etag("ETag", &c.etag);
            w.value("Size", c.size);
            w.owner("Owner", &c.owner_id);
            w.text("StorageClass", "STANDARD");
            w.close("Contents");
        }
        w.close("ListBucketResult");
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::time::{Duration, UNIX_EPOCH};

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct Parsed {
        name: String,
        encoding_type: Option<String>,
        prefix: String,
        marker: String,
        max_keys: u32,
        delimiter: Option<String>,
        is_truncated: bool,
        next_marker: Option<String>,
        #[serde(default)]
        common_prefixes: Vec<ParsedPrefix>,
        #[serde(default)]
        contents: Vec<ParsedEntry>,
    }
    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct ParsedPrefix {
        prefix: String,
    }
    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct ParsedEntry {
        key: String,
        last_modified: String,
        e_tag: String,
        size: u64,
        owner: ParsedOwner,
        storage_class: String,
    }
    #[derive(Deserialize, Debug)]
    struct ParsedOwner {
        #[serde(rename = "ID")]
        id: String,
    }

    fn sample(encoding_url: bool) -> ListBucketResult {
        ListBucketResult {
            name: "examplebucket-1250000000".into(),
            prefix: "照片/".into(),
            marker: String::new(),
            max_keys: 2,
            delimiter: Some("/".into()),
            encoding_url,
            is_truncated: true,
            next_marker: Some("照片/Tencent Cloud.jpg".into()),
            common_prefixes: vec!["照片/2020年/".into()],
            contents: vec![ListEntry {
                key: "照片/Tencent Cloud.jpg".into(),
                last_modified: UNIX_EPOCH + Duration::from_secs(1_607_571_450),
                etag: "f173c1199e3d3b53dd91223cae16fb42".into(),
                size: 37,
                owner_id: "1250000000".into(),
            }],
        }
    }

    #[test]
    fn encoded_listing_round_trips_through_a_parser() {
        let xml = sample(true).to_xml();
        assert!(xml.starts_with("<?xml version='1.0' encoding='utf-8' ?>"));
        assert!(xml.contains("<Marker/>"));
        assert!(xml.contains("<ETag>&quot;f173c1199e3d3b53dd91223cae16fb42&quot;</ETag>"));
        assert!(xml.find("<CommonPrefixes>").unwrap() < xml.find("<Contents>").unwrap());
        let p: Parsed = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(p.name, "examplebucket-1250000000");
        assert_eq!(p.encoding_type.as_deref(), Some("url"));
        assert_eq!(p.prefix, "%E7%85%A7%E7%89%87/");
        assert_eq!(p.marker, "");
        assert_eq!(p.max_keys, 2);
        assert_eq!(p.delimiter.as_deref(), Some("/"));
        assert!(p.is_truncated);
        assert_eq!(
            p.next_marker.as_deref(),
            Some("%E7%85%A7%E7%89%87/Tencent%20Cloud.jpg")
        );
        assert_eq!(
            p.common_prefixes[0].prefix,
            "%E7%85%A7%E7%89%87/2020%E5%B9%B4/"
        );
        let c = &p.contents[0];
        assert_eq!(c.key, "%E7%85%A7%E7%89%87/Tencent%20Cloud.jpg");
        assert_eq!(c.last_modified, "2020-12-10T03:37:30.000Z");
        assert_eq!(c.e_tag, "\"f173c1199e3d3b53dd91223cae16fb42\"");
        assert_eq!(c.size, 37);
        assert_eq!(c.owner.id, "1250000000");
        assert_eq!(c.storage_class, "STANDARD");
    }

    #[test]
    fn plain_listing_keeps_keys_and_omits_optional_elements() {
        let mut r = sample(false);
        r.delimiter = None;
        r.is_truncated = false;
        r.next_marker = None;
        r.contents[0].key = "a&b <c>.jpg".into();
        let xml = r.to_xml();
        assert!(!xml.contains("EncodingType"));
        assert!(!xml.contains("Delimiter"));
        assert!(!xml.contains("NextMarker"));
        let p: Parsed = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(p.prefix, "照片/");
        assert_eq!(p.contents[0].key, "a&b <c>.jpg");
        assert!(!p.is_truncated);
    }
}
