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

fn ppm_to_dpi(ppm: u32) -> u32 {
    (f64::from(ppm) * 0.0254).round() as u32
}

/// Decode pixels: stills keep their bit depth; APNG frames come out as composited RGBA8.
pub(super) fn decode(bytes: &[u8], header: &mut Header, limits: &Limits) -> Result<Vec<Frame>> {
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
