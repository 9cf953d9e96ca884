//! COS error codes, their HTTP statuses and the `<Error>` XML body (docs/cos-protocol.md, "Errors").

use http::StatusCode;

use crate::xml::writer::XmlWriter;

macro_rules! error_codes {
    ($($variant:ident => $status:ident, $message:literal;)+) => {
        /// A COS / Cloud Infinite error code as sent in `<Code>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(
                #[doc = $message]
                $variant,
            )+
        }

        impl ErrorCode {
            /// Every code, for exhaustive tests and documentation.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The HTTP status COS answers with for this code.
            pub fn status(&self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)+
                }
            }

            /// The code as it appears in `<Code>`.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => stringify!($variant),)+
                }
            }

            /// The `<Message>` used when the caller has nothing more specific.
            pub fn default_message(&self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)+
                }
            }
        }
    };
}

error_codes! {
    AccessDenied => FORBIDDEN, "Access Denied.";
    SignatureDoesNotMatch => FORBIDDEN, "The Signature you specified is invalid.";
    InvalidAccessKeyId => FORBIDDEN, "The access key Id format you provided is invalid.";
    RequestTimeTooSkewed => FORBIDDEN, "The difference between the request time and the server's time is too large.";
    NoProcessAuthority => FORBIDDEN, "You have no permission to process images.";
    NoSuchKey => NOT_FOUND, "The specified key does not exist.";
    NoSuchBucket => NOT_FOUND, "The specified bucket does not exist.";
    NoSuchUpload => NOT_FOUND, "The specified multipart upload does not exist.";
    BucketAlreadyOwnedByYou => CONFLICT, "The requested bucket has already existed.";
    BucketAlreadyExists => CONFLICT, "The requested bucket name is not available.";
    BucketNotEmpty => CONFLICT, "The bucket you tried to delete is not empty.";
    InvalidBucketName => BAD_REQUEST, "The specified bucket is not valid.";
    InvalidURI => BAD_REQUEST, "Couldn't parse the specified URI.";
    KeyTooLong => BAD_REQUEST, "Your key is too long.";
    InvalidArgument => BAD_REQUEST, "Invalid Argument.";
    InvalidRequest => BAD_REQUEST, "Invalid Request.";
    MalformedXML => BAD_REQUEST, "The XML you provided was not well-formed or did not validate against our published schema.";
    EntityTooLarge => BAD_REQUEST, "Your proposed upload exceeds the maximum allowed object size.";
    EntityTooSmall => BAD_REQUEST, "Your proposed upload is smaller than the minimum allowed object size.";
    EntitySizeNotMatch => BAD_REQUEST, "The request body size does not match Content-Length.";
    BadDigest => BAD_REQUEST, "The Content-MD5 you specified did not match what we received.";
    InvalidDigest => BAD_REQUEST, "The Content-MD5 you specified is not valid.";
    IncompleteBody => BAD_REQUEST, "You did not provide the number of bytes specified by the Content-Length HTTP header.";
    RequestTimeout => BAD_REQUEST, "Your socket connection to the server was not read from or written to within the timeout period.";
    ExpiredToken => BAD_REQUEST, "The provided token has expired.";
    InvalidPart => BAD_REQUEST, "One or more of the specified parts could not be found.";
    InvalidPartOrder => BAD_REQUEST, "The list of parts was not in ascending order.";
    ImageTooLarge => BAD_REQUEST, "The image is too large to process.";
    ImageResolutionExceed => BAD_REQUEST, "The image resolution or frame count exceeds the limit.";
    InvalidImageFormat => BAD_REQUEST, "The image format is invalid or not supported.";
    InvalidImageSource => BAD_REQUEST, "The image source is invalid.";
    InvalidPicOperations => BAD_REQUEST, "The Pic-Operations header is invalid.";
    PreconditionFailed => PRECONDITION_FAILED, "Precondition not match.";
    InvalidRange => RANGE_NOT_SATISFIABLE, "The requested range is not satisfiable.";
    MethodNotAllowed => METHOD_NOT_ALLOWED, "The specified method is not allowed against this resource.";
    MissingContentLength => LENGTH_REQUIRED, "You must provide the Content-Length HTTP header.";
    InternalError => INTERNAL_SERVER_ERROR, "We encountered an internal error. Please try again.";
    NotImplemented => NOT_IMPLEMENTED, "A header you provided implies functionality that is not implemented.";
    SlowDown => SERVICE_UNAVAILABLE, "Please reduce your request rate.";
    ServiceUnavailable => SERVICE_UNAVAILABLE, "Please reduce your request rate.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A COS error ready to be rendered as the `<Error>` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CosError {
    /// The error code (decides the HTTP status).
    pub code: ErrorCode,
    /// Human-readable `<Message>`.
    pub message: String,
    /// `<StringToSign>` the server computed, on signature errors only.
    pub string_to_sign: Option<String>,
    /// `<FormatString>` (the HttpString) the server computed, on signature errors only.
    pub format_string: Option<String>,
}

