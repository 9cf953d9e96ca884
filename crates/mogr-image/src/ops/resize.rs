//! Exact resampling of one frame: Lanczos3, SIMD, premultiplied alpha.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use crate::error::{ImageError, Result};
use crate::ops::transform::Size;

/// Resample `frame` to exactly `to` with a Lanczos3 filter.
///
/// The frame keeps its pixel layout: grey stays grey and 16-bit and float frames are resampled
/// at their own depth (the encoders reduce them later, once, instead of after every step).
/// Frames with alpha are resampled premultiplied, so transparent pixels lend no colour to
/// their neighbours (no dark fringes around a transparent edge). A frame already of size `to`
/// is returned as is.
pub fn resize(frame: &DynamicImage, to: Size) -> Result<DynamicImage> {
    if frame.width() == to.width && frame.height() == to.height {
        return Ok(frame.clone());
    }
    if to.width == 0 || to.height == 0 {
        return Err(ImageError::InvalidArgument(format!(
            "cannot resize to an empty {}x{} canvas",
            to.width, to.height
        )));
    }
    let mut out = DynamicImage::new(to.width, to.height, frame.color());
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(true);
    Resizer::new()
        .resize(frame, &mut out, &options)
        // Every `DynamicImage` layout is supported and both sides are non-empty, so this is
        // not reachable from a request; it still must not panic.
        .map_err(|e| ImageError::InvalidArgument(format!("resize: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, ImageBuffer, Luma, Rgb, RgbImage, Rgba, RgbaImage};

    #[test]
    fn output_has_the_requested_size_and_layout() {
        let grey = DynamicImage::ImageLuma8(GrayImage::from_pixel(40, 30, Luma([90])));
        let out = resize(&grey, Size::new(7, 5)).unwrap();
        assert_eq!((out.width(), out.height()), (7, 5));
        assert!(matches!(out, DynamicImage::ImageLuma8(_)));
        assert!(out.to_luma8().pixels().all(|p| p.0[0].abs_diff(90) <= 1));

        let deep =
            DynamicImage::ImageRgb16(ImageBuffer::from_pixel(9, 9, Rgb([1000u16, 2000, 3000])));
        let out = resize(&deep, Size::new(20, 3)).unwrap();
        assert!(matches!(out, DynamicImage::ImageRgb16(_)));
        assert_eq!((out.width(), out.height()), (20, 3));
    }

    #[test]
    fn a_flat_colour_stays_that_colour() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 48, Rgb([200, 30, 60])));
        let out = resize(&img, Size::new(13, 10)).unwrap().to_rgb8();
        for p in out.pixels() {
            for (a, b) in p.0.iter().zip([200u8, 30, 60]) {
                assert!(a.abs_diff(b) <= 1, "{:?}", p.0);
            }
        }
    }

    #[test]
    fn transparent_neighbours_lend_no_colour() {
        // Half-transparent red next to fully transparent black: premultiplied resampling keeps
        // every visible pixel red; a straight-alpha filter would darken the edge.
        let img = RgbaImage::from_fn(64, 64, |x, _| {
            if x < 30 {
                Rgba([255, 0, 0, 128])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let out = resize(&DynamicImage::ImageRgba8(img), Size::new(16, 16))
            .unwrap()
            .to_rgba8();
        let mut edge_seen = false;
        for p in out.pixels() {
            let [r, g, b, a] = p.0;
            if a >= 8 {
                assert!(r >= 250 && g <= 4 && b <= 4, "dark fringe: {:?}", p.0);
            }
            edge_seen |= a > 8 && a < 120;
        }
        assert!(edge_seen, "the edge pixels should be partly transparent");
    }
}
