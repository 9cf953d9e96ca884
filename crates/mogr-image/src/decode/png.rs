//! PNG and APNG: header facts from the `png` crate, pixels through `image` (16-bit kept;
//! APNG frames composited).

use std::io::Cursor;

use image::codecs::png::PngDecoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder};

use super::{
    collect_frames, corrupt, from_image_error, image_limits, still, strip_exif_prefix, Header,
};
use crate::error::{ImageError, Result};
use crate::limits::Limits;
use crate::model::{Frame, ImageFormat};

const FORMAT: ImageFormat = ImageFormat::Png;

/// The iTXt keyword XMP packets are stored under.
const XMP_KEYWORD: &str = "XML:com.adobe.xmp";

/// Header facts, ICC (iCCP), EXIF (eXIf), XMP (iTXt) and the APNG frame count.
pub(super) fn read_header(bytes: &[u8]) -> Result<Header> {
    let reader = match open(bytes, false) {
        Ok(r) => r,
        // A broken ancillary text or ICC chunk should not make the image unreadable.
        Err(_) => open(bytes, true)?,
    };
    let info = reader.info();
    let mut h = Header::new(FORMAT, info.width, info.height);
    h.bit_depth = if info.bit_depth == png::BitDepth::Sixteen {
        16
    } else {
        8
    };
    h.palette = info.color_type == png::ColorType::Indexed;
    h.has_alpha = matches!(
        info.color_type,
        png::ColorType::GrayscaleAlpha | png::ColorType::Rgba
    ) || info.trns.is_some();
    h.lossless = true;
    if let Some(actl) = info.animation_control {
        h.frames = actl.num_frames.max(1);
        h.loop_count = u16::try_from(actl.num_plays).unwrap_or(u16::MAX);
    }
    h.dpi = info.pixel_dims.and_then(|d| match d.unit {
        png::Unit::Meter => Some((ppm_to_dpi(d.xppu), ppm_to_dpi(d.yppu))),
        png::Unit::Unspecified => None,
    });
    h.metadata.icc = info.icc_profile.as_ref().map(|c| c.to_vec());
    h.metadata.exif = info.exif_metadata.as_deref().map(strip_exif_prefix);
    h.metadata.xmp = info
        .utf8_text
        .iter()
        .find(|t| t.keyword == XMP_KEYWORD)
        .and_then(|t| t.get_text().ok())
        .map(String::into_bytes);
    Ok(h)
}

fn open(bytes: &[u8], lenient: bool) -> Result<png::Reader<Cursor<&[u8]>>> {
    let mut dec = png::Decoder::new(Cursor::new(bytes));
    dec.set_ignore_text_chunk(lenient);
    dec.set_ignore_iccp_chunk(lenient);
    dec.read_info().map_err(|e| match e {
        png::DecodingError::LimitsExceeded => {
            ImageError::ResolutionExceed("PNG dimensions exceed the decoder's limits".into())
        }
        other => corrupt(FORMAT, other),
    })
}

/// A non-interlaced 16-bit still as 8-bit samples, one row at a time (rounded as `image`
/// rounds: what a later conversion of the 16-bit canvas would give). `None` for interlaced
/// files, whose rows come in passes.
fn decode_16_as_8(bytes: &[u8], header: &Header, limits: &Limits) -> Result<Option<DynamicImage>> {
    let mut dec = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: image_limits(header, limits)
                .max_alloc
                .map_or(usize::MAX, |b| usize::try_from(b).unwrap_or(usize::MAX)),
        },
    );
    dec.set_transformations(png::Transformations::EXPAND);
    dec.set_ignore_text_chunk(true);
    dec.set_ignore_iccp_chunk(true);
    let mut reader = dec.read_info().map_err(|e| corrupt(FORMAT, e))?;
    let info = reader.info();
    let (w, h) = (info.width, info.height);
    limits.check_canvas(w, h)?;
    if (w, h) != (header.width, header.height) {
        return Err(corrupt(FORMAT, "the canvas changed between reads"));
    }
    if info.interlaced {
        return Ok(None);
    }
    let (colour, depth) = reader.output_color_type();
    if depth != png::BitDepth::Sixteen {
        return Ok(None);
    }
    let channels = colour.samples();
    let row_len = w as usize * channels;
    let mut out = vec![0u8; row_len * h as usize];
    for dst in out.chunks_exact_mut(row_len) {
        let row = match reader.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => return Err(corrupt(FORMAT, "image data ends early")),
            Err(e) => return Err(corrupt(FORMAT, e)),
        };
        let samples: Vec<u16> = row
            .data()
            .chunks_exact(2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .collect();
        let narrow = narrow_row(colour, w, samples)
            .ok_or_else(|| corrupt(FORMAT, "a row of the wrong length"))?;
        dst.copy_from_slice(&narrow);
    }
    let image = match colour {
        png::ColorType::Grayscale => image::GrayImage::from_raw(w, h, out).map(DynamicImage::from),
        png::ColorType::GrayscaleAlpha => {
            image::GrayAlphaImage::from_raw(w, h, out).map(DynamicImage::from)
        }
        png::ColorType::Rgb => image::RgbImage::from_raw(w, h, out).map(DynamicImage::from),
        png::ColorType::Rgba => image::RgbaImage::from_raw(w, h, out).map(DynamicImage::from),
        png::ColorType::Indexed => None,
    };
    image
        .map(Some)
        .ok_or_else(|| corrupt(FORMAT, "unexpected colour type after expansion"))
}

