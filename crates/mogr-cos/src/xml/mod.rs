//! COS XML bodies: response builders (`to_xml`) and request parsers (`parse_*`).

mod acl;
mod delete;
mod list;
mod misc;
mod multipart;
mod service;
mod style;
mod upload_result;
mod uploads;
pub(crate) mod writer;

pub use acl::{parse_acl_body, AccessControlPolicy, ALL_USERS_URI};
pub use delete::{parse_delete, DeleteRequest, DeleteResult, MAX_DELETE_KEYS};
pub use list::{ListBucketResult, ListEntry};
pub use misc::{CopyObjectResult, LocationConstraint};
pub use multipart::{
    parse_complete, CompleteMultipartUploadResult, InitiateMultipartUploadResult, ListPartsResult,
};
pub use service::{BucketEntry, ListAllMyBucketsResult};
pub use style::{
    parse_add_style, parse_delete_style, parse_get_style, parse_style_list, parse_style_separators,
    style_name_xml, style_separators_xml, AddStyle, StyleList,
};
pub use upload_result::{ImageInfoXml, OriginalInfo, ProcessResultObject, UploadResult};
pub use uploads::{ListMultipartUploadsResult, UploadEntry};
pub use writer::XML_DECLARATION;

use crate::error::{CosError, ErrorCode};

/// Deserialises a request body, mapping any XML or UTF-8 problem to `MalformedXML`.
fn from_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CosError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| CosError::with_message(ErrorCode::MalformedXML, "body is not UTF-8"))?;
    quick_xml::de::from_str(text)
        .map_err(|e| CosError::with_message(ErrorCode::MalformedXML, format!("malformed XML: {e}")))
}
