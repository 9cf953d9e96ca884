//! Placing a frame on a larger (or smaller) canvas of one colour: `pad/1` and friends.

use image::{DynamicImage, ImageBuffer, Luma, LumaA, Pixel, Rgb, Rgba as RgbaPx};

use crate::ops::geometry::Rgba;
use crate::ops::transform::Size;

/// `frame` drawn at `at` (its top-left corner, may be negative) on a `canvas` filled with
/// `colour`; whatever falls outside the canvas is clipped.
///
/// The result keeps the frame's depth and stays grey, or without alpha, when both the frame
/// and the colour allow it, so padding an opaque JPEG with white does not add an alpha plane.
pub fn pad(frame: &DynamicImage, canvas: Size, at: (i64, i64), colour: Rgba) -> DynamicImage {
    let alpha = frame.color().has_alpha() || !colour.is_opaque();
    let rgb = frame.color().has_color() || !colour.is_gray();
    let bits = frame.color().bytes_per_pixel() / frame.color().channel_count();
    let [r, g, b, a] = colour.0;
    let wide = |v: u8| u16::from(v) * 257;
    let float = |v: u8| f32::from(v) / 255.0;
    match (bits, rgb, alpha) {
        (1, false, false) => {
            DynamicImage::ImageLuma8(place(&frame.to_luma8(), canvas, at, Luma([r])))
        }
        (1, false, true) => {
            DynamicImage::ImageLumaA8(place(&frame.to_luma_alpha8(), canvas, at, LumaA([r, a])))
        }
        (1, true, false) => {
            DynamicImage::ImageRgb8(place(&frame.to_rgb8(), canvas, at, Rgb([r, g, b])))
        }
        (1, true, true) => {
            DynamicImage::ImageRgba8(place(&frame.to_rgba8(), canvas, at, RgbaPx([r, g, b, a])))
        }
        (2, false, false) => {
            DynamicImage::ImageLuma16(place(&frame.to_luma16(), canvas, at, Luma([wide(r)])))
        }
        (2, false, true) => DynamicImage::ImageLumaA16(place(
            &frame.to_luma_alpha16(),
            canvas,
            at,
            LumaA([wide(r), wide(a)]),
        )),
        (2, true, false) => DynamicImage::ImageRgb16(place(
            &frame.to_rgb16(),
            canvas,
            at,
            Rgb([wide(r), wide(g), wide(b)]),
        )),
        (2, true, true) => DynamicImage::ImageRgba16(place(
            &frame.to_rgba16(),
            canvas,
            at,
            RgbaPx([wide(r), wide(g), wide(b), wide(a)]),
        )),
        (_, _, false) => DynamicImage::ImageRgb32F(place(
            &frame.to_rgb32f(),
            canvas,
            at,
            Rgb([float(r), float(g), float(b)]),
        )),
        (_, _, true) => DynamicImage::ImageRgba32F(place(
            &frame.to_rgba32f(),
            canvas,
            at,
            RgbaPx([float(r), float(g), float(b), float(a)]),
        )),
    }
}

/// A `canvas` of `fill` with `src` copied in at `at` (clipped).
fn place<P: Pixel>(
    src: &ImageBuffer<P, Vec<P::Subpixel>>,
    canvas: Size,
    at: (i64, i64),
    fill: P,
) -> ImageBuffer<P, Vec<P::Subpixel>> {
    let mut out = ImageBuffer::from_pixel(canvas.width, canvas.height, fill);
    // `replace` clips to both images, so negative or overhanging positions are safe.
    image::imageops::replace(&mut out, src, at.0, at.1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, RgbImage, RgbaImage};

    #[test]
    fn the_frame_lands_at_its_position_on_the_colour() {
        let frame = DynamicImage::ImageRgb8(RgbImage::from_pixel(2, 2, Rgb([0, 0, 255])));
        let out = pad(&frame, Size::new(6, 4), (3, 1), Rgba::rgb(10, 20, 30));
        let out = out
            .as_rgb8()
            .expect("opaque colour on opaque frame stays RGB");
        assert_eq!(out.dimensions(), (6, 4));
        assert_eq!(out.get_pixel(0, 0).0, [10, 20, 30]);
        assert_eq!(out.get_pixel(3, 1).0, [0, 0, 255]);
        assert_eq!(out.get_pixel(4, 2).0, [0, 0, 255]);
        assert_eq!(out.get_pixel(5, 3).0, [10, 20, 30]);
    }

    #[test]
    fn layout_follows_frame_and_colour() {
        let grey = DynamicImage::ImageLuma8(GrayImage::new(2, 2));
        assert!(matches!(
            pad(&grey, Size::new(3, 3), (0, 0), Rgba::WHITE),
            DynamicImage::ImageLuma8(_)
        ));
        assert!(matches!(
            pad(&grey, Size::new(3, 3), (0, 0), Rgba::rgb(255, 0, 0)),
            DynamicImage::ImageRgb8(_)
        ));
        let out = pad(&grey, Size::new(3, 3), (1, 1), Rgba::TRANSPARENT);
        let out = out
            .as_luma_alpha8()
            .expect("a transparent colour needs alpha");
        assert_eq!(out.get_pixel(0, 0).0, [0, 0]);
        let rgba = DynamicImage::ImageRgba8(RgbaImage::new(2, 2));
        assert!(matches!(
            pad(&rgba, Size::new(3, 3), (0, 0), Rgba::WHITE),
            DynamicImage::ImageRgba8(_)
        ));
    }

    #[test]
    fn overhanging_positions_are_clipped() {
        let frame = DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 4, Rgb([1, 2, 3])));
        let out = pad(&frame, Size::new(3, 3), (-2, -2), Rgba::WHITE).to_rgb8();
        assert_eq!(out.get_pixel(0, 0).0, [1, 2, 3]);
        assert_eq!(out.get_pixel(1, 1).0, [1, 2, 3]);
        assert_eq!(out.get_pixel(2, 2).0, [255, 255, 255]);
    }
}
