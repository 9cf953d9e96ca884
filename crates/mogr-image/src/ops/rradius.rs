//! `rradius/<r>`: rounded corners.
//!
//! The image keeps its size; each corner is cut to a quarter circle of radius `r`, transparent
//! outside it (antialiased over one pixel). Valid radii are 1..=min(w, h)/2. Gray frames
//! become Gray+alpha, colour frames RGBA; formats without alpha flatten the cut corners onto
//! white when they encode.

use image::DynamicImage;

use super::channels::{samples_with_alpha_mut, with_alpha};
use super::iradius::{check_radius, disc_coverage, fade};
use super::transform::{Size, Transform};
use crate::error::Result;

/// `rradius/<r>`: round the four corners with radius `r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RRadius {
    /// Corner radius in pixels.
    pub radius: u32,
}

impl RRadius {
    /// Rounded corners of radius `radius` (checked against each image).
    pub fn new(radius: u32) -> RRadius {
        RRadius { radius }
    }
}

impl Transform for RRadius {
    fn name(&self) -> &'static str {
        "rradius"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        check_radius("rradius", self.radius, input)?;
        Ok(input)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        let (w, h) = (frame.width(), frame.height());
        self.output_size(Size::new(w, h))?;
        let mut out = with_alpha(frame);
        let (data, channels) = samples_with_alpha_mut(&mut out);
        let (r, width) = (self.radius as usize, w as usize);
        let rf = self.radius as f32;
        // Only the r x r corner blocks change; distances are measured from the corner arc's
        // centre, mirrored for the right and bottom corners.
        for dy in 0..r {
            for dx in 0..r {
                let distance = (rf - (dx as f32 + 0.5)).hypot(rf - (dy as f32 + 0.5));
                let coverage = disc_coverage(distance, rf);
                if coverage >= 1.0 {
                    continue;
                }
                let (right, bottom) = (width - 1 - dx, h as usize - 1 - dy);
                for (x, y) in [(dx, dy), (right, dy), (dx, bottom), (right, bottom)] {
                    let alpha = (y * width + x) * channels + channels - 1;
                    if let Some(a) = data.get_mut(alpha) {
                        fade(a, coverage);
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ImageError;
    use image::{Rgba, RgbaImage};

    #[test]
    fn corners_are_cut_and_the_rest_kept() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(30, 20, Rgba([9, 99, 199, 200])));
        let op = RRadius::new(8);
        assert_eq!(
            op.output_size(Size::new(30, 20)).unwrap(),
            Size::new(30, 20)
        );
        let out = op.apply_frame(&img).unwrap().to_rgba8();
        assert_eq!(out.dimensions(), (30, 20));
        for (x, y) in [(0, 0), (29, 0), (0, 19), (29, 19), (1, 1), (28, 18)] {
            assert_eq!(out.get_pixel(x, y).0[3], 0, "corner ({x},{y})");
        }
        // Colour stays; alpha keeps its own value inside the shape.
        assert_eq!(out.get_pixel(15, 10).0, [9, 99, 199, 200]);
        assert_eq!(out.get_pixel(0, 10).0[3], 200);
        assert_eq!(out.get_pixel(15, 0).0[3], 200);
        assert_eq!(out.get_pixel(8, 8).0[3], 200);
        // The arc is antialiased and symmetric.
        let partial: Vec<_> = out
            .pixels()
            .filter(|p| p.0[3] > 0 && p.0[3] < 200)
            .collect();
        assert!(!partial.is_empty() && partial.len() % 4 == 0);
    }

    #[test]
    fn opaque_rgb_gains_alpha() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3])));
        let out = RRadius::new(2).apply_frame(&img).unwrap();
        assert_eq!(out.color(), image::ColorType::Rgba8);
        // A radius-2 arc leaves only a sliver of the corner pixel.
        assert!(out.to_rgba8().get_pixel(0, 0).0[3] < 128);
        assert_eq!(out.to_rgba8().get_pixel(1, 1).0, [1, 2, 3, 255]);
    }

    #[test]
    fn radius_out_of_range_names_the_token() {
        for (r, w, h) in [(0, 10, 10), (6, 40, 10), (1, 1, 5)] {
            let err = RRadius::new(r).output_size(Size::new(w, h)).unwrap_err();
            assert!(matches!(&err, ImageError::InvalidArgument(m) if m.starts_with("rradius")));
            let img = DynamicImage::ImageRgb8(image::RgbImage::new(w, h));
            assert!(RRadius::new(r).apply_frame(&img).is_err());
        }
    }
}
