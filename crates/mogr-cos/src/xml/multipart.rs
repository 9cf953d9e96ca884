//! Multipart upload bodies: Initiate, Complete (request and response), List Parts.

use std::time::SystemTime;

use serde::Deserialize;

use super::from_body;
use super::writer::XmlWriter;
use crate::encode::url_encode_path_if;
use crate::error::{CosError, ErrorCode};
use crate::time_fmt::iso8601;

/// Highest part number COS accepts.
const MAX_PART_NUMBER: u32 = 10_000;

/// `POST /<key>?uploads` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiateMultipartUploadResult {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// New upload ID.
    pub upload_id: String,
}

impl InitiateMultipartUploadResult {
    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("InitiateMultipartUploadResult");
        w.text("Bucket", &self.bucket);
        w.text("Key", &self.key);
        w.text("UploadId", &self.upload_id);
        w.close("InitiateMultipartUploadResult");
        w.finish()
    }
}

#[derive(Deserialize)]
struct CompleteXml {
    #[serde(rename = "Part", default)]
    parts: Vec<PartXml>,
}

#[derive(Deserialize)]
struct PartXml {
    #[serde(rename = "PartNumber")]
    part_number: u32,
    #[serde(rename = "ETag")]
    etag: String,
}

/// Parses `<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…`, returning
/// `(part_number, unquoted etag)` in request order.
///
/// `MalformedXML` for a bad shape, no parts or a part number outside 1..=10000;
/// `InvalidPartOrder` when the numbers are not strictly ascending.
pub fn parse_complete(body: &[u8]) -> Result<Vec<(u32, String)>, CosError> {
    let parsed: CompleteXml = from_body(body)?;
    if parsed.parts.is_empty() {
        return Err(CosError::with_message(
            ErrorCode::MalformedXML,
            "no Part in request",
        ));
    }
    let mut out = Vec::with_capacity(parsed.parts.len());
    let mut previous = 0u32;
    for part in parsed.parts {
        if part.part_number == 0 || part.part_number > MAX_PART_NUMBER {
            return Err(CosError::with_message(
                ErrorCode::MalformedXML,
                format!("PartNumber {} out of range", part.part_number),
            ));
        }
        if part.part_number <= previous {
            return Err(CosError::new(ErrorCode::InvalidPartOrder));
        }
        previous = part.part_number;
        out.push((
            part.part_number,
            part.etag.trim().trim_matches('"').to_owned(),
        ));
    }
    Ok(out)
}

/// `POST /<key>?uploadId=…` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteMultipartUploadResult {
    /// `<host>/<key>`.
    pub location: String,
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Final ETag, without quotes (e.g. `<md5-of-md5s>-<n>`).
    pub etag: String,
}

impl CompleteMultipartUploadResult {
    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("CompleteMultipartUploadResult");
        w.text("Location", &self.location);
        w.text("Bucket", &self.bucket);
        w.text("Key", &self.key);
        w.etag("ETag", &self.etag);
        w.close("CompleteMultipartUploadResult");
        w.finish()
    }
}

/// `GET /<key>?uploadId=…` (List Parts) response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPartsResult {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Upload ID.
    pub upload_id: String,
    /// `(part_number, last_modified, unquoted etag, size)` in part-number order.
    pub parts: Vec<(u32, SystemTime, String, u64)>,
    /// Effective max-parts.
    pub max_parts: u32,
    /// Requested part-number-marker (0 when none).
    pub part_number_marker: u32,
    /// Last part number returned (0 when none).
    pub next_part_number_marker: u32,
    /// More parts follow.
    pub is_truncated: bool,
    /// Owner and initiator ID.
    pub owner_id: String,
    /// `encoding-type=url` was requested: the key is sent encoded, keeping `/`.
    pub encoding_url: bool,
}

impl ListPartsResult {
    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("ListPartsResult");
        w.text("Bucket", &self.bucket);
        if self.encoding_url {
            w.text("EncodingType", "url");
        }
        w.text("Key", &url_encode_path_if(self.encoding_url, &self.key));
        w.text("UploadId", &self.upload_id);
        w.owner("Initiator", &self.owner_id);
        w.owner("Owner", &self.owner_id);
        w.value("PartNumberMarker", self.part_number_marker);
        for (number, modified, etag, size) in &self.parts {
            w.open("Part");
            w.value("PartNumber", number);
            w.text("LastModified", &iso8601(*modified));
            w.etag("ETag", etag);
            w.value("Size", size);
            w.close("Part");
        }
        w.value("NextPartNumberMarker", self.next_part_number_marker);
        w.text("StorageClass", "STANDARD");
        w.value("MaxParts", self.max_parts);
        w.value("IsTruncated", self.is_truncated);
        w.close("ListPartsResult");
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Initiate {
        bucket: String,
        key: String,
        upload_id: String,
    }

