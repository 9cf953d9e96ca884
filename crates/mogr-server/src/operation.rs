//! Which COS operation a request is, from its method, addressing, sub-resources and headers.

use http::{HeaderMap, Method};
use mogr_cos::query::Query;

/// One COS operation (one handler each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `GET /` with no bucket.
    ListBuckets,
    /// `PUT /` on a bucket.
    CreateBucket,
    /// `HEAD /` on a bucket.
    HeadBucket,
    /// `DELETE /` on a bucket.
    DeleteBucket,
    /// `GET /?acl`.
    GetBucketAcl,
    /// `PUT /?acl`.
    PutBucketAcl,
    /// `GET /` on a bucket (List Objects v1).
    ListObjects,
    /// `POST /?delete`.
    DeleteObjects,
    /// `GET /?uploads`.
    ListMultipartUploads,
    /// `GET /?style`: the bucket's image styles (all, or one by name).
    GetStyle,
    /// `PUT /?style`: save an image style.
    PutStyle,
    /// `DELETE /?style`: delete an image style.
    DeleteStyle,
    /// `GET /?mogr-style-separators` (mogr's own): the separators of the styled download form.
    GetStyleSeparators,
    /// `PUT /?mogr-style-separators` (mogr's own): set them.
    PutStyleSeparators,
    /// `PUT /<key>`.
    PutObject,
    /// `GET /<key>`.
    GetObject,
    /// `HEAD /<key>`.
    HeadObject,
    /// `DELETE /<key>`.
    DeleteObject,
    /// `POST /<key>?uploads`.
    InitiateMultipart,
    /// `PUT /<key>?partNumber=&uploadId=`.
    UploadPart,
    /// `POST /<key>?uploadId=`.
    CompleteMultipart,
    /// `DELETE /<key>?uploadId=`.
    AbortMultipart,
    /// `GET /<key>?uploadId=`.
    ListParts,
    /// `GET|HEAD /<key>?<rule>`: processing on download.
    ProcessedGet {
        /// The decoded rule (`imageMogr2/...`).
        rule: String,
        /// HEAD: headers only.
        head: bool,
    },
    /// `PUT /<key>` with `Pic-Operations`: processing on upload.
    PutWithPicOperations,
    /// `POST /<key>?image_process` with `Pic-Operations`: processing in the cloud.
    ImageProcess,
    /// `POST /<key>?uploadId=` with `Pic-Operations`.
    CompleteWithPicOperations,
    /// `OPTIONS`: CORS preflight.
    Preflight,
    /// A key without a bucket: neither the `Host` nor the path named one, and no default
    /// bucket is configured (400).
    NoBucket,
    /// A COS feature mogr does not have (501).
    NotImplemented(&'static str),
    /// A method that makes no sense on this resource (405).
    MethodNotAllowed,
}

/// What an operation needs from an anonymous caller's bucket ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No authentication at all (CORS preflight, or the request fails anyway).
    Open,
    /// `public-read` or `public-read-write`.
    Read,
    /// `public-read-write`.
    Write,
    /// Signed requests only (bucket management).
    Owner,
}

/// Bucket sub-resources of COS that mogr does not implement.
const BUCKET_SUBRESOURCES: &[&str] = &[
    "cors",
    "lifecycle",
    "policy",
    "tagging",
    "versioning",
    "website",
    "referer",
    "logging",
    "inventory",
    "replication",
    "encryption",
    "domain",
    "origin",
    "intelligenttiering",
    "object-lock",
    "versions",
    // Only `GET /?uploads` (List Multipart Uploads) exists; other methods land here.
    "uploads",
    "location",
    "accelerate",
    "notification",
    "requestPayment",
    "pic",
    "image_process",
];

/// Object sub-resources of COS that mogr does not implement.
const OBJECT_SUBRESOURCES: &[&str] = &[
    "acl",
    "tagging",
    "restore",
    "select",
    "append",
    "torrent",
    "retention",
    "legal-hold",
    "rename",
    "symlink",
];

