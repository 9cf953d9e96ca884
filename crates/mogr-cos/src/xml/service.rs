//! `GET Service` (List Buckets) response.

use std::time::SystemTime;

use super::writer::XmlWriter;
use crate::time_fmt::iso8601_seconds;

/// One `<Bucket>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketEntry {
    /// Bucket name (`name-appid`).
    pub name: String,
    /// Region, e.g. `ap-guangzhou`.
    pub location: String,
    /// When the bucket was created.
    pub creation_date: SystemTime,
}

/// `<ListAllMyBucketsResult>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAllMyBucketsResult {
    /// Owner ID (also used as DisplayName).
    pub owner_id: String,
    /// Buckets, in the order to list them.
    pub buckets: Vec<BucketEntry>,
}

impl ListAllMyBucketsResult {
    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("ListAllMyBucketsResult");
        w.owner("Owner", &self.owner_id);
        w.open("Buckets");
        for b in &self.buckets {
            w.open("Bucket");
            w.text("Name", &b.name);
            w.text("Location", &b.location);
            w.text("CreationDate", &iso8601_seconds(b.creation_date));
            w.text("BucketType", "cos");
            w.close("Bucket");
        }
        w.close("Buckets");
        w.close("ListAllMyBucketsResult");
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::time::{Duration, UNIX_EPOCH};

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Parsed {
        owner: Owner,
        buckets: Buckets,
    }
    #[derive(Deserialize)]
    struct Owner {
        #[serde(rename = "ID")]
        id: String,
    }
    #[derive(Deserialize)]
    struct Buckets {
        #[serde(rename = "Bucket", default)]
        bucket: Vec<Bucket>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Bucket {
        name: String,
        location: String,
        creation_date: String,
    }

    #[test]
    fn lists_buckets_in_order() {
        let t = UNIX_EPOCH + Duration::from_secs(1_558_698_590);
        let r = ListAllMyBucketsResult {
            owner_id: "1250000000".into(),
            buckets: vec![
                BucketEntry {
                    name: "a-1250000000".into(),
                    location: "ap-beijing".into(),
                    creation_date: t,
                },
                BucketEntry {
                    name: "b-1250000000".into(),
                    location: "ap-guangzhou".into(),
                    creation_date: t,
                },
            ],
        };
        let p: Parsed = quick_xml::de::from_str(&r.to_xml()).unwrap();
        assert_eq!(p.owner.id, "1250000000");
        assert_eq!(p.buckets.bucket.len(), 2);
        assert_eq!(p.buckets.bucket[0].name, "a-1250000000");
        assert_eq!(p.buckets.bucket[1].location, "ap-guangzhou");
        assert_eq!(p.buckets.bucket[0].creation_date, "2019-05-24T11:49:50Z");
    }

    #[test]
    fn no_buckets_is_an_empty_list() {
        let r = ListAllMyBucketsResult {
            owner_id: "1".into(),
            buckets: vec![],
        };
        let p: Parsed = quick_xml::de::from_str(&r.to_xml()).unwrap();
        assert!(p.buckets.bucket.is_empty());
    }
}
