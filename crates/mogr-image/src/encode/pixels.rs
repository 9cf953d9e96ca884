//! Pixel conversions the encoders share: alpha detection, flattening, 8-bit views.

use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

/// True when the frame has an alpha channel with at least one pixel that is not opaque.
///
/// Decoders hand out RGBA for many opaque images; an unused alpha plane only costs bytes.
pub(crate) fn alpha_used(img: &DynamicImage) -> bool {
    match img {
        DynamicImage::ImageLumaA8(b) => b.pixels().any(|p| p.0[1] != u8::MAX),
        DynamicImage::ImageRgba8(b) => b.pixels().any(|p| p.0[3] != u8::MAX),
        DynamicImage::ImageLumaA16(b) => b.pixels().any(|p| p.0[1] != u16::MAX),
        DynamicImage::ImageRgba16(b) => b.pixels().any(|p| p.0[3] != u16::MAX),
        DynamicImage::ImageRgba32F(b) => b.pixels().any(|p| p.0[3] < 1.0),
        other => other.color().has_alpha() && other.to_rgba8().pixels().any(|p| p.0[3] != 255),
    }
}

/// True when the frame is stored as grayscale (with or without alpha).
pub(crate) fn is_gray(img: &DynamicImage) -> bool {
    !img.color().has_color()
}

/// Blend one 8-bit channel value with `alpha` onto white.
fn over_white(c: u8, alpha: u8) -> u8 {
    let a = u32::from(alpha);
    ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8
}

/// 8-bit RGB with any transparency composited onto white (formats without alpha).
pub(crate) fn rgb8_on_white(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = src.0;
        dst.0 = [over_white(r, a), over_white(g, a), over_white(b, a)];
    }
    out
}

/// 8-bit gray with any transparency composited onto white.
pub(crate) fn gray8_on_white(img: &DynamicImage) -> GrayImage {
    if !img.color().has_alpha() {
        return img.to_luma8();
    }
    let la = img.to_luma_alpha8();
    let (w, h) = la.dimensions();
    let mut out = GrayImage::new(w, h);
    for (dst, src) in out.pixels_mut().zip(la.pixels()) {
        dst.0 = [over_white(src.0[0], src.0[1])];
    }
    out
}

/// 8-bit RGBA (16-bit and float frames are scaled down).
pub(crate) fn rgba8(img: &DynamicImage) -> RgbaImage {
    match img {
        DynamicImage::ImageRgba8(b) => b.clone(),
        other => other.to_rgba8(),
    }
}

/// The interleaved 8-bit samples of the frame, RGBA when `alpha` else RGB.
pub(crate) fn interleaved8(img: &DynamicImage, alpha: bool) -> (Vec<u8>, usize) {
    if alpha {
        (rgba8(img).into_raw(), 4)
    } else {
        (img.to_rgb8().into_raw(), 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn transparent_pixels_turn_white_and_opaque_pixels_keep_their_colour() {
        let mut img = RgbaImage::new(2, 1);
        img.put_pixel(0, 0, Rgba([0, 0, 0, 0]));
        img.put_pixel(1, 0, Rgba([10, 20, 30, 255]));
        let rgb = rgb8_on_white(&DynamicImage::ImageRgba8(img));
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(rgb.get_pixel(1, 0).0, [10, 20, 30]);
    }

    #[test]
    fn an_all_opaque_alpha_channel_is_not_used() {
        let img = RgbaImage::from_pixel(3, 3, Rgba([1, 2, 3, 255]));
        assert!(!alpha_used(&DynamicImage::ImageRgba8(img.clone())));
        let mut img = img;
        img.put_pixel(1, 1, Rgba([1, 2, 3, 254]));
        assert!(alpha_used(&DynamicImage::ImageRgba8(img)));
    }
}
