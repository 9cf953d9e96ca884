//! `iradius/<r>`: circular crop.
//!
//! The output is the square of side `2r` centred on the image, with the inscribed circle kept
//! and everything outside it transparent (antialiased over one pixel). Valid radii are
//! 1..=min(w, h)/2. Gray frames become Gray+alpha, colour frames RGBA; formats without alpha
//! flatten the transparent parts onto white when they encode.

use image::DynamicImage;

use super::channels::{samples_with_alpha_mut, with_alpha};
use super::transform::{Size, Transform};
use crate::error::{ImageError, Result};

/// `iradius/<r>`: keep the centred disc of radius `r`, in a `2r` x `2r` canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IRadius {
    /// Radius in pixels.
    pub radius: u32,
}

impl IRadius {
    /// A circular crop of radius `radius` (checked against each image).
    pub fn new(radius: u32) -> IRadius {
        IRadius { radius }
    }
}

/// Checks that `radius` is 1..=half the shorter side of `input`, naming `op` otherwise.
pub(crate) fn check_radius(op: &str, radius: u32, input: Size) -> Result<()> {
    let half = input.width.min(input.height) / 2;
    if radius == 0 || radius > half {
        return Err(ImageError::InvalidArgument(format!(
            "{op}: radius {radius} must be between 1 and half the shorter side ({half}) of a \
             {}x{} image",
            input.width, input.height
        )));
    }
    Ok(())
}

/// How much of the pixel whose centre lies `distance` from the centre of a disc of `radius`
/// is inside it: 1 inside, 0 outside, a linear ramp one pixel wide across the edge.
pub(crate) fn disc_coverage(distance: f32, radius: f32) -> f32 {
    (radius - distance + 0.5).clamp(0.0, 1.0)
}

/// Scales an 8-bit alpha sample by a coverage in 0..=1.
pub(crate) fn fade(alpha: &mut u8, coverage: f32) {
    if coverage < 1.0 {
        *alpha = (f32::from(*alpha) * coverage).round() as u8;
    }
}

impl Transform for IRadius {
    fn name(&self) -> &'static str {
        "iradius"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        check_radius("iradius", self.radius, input)?;
        Ok(Size::new(self.radius * 2, self.radius * 2))
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        let (w, h) = (frame.width(), frame.height());
        let side = self.output_size(Size::new(w, h))?.width;
        let square = frame.crop_imm((w - side) / 2, (h - side) / 2, side, side);
        let mut out = with_alpha(&square);
        let (data, channels) = samples_with_alpha_mut(&mut out);
        let r = self.radius as f32;
        for (i, px) in data.chunks_exact_mut(channels).enumerate() {
            let (x, y) = ((i % side as usize) as f32, (i / side as usize) as f32);
            let distance = (x + 0.5 - r).hypot(y + 0.5 - r);
            fade(&mut px[channels - 1], disc_coverage(distance, r));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    #[test]
    fn the_centred_square_keeps_the_disc_and_clears_the_corners() {
        // Left half red, right half blue, 40x30: the 2r=20 square starts at (10, 5).
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(40, 30, |x, _| {
            Rgb(if x < 20 { [255, 0, 0] } else { [0, 0, 255] })
        }));
        let op = IRadius::new(10);
        assert_eq!(
            op.output_size(Size::new(40, 30)).unwrap(),
            Size::new(20, 20)
        );
        let out = op.apply_frame(&img).unwrap().to_rgba8();
        assert_eq!(out.dimensions(), (20, 20));
        for (x, y) in [(0, 0), (19, 0), (0, 19), (19, 19), (2, 2)] {
            assert_eq!(out.get_pixel(x, y).0[3], 0, "corner ({x},{y})");
        }
        assert_eq!(out.get_pixel(9, 10).0, [255, 0, 0, 255]);
        assert_eq!(out.get_pixel(10, 10).0, [0, 0, 255, 255]);
        // Edge midpoints are (almost entirely) inside; the rim is antialiased.
        assert!(out.get_pixel(0, 10).0[3] > 240);
        assert!(out.pixels().any(|p| p.0[3] > 0 && p.0[3] < 255));
    }

    #[test]
    fn gray_stays_gray_with_alpha() {
        let img = DynamicImage::ImageLuma8(GrayImage::from_pixel(8, 8, Luma([70])));
        let out = IRadius::new(4).apply_frame(&img).unwrap();
        assert_eq!(out.color(), image::ColorType::La8);
        let la = out.to_luma_alpha8();
        assert_eq!(la.get_pixel(0, 0).0, [70, 0]);
        assert_eq!(la.get_pixel(4, 4).0, [70, 255]);
    }

    #[test]
    fn radius_out_of_range_names_the_token() {
        for (r, w, h) in [(0, 10, 10), (6, 10, 40), (1, 1, 1)] {
            let err = IRadius::new(r).output_size(Size::new(w, h)).unwrap_err();
            assert!(matches!(&err, ImageError::InvalidArgument(m) if m.starts_with("iradius")));
            let img = DynamicImage::ImageRgb8(RgbImage::new(w, h));
            assert!(IRadius::new(r).apply_frame(&img).is_err());
        }
        let two = DynamicImage::ImageRgb8(RgbImage::new(2, 3));
        assert_eq!(IRadius::new(1).apply_frame(&two).unwrap().width(), 2);
    }
}
