//! PNG output through the `png` crate: adaptive filters, palette output for palette sources,
//! 16-bit kept, ICC (`iCCP`) and EXIF (`eXIf`) carried.

use std::borrow::Cow;

use image::DynamicImage;
use png::{BitDepth, ColorType, DeflateCompression, Filter, Info};

use super::exif::with_orientation;
use super::palette::{self, AlphaMode, Indexed, Method};
use super::EncodeSettings;
use crate::error::{ImageError, Result};
use crate::model::Image;

/// zlib level for the deflate stage (`tests/encode_png_level.rs`, 2560x1600 corpus photo, one
/// shared 2-core run): fdeflate `Fast` 186 ms / 8.39 MB, level 1 361 ms / 7.43 MB, level 2
/// 503 ms / 7.04 MB, level 6 (`Default`) 1416 ms / 6.70 MB; `vips copy` 1317 ms (412 of them
/// start + decode) / 8.46 MB, `convert` 3039 ms / 6.80 MB. Level 2 is smaller and faster than
/// libvips and within 5 % of level 6's bytes at a third of its time.
pub const DEFLATE_LEVEL: u8 = 2;

/// Encode the first frame as PNG.
pub fn encode(img: &Image, settings: &EncodeSettings) -> Result<Vec<u8>> {
    let frame = super::first_frame(img)?;
    let (w, h) = (frame.width(), frame.height());
    let mut info = Info::with_size(w, h);
    let (samples, color, depth) = if img.source.palette {
        let indexed = indexed(frame)?;
        let depth = palette_depth(indexed.palette.len());
        info.palette = Some(Cow::Owned(indexed.palette.concat()));
        if let Some(last_translucent) = indexed.alpha.iter().rposition(|&a| a != 255) {
            info.trns = Some(Cow::Owned(indexed.alpha[..=last_translucent].to_vec()));
        }
        let packed = pack(&indexed.indices, w as usize, depth);
        (packed, ColorType::Indexed, depth)
    } else {
        let (samples, color, depth) = direct(frame);
        (samples, color, depth)
    };
    info.color_type = color;
    info.bit_depth = depth;
    info.icc_profile = img
        .metadata
        .icc
        .clone()
        .filter(|p| !p.is_empty())
        .map(Cow::Owned);
    if !settings.strip {
        info.exif_metadata = img
            .metadata
            .exif
            .as_deref()
            .map(|e| Cow::Owned(with_orientation(e, img.metadata.orientation).into_owned()));
    }
    let mut out = Vec::new();
    write(&mut out, info, &samples, img, settings.strip).map_err(|e| ImageError::Encode {
        format: "png",
        detail: e.to_string(),
    })?;
    Ok(out)
}

fn write(
    out: &mut Vec<u8>,
    info: Info<'_>,
    samples: &[u8],
    img: &Image,
    strip: bool,
) -> std::result::Result<(), png::EncodingError> {
    let mut enc = png::Encoder::with_info(out, info)?;
    enc.set_deflate_compression(DeflateCompression::Level(DEFLATE_LEVEL));
    enc.set_filter(Filter::Adaptive);
    if !strip {
        if let Some(xmp) = img.metadata.xmp.as_deref() {
            if let Ok(text) = std::str::from_utf8(xmp) {
                enc.add_itxt_chunk("XML:com.adobe.xmp".to_string(), text.to_string())?;
            }
        }
    }
    let mut writer = enc.write_header()?;
    writer.write_image_data(samples)?;
    writer.finish()
}

/// The frame as palette indices: its own colours when they fit, else quantised to 256.
fn indexed(frame: &DynamicImage) -> Result<Indexed> {
    let rgba = super::pixels::rgba8(frame);
    match palette::exact(&rgba, 256, AlphaMode::Full) {
        Some(ix) => Ok(ix),
        None => palette::quantize(&rgba, 256, Method::Quality, true),
    }
}

/// The smallest PNG palette bit depth holding `n` entries.
fn palette_depth(n: usize) -> BitDepth {
    match n {
        0..=2 => BitDepth::One,
        3..=4 => BitDepth::Two,
        5..=16 => BitDepth::Four,
        _ => BitDepth::Eight,
    }
}

/// Pack 8-bit indices into rows of `depth`-bit samples, each row starting on a byte.
fn pack(indices: &[u8], width: usize, depth: BitDepth) -> Vec<u8> {
    let bits = match depth {
        BitDepth::One => 1,
        BitDepth::Two => 2,
        BitDepth::Four => 4,
        _ => return indices.to_vec(),
    };
    let per_byte = 8 / bits;
    let row_bytes = width.div_ceil(per_byte);
    let mut out = Vec::with_capacity(row_bytes * indices.len() / width.max(1));
    for row in indices.chunks(width.max(1)) {
        for group in row.chunks(per_byte) {
            let mut byte = 0u8;
            for (i, &ix) in group.iter().enumerate() {
                byte |= ix << (8 - bits * (i + 1));
            }
            out.push(byte);
        }
    }
    out
}

/// Samples for a truecolour or gray PNG, keeping 16 bits where the frame has them.
fn direct(frame: &DynamicImage) -> (Vec<u8>, ColorType, BitDepth) {
    fn be16(samples: &[u16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_be_bytes()).collect()
    }
    match frame {
        DynamicImage::ImageLuma8(b) => (b.as_raw().clone(), ColorType::Grayscale, BitDepth::Eight),
        DynamicImage::ImageLumaA8(b) => (
            b.as_raw().clone(),
            ColorType::GrayscaleAlpha,
            BitDepth::Eight,
        ),
        DynamicImage::ImageRgb8(b) => (b.as_raw().clone(), ColorType::Rgb, BitDepth::Eight),
        DynamicImage::ImageRgba8(b) => (b.as_raw().clone(), ColorType::Rgba, BitDepth::Eight),
        DynamicImage::ImageLuma16(b) => (be16(b.as_raw()), ColorType::Grayscale, BitDepth::Sixteen),
        DynamicImage::ImageLumaA16(b) => (
            be16(b.as_raw()),
            ColorType::GrayscaleAlpha,
            BitDepth::Sixteen,
        ),
        DynamicImage::ImageRgb16(b) => (be16(b.as_raw()), ColorType::Rgb, BitDepth::Sixteen),
        DynamicImage::ImageRgba16(b) => (be16(b.as_raw()), ColorType::Rgba, BitDepth::Sixteen),
        other if other.color().has_alpha() => (
            be16(other.to_rgba16().as_raw()),
            ColorType::Rgba,
            BitDepth::Sixteen,
        ),
        other => (
            be16(other.to_rgb16().as_raw()),
            ColorType::Rgb,
            BitDepth::Sixteen,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_pack_msb_first_and_rows_restart_on_a_byte() {
        // 3 pixels per row at 2 bits: one byte per row, last 2 bits padding.
        let packed = pack(&[1, 2, 3, 3, 0, 1], 3, BitDepth::Two);
        assert_eq!(packed, vec![0b0110_1100, 0b1100_0100]);
        let packed = pack(&[1, 0, 1, 1, 1, 1, 1, 1, 1], 9, BitDepth::One);
        assert_eq!(packed, vec![0b1011_1111, 0b1000_0000]);
    }
}
