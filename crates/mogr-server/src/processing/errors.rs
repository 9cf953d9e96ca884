//! The one place where image-engine, rule and pool failures become COS errors.

use http::header::RETRY_AFTER;
use mogr_cos::ErrorCode;
use mogr_image::ImageError;
use mogr_rule::RuleError;
use mogr_store::StoreError;

use super::pool::PoolError;
use crate::error_map::ApiError;
use crate::telemetry::metrics::{image_job, ImageMode, IMAGE_POOL_REFUSED};

/// The COS error for an engine failure; the engine's own wording becomes the message.
///
/// A job over the processing time limit is 400 `ImageTooLarge`: COS has no code of its own
/// for it, the cause is the image and rule (the clock runs only while a worker holds the job,
/// not while it waits), and a 4xx keeps SDKs from retrying work that will run out of time
/// again. A cancelled job has no client left to answer.
pub fn image_error(e: &ImageError) -> ApiError {
    let code = image_error_code(e);
    if code == ErrorCode::InternalError {
        tracing::error!(error = %e, "image encoding failed");
    }
    ApiError::with_message(code, e.to_string())
}

/// The COS code of an engine failure.
fn image_error_code(e: &ImageError) -> ErrorCode {
    match e {
        ImageError::TooLarge(_) | ImageError::TimeBudgetExceeded(_) => ErrorCode::ImageTooLarge,
        ImageError::Cancelled => ErrorCode::ServiceUnavailable,
        ImageError::ResolutionExceed(_) => ErrorCode::ImageResolutionExceed,
        ImageError::UnknownFormat | ImageError::Corrupt { .. } => ErrorCode::InvalidImageFormat,
        ImageError::UnsupportedFormat(_) | ImageError::InvalidArgument(_) | ImageError::Rule(_) => {
            ErrorCode::InvalidArgument
        }
        ImageError::Encode { .. } => ErrorCode::InternalError,
    }
}

/// Records one engine run in the image-job metrics: the output's format, or the COS code it
/// failed with.
pub fn record_output(
    mode: ImageMode,
    outcome: &Result<mogr_image::Output, ImageError>,
    engine_time: std::time::Duration,
) {
    let (format, result) = match outcome {
        Ok(out) => (out.format.to_string(), "ok"),
        Err(e) => ("none".to_string(), image_error_code(e).as_str()),
    };
    image_job(mode, &format, result, engine_time);
}

/// A rule that does not parse: 400 `InvalidArgument` naming the problem.
pub fn rule_error(e: &RuleError) -> ApiError {
    ApiError::with_message(ErrorCode::InvalidArgument, format!("invalid rule: {e}"))
}

/// A pool refusal or failure: `SlowDown` when full, `InternalError` otherwise.
pub fn pool_error(e: &PoolError) -> ApiError {
    match e {
        // A place frees as soon as any job ends; a second is a fair time to come back.
        PoolError::Busy => {
            ::metrics::counter!(IMAGE_POOL_REFUSED).increment(1);
            ApiError::with_message(
                ErrorCode::SlowDown,
                "Please reduce your request rate: all image workers are busy.",
            )
            .with_header(RETRY_AFTER, "1")
        }
        PoolError::Panicked(_) | PoolError::Stopped => {
            tracing::error!(error = %e, "image worker failure");
            ApiError::new(ErrorCode::InternalError)
        }
    }
}

/// No room in the memory budget within the wait: `SlowDown`, to be retried shortly (jobs
/// give their memory back within seconds).
pub fn memory_busy() -> ApiError {
    ApiError::with_message(
        ErrorCode::SlowDown,
        "Please reduce your request rate: the image memory budget is in use.",
    )
    .with_header(RETRY_AFTER, "1")
}

/// A source too big to process: the store's size refusal read as CI's `ImageTooLarge`.
pub fn too_large(limit: u64) -> ApiError {
    ApiError::with_message(
        ErrorCode::ImageTooLarge,
        format!("image too large: over the {limit} byte processing limit"),
    )
}

/// Errors while reading a source to process (from the store or the request body); a size
/// refusal is `ImageTooLarge`.
pub fn source_error(e: StoreError, limit: u64) -> ApiError {
    let err = ApiError::from(e);
    if err.code() == ErrorCode::EntityTooLarge {
        too_large(limit)
    } else {
        err
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
            (
                ImageError::TimeBudgetExceeded("x".into()),
                ErrorCode::ImageTooLarge,
                400,
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
        assert_eq!(e.headers.get(RETRY_AFTER).unwrap(), "1");
        assert_eq!(e.error.status().as_u16(), 503);
        assert_eq!(
            pool_error(&PoolError::Stopped).code(),
            ErrorCode::InternalError
        );
    }
}
