//! The CPU half of `Pic-Operations`, run on a pool thread: hash the original, describe it,
//! and run every rule. All or nothing: the first failing rule fails the whole request.

use bytes::Bytes;
use md5::{Digest, Md5};
use mogr_cos::xml::ImageInfoXml;
use mogr_cos::ErrorCode;
use mogr_image::{Budget, Engine, ImageError, Output};

use std::time::Instant;

use super::errors::{image_error, record_output};
use super::original_info::{original_image_info, LOSSLESS_QUALITY};
use super::plan::Plan;
use crate::error_map::{ApiError, ApiResult};
use crate::telemetry::metrics::ImageMode;

/// Facts about the original that the response reports.
#[derive(Debug, Clone)]
pub struct OriginalFacts {
    /// MD5 hex of the bytes (the header `ETag` of an upload).
    pub md5: String,
    /// CRC-64/XZ of the bytes (`x-cos-hash-crc64ecma`).
    pub crc64: u64,
    /// `ImageInfo`, when `is_pic_info` asked for it.
    pub image_info: Option<ImageInfoXml>,
}

/// One rule's output, ready to store.
#[derive(Debug, Clone)]
pub struct Produced {
    /// Encoded bytes.
    pub bytes: Bytes,
    /// Stored as the object's `Content-Type`.
    pub mime: String,
    /// `Object/Format`.
    pub format: String,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Output quality: the encoder's for lossy formats, 100 for lossless ones (CI always
    /// reports it).
    pub quality: Option<u32>,
    /// Frames, reported only for animations.
    pub frame_count: Option<u32>,
}

/// Everything the pool job hands back.
#[derive(Debug, Clone)]
pub struct Production {
    /// The original's facts.
    pub original: OriginalFacts,
    /// One output per rule, in rule order.
    pub outputs: Vec<Produced>,
}

/// Runs `plan` on `original` within `budget` (one budget for all rules: they are one
/// request). `expected_md5` is the request's `Content-MD5`, checked first so a damaged upload
/// costs no processing.
pub fn produce(
    engine: &Engine,
    budget: &Budget,
    original: &Bytes,
    plan: &Plan,
    expected_md5: Option<[u8; 16]>,
    mode: ImageMode,
) -> ApiResult<Production> {
    let digest: [u8; 16] = Md5::digest(original).into();
    if expected_md5.is_some_and(|m| m != digest) {
        return Err(ApiError::new(ErrorCode::BadDigest));
    }
    let limits = &engine.config.limits;
    let image_info = if plan.is_pic_info {
        budget.check().map_err(|e| image_error(&e))?;
        Some(original_image_info(original, limits).map_err(|e| image_error(&e))?)
    } else {
        None
    };
    let mut outputs = Vec::with_capacity(plan.rules.len());
    for rule in &plan.rules {
        // `ignore-error/1` is the engine's business: over a limit it returns the original.
        let started = Instant::now();
        let outcome = engine.process_with(original, &rule.pipeline, budget, &plan.assets);
        record_output(mode, &outcome, started.elapsed());
        let out = outcome.map_err(|e| rule_failure(&e, &rule.key))?;
        outputs.push(from_output(out));
    }
    Ok(Production {
        original: OriginalFacts {
            md5: hex::encode(digest),
            crc64: mogr_store::crc64(original),
            image_info,
        },
        outputs,
    })
}

fn from_output(out: Output) -> Produced {
    Produced {
        bytes: Bytes::from(out.bytes),
        mime: out.mime.to_string(),
        format: out.format.to_string(),
        width: out.width,
        height: out.height,
        quality: Some(out.quality.map_or(LOSSLESS_QUALITY, u32::from)),
        frame_count: (out.frame_count > 1).then_some(out.frame_count),
    }
}

/// The rule's error, naming the output it was for.
fn rule_failure(e: &ImageError, key: &str) -> ApiError {
    let mut err = image_error(e);
    err.error.message = format!("{} (rule for {key})", err.error.message);
    err
}
