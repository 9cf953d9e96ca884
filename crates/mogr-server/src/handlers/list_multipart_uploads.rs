//! GET `/?uploads`: List Multipart Uploads (the PY SDK's `upload_file` asks it before a
//! multipart upload, to resume an unfinished one).

use axum::response::Response;
use http::StatusCode;
use mogr_cos::xml::{ListMultipartUploadsResult, UploadEntry};
use mogr_cos::ErrorCode;
use mogr_store::ListUploadsQuery;

use crate::context::{owner_of, RequestCtx};
use crate::error_map::{ApiError, ApiResult};
use crate::handlers::{encoding_url, listing_param};
use crate::respond;
use crate::state::AppState;

/// Default and largest `max-uploads`.
pub const MAX_UPLOADS: usize = 1000;

/// `max-uploads`: absent or empty means 1000, larger values are capped at 1000.
fn max_uploads(ctx: &RequestCtx) -> ApiResult<usize> {
    match ctx.query.get("max-uploads").map(str::trim) {
        None | Some("") => Ok(MAX_UPLOADS),
        Some(v) => v.parse::<usize>().map(|n| n.min(MAX_UPLOADS)).map_err(|_| {
            ApiError::with_message(
                ErrorCode::InvalidArgument,
                format!("invalid max-uploads `{v}`"),
            )
        }),
    }
}

/// `GET /?uploads[&prefix=&delimiter=&key-marker=&upload-id-marker=&max-uploads=&encoding-type=]`.
pub async fn handle(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let encoding_url = encoding_url(ctx)?;
    let param = |name: &str| listing_param(ctx, name).map(str::to_string);
    let query = ListUploadsQuery {
        prefix: param("prefix")?,
        delimiter: param("delimiter")?,
        key_marker: param("key-marker")?,
        upload_id_marker: param("upload-id-marker")?,
        max_uploads: max_uploads(ctx)?,
    };
    let page = state.store.list_multipart_uploads(bucket, &query).await?;
    let result = ListMultipartUploadsResult {
        bucket: bucket.to_string(),
        encoding_url,
        max_uploads: u32::try_from(query.max_uploads).unwrap_or(1000),
        key_marker: query.key_marker,
        upload_id_marker: query.upload_id_marker,
        next_key_marker: page.next_key_marker,
        next_upload_id_marker: page.next_upload_id_marker,
        is_truncated: page.is_truncated,
        prefix: query.prefix,
        delimiter: query.delimiter,
        uploads: page
            .uploads
            .into_iter()
            .map(|u| UploadEntry {
                key: u.key,
                upload_id: u.upload_id,
                initiated: u.initiated,
            })
            .collect(),
        common_prefixes: page.common_prefixes,
        owner_id: owner_of(bucket).to_string(),
    };
    Ok(respond::xml(StatusCode::OK, result.to_xml()))
}
