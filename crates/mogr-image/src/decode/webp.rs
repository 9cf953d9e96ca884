//! WebP: libwebp's own header parse for the canvas size and the animation flag; a RIFF chunk
//! walk for the other header facts and metadata; libwebp for stills, `image`'s WebP decoder for
//! animations (composited frames, memory-safe, never loops on bad frames).
//!
//! The chunk walk never decides the size: the decoders read the bitstream headers themselves,
//! and a walk that disagreed with them would let a small declared size hide a huge image.

use std::io::Cursor;

use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, RgbImage, RgbaImage};

use super::bytes::{le16, le24, le32, slice};
use super::{
    collect_frames, corrupt, from_image_error, image_limits, still, strip_exif_prefix, Header,
};
use crate::error::Result;
use crate::limits::Limits;
use crate::model::{Frame, ImageFormat};

const FORMAT: ImageFormat = ImageFormat::Webp;

/// Header facts from VP8X/VP8/VP8L/ANIM/ANMF chunks plus ICCP/EXIF/XMP.
pub(super) fn read_header(bytes: &[u8]) -> Result<Header> {
    let mut dims: Option<(u32, u32)> = None;
    let mut vp8x = false;
    let mut animated = false;
    let mut has_alpha = false;
    let mut lossy = false;
    let mut lossless = false;
    let mut frames = 0u32;
    let mut loop_count = 0u16;
    let mut quality = None;
    let mut h = Header::new(FORMAT, 0, 0);
    let mut pos = 12;
    while let (Some(fourcc), Some(size)) = (slice(bytes, pos, 4), le32(bytes, pos + 4)) {
        let size = size as usize;
        let start = pos + 8;
        // A truncated last chunk is still looked at: its header fields are usually intact.
        let payload = bytes
            .get(start..start.saturating_add(size).min(bytes.len()))
            .unwrap_or(&[]);
        match fourcc {
            b"VP8X" => {
                let (Some(&flags), Some(w), Some(hh)) =
                    (payload.first(), le24(payload, 4), le24(payload, 7))
                else {
                    return Err(corrupt(FORMAT, "truncated VP8X chunk"));
                };
                vp8x = true;
                animated = flags & 0x02 != 0;
                has_alpha |= flags & 0x10 != 0;
                dims = Some((w + 1, hh + 1));
            }
            b"VP8 " => {
                lossy = true;
                if dims.is_none() {
                    dims = Some(vp8_dims(payload)?);
                }
                if quality.is_none() {
                    quality = estimate_vp8_quality(payload);
                }
            }
            b"VP8L" => {
                lossless = true;
                let (w, hh, alpha) = vp8l_dims(payload)?;
                if dims.is_none() {
                    dims = Some((w, hh));
                }
                has_alpha |= alpha && !vp8x;
            }
            b"ALPH" => has_alpha = true,
            b"ANIM" => loop_count = le16(payload, 4).unwrap_or(0),
            b"ANMF" => {
                frames += 1;
                let kind = payload.get(16..20);
                lossless |= kind == Some(b"VP8L");
                if kind == Some(b"VP8 ") {
                    lossy = true;
                    if quality.is_none() {
                        quality = payload.get(24..).and_then(estimate_vp8_quality);
                    }
                }
            }
            b"ICCP" => h.metadata.icc = Some(payload.to_vec()),
            b"EXIF" => h.metadata.exif = Some(strip_exif_prefix(payload)),
            b"XMP " => h.metadata.xmp = Some(payload.to_vec()),
            _ => {}
        }
        // Chunks are padded to an even size.
        pos = start.saturating_add(size).saturating_add(size & 1);
    }
    let walked = dims.ok_or_else(|| corrupt(FORMAT, "no image chunk"))?;
    let (width, height) = match webp::BitstreamFeatures::new(bytes) {
        Some(f) if f.has_animation() != animated => {
            return Err(corrupt(FORMAT, "ambiguous animation flag"));
        }
        Some(f) => (f.width(), f.height()),
        // libwebp cannot read the headers, so no pixels will be decoded (the animation decoder
        // checks its own canvas): the walk's size is only reported.
        None => walked,
    };
    if animated && frames == 0 {
        return Err(corrupt(FORMAT, "animation without frames"));
    }
    h.width = width;
    h.height = height;
    h.frames = if animated { frames } else { 1 };
    h.loop_count = loop_count;
    h.has_alpha = has_alpha;
    h.lossless = lossless && !lossy;
    h.quality = if h.lossless { None } else { quality };
    Ok(h)
}

