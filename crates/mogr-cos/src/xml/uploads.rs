//! `GET /?uploads` (List Multipart Uploads) response.

use std::time::SystemTime;

use super::writer::XmlWriter;
use crate::encode::url_encode_path_if;
use crate::time_fmt::iso8601;

/// One `<Upload>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadEntry {
    /// Object key (decoded; encoded on output when `encoding-type=url` was asked).
    pub key: String,
    /// Upload ID.
    pub upload_id: String,
    /// When the upload was initiated.
    pub initiated: SystemTime,
}

/// `<ListMultipartUploadsResult>` in the COS layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMultipartUploadsResult {
    /// Bucket name (`name-appid`).
    pub bucket: String,
    /// `encoding-type=url` was requested: encode keys, prefixes and key markers, keeping `/`.
    pub encoding_url: bool,
    /// Requested key-marker (decoded).
    pub key_marker: String,
    /// Requested upload-id-marker.
    pub upload_id_marker: String,
    /// When truncated: the key (or common prefix) to pass as the next key-marker.
    pub next_key_marker: Option<String>,
    /// When truncated: the upload ID to pass as the next upload-id-marker.
    pub next_upload_id_marker: Option<String>,
    /// Effective max-uploads.
    pub max_uploads: u32,
    /// More results follow.
    pub is_truncated: bool,
    /// Requested prefix (decoded).
    pub prefix: String,
    /// Requested delimiter (never encoded: the PY SDK does not unquote it).
    pub delimiter: String,
    /// Uploads, by key then initiation.
    pub uploads: Vec<UploadEntry>,
    /// Common prefixes (decoded).
    pub common_prefixes: Vec<String>,
    /// Owner and initiator ID (also used as DisplayName).
    pub owner_id: String,
}

