//! What the watermark stages of a request need, gathered before the pool job starts: each
//! watermark image read from the store and the fonts.
//!
//! A watermark image must be an object of the bucket the processed image belongs to, named by
//! a URL (see [`super::watermark_url`]), and it is read with the request's own authority: the
//! caller must be allowed to GET it. A presigned link lends its authority only to the rules
//! it covers (see [`authn::rule_authority`]). Its size is checked from its metadata before any byte is
//! read. Nothing is fetched from the network.

use futures::StreamExt;
use mogr_cos::ErrorCode;
use mogr_image::watermark::{image_urls, needs_fonts};
use mogr_image::Assets;
use mogr_rule::Pipeline;
use mogr_store::{GetObject, StoreError};
use std::sync::Arc;

use super::watermark_url::{resolve, ObjectRef};
use crate::authn::{self, Principal};
use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};
use crate::fonts;
use crate::operation::Operation;
use crate::state::AppState;

/// Largest watermark image object read, in bytes (and never more than the processing limit).
pub const MAX_WATERMARK_BYTES: u64 = 10 << 20;

/// The assets of `pipelines`, run on an image stored in (or bound for) `bucket`, and the
/// versions of the watermark objects read (`url etag` lines, for a variant's cache key).
pub async fn gather<'a>(
    state: &AppState,
    ctx: &RequestCtx,
    bucket: &str,
    pipelines: impl IntoIterator<Item = &'a Pipeline>,
) -> ApiResult<(Assets, String)> {
    let pipelines: Vec<&Pipeline> = pipelines.into_iter().collect();
    let mut assets = Assets::new();
    let mut versions = String::new();
    let authority = authn::rule_authority(&ctx.principal, &ctx.query, &ctx.headers);
    let mut seen: Vec<&str> = Vec::new();
    for url in pipelines.iter().flat_map(|p| image_urls(p)) {
        if seen.contains(&url) {
            continue;
        }
        seen.push(url);
        let object = locate(state, ctx, bucket, url)?;
        let (bytes, etag) = read(state, authority, &object).await?;
        versions.push_str(&format!("{url} {etag}\n"));
        assets.insert_image(url, Arc::new(bytes));
    }
    if pipelines.iter().any(|p| needs_fonts(p)) {
        // Only the first call reads font files; later ones return the shared book at once.
        let book = tokio::task::spawn_blocking(fonts::system_fonts)
            .await
            .map_err(|_| ApiError::new(ErrorCode::InternalError))?;
        assets.set_fonts(book);
    }
    Ok((assets, versions))
}

/// The object `url` names, which must be in `bucket`.
fn locate(state: &AppState, ctx: &RequestCtx, bucket: &str, url: &str) -> ApiResult<ObjectRef> {
    let object = resolve(url, &ctx.host, &state.config.vhost_suffix)
        .map_err(|why| invalid(format!("The watermark URL {url} cannot be used: {why}.")))?;
    if object.bucket != bucket {
        return Err(invalid(format!(
            "The watermark image must be stored in bucket {bucket}, the bucket of the image; \
             {url} names bucket {}.",
            object.bucket
        )));
    }
    Ok(object)
}

/// Reads the watermark object under `authority` (the caller's, as far as its signature covers
/// the rule), refusing it if too large: its bytes and the ETag of the version read.
async fn read(
    state: &AppState,
    authority: &Principal,
    object: &ObjectRef,
) -> ApiResult<(Vec<u8>, String)> {
    let ObjectRef { bucket, key } = object;
    authn::authorize(state, authority, &Operation::GetObject, Some(bucket))
        .await
        .map_err(|_| {
            ApiError::with_message(
                ErrorCode::AccessDenied,
                format!("Access Denied: no permission to read the watermark image {key}."),
            )
        })?;
    let limit = MAX_WATERMARK_BYTES.min(state.images.limits().max_input_bytes);
    let missing = |e: StoreError| match e {
        StoreError::NoSuchKey => ApiError::with_message(
            ErrorCode::NoSuchKey,
            format!("The watermark image {key} does not exist."),
        ),
        other => other.into(),
    };
    let meta = state
        .store
        .head_object(bucket, key)
        .await
        .map_err(missing)?;
    if meta.size > limit {
        return Err(too_big(key, limit));
    }
    let GetObject { body, meta, .. } = state
        .store
        .get_object(bucket, key, None)
        .await
        .map_err(missing)?;
    let mut body = body;
    let mut buf = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(StoreError::from)?;
        // The object may have been replaced by a larger one since its metadata was read.
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(too_big(key, limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf, meta.etag))
}

fn invalid(message: String) -> ApiError {
    ApiError::with_message(ErrorCode::InvalidArgument, message)
}

fn too_big(key: &str, limit: u64) -> ApiError {
    ApiError::with_message(
        ErrorCode::ImageTooLarge,
        format!("The watermark image {key} is over the {limit} byte limit for watermarks."),
    )
}
