//! WebP output through the `webp` crate (bundled libwebp): lossy at `quality`, lossless when the
//! source was lossless, animated with every frame's timing and the loop count.

use webp::{Encoder, PixelLayout, WebPConfig};

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
    let config = config_for(settings, img.source.lossless)?;
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

/// Every frame goes through [`AnimWriter`] as soon as it is converted, so libwebp holds one
/// picture at a time rather than all of them.
fn animated(img: &Image, config: &WebPConfig, alpha: bool, budget: &Budget) -> Result<Vec<u8>> {
    let mut writer = AnimWriter::new(img.width, img.height, *config)?;
    for frame in &img.frames {
        budget.check()?;
        if frame.image.width() != img.width || frame.image.height() != img.height {
            return Err(webp_error("frame size differs from the canvas"));
        }
        writer.add(&frame.image, frame.delay_ms, alpha)?;
    }
    budget.check()?;
    writer.finish(img.loop_count)
}

/// The libwebp configuration for `settings` on a source described by `source`.
pub(crate) fn config_for(settings: &EncodeSettings, lossless: bool) -> Result<WebPConfig> {
    let mut config = WebPConfig::new().map_err(|()| webp_error("libwebp config"))?;
    config.method = METHOD;
    if lossless {
        config.lossless = 1;
        // For lossless, `quality` is effort; libwebp's default balances time and size.
        config.quality = 75.0;
        // Keep the RGB under fully transparent pixels: what went in comes out.
        config.exact = 1;
    } else {
        config.lossless = 0;
        config.quality = f32::from(settings.quality.clamp(1, 100));
    }
    Ok(config)
}

/// An animated WebP encoded one frame at a time: each frame is imported, handed to libwebp's
/// animation encoder (which keeps only encoded frames and a few canvases) and dropped.
///
/// The calls are the ones the `webp` crate's `AnimEncoder` makes, in the same order, so the
/// bytes are the same; that encoder keeps every imported picture until the end, this one frees
/// each at once.
pub(crate) struct AnimWriter {
    enc: *mut libwebp_sys::WebPAnimEncoder,
    config: WebPConfig,
    width: u32,
    height: u32,
    /// Start time of the next frame in ms.
    start: i64,
}

// The encoder is owned by this value alone and only used through `&mut self`.
unsafe impl Send for AnimWriter {}

impl AnimWriter {
    /// An encoder for a `width` x `height` canvas.
    pub(crate) fn new(width: u32, height: u32, config: WebPConfig) -> Result<AnimWriter> {
        use libwebp_sys::{
            WebPAnimEncoderNewInternal, WebPAnimEncoderOptions, WebPAnimEncoderOptionsInitInternal,
            WebPGetMuxABIVersion,
        };
        let (w, h) = (
            i32::try_from(width).map_err(|_| webp_error("canvas too wide"))?,
            i32::try_from(height).map_err(|_| webp_error("canvas too tall"))?,
        );
        // SAFETY: the options are initialised by libwebp before use; the encoder pointer is
        // checked for null and owned by the returned value.
        let enc = unsafe {
            let mut options = std::mem::MaybeUninit::<WebPAnimEncoderOptions>::uninit();
            let abi = WebPGetMuxABIVersion();
            if WebPAnimEncoderOptionsInitInternal(options.as_mut_ptr(), abi) == 0 {
                return Err(webp_error("libwebp animation options"));
            }
            WebPAnimEncoderNewInternal(w, h, options.as_ptr(), abi)
        };
        if enc.is_null() {
            return Err(webp_error("libwebp could not start an animation"));
        }
        Ok(AnimWriter {
            enc,
            config,
            width,
            height,
            start: 0,
        })
    }

    /// Encodes one canvas-sized frame shown for `delay_ms` (RGBA when `alpha`, else RGB).
    pub(crate) fn add(
        &mut self,
        frame: &image::DynamicImage,
        delay_ms: u32,
        alpha: bool,
    ) -> Result<()> {
        use libwebp_sys::{
            WebPAnimEncoderAdd, WebPPicture, WebPPictureFree, WebPPictureImportRGB,
            WebPPictureImportRGBA,
        };
        if frame.width() != self.width || frame.height() != self.height {
            return Err(webp_error("frame size differs from the canvas"));
        }
        let ts = i32::try_from(self.start).map_err(|_| webp_error("animation too long"))?;
        let (samples, channels) = interleaved8(frame, alpha);
        let mut pic = WebPPicture::new().map_err(|()| webp_error("libwebp picture"))?;
        pic.use_argb = 1;
        pic.width = self.width as i32;
        pic.height = self.height as i32;
        let stride = self.width as i32 * channels as i32;
        // SAFETY: `samples` holds `height` rows of `stride` bytes; the picture is freed below
        // whatever happens, after libwebp has copied what it needs.
        let ok = unsafe {
            let imported = if channels == 4 {
                WebPPictureImportRGBA(&mut pic, samples.as_ptr(), stride)
            } else {
                WebPPictureImportRGB(&mut pic, samples.as_ptr(), stride)
            };
            let added =
                imported != 0 && WebPAnimEncoderAdd(self.enc, &mut pic, ts, &self.config) != 0;
            let code = pic.error_code;
            WebPPictureFree(&mut pic);
            if added {
                Ok(())
            } else {
                Err(code)
            }
        };
        ok.map_err(|code| webp_error(format!("{code:?}")))?;
        // libwebp refuses equal timestamps, so a 0 ms frame still advances by 1 ms.
        self.start += i64::from(delay_ms.max(1));
        Ok(())
    }