impl ListMultipartUploadsResult {
    /// Encodes a key-like value when `encoding-type=url` was requested.
    fn enc(&self, s: &str) -> String {
        url_encode_path_if(self.encoding_url, s)
    }

    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("ListMultipartUploadsResult");
        w.text("Bucket", &self.bucket);
        if self.encoding_url {
            w.text("Encoding-Type", "url");
        }
        w.text("KeyMarker", &self.enc(&self.key_marker));
        w.text("UploadIdMarker", &self.enc(&self.upload_id_marker));
        w.text(
            "NextKeyMarker",
            &self.enc(self.next_key_marker.as_deref().unwrap_or("")),
        );
        w.text(
            "NextUploadIdMarker",
            &self.enc(self.next_upload_id_marker.as_deref().unwrap_or("")),
        );
        w.value("MaxUploads", self.max_uploads);
        w.value("IsTruncated", self.is_truncated);
        w.text("Prefix", &self.enc(&self.prefix));
        w.text("Delimiter", &self.delimiter);
        for u in &self.uploads {
            w.open("Upload");
            w.text("Key", &self.enc(&u.key));
            w.text("UploadId", &u.upload_id);
            w.text("StorageClass", "STANDARD");
            w.owner("Initiator", &self.owner_id);
            w.owner("Owner", &self.owner_id);
            w.text("Initiated", &iso8601(u.initiated));
            w.close("Upload");
        }
        for p in &self.common_prefixes {
            w.open("CommonPrefixes");
            w.text("Prefix", &self.enc(p));
            w.close("CommonPrefixes");
        }
        w.close("ListMultipartUploadsResult");
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
        bucket: String,
        #[serde(rename = "Encoding-Type")]
        encoding_type: Option<String>,
        key_marker: String,
        upload_id_marker: String,
        next_key_marker: String,
        next_upload_id_marker: String,
        max_uploads: u32,
        is_truncated: bool,
        prefix: String,
        delimiter: String,
        #[serde(default)]
        upload: Vec<ParsedUpload>,
        #[serde(default)]
        common_prefixes: Vec<ParsedPrefix>,
    }
    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct ParsedUpload {
        key: String,
        upload_id: String,
        storage_class: String,
        initiator: ParsedOwner,
        owner: ParsedOwner,
        initiated: String,
    }
    #[derive(Deserialize, Debug)]
    struct ParsedOwner {
        #[serde(rename = "ID")]
        id: String,
        #[serde(rename = "DisplayName")]
        display_name: String,
    }
    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct ParsedPrefix {
        prefix: String,
    }

    fn sample(encoding_url: bool) -> ListMultipartUploadsResult {
        ListMultipartUploadsResult {
            bucket: "examplebucket-1250000000".into(),
            encoding_url,
            key_marker: "照片/a b".into(),
            upload_id_marker: String::new(),
            next_key_marker: Some("照片/视频.mp4".into()),
            next_upload_id_marker: Some("0123456789abcdef0123456789abcdef".into()),
            max_uploads: 2,
            is_truncated: true,
            prefix: "照片/".into(),
            delimiter: "/".into(),
            uploads: vec![UploadEntry {
                key: "照片/视频.mp4".into(),
                upload_id: "0123456789abcdef0123456789abcdef".into(),
                initiated: UNIX_EPOCH + Duration::from_secs(1_585_159_621),
            }],
            common_prefixes: vec!["照片/2020年/".into()],
            owner_id: "1250000000".into(),
        }
    }

    #[test]
    fn encoded_listing_round_trips_through_a_parser() {
        let xml = sample(true).to_xml();
        assert!(xml.starts_with(
            "<?xml version='1.0' encoding='utf-8' ?>\n<ListMultipartUploadsResult><Bucket>"
        ));
        assert!(xml.find("<Upload>").unwrap() < xml.find("<CommonPrefixes>").unwrap());
        let p: Parsed = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(p.bucket, "examplebucket-1250000000");
        assert_eq!(p.encoding_type.as_deref(), Some("url"));
        assert_eq!(p.key_marker, "%E7%85%A7%E7%89%87/a%20b");
        assert_eq!(p.upload_id_marker, "");
        assert_eq!(
            p.next_key_marker,
            "%E7%85%A7%E7%89%87/%E8%A7%86%E9%A2%91.mp4"
        );
        assert_eq!(p.next_upload_id_marker, "0123456789abcdef0123456789abcdef");
        assert_eq!(p.max_uploads, 2);
        assert!(p.is_truncated);
        assert_eq!(p.prefix, "%E7%85%A7%E7%89%87/");
        assert_eq!(p.delimiter, "/");
        let u = &p.upload[0];
        assert_eq!(u.key, "%E7%85%A7%E7%89%87/%E8%A7%86%E9%A2%91.mp4");
        assert_eq!(u.upload_id, "0123456789abcdef0123456789abcdef");
        assert_eq!(u.storage_class, "STANDARD");
        assert_eq!(
            (u.initiator.id.as_str(), u.initiator.display_name.as_str()),
            ("1250000000", "1250000000")
        );
        assert_eq!(u.owner.id, "1250000000");
        assert_eq!(u.initiated, "2020-03-25T18:07:01.000Z");
        assert_eq!(
            p.common_prefixes[0].prefix,
            "%E7%85%A7%E7%89%87/2020%E5%B9%B4/"
        );
    }

    #[test]
    fn plain_listing_keeps_text_and_has_empty_markers_when_complete() {
        let mut r = sample(false);
        r.is_truncated = false;
        r.next_key_marker = None;
        r.next_upload_id_marker = None;
        r.uploads[0].key = "a&b <c>.bin".into();
        r.common_prefixes.clear();
        r.delimiter.clear();
        let xml = r.to_xml();
        assert!(!xml.contains("Encoding-Type"));
        assert!(xml.contains("<NextKeyMarker/>") && xml.contains("<Delimiter/>"));
        assert!(!xml.contains("CommonPrefixes"));
        let p: Parsed = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(p.key_marker, "照片/a b");
        assert_eq!(p.prefix, "照片/");
        assert_eq!(p.upload[0].key, "a&b <c>.bin");
        assert!(!p.is_truncated);
    }
}
