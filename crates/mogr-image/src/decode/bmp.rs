//! BMP: the canvas size from `image`'s BMP decoder (the one that decodes the pixels), other
//! header facts parsed here.

use std::io::Cursor;

use image::codecs::bmp::BmpDecoder;
use image::{DynamicImage, ImageDecoder};

use super::bytes::{le16, le32};
use super::{corrupt, from_image_error, image_limits, still, Header};
use crate::error::Result;
use crate::limits::Limits;
use crate::model::{Frame, ImageFormat};

const FORMAT: ImageFormat = ImageFormat::Bmp;

/// Header facts from the file header and the DIB header.
pub(super) fn read_header(bytes: &[u8]) -> Result<Header> {
    let dib_size = le32(bytes, 14).ok_or_else(|| corrupt(FORMAT, "truncated header"))?;
    let (width, height, bits) = if dib_size == 12 {
        // OS/2 BITMAPCOREHEADER: 16-bit unsigned sizes.
        match (le16(bytes, 18), le16(bytes, 20), le16(bytes, 24)) {
            (Some(w), Some(h), Some(b)) => (u32::from(w), u32::from(h), b),
            _ => return Err(corrupt(FORMAT, "truncated core header")),
        }
    } else {
        match (le32(bytes, 18), le32(bytes, 22), le16(bytes, 28)) {
            // Signed sizes: a negative height means top-down rows.
            (Some(w), Some(h), Some(b)) => {
                ((w as i32).unsigned_abs(), (h as i32).unsigned_abs(), b)
            }
            _ => return Err(corrupt(FORMAT, "truncated info header")),
        }
    };
    // The decoder's own header parse must agree with the fields above. When it refuses the
    // headers nothing will be decoded, and the size read here is only reported.
    if let Ok(dec) = BmpDecoder::new(Cursor::new(bytes)) {
        let (dec_w, dec_h) = dec.dimensions();
        if (dec_w, dec_h) != (width, height) {
            return Err(corrupt(
                FORMAT,
                format!("the decoder reads {dec_w}x{dec_h}, the header says {width}x{height}"),
            ));
        }
    }
    let mut h = Header::new(FORMAT, width, height);
    h.palette = bits <= 8;
    h.lossless = true;
    // 32-bit BMPs with an alpha mask (V3+ headers) carry alpha; the decode confirms it.
    h.has_alpha = bits == 32 && dib_size >= 56 && le32(bytes, 14 + 52).is_some_and(|m| m != 0);
    if dib_size >= 40 {
        if let (Some(x), Some(y)) = (le32(bytes, 38), le32(bytes, 42)) {
            if x > 0 && y > 0 {
                h.dpi = Some((ppm_to_dpi(x), ppm_to_dpi(y)));
            }
        }
    }
    Ok(h)
}

fn ppm_to_dpi(ppm: u32) -> u32 {
    (f64::from(ppm) * 0.0254).round() as u32
}

/// Decode pixels through `image`, refusing a canvas over the limits before it allocates.
pub(super) fn decode(bytes: &[u8], header: &mut Header, limits: &Limits) -> Result<Vec<Frame>> {
    let mut dec = BmpDecoder::new(Cursor::new(bytes)).map_err(|e| from_image_error(FORMAT, e))?;
    let (w, h) = dec.dimensions();
    limits.check_canvas(w, h)?;
    if (w, h) != (header.width, header.height) {
        return Err(corrupt(FORMAT, "the canvas changed between reads"));
    }
    dec.set_limits(image_limits(header, limits))
        .map_err(|e| from_image_error(FORMAT, e))?;
    let image = DynamicImage::from_decoder(dec).map_err(|e| from_image_error(FORMAT, e))?;
    header.has_alpha = image.color().has_alpha();
    Ok(still(image))
}
