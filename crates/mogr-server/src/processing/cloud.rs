//! Processing in the cloud: `POST /<key>?image_process` with `Pic-Operations` runs the rules
//! on a stored object. Only the outputs are written (all-or-nothing); the source changes only
//! when a fileid names it.

use axum::response::Response;
use http::StatusCode;
use mogr_store::GetObject;

use super::errors::too_large;
use super::persist::{admit_original, run_plan, stage_outputs, Origin};
use super::plan::plan;
use crate::error_map::ApiResult;
use crate::respond;
use crate::telemetry::metrics::ImageMode;

/// Answers `<UploadResult>` describing the source and the stored outputs.
pub async fn image_process(origin: Origin<'_>, header: &str) -> ApiResult<Response> {
    let Origin {
        state,
        ctx,
        bucket,
        key,
    } = origin;
    // A missing source is 404 before the header is judged, as on download.
    let meta = state.store.head_object(bucket, key).await?;
    let plan = plan(state, ctx, bucket, key, header).await?;
    let limit = state.images.limits().max_input_bytes;
    if meta.size > limit {
        return Err(too_large(limit));
    }
    let GetObject {
        meta, body: stream, ..
    } = state.store.get_object(bucket, key, None).await?;
    let (slot, source) = admit_original(state, &plan, stream, meta.size).await?;
    let production = run_plan(state, slot, source, &plan, None, ImageMode::Cloud).await?;

    let mut stage = state.store.stage();
    let metas = stage_outputs(stage.as_mut(), &plan, &production).await?;
    stage.publish().await?;
    let result = origin.upload_result(&meta.etag, &plan, production, &metas);
    Ok(respond::xml(StatusCode::OK, result.to_xml()))
}
