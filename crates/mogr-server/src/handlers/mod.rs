//! One module per COS operation. Handlers stay thin: parse, call the store, render.

pub mod abort_multipart;
pub mod bucket_acl;
pub mod bucket_style;
pub mod complete_multipart;
pub mod create_bucket;
pub mod delete_bucket;
pub mod delete_object;
pub mod delete_objects;
pub mod get_object;
pub mod head_bucket;
pub mod initiate_multipart;
pub mod list_buckets;
pub mod list_multipart_uploads;
pub mod list_objects;
pub mod list_parts;
pub mod preflight;
pub mod put_object;
pub mod style_separators;
pub mod upload_part;

use mogr_cos::ErrorCode;

use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};

/// Refuses a body whose declared length is already over `limit`, before reading a byte.
pub fn check_declared_length(ctx: &RequestCtx, limit: u64) -> ApiResult<()> {
    match ctx.content_length() {
        Some(len) if len > limit => Err(ApiError::new(ErrorCode::EntityTooLarge)),
        _ => Ok(()),
    }
}

/// The `uploadId` parameter; `NoSuchUpload` when empty.
pub fn upload_id(ctx: &RequestCtx) -> ApiResult<&str> {
    match ctx.query.get("uploadId") {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(ApiError::new(ErrorCode::NoSuchUpload)),
    }
}

/// `encoding-type`: `url` asks for percent-encoded keys in listings; anything else but
/// absent or empty is `InvalidArgument`.
pub fn encoding_url(ctx: &RequestCtx) -> ApiResult<bool> {
    match ctx.query.get("encoding-type") {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("url") => Ok(true),
        Some(v) => Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            format!("invalid encoding-type `{v}`"),
        )),
    }
}

/// A listing parameter that is echoed into the XML answer (`prefix`, `marker`, ...), empty
/// when absent. Characters XML 1.0 cannot carry, even escaped, are refused as they are in keys:
/// echoing one would make the whole listing unparsable.
pub fn listing_param<'a>(ctx: &'a RequestCtx, name: &str) -> ApiResult<&'a str> {
    let value = ctx.query.get(name).unwrap_or("");
    if value.chars().any(mogr_store::is_unlistable_char) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            format!("{name} contains a control character"),
        ));
    }
    Ok(value)
}
