//! Processing on upload: `PUT /<key>` and Complete Multipart Upload with `Pic-Operations`.
//!
//! Everything is checked and processed before anything is stored; then the original and the
//! outputs are written all-or-nothing, so a failing rule leaves the bucket as it was.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use mogr_cos::xml::{CompleteMultipartUploadResult, UploadResult};
use mogr_store::CompletedPart;

use super::errors::too_large;
use super::persist::{admit_original, run_plan, stage_outputs, Origin};
use super::plan::plan;
use crate::body::limited_stream;
use crate::error_map::ApiResult;
use crate::handlers::put_object::put_options;
use crate::object_headers::{write_integrity, X_COS_CRC64};
use crate::respond;
use crate::telemetry::metrics::ImageMode;

/// `PUT /<key>` with `Pic-Operations`: answers `<UploadResult>`; the `ETag` header stays the
/// original's MD5 (JAVA compares it with the local file).
pub async fn put(origin: Origin<'_>, header: &str, body: Body) -> ApiResult<Response> {
    let Origin {
        state,
        ctx,
        bucket,
        key,
    } = origin;
    let plan = plan(state, ctx, bucket, key, header).await?;
    let opts = put_options(ctx)?;
    let limit = state.images.limits().max_input_bytes;
    let declared = ctx.content_length();
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large(limit));
    }
    // The place is taken before the body is buffered: a full pool refuses after reading
    // only the headers' worth of it, and waiting uploads never hold more memory than the
    // pool's places allow.
    let size = declared.unwrap_or(limit);
    let (slot, original) = admit_original(state, &plan, limited_stream(body, limit), size).await?;
    let production = run_plan(
        state,
        slot,
        original.clone(),
        &plan,
        opts.content_md5,
        ImageMode::Upload,
    )
    .await?;

    // The original (unless an output replaces it) and every output become visible together.
    let mut stage = state.store.stage();
    let stored_etag = if origin.is_overwritten(&plan) {
        production.original.md5.clone()
    } else {
        let body = mogr_store::once(original);
        stage.put(bucket, key, body, opts).await?.etag
    };
    let metas = stage_outputs(stage.as_mut(), &plan, &production).await?;
    stage.publish().await?;

    let (md5, crc64) = (production.original.md5.clone(), production.original.crc64);
    let result = origin.upload_result(&stored_etag, &plan, production, &metas);
    let mut res = respond::xml(StatusCode::OK, result.to_xml());
    write_integrity(res.headers_mut(), &md5, crc64);
    Ok(res)
}

/// Complete Multipart Upload with `Pic-Operations`: the assembled body is processed first;
/// only then is the upload committed and the outputs stored.
pub async fn complete(
    origin: Origin<'_>,
    upload_id: &str,
    parts: Vec<CompletedPart>,
    header: &str,
) -> ApiResult<Response> {
    let Origin {
        state,
        ctx,
        bucket,
        key,
    } = origin;
    let plan = plan(state, ctx, bucket, key, header).await?;
    let limit = state.images.limits().max_input_bytes;
    // Refused from the parts' sizes before anything is assembled.
    let uploaded = state.store.list_parts(bucket, key, upload_id).await?;
    let listed: u64 = parts
        .iter()
        .filter_map(|p| {
            let found = uploaded
                .parts
                .iter()
                .find(|u| u.part_number == p.part_number);
            found.map(|u| u.size)
        })
        .sum();
    if listed > limit {
        return Err(too_large(limit));
    }
    // One commit: the assembled original (unless an output replaces it), every output and
    // the upload's retirement become visible together or not at all, even across a crash.
    // Until then the upload stays, so a failed rule lets the client retry.
    let mut stage = state.store.stage();
    let keep = !origin.is_overwritten(&plan);
    let original = stage
        .complete_upload(bucket, key, upload_id, &parts, keep)
        .await?;
    let assembled = stage.read(0).await?;
    let (slot, bytes) = admit_original(state, &plan, assembled, original.size).await?;
    let production = run_plan(state, slot, bytes, &plan, None, ImageMode::Upload).await?;
    let outputs = stage_outputs(stage.as_mut(), &plan, &production).await?;
    stage.publish().await?;
    let result = origin.upload_result(&original.etag, &plan, production, &outputs);
    let complete = CompleteMultipartUploadResult {
        location: result.original.location.clone(),
        bucket: bucket.to_string(),
        key: key.to_string(),
        etag: result.original.etag.clone(),
    };
    let mut res = respond::xml(StatusCode::OK, complete_xml(&complete, &result));
    res.headers_mut()
        .insert(X_COS_CRC64, HeaderValue::from(original.crc64));
    Ok(res)
}

