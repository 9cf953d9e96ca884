//! What the watermark stages of a request need: each watermark image (authorised and
//! versioned up front, read from the store only when an output is computed) and the fonts.
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

/// The watermark images and fonts a request's pipelines draw: authorised, located and
/// versioned up front (their versions are part of a variant's cache key), but read only when
/// the output is really computed, so a cache hit costs one metadata look-up per image.
#[derive(Debug, Default)]
pub struct Watermarks {
    images: Vec<Pending>,
    fonts: bool,
    versions: String,
}

/// A watermark image to read: its URL, its object and the version checked.
#[derive(Debug)]
struct Pending {
    url: String,
    object: ObjectRef,
    etag: String,
}

/// The assets read for one computation.
#[derive(Debug)]
pub struct Loaded {
    /// Images and fonts for the engine.
    pub assets: Assets,
    /// Every image was still the version [`Watermarks::versions`] names (an output drawn
    /// with a newer one must not be stored under the older key).
    pub unchanged: bool,
}

/// What `pipelines`, run on an image stored in (or bound for) `bucket`, draw: each watermark
/// image is authorised under the caller's authority for the rule and size-checked from its
/// metadata; nothing is read yet.
pub async fn gather<'a>(
    state: &AppState,
    ctx: &RequestCtx,
    bucket: &str,
    pipelines: impl IntoIterator<Item = &'a Pipeline>,
) -> ApiResult<Watermarks> {
    let pipelines: Vec<&Pipeline> = pipelines.into_iter().collect();
    let mut found = Watermarks {
        fonts: pipelines.iter().any(|p| needs_fonts(p)),
        ..Watermarks::default()
    };
    let authority = authn::rule_authority(&ctx.principal, &ctx.query, &ctx.headers);
    for url in pipelines.iter().flat_map(|p| image_urls(p)) {
        if found.images.iter().any(|p| p.url == url) {
            continue;
        }
        let object = locate(state, ctx, bucket, url)?;
        let etag = check(state, authority, &object).await?;
        found.versions.push_str(&format!("{url} {etag}\n"));
        found.images.push(Pending {
            url: url.to_string(),
            object,
            etag,
        });
    }
    Ok(found)
}

impl Watermarks {
    /// The versions of the watermark objects (`url etag` lines), for a variant's key.
    pub fn versions(&self) -> &str {
        &self.versions
    }

    /// Reads the images (within the size limit) and, when a text stage needs them, the fonts.
    pub async fn load(&self, state: &AppState) -> ApiResult<Loaded> {
        let mut assets = Assets::new();
        let mut unchanged = true;
        for image in &self.images {
            let (bytes, etag) = read(state, &image.object).await?;
            unchanged &= etag == image.etag;
            assets.insert_image(&image.url, Arc::new(bytes));
        }
        if self.fonts {
            // Only the first call reads font files; later ones return the shared book at once.
            let book = tokio::task::spawn_blocking(fonts::system_fonts)
                .await
                .map_err(|_| ApiError::new(ErrorCode::InternalError))?;
            assets.set_fonts(book);
        }
        Ok(Loaded { assets, unchanged })
    }
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

/// The largest watermark object read.
fn limit(state: &AppState) -> u64 {
    MAX_WATERMARK_BYTES.min(state.images.limits().max_input_bytes)
}

/// A missing watermark object is `NoSuchKey` naming it.
fn missing(key: &str) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::NoSuchKey => ApiError::with_message(
            ErrorCode::NoSuchKey,
            format!("The watermark image {key} does not exist."),
        ),
        other => other.into(),
    }
}

/// Checks that `authority` (the caller's, as far as its signature covers the rule) may read
/// the watermark object and that it is not too large: the ETag of its current version.
async fn check(state: &AppState, authority: &Principal, object: &ObjectRef) -> ApiResult<String> {
    let ObjectRef { bucket, key } = object;
    authn::authorize(state, authority, &Operation::GetObject, Some(bucket))
        .await
        .map_err(|_| {
            ApiError::with_message(
                ErrorCode::AccessDenied,
                format!("Access Denied: no permission to read the watermark image {key}."),
            )
        })?;
    let meta = state
        .store
        .head_object(bucket, key)
        .await
        .map_err(missing(key))?;
    let limit = limit(state);
    if meta.size > limit {
        return Err(too_big(key, limit));
    }
    Ok(meta.etag)
}

/// Reads an object [`check`] allowed: its bytes and the ETag of the version read.
async fn read(state: &AppState, object: &ObjectRef) -> ApiResult<(Vec<u8>, String)> {
    let ObjectRef { bucket, key } = object;
    let limit = limit(state);
    let GetObject { body, meta, .. } = state
        .store
        .get_object(bucket, key, None)
        .await
        .map_err(missing(key))?;
    let mut body = body;
    let mut buf = Vec::with_capacity(usize::try_from(meta.size.min(limit)).unwrap_or(0));
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