impl CosError {
    /// An error with the code's default message.
    pub fn new(code: ErrorCode) -> Self {
        Self::with_message(code, code.default_message())
    }

    /// An error with a specific message.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        CosError {
            code,
            message: message.into(),
            string_to_sign: None,
            format_string: None,
        }
    }

    /// `SignatureDoesNotMatch` carrying the server's StringToSign and FormatString.
    pub fn signature_mismatch(
        string_to_sign: impl Into<String>,
        format_string: impl Into<String>,
    ) -> Self {
        CosError {
            string_to_sign: Some(string_to_sign.into()),
            format_string: Some(format_string.into()),
            ..Self::new(ErrorCode::SignatureDoesNotMatch)
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The `<Error>` body; `resource` is `<host>/<key>`.
    pub fn to_xml(&self, resource: &str, request_id: &str, trace_id: &str) -> String {
        let mut w = XmlWriter::new();
        w.open("Error");
        w.text("Code", self.code.as_str());
        w.text("Message", &self.message);
        if let Some(sts) = &self.string_to_sign {
            w.text("StringToSign", sts);
        }
        if let Some(fs) = &self.format_string {
            w.text("FormatString", fs);
        }
        w.text("Resource", resource);
        w.text("RequestId", request_id);
        w.text("TraceId", trace_id);
        w.close("Error");
        w.finish()
    }
}

impl From<ErrorCode> for CosError {
    fn from(code: ErrorCode) -> Self {
        CosError::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct ErrorXml {
        code: String,
        message: String,
        string_to_sign: Option<String>,
        format_string: Option<String>,
        resource: String,
        request_id: String,
        trace_id: String,
    }

    #[test]
    fn statuses_match_the_cos_table() {
        use ErrorCode::*;
        let expect = [
            (AccessDenied, 403),
            (SignatureDoesNotMatch, 403),
            (NoProcessAuthority, 403),
            (NoSuchKey, 404),
            (NoSuchUpload, 404),
            (BucketAlreadyOwnedByYou, 409),
            (BucketNotEmpty, 409),
            (InvalidPicOperations, 400),
            (MalformedXML, 400),
            (PreconditionFailed, 412),
            (InvalidRange, 416),
            (MethodNotAllowed, 405),
            (MissingContentLength, 411),
            (InternalError, 500),
            (NotImplemented, 501),
            (SlowDown, 503),
            (ServiceUnavailable, 503),
        ];
        for (code, status) in expect {
            assert_eq!(code.status().as_u16(), status, "{code}");
        }
        assert_eq!(MalformedXML.as_str(), "MalformedXML");
        assert_eq!(InvalidURI.to_string(), "InvalidURI");
    }

    #[test]
    fn every_code_has_a_distinct_name_and_a_message() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert!(ErrorCode::ALL
            .iter()
            .all(|c| !c.default_message().is_empty()));
        assert!(ErrorCode::ALL
            .iter()
            .all(|c| c.status().is_client_error() || c.status().is_server_error()));
    }

    #[test]
    fn plain_error_body_has_the_fields_the_python_sdk_requires() {
        let body = CosError::new(ErrorCode::NoSuchKey).to_xml("b-1.cos/a<b>.jpg", "req1", "tr1");
        assert!(body.starts_with("<?xml version='1.0' encoding='utf-8' ?>\n<Error>"));
        assert!(!body.contains("StringToSign"));
        let e: ErrorXml = quick_xml::de::from_str(&body).unwrap();
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.message, "The specified key does not exist.");
        assert_eq!(e.resource, "b-1.cos/a<b>.jpg");
        assert_eq!(e.request_id, "req1");
        assert_eq!(e.trace_id, "tr1");
        assert_eq!(e.string_to_sign, None);
    }

    #[test]
    fn signature_error_body_carries_debug_strings() {
        let err = CosError::signature_mismatch("sha1\n1;2\nabc\n", "get\n/a&b\n\nhost=h\n");
        assert_eq!(err.status(), StatusCode::FORBIDDEN);
        let body = err.to_xml("h/a&b", "r", "t");
        assert!(body.contains("&amp;"));
        let e: ErrorXml = quick_xml::de::from_str(&body).unwrap();
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert_eq!(e.string_to_sign.as_deref(), Some("sha1\n1;2\nabc\n"));
        assert_eq!(e.format_string.as_deref(), Some("get\n/a&b\n\nhost=h\n"));
        assert!(body.find("<FormatString>").unwrap() < body.find("<Resource>").unwrap());
    }
}