/// Width and height from a VP8 key frame header.
fn vp8_dims(p: &[u8]) -> Result<(u32, u32)> {
    if p.get(3..6) != Some(&[0x9D, 0x01, 0x2A]) {
        return Err(corrupt(FORMAT, "bad VP8 start code"));
    }
    let (Some(w), Some(h)) = (le16(p, 6), le16(p, 8)) else {
        return Err(corrupt(FORMAT, "truncated VP8 header"));
    };
    Ok((u32::from(w & 0x3FFF), u32::from(h & 0x3FFF)))
}

/// Width, height and the alpha hint from a VP8L header.
fn vp8l_dims(p: &[u8]) -> Result<(u32, u32, bool)> {
    if p.first() != Some(&0x2F) {
        return Err(corrupt(FORMAT, "bad VP8L signature"));
    }
    let bits = le32(p, 1).ok_or_else(|| corrupt(FORMAT, "truncated VP8L header"))?;
    Ok((
        (bits & 0x3FFF) + 1,
        ((bits >> 14) & 0x3FFF) + 1,
        (bits >> 28) & 1 != 0,
    ))
}

/// Reads the VP8 frame header's leading fields as plain bits: they are coded with
/// probability 1/2, which makes the boolean decoder nearly a bit reader.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn get(&mut self, n: u32) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            let bit = (byte >> (7 - (self.pos % 8))) & 1;
            v = (v << 1) | u32::from(bit);
            self.pos += 1;
        }
        Some(v)
    }

    /// A flag followed, when set, by an `n`-bit value.
    fn optional(&mut self, n: u32) -> Option<Option<u32>> {
        Some(if self.get(1)? == 1 {
            Some(self.get(n)?)
        } else {
            None
        })
    }
}

/// Estimate the libwebp `-q` a VP8 (lossy) frame was encoded with, from its quantisers.
///
/// libwebp turns quality Q into a compression factor c = cbrt(Q·2/3) (Q < 0.75) or
/// cbrt(2Q − 1), and the quantiser index into 127·(1 − c), modulated per segment. Inverting
/// that for the mean segment quantiser lands within a few points of the real Q (exact at the
/// ends, about 5 low around q75 on photos), much closer than the linear mapping of libwebp's
/// own `webp_quality` tool.
fn estimate_vp8_quality(p: &[u8]) -> Option<u8> {
    if p.get(3..6) != Some(&[0x9D, 0x01, 0x2A]) {
        return None;
    }
    let mut b = Bits {
        data: p.get(10..)?,
        pos: 0,
    };
    b.get(2)?; // colour space, clamping type
               // (value, absolute) per segment when the segment quantisers are sent.
    let mut segments: Option<([i32; 4], bool)> = None;
    if b.get(1)? == 1 {
        let update_map = b.get(1)? == 1;
        if b.get(1)? == 1 {
            let absolute = b.get(1)? == 1;
            let mut values = [0i32; 4];
            for v in &mut values {
                if let Some(q) = b.optional(7)? {
                    let negative = b.get(1)? == 1;
                    *v = if negative { -(q as i32) } else { q as i32 };
                }
            }
            segments = Some((values, absolute));
            for _ in 0..4 {
                b.optional(7)?; // loop filter strength per segment
            }
        }
        if update_map {
            for _ in 0..3 {
                b.optional(8)?;
            }
        }
    }
    b.get(1 + 6 + 3)?; // filter type, level, sharpness
    if b.get(1)? == 1 && b.get(1)? == 1 {
        for _ in 0..8 {
            b.optional(6)?;
        }
    }
    b.get(2)?; // partitions
    let base = b.get(7)? as i32;
    let quantisers: Vec<i32> = match segments {
        Some((values, true)) => values.to_vec(),
        Some((deltas, false)) => deltas.iter().map(|d| base + d).collect(),
        None => vec![base],
    };
    let mean = quantisers
        .iter()
        .map(|q| f64::from((*q).clamp(0, 127)))
        .sum::<f64>()
        / quantisers.len() as f64;
    let c = 1.0 - mean / 127.0;
    let linear = c * c * c;
    let quality = if linear < 0.5 {
        linear * 1.5
    } else {
        (linear + 1.0) / 2.0
    };
    Some(((quality * 100.0).round() as u8).clamp(1, 100))
}

