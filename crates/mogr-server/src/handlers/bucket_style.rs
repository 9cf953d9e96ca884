//! GET/PUT/DELETE Bucket `?style`: the CI image-style API (`<AddStyle>`, `<GetStyle>`,
//! `<DeleteStyle>`, `<StyleList>`).

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use mogr_cos::xml::{parse_add_style, parse_delete_style, parse_get_style, StyleList};

use crate::body::collect_limited;
use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::handlers::check_declared_length;
use crate::respond;
use crate::state::AppState;
use crate::styles;

/// `GET /?style`: every style, or with a `<GetStyle><StyleName>` body only that one.
pub async fn get(state: &AppState, ctx: &RequestCtx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    check_declared_length(ctx, styles::MAX_STYLE_REQUEST)?;
    let body = collect_limited(body, styles::MAX_STYLE_REQUEST).await?;
    let only = parse_get_style(&body)?;
    let styles = styles::list(state, bucket, only.as_deref()).await?;
    Ok(respond::xml(StatusCode::OK, StyleList { styles }.to_xml()))
}

/// `PUT /?style` with `<AddStyle>`.
pub async fn put(state: &AppState, ctx: &RequestCtx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    check_declared_length(ctx, styles::MAX_STYLE_REQUEST)?;
    let body = collect_limited(body, styles::MAX_STYLE_REQUEST).await?;
    let add = parse_add_style(&body)?;
    styles::save(state, bucket, &add.name, &add.body).await?;
    Ok(respond::empty(StatusCode::OK))
}

/// `DELETE /?style` with `<DeleteStyle>`.
pub async fn delete(state: &AppState, ctx: &RequestCtx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    check_declared_length(ctx, styles::MAX_STYLE_REQUEST)?;
    let body = collect_limited(body, styles::MAX_STYLE_REQUEST).await?;
    let name = parse_delete_style(&body)?;
    styles::delete(state, bucket, &name).await?;
    Ok(respond::empty(StatusCode::OK))
}
