//! GET / HEAD Object: ranges, conditionals, stored attributes and `response-*` overrides.

use axum::body::Body;
use axum::response::Response;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, LAST_MODIFIED, RANGE};
use http::{HeaderValue, StatusCode};
use mogr_cos::time_fmt::http_date;
use mogr_cos::ErrorCode;

use crate::conditional::{self, Precondition};
use crate::context::RequestCtx;
use crate::error_map::{ApiError, ApiResult};
use crate::object_headers::{quoted_etag, write_object_headers};
use crate::range::{self, RangeOutcome};
use crate::respond;
use crate::state::AppState;

/// `GET /<key>` (`head == false`) or `HEAD /<key>`.
pub async fn handle(state: &AppState, ctx: &RequestCtx, head: bool) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let meta = state.store.head_object(bucket, &ctx.key).await?;

    match conditional::evaluate(&ctx.headers, &meta.etag, meta.last_modified) {
        Precondition::Proceed => {}
        Precondition::Failed => return Err(ApiError::new(ErrorCode::PreconditionFailed)),
        Precondition::NotModified => {
            let mut res = respond::empty(StatusCode::NOT_MODIFIED);
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&quoted_etag(&meta.etag)) {
                h.insert(ETAG, v);
            }
            if let Ok(v) = HeaderValue::from_str(&http_date(meta.last_modified)) {
                h.insert(LAST_MODIFIED, v);
            }
            return Ok(res);
        }
    }

    let range = match range::evaluate(ctx.header(RANGE.as_str()), meta.size) {
        RangeOutcome::Full => None,
        RangeOutcome::Partial(start, end) => Some((start, end)),
        RangeOutcome::Unsatisfiable => {
            return Err(ApiError::new(ErrorCode::InvalidRange)
                .with_header(CONTENT_RANGE, &format!("bytes */{}", meta.size)));
        }
    };

    let (meta, body) = if head {
        (meta, Body::empty())
    } else {
        let (meta, stream) = state.store.get_object(bucket, &ctx.key, range).await?;
        (meta, Body::from_stream(stream))
    };

    let mut res = Response::new(body);
    let headers = res.headers_mut();
    write_object_headers(headers, &meta, &ctx.query);
    let length = match range {
        Some((start, end)) => {
            *res.status_mut() = StatusCode::PARTIAL_CONTENT;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{}", meta.size)) {
                res.headers_mut().insert(CONTENT_RANGE, v);
            }
            end - start + 1
        }
        None => meta.size,
    };
    res.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(length));
    Ok(res)
}
