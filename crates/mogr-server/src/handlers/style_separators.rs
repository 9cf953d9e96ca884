//! GET/PUT Bucket `?mogr-style-separators` (mogr's own): which characters may separate a key
//! from a style name on download (`photo.jpg!thumb`).

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use mogr_cos::xml::{parse_style_separators, style_separators_xml};

use crate::body::collect_limited;
use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::handlers::check_declared_length;
use crate::respond;
use crate::state::AppState;
use crate::styles;

/// `GET /?mogr-style-separators`.
pub async fn get(state: &AppState, ctx: &RequestCtx) -> ApiResult<Response> {
    let separators = styles::separators(state, ctx.bucket()?).await?;
    Ok(respond::xml(
        StatusCode::OK,
        style_separators_xml(&separators),
    ))
}

/// `PUT /?mogr-style-separators` with `<StyleSeparators><Separators>`.
pub async fn put(state: &AppState, ctx: &RequestCtx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    check_declared_length(ctx, styles::MAX_STYLE_REQUEST)?;
    let body = collect_limited(body, styles::MAX_STYLE_REQUEST).await?;
    let separators = parse_style_separators(&body)?;
    styles::set_separators(state, bucket, &separators).await?;
    Ok(respond::empty(StatusCode::OK))
}
