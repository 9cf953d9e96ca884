//! What the three `Pic-Operations` modes share: run the plan on the pool, stage the outputs,
//! and describe the stored result as `<UploadResult>`.

use bytes::Bytes;
use mogr_cos::xml::{OriginalInfo, ProcessResultObject, UploadResult};
use mogr_store::{ByteStream, ObjectAttrs, ObjectMeta, PutOptions, Stage};

use super::location::location;
use super::pipeline::{cost, memory_peak};
use super::plan::Plan;
use super::processor::Slot;
use super::produce::{produce, Production};
use crate::context::RequestCtx;
use crate::error_map::ApiResult;
use crate::state::AppState;
use crate::telemetry::metrics::ImageMode;

/// Runs every rule of `plan` on `original` in the pool.
pub async fn run_plan(
    state: &AppState,
    slot: Slot,
    original: Bytes,
    plan: &Plan,
    expected_md5: Option<[u8; 16]>,
    mode: ImageMode,
) -> ApiResult<Production> {
    let plan = plan.clone();
    state
        .images
        .run(slot, move |engine, budget| {
            produce(engine, budget, &original, &plan, expected_md5, mode)
        })
        .await?
}

/// Reads the original from `stream` (`size` bytes expected), taking the pool place for the
/// whole plan first; 503 before the bulk of the bytes is read when the pool is full.
pub async fn admit_original(
    state: &AppState,
    plan: &Plan,
    stream: ByteStream,
    size: u64,
) -> ApiResult<(Slot, Bytes)> {
    let images = &state.images;
    let limit = images.limits().max_input_bytes;
    images
        .admit_source(
            stream,
            size,
            limit,
            |shape| {
                cost(
                    images.engine(),
                    plan.rules.iter().map(|r| &r.pipeline),
                    plan.is_pic_info,
                    shape,
                )
            },
            |shape| {
                memory_peak(
                    images.engine(),
                    plan.rules.iter().map(|r| &r.pipeline),
                    plan.is_pic_info,
                    shape,
                )
            },
        )
        .await
}

/// Stages the outputs, in rule order; returns what each will be once published.
pub async fn stage_outputs(
    stage: &mut dyn Stage,
    plan: &Plan,
    production: &Production,
) -> ApiResult<Vec<ObjectMeta>> {
    let mut metas = Vec::with_capacity(plan.rules.len());
    for (rule, out) in plan.rules.iter().zip(&production.outputs) {
        let opts = PutOptions {
            attrs: ObjectAttrs {
                content_type: Some(out.mime.clone()),
                ..ObjectAttrs::default()
            },
            content_md5: None,
            length: Some(out.bytes.len() as u64),
        };
        let body = mogr_store::once(out.bytes.clone());
        metas.push(stage.put(&rule.bucket, &rule.key, body, opts).await?);
    }
    Ok(metas)
}

/// The original object a `Pic-Operations` request is about.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    /// Server state (settings for `Location`).
    pub state: &'a AppState,
    /// The request (its `Host` for `Location`).
    pub ctx: &'a RequestCtx,
    /// The original's bucket.
    pub bucket: &'a str,
    /// The original's key.
    pub key: &'a str,
}

impl Origin<'_> {
    /// Whether some rule writes over the original itself (the output replaces it).
    pub fn is_overwritten(&self, plan: &Plan) -> bool {
        plan.rules
            .iter()
            .any(|r| r.bucket == self.bucket && r.key == self.key)
    }

    /// `<host>/<key>` of `bucket`/`key` as this request's client addresses it.
    fn location_of(&self, bucket: &str, key: &str) -> String {
        location(self.state, self.ctx, self.bucket, bucket, key)
    }

    /// The `<UploadResult>` for the stored outputs. `stored_etag` is the original's own;
    /// an output written over the original replaces it (the last such output wins).
    pub fn upload_result(
        &self,
        stored_etag: &str,
        plan: &Plan,
        production: Production,
        outputs: &[ObjectMeta],
    ) -> UploadResult {
        let etag = plan
            .rules
            .iter()
            .zip(outputs)
            .rev()
            .find(|(r, _)| r.bucket == self.bucket && r.key == self.key)
            .map_or_else(|| stored_etag.to_string(), |(_, m)| m.etag.clone());
        let objects = plan
            .rules
            .iter()
            .zip(production.outputs)
            .zip(outputs)
            .map(|((rule, out), meta)| ProcessResultObject {
                key: rule.key.clone(),
                location: self.location_of(&rule.bucket, &rule.key),
                format: out.format,
                width: out.width,
                height: out.height,
                size: meta.size,
                quality: out.quality,
                etag: meta.etag.clone(),
                frame_count: out.frame_count,
            })
            .collect();
        UploadResult {
            original: OriginalInfo {
                key: self.key.to_string(),
                location: self.location_of(self.bucket, self.key),
                etag,
                image_info: production.original.image_info,
            },
            objects,
        }
    }
}
