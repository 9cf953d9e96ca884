//! `cut/<w>x<h>x<dx>x<dy>`: a plain crop at an offset from the top-left corner.

use image::DynamicImage;

use crate::error::{ImageError, Result};
use crate::ops::crop::{clip, Region};
use crate::ops::transform::{Size, Transform};

/// Cut a `width` x `height` box whose top-left corner is at (`dx`, `dy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Box width.
    pub width: u32,
    /// Box height.
    pub height: u32,
    /// Left edge of the box.
    pub dx: u32,
    /// Top edge of the box.
    pub dy: u32,
}

impl Cut {
    /// The region of an `input` canvas this cut keeps: the box clipped to the image; an offset
    /// outside the image is an error naming `cut`.
    pub fn region(&self, input: Size) -> Result<Region> {
        match (
            clip(i64::from(self.dx), self.width, input.width),
            clip(i64::from(self.dy), self.height, input.height),
        ) {
            (Some((x, w)), Some((y, h))) => Ok(Region {
                x,
                y,
                size: Size::new(w, h),
            }),
            _ => Err(ImageError::InvalidArgument(format!(
                "cut: offset {}x{} is outside the {}x{} image",
                self.dx, self.dy, input.width, input.height
            ))),
        }
    }
}

impl Transform for Cut {
    fn name(&self) -> &'static str {
        "cut"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        Ok(self.region(input)?.size)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        Ok(self
            .region(Size::new(frame.width(), frame.height()))?
            .copy_from(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn labelled() -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(9, 6, |x, y| Rgb([x as u8, y as u8, 0])))
    }

    fn cut(width: u32, height: u32, dx: u32, dy: u32) -> Cut {
        Cut {
            width,
            height,
            dx,
            dy,
        }
    }

    #[test]
    fn cuts_at_the_offset() {
        let out = cut(3, 2, 4, 1).apply_frame(&labelled()).unwrap().to_rgb8();
        assert_eq!(out.dimensions(), (3, 2));
        assert_eq!(out.get_pixel(0, 0).0, [4, 1, 0]);
        assert_eq!(out.get_pixel(2, 1).0, [6, 2, 0]);
    }

    #[test]
    fn a_box_over_the_edge_is_clipped() {
        let out = cut(30, 20, 7, 5)
            .apply_frame(&labelled())
            .unwrap()
            .to_rgb8();
        assert_eq!(out.dimensions(), (2, 1));
        assert_eq!(out.get_pixel(0, 0).0, [7, 5, 0]);
    }

    #[test]
    fn offsets_outside_the_image_are_invalid() {
        for c in [cut(1, 1, 9, 0), cut(1, 1, 0, 6), cut(1, 1, 100, 100)] {
            let err = c.output_size(Size::new(9, 6)).unwrap_err();
            assert!(matches!(&err, ImageError::InvalidArgument(m) if m.starts_with("cut")));
        }
    }
}