    #[test]
    fn initiate_round_trips() {
        let xml = InitiateMultipartUploadResult {
            bucket: "b-1250000000".into(),
            key: "dir/a b.jpg".into(),
            upload_id: "1585130821cbb7df1d11846c073ad648e8f33b087cec2381df437acdc833cf654b9ecc6361"
                .into(),
        }
        .to_xml();
        let p: Initiate = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(p.bucket, "b-1250000000");
        assert_eq!(p.key, "dir/a b.jpg");
        assert!(p.upload_id.starts_with("1585130821"));
    }

    #[test]
    fn complete_request_parses_quoted_and_unquoted_etags() {
        let body = br#"<CompleteMultipartUpload>
            <Part><PartNumber>1</PartNumber><ETag>"aaa"</ETag></Part>
            <Part><PartNumber>3</PartNumber><ETag>&quot;bbb&quot;</ETag></Part>
            <Part><PartNumber>4</PartNumber><ETag>ccc</ETag></Part>
        </CompleteMultipartUpload>"#;
        assert_eq!(
            parse_complete(body).unwrap(),
            vec![
                (1, "aaa".to_string()),
                (3, "bbb".to_string()),
                (4, "ccc".to_string())
            ]
        );
    }

    #[test]
    fn complete_request_errors() {
        let order =
            b"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part>\
            <Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(
            parse_complete(order).unwrap_err().code,
            ErrorCode::InvalidPartOrder
        );
        let dup = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>\
            <Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(
            parse_complete(dup).unwrap_err().code,
            ErrorCode::InvalidPartOrder
        );
        for body in [
            &b"<CompleteMultipartUpload></CompleteMultipartUpload>"[..],
            b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
            b"<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
            b"<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
            b"<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
            b"<CompleteMultipartUpload>",
        ] {
            assert_eq!(
                parse_complete(body).unwrap_err().code,
                ErrorCode::MalformedXML,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Complete {
        location: String,
        bucket: String,
        key: String,
        e_tag: String,
    }

    #[test]
    fn complete_result_round_trips() {
        let xml = CompleteMultipartUploadResult {
            location: "b-1.cos.ap-guangzhou.myqcloud.com/k".into(),
            bucket: "b-1".into(),
            key: "k".into(),
            etag: "3a0f1fd698c235af9cf098cb74aa25bc-2".into(),
        }
        .to_xml();
        let p: Complete = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(p.location, "b-1.cos.ap-guangzhou.myqcloud.com/k");
        assert_eq!(p.bucket, "b-1");
        assert_eq!(p.key, "k");
        assert_eq!(p.e_tag, "\"3a0f1fd698c235af9cf098cb74aa25bc-2\"");
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Parts {
        bucket: String,
        key: String,
        upload_id: String,
        part_number_marker: u32,
        next_part_number_marker: u32,
        max_parts: u32,
        is_truncated: bool,
        #[serde(default)]
        part: Vec<Part>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Part {
        part_number: u32,
        last_modified: String,
        e_tag: String,
        size: u64,
    }

    #[test]
    fn list_parts_round_trips() {
        let t = UNIX_EPOCH + Duration::from_secs(1_607_571_450);
        let r = ListPartsResult {
            bucket: "b-1".into(),
            key: "k".into(),
            upload_id: "u1".into(),
            parts: vec![(1, t, "aaa".into(), 5_242_880), (2, t, "bbb".into(), 10)],
            max_parts: 2,
            part_number_marker: 0,
            next_part_number_marker: 2,
            is_truncated: true,
            owner_id: "1250000000".into(),
            encoding_url: false,
        };
        let p: Parts = quick_xml::de::from_str(&r.to_xml()).unwrap();
        assert_eq!(
            (p.bucket.as_str(), p.key.as_str(), p.upload_id.as_str()),
            ("b-1", "k", "u1")
        );
        assert_eq!(
            (p.part_number_marker, p.next_part_number_marker, p.max_parts),
            (0, 2, 2)
        );
        assert!(p.is_truncated);
        assert_eq!(p.part.len(), 2);
        assert_eq!(p.part[0].part_number, 1);
        assert_eq!(p.part[0].size, 5_242_880);
        assert_eq!(p.part[1].e_tag, "\"bbb\"");
        assert_eq!(p.part[1].last_modified, "2020-12-10T03:37:30.000Z");
    }

    #[test]
    fn list_parts_encodes_the_key_when_asked() {
        let r = ListPartsResult {
            bucket: "b-1".into(),
            key: "dir/a b&c.bin".into(),
            upload_id: "u1".into(),
            parts: Vec::new(),
            max_parts: 1000,
            part_number_marker: 0,
            next_part_number_marker: 0,
            is_truncated: false,
            owner_id: "1250000000".into(),
            encoding_url: true,
        };
        let xml = r.to_xml();
        assert!(xml.contains("<EncodingType>url</EncodingType>"), "{xml}");
        assert!(xml.contains("<Key>dir/a%20b%26c.bin</Key>"), "{xml}");
    }
}
