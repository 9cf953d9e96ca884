//! BMP output through the `image` crate's encoder (24-bit RGB or 32-bit RGBA).

use image::codecs::bmp::BmpEncoder;
use image::ExtendedColorType;

use super::pixels::{alpha_used, interleaved8};
use crate::error::{ImageError, Result};
use crate::model::Image;

/// Encode the first frame as BMP; RGBA only when some pixel is not opaque.
pub fn encode(img: &Image) -> Result<Vec<u8>> {
    let frame = super::first_frame(img)?;
    let alpha = alpha_used(frame);
    let (samples, _) = interleaved8(frame, alpha);
    let color = if alpha {
        ExtendedColorType::Rgba8
    } else {
        ExtendedColorType::Rgb8
    };
    let mut out = Vec::new();
    BmpEncoder::new(&mut out)
        .encode(&samples, frame.width(), frame.height(), color)
        .map_err(|e| ImageError::Encode {
            format: "bmp",
            detail: e.to_string(),
        })?;
    Ok(out)
}
