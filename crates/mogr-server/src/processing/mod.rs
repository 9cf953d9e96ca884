//! The three image-processing modes, behind the hooks the dispatcher calls.
//!
//! - Hooks return a complete response (status, body, `Content-Type`, `ETag` ...); the
//!   dispatcher adds `x-cos-request-id`, `Server` and CORS headers, and renders any
//!   [`ApiError`](crate::error_map::ApiError) as the COS error body (no body for HEAD).
//! - Authentication and the bucket ACL have already been checked; `key` is validated.
//! - Image work runs on [`ImageProcessor`]'s bounded pool, never on the async runtime; a full
//!   pool answers 503 `SlowDown` at once. The place is taken before a source is buffered, and
//!   the work stops at the processing time limit or when the client goes away.

mod cloud;
mod download;
pub mod errors;
mod location;
pub mod memory_budget;
mod original_info;
mod persist;
mod pipeline;
mod plan;
pub mod pool;
mod processor;
mod produce;
mod upload;
mod variant;
mod watermark_url;
mod watermarks;

use axum::body::Body;
use axum::response::Response;
use mogr_store::CompletedPart;

pub use download::X_MOGR_CACHE;
pub use processor::{ImageProcessor, Slot};
pub use variant::{CacheOutcome, Variants};

use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::state::AppState;
use persist::Origin;

/// Processing on download: `GET|HEAD /<key>?<rule>` (`rule` decoded, e.g.
/// `imageMogr2/thumbnail/!50p`; also `imageInfo`, `imageAve`, `exif`, `style/...`).
pub async fn get_processed(
    state: &AppState,
    bucket: &str,
    key: &str,
    rule: &str,
    head: bool,
    ctx: &RequestCtx,
) -> ApiResult<Response> {
    download::get_processed(state, bucket, key, rule, head, ctx).await
}

/// Processing on upload: `PUT /<key>` with `Pic-Operations`; `body` is the raw request body.
pub async fn put_with_pic_operations(
    state: &AppState,
    bucket: &str,
    key: &str,
    pic_operations: &str,
    ctx: &RequestCtx,
    body: Body,
) -> ApiResult<Response> {
    let origin = Origin {
        state,
        ctx,
        bucket,
        key,
    };
    upload::put(origin, pic_operations, body).await
}

/// Processing in the cloud: `POST /<key>?image_process` with `Pic-Operations`.
pub async fn image_process(
    state: &AppState,
    bucket: &str,
    key: &str,
    pic_operations: &str,
    ctx: &RequestCtx,
) -> ApiResult<Response> {
    let origin = Origin {
        state,
        ctx,
        bucket,
        key,
    };
    cloud::image_process(origin, pic_operations).await
}

/// Complete Multipart Upload with `Pic-Operations`: `parts` is the parsed, ordered part list.
pub async fn complete_with_pic_operations(
    state: &AppState,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: Vec<CompletedPart>,
    pic_operations: &str,
    ctx: &RequestCtx,
) -> ApiResult<Response> {
    let origin = Origin {
        state,
        ctx,
        bucket,
        key,
    };
    upload::complete(origin, upload_id, parts, pic_operations).await
}
