//! WebP output through the `webp` crate (bundled libwebp): lossy at `quality`, lossless when the
//! source was lossless, animated with every frame's timing and the loop count.

use webp::{AnimEncoder, AnimFrame, Encoder, PixelLayout, WebPConfig};

use super::exif::with_orientation;
use super::pixels::{alpha_used, interleaved8};
use super::EncodeSettings;
use crate::budget::Budget;
use crate::engine::EngineConfig;
use crate::error::{ImageError, Result};
use crate::model::Image;

/// libwebp's speed/size trade-off (0 fast .. 6 small); 4 is its default and what cwebp uses.
const METHOD: i32 = 4;

/// Encode as WebP (animated when the image has several frames).
pub fn encode(
    img: &Image,
    settings: &EncodeSettings,
    cfg: &EngineConfig,
    budget: &Budget,
) -> Result<Vec<u8>> {
    let max = cfg.limits.max_webp_side.min(16_383);
    if img.width > max || img.height > max {
        return Err(ImageError::ResolutionExceed(format!(
            "{}x{} has a side over WebP's {max} px",
            img.width, img.height
        )));
    }
    let mut config = WebPConfig::new().map_err(|()| webp_error("libwebp config"))?;
    config.method = METHOD;
    if img.source.lossless {
        config.lossless = 1;
        // For lossless, `quality` is effort; libwebp's default balances time and size.
        config.quality = 75.0;
        // Keep the RGB under fully transparent pixels: what went in comes out.
        config.exact = 1;
    } else {
        config.lossless = 0;
        config.quality = f32::from(settings.quality.clamp(1, 100));
    }
    let alpha = img.frames.iter().any(|f| alpha_used(&f.image));
    let bytes = if img.frames.len() > 1 {
        animated(img, &config, alpha, budget)?
    } else {
        still(img, &config, alpha)?
    };
    Ok(with_metadata(bytes, img, settings.strip, alpha))
}

fn still(img: &Image, config: &WebPConfig, alpha: bool) -> Result<Vec<u8>> {
    let frame = super::first_frame(img)?;
    let (samples, _) = interleaved8(frame, alpha);
    let layout = if alpha {
        PixelLayout::Rgba
    } else {
        PixelLayout::Rgb
    };
    let mem = Encoder::new(&samples, layout, frame.width(), frame.height())
        .encode_advanced(config)
        .map_err(|e| webp_error(format!("{e:?}")))?;
    Ok(mem.to_vec())
}

/// libwebp encodes every frame inside one call, so the budget is checked while the frames
/// are prepared and once more before that call.
fn animated(img: &Image, config: &WebPConfig, alpha: bool, budget: &Budget) -> Result<Vec<u8>> {
    let layout = if alpha {
        PixelLayout::Rgba
    } else {
        PixelLayout::Rgb
    };
    let buffers: Vec<Vec<u8>> = img
        .frames
        .iter()
        .map(|f| budget.check().map(|()| interleaved8(&f.image, alpha).0))
        .collect::<Result<_>>()?;
    let mut enc = AnimEncoder::new(img.width, img.height, config);
    enc.set_loop_count(i32::from(img.loop_count));
    // Timestamps are start times in ms; a frame's duration is the gap to the next one.
    let mut start: i64 = 0;
    for (frame, samples) in img.frames.iter().zip(&buffers) {
        if frame.image.width() != img.width || frame.image.height() != img.height {
            return Err(webp_error("frame size differs from the canvas"));
        }
        let ts = i32::try_from(start).map_err(|_| webp_error("animation too long"))?;
        enc.add_frame(AnimFrame::new(
            samples, layout, img.width, img.height, ts, None,
        ));
        // libwebp refuses equal timestamps, so a 0 ms frame still advances by 1 ms.
        start += i64::from(frame.delay_ms.max(1));
    }
    budget.check()?;
    let mem = enc.try_encode().map_err(|e| webp_error(format!("{e:?}")))?;
    let mut bytes = mem.to_vec();
    fix_last_duration(&mut bytes, start);
    Ok(bytes)
}

/// The `webp` crate ends the animation with timestamp 0, which libwebp rejects, so the last
/// frame gets the average duration. Set it so the frames add up to `total_ms`.
fn fix_last_duration(bytes: &mut [u8], total_ms: i64) {
    let frames: Vec<usize> = chunks(bytes)
        .filter(|c| &c.fourcc == b"ANMF")
        .map(|c| c.payload_at)
        .collect();
    let Some((&last, earlier)) = frames.split_last() else {
        return;
    };
    let read = |at: usize| -> i64 {
        bytes
            .get(at + 12..at + 15)
            .map(|d| i64::from(d[0]) | i64::from(d[1]) << 8 | i64::from(d[2]) << 16)
            .unwrap_or(0)
    };
    let before: i64 = earlier.iter().map(|&at| read(at)).sum();
    let last_ms = (total_ms - before).clamp(1, 0xFF_FFFF) as u32;
    if let Some(d) = bytes.get_mut(last + 12..last + 15) {
        d.copy_from_slice(&last_ms.to_le_bytes()[..3]);
    }
}