    /// Assembles the file, playing `loop_count` times (0: forever).
    pub(crate) fn finish(self, loop_count: u16) -> Result<Vec<u8>> {
        use libwebp_sys::{
            WebPAnimEncoderAdd, WebPAnimEncoderAssemble, WebPAnimEncoderGetError, WebPData,
            WebPDataClear, WebPGetMuxABIVersion, WebPMuxAnimParams, WebPMuxAssemble,
            WebPMuxCreateInternal, WebPMuxDelete, WebPMuxError, WebPMuxSetAnimationParams,
        };
        // SAFETY: `self.enc` is live until `self` drops; every WebPData is initialised by
        // libwebp before it is read and cleared once copied out.
        let mut bytes = unsafe {
            WebPAnimEncoderAdd(self.enc, std::ptr::null_mut(), 0, std::ptr::null());
            let mut data = WebPData {
                bytes: std::ptr::null(),
                size: 0,
            };
            if WebPAnimEncoderAssemble(self.enc, &mut data) == 0 {
                let err = WebPAnimEncoderGetError(self.enc);
                let text = if err.is_null() {
                    "unknown error".to_string()
                } else {
                    std::ffi::CStr::from_ptr(err).to_string_lossy().into_owned()
                };
                return Err(webp_error(text));
            }
            let abi = WebPGetMuxABIVersion();
            let mux = WebPMuxCreateInternal(&data, 1, abi);
            WebPDataClear(&mut data);
            if mux.is_null() {
                return Err(webp_error("libwebp could not read its own animation"));
            }
            let params = WebPMuxAnimParams {
                bgcolor: 0,
                loop_count: i32::from(loop_count),
            };
            if WebPMuxSetAnimationParams(mux, &params) != WebPMuxError::WEBP_MUX_OK {
                WebPMuxDelete(mux);
                return Err(webp_error("libwebp animation parameters"));
            }
            let mut out = WebPData {
                bytes: std::ptr::null(),
                size: 0,
            };
            let assembled = WebPMuxAssemble(mux, &mut out);
            WebPMuxDelete(mux);
            if assembled != WebPMuxError::WEBP_MUX_OK || out.bytes.is_null() {
                WebPDataClear(&mut out);
                return Err(webp_error("libwebp could not assemble the animation"));
            }
            let copy = std::slice::from_raw_parts(out.bytes, out.size).to_vec();
            WebPDataClear(&mut out);
            copy
        };
        fix_last_duration(&mut bytes, self.start);
        Ok(bytes)
    }
}

impl Drop for AnimWriter {
    fn drop(&mut self) {
        // SAFETY: created by WebPAnimEncoderNewInternal, deleted once here.
        unsafe { libwebp_sys::WebPAnimEncoderDelete(self.enc) }
    }
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
pub(crate) fn with_metadata(bytes: Vec<u8>, img: &Image, strip: bool, alpha: bool) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, Rgba, RgbaImage};
    use webp::{AnimEncoder, AnimFrame};

    /// What animated output was before [`AnimWriter`]: the `webp` crate's encoder, which
    /// keeps every frame's buffer and picture until the end.
    fn all_at_once(frames: &[(DynamicImage, u32)], config: &WebPConfig, alpha: bool) -> Vec<u8> {
        let (w, h) = (frames[0].0.width(), frames[0].0.height());
        let layout = if alpha {
            PixelLayout::Rgba
        } else {
            PixelLayout::Rgb
        };
        let buffers: Vec<Vec<u8>> = frames
            .iter()
            .map(|(f, _)| interleaved8(f, alpha).0)
            .collect();
        let mut enc = AnimEncoder::new(w, h, config);
        enc.set_loop_count(3);
        let mut start = 0i64;
        for ((_, delay), samples) in frames.iter().zip(&buffers) {
            enc.add_frame(AnimFrame::new(samples, layout, w, h, start as i32, None));
            start += i64::from((*delay).max(1));
        }
        let mut bytes = enc.try_encode().unwrap().to_vec();
        fix_last_duration(&mut bytes, start);
        bytes
    }

    fn frames(alpha: bool) -> Vec<(DynamicImage, u32)> {
        (0..9u32)
            .map(|i| {
                let f = RgbaImage::from_fn(50, 30, |x, y| {
                    let a = if alpha && (x + i) % 11 == 0 { 0 } else { 255 };
                    Rgba([(x * 5 + i * 20) as u8, (y * 8) as u8, (i * 25) as u8, a])
                });
                (DynamicImage::ImageRgba8(f), [0, 40, 100][i as usize % 3])
            })
            .collect()
    }

    #[test]
    fn frame_at_a_time_gives_the_bytes_of_all_frames_at_once() {
        for lossless in [false, true] {
            for alpha in [false, true] {
                let settings = EncodeSettings {
                    format: mogr_rule::OutputFormat::Webp,
                    quality: 70,
                    progressive: false,
                    strip: false,
                    cgif: None,
                };
                let config = config_for(&settings, lossless).unwrap();
                let frames = frames(alpha);
                let want = all_at_once(&frames, &config, alpha);
                for import_alpha in [alpha, true] {
                    let mut writer = AnimWriter::new(50, 30, config).unwrap();
                    for (f, delay) in &frames {
                        writer.add(f, *delay, import_alpha).unwrap();
                    }
                    let got = writer.finish(3).unwrap();
                    assert!(
                        got == want,
                        "lossless {lossless}, alpha {alpha}, imported as RGBA {import_alpha}"
                    );
                }
            }
        }
    }
}