/// Decode pixels: libwebp for stills, composited RGBA frames for animations.
///
/// With `min`, a still may come back smaller, though at least that large (shrink-on-load).
pub(super) fn decode(
    bytes: &[u8],
    header: &mut Header,
    limits: &Limits,
    min: Option<(u32, u32)>,
) -> Result<Vec<Frame>> {
    if header.frames <= 1 && !is_animated(bytes) {
        return decode_still(bytes, header, limits, min).map(still);
    }
    // image-webp 0.2.4 indexes out of bounds on some malformed animation frames (an ALPH
    // chunk whose VP8 frame is smaller than its ANMF rectangle).
    super::guard(FORMAT, || decode_animation(bytes, header, limits))
}

/// Refuse a decoder's canvas over the limits or different from the one reported.
fn check_canvas(decoder: (u32, u32), header: &Header, limits: &Limits) -> Result<()> {
    limits.check_canvas(decoder.0, decoder.1)?;
    if decoder != (header.width, header.height) {
        return Err(corrupt(
            FORMAT,
            format!(
                "the decoder reads a {}x{} canvas where the headers say {}x{}",
                decoder.0, decoder.1, header.width, header.height
            ),
        ));
    }
    Ok(())
}

/// Composited RGBA frames of an animation.
fn decode_animation(bytes: &[u8], header: &Header, limits: &Limits) -> Result<Vec<Frame>> {
    let mut dec = WebPDecoder::new(Cursor::new(bytes)).map_err(|e| from_image_error(FORMAT, e))?;
    check_canvas(dec.dimensions(), header, limits)?;
    dec.set_limits(image_limits(header, limits))
        .map_err(|e| from_image_error(FORMAT, e))?;
    collect_frames(dec.into_frames(), FORMAT, limits)
}

/// An animation's composited RGBA frames, decoded as they are asked for. image-webp's
/// panics on malformed frames become errors, as in [`decode`].
pub(super) fn frames<'a>(
    bytes: &'a [u8],
    header: &Header,
    limits: &Limits,
) -> Result<super::FrameIter<'a>> {
    let mut dec = WebPDecoder::new(Cursor::new(bytes)).map_err(|e| from_image_error(FORMAT, e))?;
    check_canvas(dec.dimensions(), header, limits)?;
    dec.set_limits(image_limits(header, limits))
        .map_err(|e| from_image_error(FORMAT, e))?;
    let mut inner = super::checked_frames(dec.into_frames(), FORMAT, *limits);
    let mut failed = false;
    Ok(Box::new(std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let next = super::guard(FORMAT, || Ok(inner.next())).unwrap_or_else(|e| Some(Err(e)));
        failed = matches!(next, Some(Err(_)));
        next
    })))
}

/// libwebp's own view of the animation flag (the header walk may have been lenient).
fn is_animated(bytes: &[u8]) -> bool {
    webp::BitstreamFeatures::new(bytes).is_some_and(|f| f.has_animation())
}

/// A still through libwebp, whose header parse is checked before it allocates the pixels.
fn decode_still(
    bytes: &[u8],
    header: &Header,
    limits: &Limits,
    min: Option<(u32, u32)>,
) -> Result<DynamicImage> {
    let features = webp::BitstreamFeatures::new(bytes)
        .ok_or_else(|| corrupt(FORMAT, "libwebp cannot read the headers"))?;
    let full = (features.width(), features.height());
    check_canvas(full, header, limits)?;
    if let Some(size) = min.and_then(|min| shrunk_size(full, min)) {
        // Anything libwebp cannot do scaled is decoded at full size below.
        if let Some(image) = decode_rescaled(bytes, size, features.has_alpha()) {
            return Ok(image);
        }
    }
    let decoded = webp::Decoder::new(bytes)
        .decode()
        .ok_or_else(|| corrupt(FORMAT, "libwebp could not decode the image"))?;
    let (w, h) = (decoded.width(), decoded.height());
    let data = decoded.to_vec();
    let image = if decoded.is_alpha() {
        RgbaImage::from_raw(w, h, data).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(w, h, data).map(DynamicImage::ImageRgb8)
    };
    image.ok_or_else(|| corrupt(FORMAT, "decoder returned a short buffer"))
}

/// As for JPEG, the decoder's own downscaling stops while the frame is still at least this
/// many times the target, and the exact resampler does the rest.
const SHRINK_MARGIN: u32 = 2;

/// The size libwebp should decode a `full` still to when the caller needs at least `min`: the
/// full size divided by the largest whole factor (at least 2) that keeps `SHRINK_MARGIN` x
/// `min`; `None` when no such factor exists.
fn shrunk_size(full: (u32, u32), min: (u32, u32)) -> Option<(u32, u32)> {
    let factor = |side: u32, need: u32| side / need.saturating_mul(SHRINK_MARGIN).max(1);
    let k = factor(full.0, min.0).min(factor(full.1, min.1));
    (k >= 2).then(|| (full.0.div_ceil(k), full.1.div_ceil(k)))
}

