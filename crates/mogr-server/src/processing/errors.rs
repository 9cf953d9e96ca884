//! The one place where image-engine, rule and pool failures become COS errors.

use mogr_cos::ErrorCode;
use mogr_image::ImageError;
use mogr_rule::RuleError;
use mogr_store::StoreError;

use super::pool::PoolError;
use crate::error_map::ApiError;

/// The COS error for an engine failure; the engine's own wording becomes the message.
pub fn image_error(e: &ImageError) -> ApiError {
    let code = match e {
        ImageError::TooLarge(_) => ErrorCode::ImageTooLarge,
        ImageError::ResolutionExceed(_) => ErrorCode::ImageResolutionExceed,
        ImageError::UnknownFormat | ImageError::Corrupt { .. } => ErrorCode::InvalidImageFormat,
        ImageError::UnsupportedFormat(_) | ImageError::InvalidArgument(_) | ImageError::Rule(_) => {
            ErrorCode::InvalidArgument
        }
        ImageError::Encode { .. } => ErrorCode::InternalError,
    };
    if code == ErrorCode::InternalError {
        tracing::error!(error = %e, "image encoding failed");
    }
    ApiError::with_message(code, e.to_string())
}

/// A rule that does not parse: 400 `InvalidArgument` naming the problem.
pub fn rule_error(e: &RuleError) -> ApiError {
    ApiError::with_message(ErrorCode::InvalidArgument, format!("invalid rule: {e}"))
}

/// A pool refusal or failure: `SlowDown` when full, `InternalError` otherwise.
pub fn pool_error(e: &PoolError) -> ApiError {
    match e {
        PoolError::Busy => ApiError::with_message(
            ErrorCode::SlowDown,
            "Please reduce your request rate: all image workers are busy.",
        ),
        PoolError::Panicked(_) | PoolError::Stopped => {
            tracing::error!(error = %e, "image worker failure");
            ApiError::new(ErrorCode::InternalError)
        }
    }
}

/// A source too big to process: the store's size refusal read as CI's `ImageTooLarge`.
pub fn too_large(limit: u64) -> ApiError {
    ApiError::with_message(
        ErrorCode::ImageTooLarge,
        format!("image too large: over the {limit} byte processing limit"),
    )
}

/// Store errors while reading a source to process; a size refusal is `ImageTooLarge`.
pub fn source_error(e: StoreError, limit: u64) -> ApiError {
    match e {
        StoreError::EntityTooLarge(_) => too_large(limit),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_the_documented_codes() {
        let cases = [
            (
                ImageError::TooLarge("x".into()),
                ErrorCode::ImageTooLarge,
                400,
            ),
            (
                ImageError::ResolutionExceed("x".into()),
                ErrorCode::ImageResolutionExceed,
                400,
            ),
            (
                ImageError::UnknownFormat,
                ErrorCode::InvalidImageFormat,
                400,
            ),
            (
                ImageError::Corrupt {
                    format: "png",
                    detail: "eof".into(),
                },
                ErrorCode::InvalidImageFormat,
                400,
            ),
            (
                ImageError::UnsupportedFormat("tpg".into()),
                ErrorCode::InvalidArgument,
                400,
            ),
            (
                ImageError::InvalidArgument("x".into()),
                ErrorCode::InvalidArgument,
                400,
            ),
            (
                ImageError::Rule(RuleError::Empty),
                ErrorCode::InvalidArgument,
                400,
            ),
            (
                ImageError::Encode {
                    format: "avif",
                    detail: "x".into(),
                },
                ErrorCode::InternalError,
                500,
            ),
        ];
        for (e, code, status) in cases {
            let api = image_error(&e);
            assert_eq!(api.code(), code, "{e}");
            assert_eq!(api.error.status().as_u16(), status, "{e}");
        }
    }

    #[test]
    fn a_full_pool_is_slow_down_503() {
        let e = pool_error(&PoolError::Busy);
        assert_eq!(e.code(), ErrorCode::SlowDown);
        assert_eq!(e.error.status().as_u16(), 503);
        assert_eq!(
            pool_error(&PoolError::Stopped).code(),
            ErrorCode::InternalError
        );
    }
}
