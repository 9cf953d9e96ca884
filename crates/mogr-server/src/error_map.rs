//! The one place where store, auth and body errors become COS errors.

use http::header::{CONTENT_RANGE, RETRY_AFTER};
use http::{HeaderMap, HeaderName, HeaderValue};
use mogr_cos::auth::AuthError;
use mogr_cos::{CosError, ErrorCode};
use mogr_store::StoreError;

use crate::body::BodyError;

/// A COS error on its way out, with any headers it must carry (416's `Content-Range`).
///
/// Boxed so that `Result<_, ApiError>` stays small on the happy path; the fields are
/// reachable through `Deref` (`err.error`, `err.headers`).
#[derive(Debug)]
pub struct ApiError(Box<ErrorParts>);

/// The contents of an [`ApiError`].
#[derive(Debug)]
pub struct ErrorParts {
    /// The code, message and signature debug strings.
    pub error: CosError,
    /// Extra response headers.
    pub headers: HeaderMap,
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with the code's default message.
    pub fn new(code: ErrorCode) -> Self {
        CosError::new(code).into()
    }

    /// An error with a specific message.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        CosError::with_message(code, message).into()
    }

    /// Adds a response header (values that are not valid header text are dropped).
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.0.headers.insert(name, v);
        }
        self
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.0.error.code
    }

    /// The COS error without the extra headers.
    pub fn into_error(self) -> CosError {
        self.0.error
    }
}

impl std::ops::Deref for ApiError {
    type Target = ErrorParts;

    fn deref(&self) -> &ErrorParts {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorParts {
        &mut self.0
    }
}

impl From<CosError> for ApiError {
    fn from(error: CosError) -> Self {
        ApiError(Box::new(ErrorParts {
            error,
            headers: HeaderMap::new(),
        }))
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError::new(code)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::NoSuchBucket => ErrorCode::NoSuchBucket,
            StoreError::NoSuchKey => ErrorCode::NoSuchKey,
            // Every credential owns every bucket, so an existing name is always "yours".
            StoreError::BucketAlreadyExists => ErrorCode::BucketAlreadyOwnedByYou,
            StoreError::BucketNotEmpty => ErrorCode::BucketNotEmpty,
            StoreError::InvalidBucketName(_) => ErrorCode::InvalidBucketName,
            StoreError::InvalidKey(_) => ErrorCode::InvalidURI,
            StoreError::KeyTooLong(_) => ErrorCode::KeyTooLong,
            StoreError::BadDigest => ErrorCode::BadDigest,
            StoreError::EntityTooLarge(_) => ErrorCode::EntityTooLarge,
            StoreError::NoSuchUpload => ErrorCode::NoSuchUpload,
            StoreError::InvalidPart(_) => ErrorCode::InvalidPart,
            StoreError::InvalidPartOrder => ErrorCode::InvalidPartOrder,
            StoreError::EntityTooSmall { .. } => ErrorCode::EntityTooSmall,
            StoreError::InvalidRange { size, .. } => {
                return ApiError::new(ErrorCode::InvalidRange)
                    .with_header(CONTENT_RANGE, &format!("bytes */{size}"));
            }
            StoreError::InvalidArgument(_) => ErrorCode::InvalidArgument,
            StoreError::Unavailable(why) => {
                // The engine's condition, not the request's: SDKs retry 503 SlowDown.
                tracing::warn!(error = %why, "storage engine unavailable");
                metrics::counter!(crate::telemetry::metrics::STORE_ERRORS).increment(1);
                return ApiError::new(ErrorCode::SlowDown).with_header(RETRY_AFTER, "1");
            }
            StoreError::Io(io) => return io_error(io),
        };
        let message = match code {
            // These carry useful detail; the rest read better with COS's own wording.
            ErrorCode::InvalidPart
            | ErrorCode::InvalidArgument
            | ErrorCode::KeyTooLong
            | ErrorCode::EntityTooSmall => {
                format!("{}: {e}", code.default_message())
            }
            _ => code.default_message().to_string(),
        };
        ApiError::with_message(code, message)
    }
}

/// The message of a write refused because the data folder's file system is full.
pub const STORAGE_FULL: &str = "The server is out of storage space. Please try again later.";

/// An I/O error from the store: a failed request body shows through as its own code, a full
/// disk as 503 `ServiceUnavailable`.
fn io_error(io: &std::io::Error) -> ApiError {
    if let Some(body) = io.get_ref().and_then(|e| e.downcast_ref::<BodyError>()) {
        return body.to_api_error();
    }
    if matches!(
        io.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) {
        // The server's condition, not the request's: 503 tells clients (and SDKs, which
        // retry it) to come back later; nothing of the failed write is kept.
        tracing::warn!(error = %io, "storage full: write refused");
        return ApiError::with_message(ErrorCode::ServiceUnavailable, STORAGE_FULL);
    }
    tracing::error!(error = %io, "storage I/O error");
    metrics::counter!(crate::telemetry::metrics::STORE_ERRORS).increment(1);
    ApiError::new(ErrorCode::InternalError)
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        e.to_api_error()
    }
}

/// Maps a signature failure to COS's answer (mogr-cos knows the wording: `AccessDenied`
/// "Request has expired", `SignatureDoesNotMatch` with StringToSign/FormatString, ...).
pub fn auth_error(e: AuthError) -> ApiError {
    CosError::from(e).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_engine_is_503_slow_down_with_retry_after() {
        let e = ApiError::from(StoreError::Unavailable("connection refused".into()));
        assert_eq!(e.code(), ErrorCode::SlowDown);
        assert_eq!(e.code().status().as_u16(), 503);
        assert_eq!(e.headers.get(RETRY_AFTER).unwrap(), "1");
    }
}