/// A RIFF chunk's header facts.
struct Chunk {
    fourcc: [u8; 4],
    /// Offset of the chunk header.
    start: usize,
    /// Offset of the payload.
    payload_at: usize,
    /// Payload length (without padding).
    len: usize,
    /// Offset just past the chunk (padding included).
    end: usize,
}

/// The chunks after the `RIFF....WEBP` header.
fn chunks(bytes: &[u8]) -> impl Iterator<Item = Chunk> + '_ {
    let mut at = 12usize;
    std::iter::from_fn(move || {
        let head = bytes.get(at..at + 8)?;
        let fourcc: [u8; 4] = head.get(..4)?.try_into().ok()?;
        let len = u32::from_le_bytes(head.get(4..8)?.try_into().ok()?) as usize;
        let end = (at + 8).checked_add(len)?.checked_add(len & 1)?;
        if end > bytes.len() + (len & 1) {
            return None;
        }
        let c = Chunk {
            fourcc,
            start: at,
            payload_at: at + 8,
            len,
            end: end.min(bytes.len()),
        };
        at = end;
        Some(c)
    })
}

/// Add ICC (`ICCP`), EXIF and XMP chunks, turning a simple file into the extended (`VP8X`) form.
fn with_metadata(bytes: Vec<u8>, img: &Image, strip: bool, alpha: bool) -> Vec<u8> {
    let md = &img.metadata;
    let icc = md.icc.as_deref().filter(|p| !p.is_empty());
    let exif = md
        .exif
        .as_deref()
        .filter(|_| !strip)
        .map(|e| with_orientation(e, md.orientation));
    let xmp = md.xmp.as_deref().filter(|_| !strip);
    if icc.is_none() && exif.is_none() && xmp.is_none() {
        return bytes;
    }
    let list: Vec<Chunk> = chunks(&bytes).collect();
    let Some(first) = list.first() else {
        return bytes;
    };
    let mut flags = 0u8;
    let mut out = b"RIFF\0\0\0\0WEBP".to_vec();
    let body_from = if &first.fourcc == b"VP8X" {
        let Some(payload) = bytes.get(first.payload_at..first.payload_at + first.len) else {
            return bytes;
        };
        let mut vp8x = payload.to_vec();
        if let Some(f) = vp8x.first_mut() {
            flags = *f;
        }
        flags |= flag_bits(icc.is_some(), exif.is_some(), xmp.is_some());
        if let Some(f) = vp8x.first_mut() {
            *f = flags;
        }
        push_chunk(&mut out, b"VP8X", &vp8x);
        first.end
    } else {
        flags |= flag_bits(icc.is_some(), exif.is_some(), xmp.is_some());
        if alpha {
            flags |= 0x10;
        }
        let mut vp8x = vec![flags, 0, 0, 0];
        vp8x.extend_from_slice(&(img.width.saturating_sub(1)).to_le_bytes()[..3]);
        vp8x.extend_from_slice(&(img.height.saturating_sub(1)).to_le_bytes()[..3]);
        push_chunk(&mut out, b"VP8X", &vp8x);
        first.start
    };
    if let Some(p) = icc {
        push_chunk(&mut out, b"ICCP", p);
    }
    out.extend_from_slice(bytes.get(body_from..).unwrap_or_default());
    if let Some(e) = &exif {
        push_chunk(&mut out, b"EXIF", e);
    }
    if let Some(x) = xmp {
        push_chunk(&mut out, b"XMP ", x);
    }
    let riff_len = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff_len.to_le_bytes());
    out
}

fn flag_bits(icc: bool, exif: bool, xmp: bool) -> u8 {
    (if icc { 0x20 } else { 0 }) | (if exif { 0x08 } else { 0 }) | (if xmp { 0x04 } else { 0 })
}

fn push_chunk(out: &mut Vec<u8>, fourcc: &[u8; 4], payload: &[u8]) {
    out.extend_from_slice(fourcc);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
}

fn webp_error(detail: impl ToString) -> ImageError {
    ImageError::Encode {
        format: "webp",
        detail: detail.to_string(),
    }
}
