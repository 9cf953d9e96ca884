//! 8-bit channel layouts the effect operations share: normalising a frame to 8 bits,
//! premultiplying alpha, and mapping colour samples through a lookup table.
//!
//! Effects work on 8-bit samples, which is what every lossy encoder writes; 16-bit and float
//! frames are reduced first, keeping their channel layout (gray stays gray, alpha stays).

use std::borrow::Cow;

use image::DynamicImage;
use rayon::prelude::*;

/// Rows handed to one rayon task by the per-sample loops here.
const ROWS_PER_TASK: usize = 64;

/// The frame with 8-bit samples in the same layout (Gray, GrayA, RGB or RGBA).
pub(crate) fn eight_bit(frame: &DynamicImage) -> Cow<'_, DynamicImage> {
    match frame {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => Cow::Borrowed(frame),
        other => {
            let color = other.color();
            Cow::Owned(match (color.has_color(), color.has_alpha()) {
                (false, false) => DynamicImage::ImageLuma8(other.to_luma8()),
                (false, true) => DynamicImage::ImageLumaA8(other.to_luma_alpha8()),
                (true, false) => DynamicImage::ImageRgb8(other.to_rgb8()),
                (true, true) => DynamicImage::ImageRgba8(other.to_rgba8()),
            })
        }
    }
}

/// The frame with 8-bit samples and an alpha channel: GrayA for gray frames, RGBA otherwise.
pub(crate) fn with_alpha(frame: &DynamicImage) -> DynamicImage {
    match frame {
        DynamicImage::ImageLumaA8(_) | DynamicImage::ImageRgba8(_) => frame.clone(),
        other if other.color().has_color() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageLumaA8(other.to_luma_alpha8()),
    }
}

/// Interleaved samples of an 8-bit frame and its channel count (1 to 4).
///
/// Frames that are not 8-bit come back empty; callers pass the output of [`eight_bit`].
pub(crate) fn samples(frame: &DynamicImage) -> (&[u8], usize) {
    match frame {
        DynamicImage::ImageLuma8(b) => (b.as_raw(), 1),
        DynamicImage::ImageLumaA8(b) => (b.as_raw(), 2),
        DynamicImage::ImageRgb8(b) => (b.as_raw(), 3),
        DynamicImage::ImageRgba8(b) => (b.as_raw(), 4),
        _ => (&[], 1),
    }
}

/// An 8-bit frame of `width` x `height` from interleaved samples with `channels` per pixel.
///
/// `None` when the buffer does not match the size, which the callers rule out by building it
/// from a frame of the same size.
pub(crate) fn from_samples(
    width: u32,
    height: u32,
    channels: usize,
    data: Vec<u8>,
) -> Option<DynamicImage> {
    match channels {
        1 => image::GrayImage::from_raw(width, height, data).map(DynamicImage::ImageLuma8),
        2 => image::GrayAlphaImage::from_raw(width, height, data).map(DynamicImage::ImageLumaA8),
        3 => image::RgbImage::from_raw(width, height, data).map(DynamicImage::ImageRgb8),
        4 => image::RgbaImage::from_raw(width, height, data).map(DynamicImage::ImageRgba8),
        _ => None,
    }
}

/// Mutable interleaved samples of an 8-bit frame with alpha and its channel count (2 or 4).
///
/// Other frames come back empty; callers pass the output of [`with_alpha`].
pub(crate) fn samples_with_alpha_mut(frame: &mut DynamicImage) -> (&mut [u8], usize) {
    match frame {
        DynamicImage::ImageLumaA8(b) => (&mut **b, 2),
        DynamicImage::ImageRgba8(b) => (&mut **b, 4),
        _ => (&mut [], 4),
    }
}

/// True for the layouts whose last channel is alpha (GrayA, RGBA).
pub(crate) fn has_alpha(channels: usize) -> bool {
    channels == 2 || channels == 4
}

/// Samples per rayon task: whole pixels, about [`ROWS_PER_TASK`] rows of `row` samples.
pub(crate) fn chunk_len(row: usize) -> usize {
    row.max(1) * ROWS_PER_TASK
}

/// Multiplies the colour samples of each pixel by its alpha (the last channel), in place.
///
/// Filters that mix neighbouring pixels must work on premultiplied colour, or the colour of
/// transparent pixels (often black) bleeds into visible ones as a dark fringe.
pub(crate) fn premultiply(data: &mut [u8], channels: usize, row: usize) {
    data.par_chunks_mut(chunk_len(row)).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(channels) {
            let (colour, alpha) = px.split_at_mut(channels - 1);
            let a = u32::from(alpha[0]);
            if a != 255 {
                for c in colour {
                    *c = ((u32::from(*c) * a + 127) / 255) as u8;
                }
            }
        }
    });
}

/// Inverse of [`premultiply`]: divides the colour samples by alpha; fully transparent pixels
/// get colour 0.
pub(crate) fn unpremultiply(data: &mut [u8], channels: usize, row: usize) {
    data.par_chunks_mut(chunk_len(row)).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(channels) {
            let (colour, alpha) = px.split_at_mut(channels - 1);
            let a = u32::from(alpha[0]);
            match a {
                255 => {}
                0 => colour.iter_mut().for_each(|c| *c = 0),
                _ => {
                    for c in colour {
                        *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
                    }
                }
            }
        }
    });
}

/// The frame, reduced to 8 bits, with every colour sample mapped through `lut`; alpha kept.
pub(crate) fn map_colour(frame: &DynamicImage, lut: &[u8; 256]) -> DynamicImage {
    let frame = eight_bit(frame);
    let (src, channels) = samples(&frame);
    let colours = if has_alpha(channels) {
        channels - 1
    } else {
        channels
    };
    let row = frame.width() as usize * channels;
    let mut out = src.to_vec();
    out.par_chunks_mut(chunk_len(row)).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(channels) {
            for c in &mut px[..colours] {
                *c = lut[usize::from(*c)];
            }
        }
    });
    // Same size and layout as `frame`, so the rebuild cannot fail; fall back to it anyway.
    from_samples(frame.width(), frame.height(), channels, out).unwrap_or_else(|| frame.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayAlphaImage, ImageBuffer, LumaA, Rgb};

    #[test]
    fn sixteen_bit_frames_become_eight_bit_in_the_same_layout() {
        let img =
            DynamicImage::ImageRgb16(ImageBuffer::from_pixel(2, 1, Rgb([65535u16, 0, 32896])));
        let out = eight_bit(&img);
        assert_eq!(out.color(), image::ColorType::Rgb8);
        assert_eq!(samples(&out).0, &[255, 0, 128, 255, 0, 128]);
    }

    #[test]
    fn premultiply_round_trips_opaque_and_clears_transparent() {
        let mut px = vec![200, 255, 10, 128, 77, 0];
        premultiply(&mut px, 2, 6);
        assert_eq!(px, vec![200, 255, 5, 128, 0, 0]);
        unpremultiply(&mut px, 2, 6);
        assert_eq!(&px[..2], &[200, 255]);
        assert!((i32::from(px[2]) - 10).abs() <= 1);
        assert_eq!(&px[4..], &[0, 0]);
    }

    #[test]
    fn map_colour_keeps_alpha() {
        let img = DynamicImage::ImageLumaA8(GrayAlphaImage::from_pixel(1, 1, LumaA([10, 99])));
        let mut lut = [0u8; 256];
        lut[10] = 42;
        let out = map_colour(&img, &lut);
        assert_eq!(
            out.as_luma_alpha8().map(|b| b.get_pixel(0, 0).0),
            Some([42, 99])
        );
    }
}