/// A still decoded by libwebp straight to `size`: its rescaler averages the source pixels as
/// rows are decoded (premultiplied where there is alpha), so the full-size frame is never held.
/// `None` when libwebp cannot.
fn decode_rescaled(bytes: &[u8], size: (u32, u32), alpha: bool) -> Option<DynamicImage> {
    use libwebp_sys::{
        VP8StatusCode, WebPDecode, WebPDecoderConfig, WebPFreeDecBuffer, WEBP_CSP_MODE,
    };
    let mut config = WebPDecoderConfig::new().ok()?;
    config.options.use_scaling = 1;
    config.options.scaled_width = i32::try_from(size.0).ok()?;
    config.options.scaled_height = i32::try_from(size.1).ok()?;
    config.output.colorspace = if alpha {
        WEBP_CSP_MODE::MODE_RGBA
    } else {
        WEBP_CSP_MODE::MODE_RGB
    };
    // SAFETY: `config` was initialised by libwebp and `bytes` outlives the call; libwebp only
    // reads `bytes.len()` bytes from it.
    let status = unsafe { WebPDecode(bytes.as_ptr(), bytes.len(), &mut config) };
    let image = (status == VP8StatusCode::VP8_STATUS_OK)
        .then(|| {
            // SAFETY: on success libwebp has filled the RGBA member of the output union.
            let buf = unsafe { config.output.u.RGBA };
            copy_rows(
                buf.rgba,
                buf.size,
                usize::try_from(buf.stride).ok()?,
                (config.output.width, config.output.height),
                alpha,
            )
        })
        .flatten();
    // SAFETY: frees what WebPDecode allocated into `config.output` (nothing if it failed).
    unsafe { WebPFreeDecBuffer(&mut config.output) };
    image
}

/// Packed pixels from libwebp's output buffer of `len` bytes, rows `stride` bytes apart.
fn copy_rows(
    data: *const u8,
    len: usize,
    stride: usize,
    (width, height): (i32, i32),
    alpha: bool,
) -> Option<DynamicImage> {
    let (w, h) = (u32::try_from(width).ok()?, u32::try_from(height).ok()?);
    let channels = if alpha { 4 } else { 3 };
    let row = w as usize * channels;
    if data.is_null() || w == 0 || h == 0 || stride < row {
        return None;
    }
    if (h as usize - 1).checked_mul(stride)?.checked_add(row)? > len {
        return None;
    }
    // SAFETY: libwebp owns `len` readable bytes at `data` until the buffer is freed, which the
    // caller does only after this copy.
    let src = unsafe { std::slice::from_raw_parts(data, len) };
    let mut pixels = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        pixels.extend_from_slice(src.get(y * stride..y * stride + row)?);
    }
    if alpha {
        RgbaImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8l_header_fields() {
        // 0x2F, then 14-bit width-1 = 99, 14-bit height-1 = 49, alpha bit set.
        let bits: u32 = 99 | (49 << 14) | (1 << 28);
        let mut p = vec![0x2F];
        p.extend_from_slice(&bits.to_le_bytes());
        assert_eq!(vp8l_dims(&p).unwrap(), (100, 50, true));
        assert!(vp8l_dims(&[0x2F, 0]).is_err());
    }

    #[test]
    fn shrunk_size_keeps_twice_the_target() {
        assert_eq!(shrunk_size((5120, 2880), (512, 288)), Some((1024, 576)));
        assert_eq!(shrunk_size((5120, 2880), (1000, 100)), Some((2560, 1440)));
        assert_eq!(shrunk_size((1000, 1000), (300, 300)), None);
    }

    #[test]
    fn a_rescaled_decode_has_the_asked_size_and_colour() {
        let rgba = RgbaImage::from_fn(64, 32, |x, _| {
            image::Rgba(if x < 32 {
                [255, 0, 0, 255]
            } else {
                [0, 0, 255, 128]
            })
        });
        let bytes = webp::Encoder::from_rgba(rgba.as_raw(), 64, 32)
            .encode_lossless()
            .to_vec();
        let img = decode_rescaled(&bytes, (16, 8), true)
            .expect("decodes")
            .to_rgba8();
        assert_eq!(img.dimensions(), (16, 8));
        assert_eq!(img.get_pixel(2, 4).0, [255, 0, 0, 255]);
        let right = img.get_pixel(13, 4).0;
        assert!(
            right[2] >= 250 && right[0] <= 4 && right[3].abs_diff(128) <= 2,
            "{right:?}"
        );
    }
}