/// Sub-resources mogr implements: each selects a different operation on the same path.
const IMPLEMENTED_SUBRESOURCES: &[&str] = &[
    "acl",
    "uploads",
    "uploadId",
    "partNumber",
    "delete",
    "image_process",
    "style",
    STYLE_SEPARATORS,
];

/// mogr's own bucket sub-resource for the separators of the styled download form.
pub const STYLE_SEPARATORS: &str = "mogr-style-separators";

fn unimplemented_subresource(query: &Query, list: &[&'static str]) -> Option<&'static str> {
    list.iter().copied().find(|name| query.has(name))
}

/// Whether a query parameter name is a sub-resource: a parameter that selects the operation
/// rather than qualifying it, so a signature must cover it.
pub fn is_subresource(name: &str) -> bool {
    [
        IMPLEMENTED_SUBRESOURCES,
        BUCKET_SUBRESOURCES,
        OBJECT_SUBRESOURCES,
    ]
    .iter()
    .any(|list| list.contains(&name))
}

impl Operation {
    /// Classifies a request. `has_bucket` is whether addressing found a bucket; `key` is the
    /// decoded key (empty for bucket-level requests).
    pub fn classify(
        method: &Method,
        has_bucket: bool,
        key: &str,
        query: &Query,
        headers: &HeaderMap,
    ) -> Operation {
        if method == Method::OPTIONS {
            return Operation::Preflight;
        }
        if !has_bucket {
            return match *method {
                _ if !key.is_empty() => Operation::NoBucket,
                Method::GET => Operation::ListBuckets,
                _ => Operation::MethodNotAllowed,
            };
        }
        if key.is_empty() {
            Self::bucket_operation(method, query)
        } else {
            Self::object_operation(method, query, headers)
        }
    }

    fn bucket_operation(method: &Method, query: &Query) -> Operation {
        let acl = query.has("acl");
        match *method {
            Method::GET if acl => Operation::GetBucketAcl,
            Method::GET if query.has("uploads") => Operation::ListMultipartUploads,
            Method::PUT if acl => Operation::PutBucketAcl,
            Method::GET if query.has("style") => Operation::GetStyle,
            Method::PUT if query.has("style") => Operation::PutStyle,
            Method::DELETE if query.has("style") => Operation::DeleteStyle,
            Method::GET if query.has(STYLE_SEPARATORS) => Operation::GetStyleSeparators,
            Method::PUT if query.has(STYLE_SEPARATORS) => Operation::PutStyleSeparators,
            Method::POST if query.has("delete") => Operation::DeleteObjects,
            Method::GET | Method::PUT | Method::DELETE | Method::HEAD => {
                if let Some(sub) = unimplemented_subresource(query, BUCKET_SUBRESOURCES) {
                    return Operation::NotImplemented(sub);
                }
                match *method {
                    Method::GET => Operation::ListObjects,
                    Method::PUT => Operation::CreateBucket,
                    Method::DELETE => Operation::DeleteBucket,
                    _ => Operation::HeadBucket,
                }
            }
            // Browser form upload (`POST /` with a multipart form) is a COS feature mogr lacks.
            Method::POST => Operation::NotImplemented("PostObject"),
            _ => Operation::MethodNotAllowed,
        }
    }

    fn object_operation(method: &Method, query: &Query, headers: &HeaderMap) -> Operation {
        let upload_id = query.has("uploadId");
        let pic_operations = headers.contains_key("pic-operations");
        if let Some(sub) = unimplemented_subresource(query, OBJECT_SUBRESOURCES) {
            return match *method {
                Method::GET | Method::PUT | Method::POST | Method::DELETE | Method::HEAD => {
                    Operation::NotImplemented(sub)
                }
                _ => Operation::MethodNotAllowed,
            };
        }
        match *method {
            Method::GET if upload_id => Operation::ListParts,
            Method::GET | Method::HEAD => match query.rule() {
                Some(rule) => Operation::ProcessedGet {
                    rule,
                    head: method == Method::HEAD,
                },
                None if method == Method::GET => Operation::GetObject,
                None => Operation::HeadObject,
            },
            Method::PUT if headers.contains_key("x-cos-copy-source") => {
                Operation::NotImplemented("x-cos-copy-source")
            }
            Method::PUT if query.has("partNumber") || upload_id => Operation::UploadPart,
            Method::PUT if pic_operations => Operation::PutWithPicOperations,
            Method::PUT => Operation::PutObject,
            Method::POST if query.has("uploads") => Operation::InitiateMultipart,
            Method::POST if upload_id && pic_operations => Operation::CompleteWithPicOperations,
            Method::POST if upload_id => Operation::CompleteMultipart,
            Method::POST if query.has("image_process") => Operation::ImageProcess,
            Method::DELETE if upload_id => Operation::AbortMultipart,
            Method::DELETE => Operation::DeleteObject,
            _ => Operation::MethodNotAllowed,
        }
    }

    /// What an anonymous caller needs for this operation.
    pub fn access(&self) -> Access {
        use Operation::*;
        match self {
            Preflight | NotImplemented(_) | MethodNotAllowed | NoBucket => Access::Open,
            HeadBucket | ListObjects | GetObject | HeadObject | ProcessedGet { .. } => Access::Read,
            DeleteObjects
            | PutObject
            | DeleteObject
            | InitiateMultipart
            | UploadPart
            | CompleteMultipart
            | AbortMultipart
            | ListParts
            | ListMultipartUploads
            | PutWithPicOperations
            | ImageProcess
            | CompleteWithPicOperations => Access::Write,
            // Styles are the owner's templates: applying one needs only read access to the
            // object, but listing them would disclose rules the owner never published.
            ListBuckets | CreateBucket | DeleteBucket | GetBucketAcl | PutBucketAcl | GetStyle
            | PutStyle | DeleteStyle | GetStyleSeparators | PutStyleSeparators => Access::Owner,
        }
    }

    /// Whether the operation addresses an object key (so the key must be valid).
    pub fn is_object_level(&self) -> bool {
        use Operation::*;
        matches!(
            self,
            PutObject
                | GetObject
                | HeadObject
                | DeleteObject
                | InitiateMultipart
                | UploadPart
                | CompleteMultipart
                | AbortMultipart
                | ListParts
                | ProcessedGet { .. }
                | PutWithPicOperations
                | ImageProcess
                | CompleteWithPicOperations
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(
        method: Method,
        key: &str,
        query: &str,
        headers: &[(&'static str, &'static str)],
    ) -> Operation {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().unwrap());
        }
        Operation::classify(&method, true, key, &Query::parse(Some(query)), &h)
    }

    #[test]
    fn bucket_level_operations() {
        assert_eq!(
            op(
                Method::GET,
                "",
                "prefix=&delimiter=&marker=&max-keys=1000&encoding-type=url",
                &[]
            ),
            Operation::ListObjects
        );
        assert_eq!(op(Method::PUT, "", "", &[]), Operation::CreateBucket);
        assert_eq!(op(Method::GET, "", "acl", &[]), Operation::GetBucketAcl);
        assert_eq!(op(Method::PUT, "", "acl=", &[]), Operation::PutBucketAcl);
        assert_eq!(
            op(Method::POST, "", "delete=", &[]),
            Operation::DeleteObjects
        );
        assert_eq!(
            op(Method::GET, "", "cors", &[]),
            Operation::NotImplemented("cors")
        );
        assert_eq!(
            op(
                Method::GET,
                "",
                "uploads=&prefix=a&encoding-type=url&max-uploads=1000",
                &[]
            ),
            Operation::ListMultipartUploads
        );
        assert_eq!(
            op(Method::DELETE, "", "uploads", &[]),
            Operation::NotImplemented("uploads")
        );
        assert_eq!(op(Method::PATCH, "", "", &[]), Operation::MethodNotAllowed);
        assert_eq!(op(Method::GET, "", "style=", &[]), Operation::GetStyle);
        assert_eq!(op(Method::PUT, "", "style", &[]), Operation::PutStyle);
        assert_eq!(
            op(Method::DELETE, "", "style=", &[]),
            Operation::DeleteStyle
        );
        assert_eq!(
            op(Method::PUT, "", "mogr-style-separators", &[]),
            Operation::PutStyleSeparators
        );
        assert_eq!(
            op(Method::GET, "", "mogr-style-separators", &[]),
            Operation::GetStyleSeparators
        );
        assert_eq!(
            op(Method::POST, "", "style", &[]),
            Operation::NotImplemented("PostObject")
        );
        let none = Operation::classify(
            &Method::GET,
            false,
            "",
            &Query::default(),
            &HeaderMap::new(),
        );
        assert_eq!(none, Operation::ListBuckets);
        let key_without_bucket = Operation::classify(
            &Method::GET,
            false,
            "photo.jpg",
            &Query::default(),
            &HeaderMap::new(),
        );
        assert_eq!(key_without_bucket, Operation::NoBucket);
    }

    #[test]
    fn subresources_are_known() {
        for name in [
            "acl",
            "uploads",
            "uploadId",
            "partNumber",
            "delete",
            "cors",
            "tagging",
        ] {
            assert!(is_subresource(name), "{name}");
        }
        for name in [
            "prefix",
            "marker",
            "max-keys",
            "response-content-type",
            "imageInfo",
        ] {
            assert!(!is_subresource(name), "{name}");
        }
    }

    #[test]
    fn object_level_operations() {
        assert_eq!(
            op(Method::GET, "a", "response-content-type=x", &[]),
            Operation::GetObject
        );
        assert_eq!(op(Method::HEAD, "a", "", &[]), Operation::HeadObject);
        assert_eq!(
            op(Method::PUT, "a", "partNumber=1&uploadId=u", &[]),
            Operation::UploadPart
        );
        assert_eq!(
            op(Method::POST, "a", "uploads", &[]),
            Operation::InitiateMultipart
        );
        assert_eq!(
            op(Method::POST, "a", "uploadId=u", &[]),
            Operation::CompleteMultipart
        );
        assert_eq!(
            op(Method::DELETE, "a", "uploadId=u", &[]),
            Operation::AbortMultipart
        );
        assert_eq!(
            op(Method::GET, "a", "uploadId=u", &[]),
            Operation::ListParts
        );
        assert_eq!(
            op(Method::GET, "a", "acl", &[]),
            Operation::NotImplemented("acl")
        );
        assert_eq!(
            op(Method::PUT, "a", "", &[("x-cos-copy-source", "b/c")]),
            Operation::NotImplemented("x-cos-copy-source")
        );
    }

    #[test]
    fn processing_modes_are_recognised() {
        assert_eq!(
            op(Method::GET, "a.jpg", "imageMogr2%2Fformat%2Fwebp=", &[]),
            Operation::ProcessedGet {
                rule: "imageMogr2/format/webp".into(),
                head: false
            }
        );
        assert_eq!(
            op(Method::HEAD, "a.jpg", "imageInfo", &[]),
            Operation::ProcessedGet {
                rule: "imageInfo".into(),
                head: true
            }
        );
        assert_eq!(
            op(Method::PUT, "a.jpg", "", &[("pic-operations", "{}")]),
            Operation::PutWithPicOperations
        );
        assert_eq!(
            op(
                Method::POST,
                "a.jpg",
                "image_process=",
                &[("pic-operations", "{}")]
            ),
            Operation::ImageProcess
        );
        assert_eq!(
            op(
                Method::POST,
                "a.jpg",
                "uploadId=u",
                &[("pic-operations", "{}")]
            ),
            Operation::CompleteWithPicOperations
        );
    }

    #[test]
    fn anonymous_access_levels() {
        assert_eq!(Operation::GetObject.access(), Access::Read);
        assert_eq!(Operation::PutObject.access(), Access::Write);
        assert_eq!(Operation::PutBucketAcl.access(), Access::Owner);
        for styles in [
            Operation::GetStyle,
            Operation::PutStyle,
            Operation::DeleteStyle,
            Operation::PutStyleSeparators,
        ] {
            assert_eq!(styles.access(), Access::Owner);
        }
        assert_eq!(Operation::Preflight.access(), Access::Open);
    }
}