/// `<CompleteMultipartUploadResult>` with CI's `ImageInfo` and `ProcessResults` inside, the
/// shape the JAVA SDK parses (`CompleteMultipartUploadHandler`): both are direct children of
/// the root, after `ETag`. Spliced from the two documents mogr-cos renders, so escaping and
/// number formats stay the ones tested there.
fn complete_xml(complete: &CompleteMultipartUploadResult, upload: &UploadResult) -> String {
    const CLOSE: &str = "</CompleteMultipartUploadResult>";
    let head = complete.to_xml();
    let head = head.strip_suffix(CLOSE).unwrap_or(&head);
    let upload = upload.to_xml();
    let image_info = element(&upload, "ImageInfo").unwrap_or_default();
    let results = element(&upload, "ProcessResults").unwrap_or_default();
    format!("{head}{image_info}{results}{CLOSE}")
}

/// The first `<tag>…</tag>` (or `<tag/>`) in generated XML, markup included.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let empty = format!("<{tag}/>");
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    match (xml.find(&open), xml.find(&empty)) {
        (Some(start), e) if e.is_none_or(|e| start < e) => {
            let end = xml[start..].find(&close)? + start + close.len();
            xml.get(start..end)
        }
        (_, Some(start)) => xml.get(start..start + empty.len()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mogr_cos::xml::{ImageInfoXml, OriginalInfo, ProcessResultObject};

    #[test]
    fn complete_result_carries_ci_fields_inside_its_own_root() {
        let upload = UploadResult {
            original: OriginalInfo {
                key: "a.jpg".into(),
                location: "h/a.jpg".into(),
                etag: "abc-2".into(),
                image_info: Some(ImageInfoXml {
                    format: "JPEG".into(),
                    width: 4,
                    height: 3,
                    quality: Some(90),
                    ave: "0x010203".into(),
                    orientation: 1,
                    frame_count: None,
                }),
            },
            objects: vec![ProcessResultObject {
                key: "a<b.png".into(),
                location: "h/a<b.png".into(),
                format: "png".into(),
                width: 4,
                height: 3,
                size: 10,
                quality: None,
                etag: "def".into(),
                frame_count: None,
            }],
        };
        let complete = CompleteMultipartUploadResult {
            location: "h/a.jpg".into(),
            bucket: "b-1".into(),
            key: "a.jpg".into(),
            etag: "abc-2".into(),
        };
        let xml = complete_xml(&complete, &upload);
        assert!(xml.starts_with("<?xml"));
        assert!(xml.contains("<CompleteMultipartUploadResult><Location>h/a.jpg</Location>"));
        assert!(xml.contains("<ETag>&quot;abc-2&quot;</ETag><ImageInfo><Format>JPEG</Format>"));
        assert!(xml.contains("</ImageInfo><ProcessResults><Object><Key>a&lt;b.png</Key>"));
        assert!(xml.ends_with("</ProcessResults></CompleteMultipartUploadResult>"));
        assert_eq!(xml.matches("<ETag>").count(), 2);
    }

    #[test]
    fn without_image_info_or_outputs_the_root_still_closes() {
        let xml = "<UploadResult><OriginalInfo><Key>k</Key></OriginalInfo><ProcessResults/></UploadResult>";
        assert_eq!(element(xml, "ImageInfo"), None);
        assert_eq!(element(xml, "ProcessResults"), Some("<ProcessResults/>"));
    }
}
