//! Small one-element responses: bucket location and copy result.

use std::time::SystemTime;

use super::writer::XmlWriter;
use crate::time_fmt::iso8601;

/// `GET /?location` response: `<LocationConstraint>region</LocationConstraint>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationConstraint {
    /// Region, e.g. `ap-guangzhou`.
    pub region: String,
}

impl LocationConstraint {
    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.text("LocationConstraint", &self.region);
        w.finish()
    }
}

/// `PUT Object - Copy` / `Upload Part - Copy` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyObjectResult {
    /// ETag of the new object, without quotes.
    pub etag: String,
    /// Its modification time.
    pub last_modified: SystemTime,
}

impl CopyObjectResult {
    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("CopyObjectResult");
        w.etag("ETag", &self.etag);
        w.text("LastModified", &iso8601(self.last_modified));
        w.close("CopyObjectResult");
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
    struct Copy {
        e_tag: String,
        last_modified: String,
    }

    #[derive(Deserialize)]
    struct Location {
        #[serde(rename = "$text")]
        region: String,
    }

    #[test]
    fn location_body() {
        let xml = LocationConstraint {
            region: "ap-guangzhou".into(),
        }
        .to_xml();
        assert!(xml.ends_with("<LocationConstraint>ap-guangzhou</LocationConstraint>"));
        let r: Location = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(r.region, "ap-guangzhou");
    }

    #[test]
    fn copy_result_body() {
        let xml = CopyObjectResult {
            etag: "ee8de918d05640145b18f70f4c3aa602".into(),
            last_modified: UNIX_EPOCH + Duration::from_secs(1_607_571_450),
        }
        .to_xml();
        let c: Copy = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(c.e_tag, "\"ee8de918d05640145b18f70f4c3aa602\"");
        assert_eq!(c.last_modified, "2020-12-10T03:37:30.000Z");
    }
}
