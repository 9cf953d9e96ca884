//! `bright/<v>`: brightness, -100..=100, 0 unchanged.
//!
//! Adds `v`% of full scale to every colour sample (`out = in + round(v * 255 / 100)`, clamped),
//! which is ImageMagick's `-brightness-contrast <v>x0`. Alpha is kept.

use image::DynamicImage;

use super::channels::map_colour;
use super::transform::{Size, Transform};
use crate::error::{ImageError, Result};

/// The largest magnitude accepted.
pub const MAX: i32 = 100;

/// `bright/<v>`: shift every colour sample by `v`% of full scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bright {
    /// Percent of full scale to add, -100..=100.
    pub value: i32,
}

impl Bright {
    /// A brightness change of `value` percent (checked when applied).
    pub fn new(value: i32) -> Bright {
        Bright { value }
    }

    /// The lookup table for this brightness change.
    fn curve(&self) -> Result<[u8; 256]> {
        if !(-MAX..=MAX).contains(&self.value) {
            return Err(ImageError::InvalidArgument(format!(
                "bright: {} is outside -{MAX}..={MAX}",
                self.value
            )));
        }
        let shift = (f64::from(self.value) * 255.0 / 100.0).round() as i32;
        let mut lut = [0u8; 256];
        for (i, v) in (0i32..).zip(lut.iter_mut()) {
            *v = (i + shift).clamp(0, 255) as u8;
        }
        Ok(lut)
    }
}

impl Transform for Bright {
    fn name(&self) -> &'static str {
        "bright"
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
    use image::{Rgba, RgbaImage};

    fn uniform(px: [u8; 4]) -> DynamicImage {
        DynamicImage::ImageRgba8(RgbaImage::from_pixel(3, 2, Rgba(px)))
    }

    fn apply(v: i32, px: [u8; 4]) -> [u8; 4] {
        let out = Bright::new(v).apply_frame(&uniform(px)).unwrap().to_rgba8();
        assert!(out.pixels().all(|p| p == out.get_pixel(0, 0)));
        out.get_pixel(0, 0).0
    }

    #[test]
    fn adds_percent_of_full_scale_and_keeps_alpha() {
        assert_eq!(apply(20, [100, 0, 250, 60]), [151, 51, 255, 60]);
        assert_eq!(apply(-50, [100, 200, 128, 255]), [0, 72, 0, 255]);
        assert_eq!(apply(100, [0, 1, 2, 3]), [255, 255, 255, 3]);
        assert_eq!(apply(-100, [255, 254, 9, 200]), [0, 0, 0, 200]);
    }

    #[test]
    fn zero_is_the_identity() {
        for px in [[0, 0, 0, 0], [1, 127, 128, 254], [255, 255, 255, 255]] {
            assert_eq!(apply(0, px), px);
        }
    }

    #[test]
    fn out_of_range_names_the_token() {
        for v in [-101, 101] {
            let err = Bright::new(v).output_size(Size::new(1, 1)).unwrap_err();
            assert!(matches!(&err, ImageError::InvalidArgument(m) if m.starts_with("bright")));
        }
    }
}
