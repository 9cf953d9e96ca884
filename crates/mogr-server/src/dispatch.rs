//! The single entry point of every request: address, classify, authenticate, run, render.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use http::header::{HOST, ORIGIN};
use http::request::Parts;
use http::{Method, Request};
use mogr_cos::encode::decode_path;
use mogr_cos::query::Query;
use mogr_cos::ErrorCode;
use mogr_store::{validate_key, StoreError};

use crate::addressing::{self, Style};
use crate::authn;
use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};
use crate::handlers;
use crate::operation::Operation;
use crate::processing;
use crate::request_id::new_request_id;
use crate::respond::{self, ResponseContext};
use crate::state::AppState;
use crate::styles;
use crate::unread_body;

/// axum fallback handler: COS routing depends on Host and query, not on path patterns.
pub async fn handle(State(state): State<AppState>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let host = request_host(&parts);
    let mut rctx = ResponseContext {
        request_id: new_request_id(),
        resource: format!("{host}{}", parts.uri.path()),
        head: parts.method == Method::HEAD,
        cors: parts.headers.contains_key(ORIGIN),
    };
    let method = parts.method.clone();
    let mut body = Some(body);
    let res = match route(&state, parts, host, &mut body, &mut rctx).await {
        Ok(res) => respond::finish(res, &rctx),
        Err(err) => respond::error(err, &rctx),
    };
    // Refused before a handler took the body: answer now, read the rest in the background.
    if let Some(unread) = body {
        unread_body::discard_in_background(unread);
    }
    tracing::debug!(
        %method,
        resource = %rctx.resource,
        status = res.status().as_u16(),
        request_id = %rctx.request_id,
        "request"
    );
    res
}

