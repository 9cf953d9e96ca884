//! `flip/vertical` and `flip/horizontal`: mirror the image.

use image::DynamicImage;

use crate::error::Result;
use crate::ops::transform::{Size, Transform};

/// The axis a flip mirrors across.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flip {
    /// `flip/vertical`: top and bottom swap.
    Vertical,
    /// `flip/horizontal`: left and right swap.
    Horizontal,
}

impl Transform for Flip {
    fn name(&self) -> &'static str {
        "flip"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        Ok(input)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        Ok(match self {
            Flip::Vertical => frame.flipv(),
            Flip::Horizontal => frame.fliph(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn each_axis_moves_the_red_corner_where_expected() {
        let mut img = RgbImage::new(4, 3);
        img.put_pixel(0, 0, Rgb([255, 0, 0]));
        let img = DynamicImage::ImageRgb8(img);
        let v = Flip::Vertical.apply_frame(&img).unwrap().to_rgb8();
        assert_eq!(v.get_pixel(0, 2).0, [255, 0, 0]);
        assert_eq!(v.get_pixel(0, 0).0, [0, 0, 0]);
        let h = Flip::Horizontal.apply_frame(&img).unwrap().to_rgb8();
        assert_eq!(h.get_pixel(3, 0).0, [255, 0, 0]);
        assert_eq!(h.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(
            Flip::Vertical.output_size(Size::new(4, 3)).unwrap(),
            Size::new(4, 3)
        );
    }
}