/// One row of 16-bit samples as 8-bit ones, through `image`'s own conversion.
fn narrow_row(colour: png::ColorType, w: u32, samples: Vec<u16>) -> Option<Vec<u8>> {
    Some(match colour {
        png::ColorType::Grayscale => {
            DynamicImage::ImageLuma16(image::ImageBuffer::from_raw(w, 1, samples)?)
                .into_luma8()
                .into_raw()
        }
        png::ColorType::GrayscaleAlpha => {
            DynamicImage::ImageLumaA16(image::ImageBuffer::from_raw(w, 1, samples)?)
                .into_luma_alpha8()
                .into_raw()
        }
        png::ColorType::Rgb => {
            DynamicImage::ImageRgb16(image::ImageBuffer::from_raw(w, 1, samples)?)
                .into_rgb8()
                .into_raw()
        }
        png::ColorType::Rgba => {
            DynamicImage::ImageRgba16(image::ImageBuffer::from_raw(w, 1, samples)?)
                .into_rgba8()
                .into_raw()
        }
        png::ColorType::Indexed => return None,
    })
}

fn ppm_to_dpi(ppm: u32) -> u32 {
    (f64::from(ppm) * 0.0254).round() as u32
}

/// Decode pixels: stills keep their bit depth unless `eight_bit` asks for 8-bit samples (the
/// output has no room for more), in which case a 16-bit still is converted row by row and its
/// 16-bit canvas never exists; APNG frames come out as composited RGBA8.
pub(super) fn decode(
    bytes: &[u8],
    header: &mut Header,
    limits: &Limits,
    eight_bit: bool,
) -> Result<Vec<Frame>> {
    if eight_bit && header.bit_depth == 16 && header.frames <= 1 {
        if let Some(image) = decode_16_as_8(bytes, header, limits)? {
            return Ok(still(image));
        }
    }
    let mut dec = PngDecoder::new(Cursor::new(bytes)).map_err(|e| from_image_error(FORMAT, e))?;
    // The size this decoder instance allocates for, checked before it does.
    let (w, h) = dec.dimensions();
    limits.check_canvas(w, h)?;
    if (w, h) != (header.width, header.height) {
        return Err(corrupt(FORMAT, "the canvas changed between reads"));
    }
    dec.set_limits(image_limits(header, limits))
        .map_err(|e| from_image_error(FORMAT, e))?;
    // 16-bit APNG is not supported by the compositor: such files decode as their still image.
    let animated = header.frames > 1
        && dec.is_apng().unwrap_or(false)
        && !matches!(
            dec.color_type(),
            image::ColorType::L16
                | image::ColorType::La16
                | image::ColorType::Rgb16
                | image::ColorType::Rgba16
        );
    if !animated {
        header.frames = 1;
        let image = DynamicImage::from_decoder(dec).map_err(|e| from_image_error(FORMAT, e))?;
        return Ok(still(image));
    }
    let apng = dec.apng().map_err(|e| from_image_error(FORMAT, e))?;
    collect_frames(apng.into_frames(), FORMAT, limits)
}