/// The `Host` header, else the URI authority (absolute-form requests), else empty.
fn request_host(parts: &Parts) -> String {
    parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

async fn route(
    state: &AppState,
    parts: Parts,
    host: String,
    body: &mut Option<Body>,
    rctx: &mut ResponseContext,
) -> ApiResult<Response> {
    let decoded_path = decode_path(parts.uri.path())
        .ok_or_else(|| ApiError::with_message(ErrorCode::InvalidURI, "path is not UTF-8"))?;
    rctx.resource = format!("{host}{decoded_path}");
    let query = Query::parse(parts.uri.query());
    let target = resolve_target(state, &parts.method, &host, &decoded_path).await?;

    let operation = Operation::classify(
        &parts.method,
        target.bucket.is_some(),
        &target.key,
        &query,
        &parts.headers,
    );
    if operation.is_object_level() {
        validate_key(&target.key).map_err(ApiError::from)?;
    }

    let principal =
        authn::authenticate(state, &parts.method, &decoded_path, &query, &parts.headers)?;
    authn::check_signed_scope(&principal, target.style, &query, &parts.headers)?;
    authn::authorize(state, &principal, &operation, target.bucket.as_deref()).await?;
    authn::check_overrides(&principal, &operation, &query)?;

    let ctx = RequestCtx {
        method: parts.method,
        headers: parts.headers,
        query,
        host,
        bucket: target.bucket,
        key: target.key,
        principal,
    };
    let body = body.take().unwrap_or_else(Body::empty);
    run(state, &ctx, operation, body).await
}

/// Addressing. With a default bucket configured, a path whose first segment merely looks like
/// a bucket name is path-style only if that bucket exists (or the request is `PUT /<bucket>`,
/// which creates it); otherwise the whole path is a key in the default bucket.
async fn resolve_target(
    state: &AppState,
    method: &Method,
    host: &str,
    decoded_path: &str,
) -> ApiResult<addressing::Target> {
    let cfg = &state.config;
    let suffix = addressing::matching_suffix(
        host,
        &[cfg.vhost_suffix.as_str(), cfg.pic_vhost_suffix.as_str()],
    );
    let target = addressing::resolve(host, decoded_path, suffix, cfg.default_bucket.as_deref())?;
    let (Style::PathStyle, Some(default), Some(bucket)) =
        (&target.style, &cfg.default_bucket, &target.bucket)
    else {
        return Ok(target);
    };
    if target.key.is_empty() && method == Method::PUT {
        return Ok(target);
    }
    match state.store.head_bucket(bucket).await {
        Ok(_) => Ok(target),
        Err(StoreError::NoSuchBucket) => Ok(target.into_default_bucket(default)),
        Err(e) => Err(e.into()),
    }
}

/// The `Pic-Operations` header as text; `InvalidPicOperations` when absent or not UTF-8.
fn pic_operations(ctx: &RequestCtx) -> ApiResult<&str> {
    ctx.header("pic-operations").ok_or_else(|| {
        ApiError::with_message(
            ErrorCode::InvalidPicOperations,
            "Pic-Operations header is required",
        )
    })
}

/// A plain download. A key that does not exist may be the styled form `<key><sep><style>`
/// in a bucket that enables separators: then the object is processed with the style.
async fn get_object_or_styled(
    state: &AppState,
    ctx: &RequestCtx,
    head: bool,
) -> ApiResult<Response> {
    let missing = match handlers::get_object::handle(state, ctx, head).await {
        Err(e) if e.code() == ErrorCode::NoSuchKey => e,
        other => return other,
    };
    let bucket = ctx.bucket()?;
    match styles::split_styled_key(state, bucket, &ctx.key).await? {
        Some((key, style)) => {
            let rule = format!("style/{style}");
            processing::get_processed(state, bucket, &key, &rule, head, ctx).await
        }
        None => Err(missing),
    }
}

async fn run(
    state: &AppState,
    ctx: &RequestCtx,
    operation: Operation,
    body: Body,
) -> ApiResult<Response> {
    use handlers::*;
    match operation {
        Operation::ListBuckets => list_buckets::handle(state).await,
        Operation::CreateBucket => create_bucket::handle(state, ctx).await,
        Operation::HeadBucket => head_bucket::handle(state, ctx).await,
        Operation::DeleteBucket => delete_bucket::handle(state, ctx).await,
        Operation::GetBucketAcl => bucket_acl::get(state, ctx).await,
        Operation::PutBucketAcl => bucket_acl::put(state, ctx, body).await,
        Operation::ListObjects => list_objects::handle(state, ctx).await,
        Operation::ListMultipartUploads => list_multipart_uploads::handle(state, ctx).await,
        Operation::DeleteObjects => delete_objects::handle(state, ctx, body).await,
        Operation::PutObject => put_object::handle(state, ctx, body).await,
        Operation::GetObject => get_object_or_styled(state, ctx, false).await,
        Operation::HeadObject => get_object_or_styled(state, ctx, true).await,
        Operation::GetStyle => bucket_style::get(state, ctx, body).await,
        Operation::PutStyle => bucket_style::put(state, ctx, body).await,
        Operation::DeleteStyle => bucket_style::delete(state, ctx, body).await,
        Operation::GetStyleSeparators => style_separators::get(state, ctx).await,
        Operation::PutStyleSeparators => style_separators::put(state, ctx, body).await,
        Operation::DeleteObject => delete_object::handle(state, ctx).await,
        Operation::InitiateMultipart => initiate_multipart::handle(state, ctx).await,
        Operation::UploadPart => upload_part::handle(state, ctx, body).await,
        Operation::CompleteMultipart => complete_multipart::handle(state, ctx, body).await,
        Operation::AbortMultipart => abort_multipart::handle(state, ctx).await,
        Operation::ListParts => list_parts::handle(state, ctx).await,
        Operation::Preflight => Ok(preflight::handle()),
        Operation::ProcessedGet { rule, head } => {
            processing::get_processed(state, ctx.bucket()?, &ctx.key, &rule, head, ctx).await
        }
        Operation::PutWithPicOperations => {
            let pic = pic_operations(ctx)?;
            processing::put_with_pic_operations(state, ctx.bucket()?, &ctx.key, pic, ctx, body)
                .await
        }
        Operation::ImageProcess => {
            let pic = pic_operations(ctx)?;
            processing::image_process(state, ctx.bucket()?, &ctx.key, pic, ctx).await
        }
        Operation::CompleteWithPicOperations => {
            let pic = pic_operations(ctx)?;
            let upload_id = upload_id(ctx)?;
            let parts = complete_multipart::read_parts(body).await?;
            processing::complete_with_pic_operations(
                state,
                ctx.bucket()?,
                &ctx.key,
                upload_id,
                parts,
                pic,
                ctx,
            )
            .await
        }
        Operation::NotImplemented(what) => Err(ApiError::with_message(
            ErrorCode::NotImplemented,
            format!("{what} is not implemented by mogr"),
        )),
        Operation::MethodNotAllowed => Err(ApiError::new(ErrorCode::MethodNotAllowed)),
        Operation::NoBucket => Err(ApiError::with_message(
            ErrorCode::InvalidRequest,
            "The request names no bucket: send the bucket's virtual-host name \
             (<bucket>.cos.<region>.myqcloud.com) as Host, or use a /<bucket>/<key> path.",
        )),
    }
}
