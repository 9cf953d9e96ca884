//! `contrast/<v>`: contrast, -100..=100, 0 unchanged.
//!
//! ImageMagick's `-brightness-contrast 0x<v>` curve: a line through mid-grey with slope
//! `tan((v + 100) * pi / 400)`, so 0 is slope 1 (identity), 100 is a hard threshold at
//! mid-grey and -100 flattens everything to mid-grey. Alpha is kept.

use std::f64::consts::PI;

use image::DynamicImage;

use super::channels::map_colour;
use super::transform::{Size, Transform};
use crate::error::{ImageError, Result};

/// The largest magnitude accepted.
pub const MAX: i32 = 100;

/// `contrast/<v>`: stretch (v > 0) or compress (v < 0) colour around mid-grey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contrast {
    /// Contrast change, -100..=100.
    pub value: i32,
}

impl Contrast {
    /// A contrast change of `value` (checked when applied).
    pub fn new(value: i32) -> Contrast {
        Contrast { value }
    }

    /// The lookup table for this contrast change.
    fn curve(&self) -> Result<[u8; 256]> {
        if !(-MAX..=MAX).contains(&self.value) {
            return Err(ImageError::InvalidArgument(format!(
                "contrast: {} is outside -{MAX}..={MAX}",
                self.value
            )));
        }
        let slope = (f64::from(self.value + 100) * PI / 400.0).tan();
        let mut lut = [0u8; 256];
        for (i, v) in (0u32..).zip(lut.iter_mut()) {
            let x = f64::from(i) / 255.0;
            let y = slope * (x - 0.5) + 0.5;
            // tan(pi/2) is huge but finite, so the 100 curve is a clean threshold.
            *v = (y * 255.0).round().clamp(0.0, 255.0) as u8;
        }
        Ok(lut)
    }
}

impl Transform for Contrast {
    fn name(&self) -> &'static str {
        "contrast"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        self.curve()?;
        Ok(input)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        Ok(map_colour(frame, &self.curve()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayAlphaImage, LumaA, Rgb, RgbImage};

    fn apply(v: i32, px: [u8; 3]) -> [u8; 3] {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 3, Rgb(px)));
        let out = Contrast::new(v).apply_frame(&img).unwrap().to_rgb8();
        assert!(out.pixels().all(|p| p == out.get_pixel(0, 0)));
        out.get_pixel(0, 0).0
    }

    #[test]
    fn zero_is_the_identity() {
        for i in 0..=255u8 {
            assert_eq!(apply(0, [i, 255 - i, i / 2]), [i, 255 - i, i / 2]);
        }
    }

    #[test]
    fn values_follow_the_brightness_contrast_curve() {
        // slope tan(150 * pi / 400) = 2.4142: 64 -> 2.4142 * (64/255 - 0.5) + 0.5 -> -23 -> 0.
        assert_eq!(apply(50, [64, 128, 200]), [0, 129, 255]);
        // slope tan(75 * pi / 400) = 0.6682: 0 -> 42.3, 255 -> 212.7, 200 -> 176.0.
        assert_eq!(apply(-25, [0, 255, 200]), [42, 213, 176]);
        assert_eq!(apply(-100, [0, 255, 17]), [128, 128, 128]);
        assert_eq!(apply(100, [127, 128, 3]), [0, 255, 0]);
    }

    #[test]
    fn alpha_is_untouched() {
        let img = DynamicImage::ImageLumaA8(GrayAlphaImage::from_pixel(2, 2, LumaA([200, 33])));
        let out = Contrast::new(100)
            .apply_frame(&img)
            .unwrap()
            .to_luma_alpha8();
        assert_eq!(out.get_pixel(1, 1).0, [255, 33]);
    }

    #[test]
    fn out_of_range_names_the_token() {
        let err = Contrast::new(-101)
            .output_size(Size::new(1, 1))
            .unwrap_err();
        assert!(matches!(&err, ImageError::InvalidArgument(m) if m.starts_with("contrast")));
    }
}
