//! Typed engine errors; the HTTP edge maps them to COS error codes once.

use mogr_rule::RuleError;

/// Why processing failed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Input or output bytes over the configured limit (COS `ImageTooLarge`).
    #[error("image too large: {0}")]
    TooLarge(String),
    /// Width, height, pixels or frames over a limit (COS `ImageResolutionExceed`).
    #[error("image resolution exceeds the limit: {0}")]
    ResolutionExceed(String),
    /// The bytes are not a format the engine recognises (COS `InvalidImageFormat`).
    #[error("unrecognised image format")]
    UnknownFormat,
    /// The bytes claim a format but are truncated or corrupt (COS `InvalidImageFormat`).
    #[error("corrupt or truncated {format} image: {detail}")]
    Corrupt {
        /// The sniffed format name.
        format: &'static str,
        /// What the decoder said.
        detail: String,
    },
    /// The requested output format cannot be produced (COS `InvalidArgument`).
    #[error("{0}")]
    UnsupportedFormat(String),
    /// The operation cannot apply to this image (COS `InvalidArgument`).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The rule did not parse (COS `InvalidArgument`).
    #[error("invalid rule: {0}")]
    Rule(#[from] RuleError),
    /// The job ran out of its processing time (or was predicted to); `ignore-error/1` turns
    /// it into "return the original".
    #[error("processing took too long: {0}")]
    TimeBudgetExceeded(String),
    /// The requester went away; nobody will see the result.
    #[error("processing was cancelled: the requester went away")]
    Cancelled,
    /// An encoder failed on valid pixels (COS `InternalError`).
    #[error("encoding {format} failed: {detail}")]
    Encode {
        /// Output format name.
        format: &'static str,
        /// What the encoder said.
        detail: String,
    },
}

impl ImageError {
    /// Limit failures are the ones `ignore-error/1` turns into "return the original".
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            ImageError::TooLarge(_) | ImageError::ResolutionExceed(_)
        )
    }
}

/// Engine result type.
pub type Result<T, E = ImageError> = std::result::Result<T, E>;
