//! `crop/<W>x<H>` (and `<W>x`, `x<H>`) with its `gravity`, `dx` and `dy` modifiers.

use image::DynamicImage;

use crate::error::{ImageError, Result};
use crate::ops::geometry::Gravity;
use crate::ops::transform::{Size, Transform};

/// Cut a box of the given size out of the image, anchored by `gravity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    /// Box width; `None` keeps the full width (`crop/x<H>`).
    pub width: Option<u32>,
    /// Box height; `None` keeps the full height (`crop/<W>x`).
    pub height: Option<u32>,
    /// Where the box is anchored (north-west by default).
    pub gravity: Gravity,
    /// Horizontal offset from the anchored edge, towards the inside.
    pub dx: u32,
    /// Vertical offset from the anchored edge, towards the inside.
    pub dy: u32,
}

/// A rectangle inside a canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width and height (both at least 1).
    pub size: Size,
}

impl Region {
    /// A copy of this region of `frame` (only the region is copied).
    pub fn copy_from(&self, frame: &DynamicImage) -> DynamicImage {
        frame.crop_imm(self.x, self.y, self.size.width, self.size.height)
    }
}

/// The part of the box `[x, x + len)` that lies inside `[0, span)`, or `None`.
pub(crate) fn clip(x: i64, len: u32, span: u32) -> Option<(u32, u32)> {
    let start = x.max(0);
    let end = (x + i64::from(len)).min(i64::from(span));
    (end > start).then(|| (start as u32, (end - start) as u32))
}

impl Crop {
    /// The region of an `input` canvas this crop keeps.
    ///
    /// A box side larger than the image is the image's side; a box pushed partly outside by
    /// its offsets keeps the part inside; a box wholly outside is an error naming `crop`.
    pub fn region(&self, input: Size) -> Result<Region> {
        let side = |v: Option<u32>, full: u32| v.map_or(full, |v| v.min(full));
        let boxed = Size::new(
            side(self.width, input.width),
            side(self.height, input.height),
        );
        let (x, y) = self
            .gravity
            .place(input, boxed, i64::from(self.dx), i64::from(self.dy));
        match (
            clip(x, boxed.width, input.width),
            clip(y, boxed.height, input.height),
        ) {
            (Some((x, w)), Some((y, h))) => Ok(Region {
                x,
                y,
                size: Size::new(w, h),
            }),
            _ => Err(ImageError::InvalidArgument(format!(
                "crop: a {}x{} box with dx/{} dy/{} lies outside the {}x{} image",
                boxed.width, boxed.height, self.dx, self.dy, input.width, input.height
            ))),
        }
    }
}

impl Transform for Crop {
    fn name(&self) -> &'static str {
        "crop"
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

    /// A 9x6 image whose pixel (x, y) is [x, y, 0].
    fn labelled() -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(9, 6, |x, y| Rgb([x as u8, y as u8, 0])))
    }

    fn crop(w: Option<u32>, h: Option<u32>, gravity: Gravity, dx: u32, dy: u32) -> Crop {
        Crop {
            width: w,
            height: h,
            gravity,
            dx,
            dy,
        }
    }

    /// Output size and the source coordinates of its top-left and bottom-right pixels.
    fn corners(c: Crop) -> ((u32, u32), [u8; 2], [u8; 2]) {
        let out = c.apply_frame(&labelled()).unwrap().to_rgb8();
        let (w, h) = out.dimensions();
        let tl = out.get_pixel(0, 0).0;
        let br = out.get_pixel(w - 1, h - 1).0;
        ((w, h), [tl[0], tl[1]], [br[0], br[1]])
    }

    #[test]
    fn each_gravity_keeps_its_corner() {
        use Gravity::*;
        let cases = [
            (NorthWest, [0, 0], [2, 1]),
            (North, [3, 0], [5, 1]),
            (NorthEast, [6, 0], [8, 1]),
            (West, [0, 2], [2, 3]),
            (Center, [3, 2], [5, 3]),
            (East, [6, 2], [8, 3]),
            (SouthWest, [0, 4], [2, 5]),
            (South, [3, 4], [5, 5]),
            (SouthEast, [6, 4], [8, 5]),
        ];
        for (g, tl, br) in cases {
            assert_eq!(
                corners(crop(Some(3), Some(2), g, 0, 0)),
                ((3, 2), tl, br),
                "{g:?}"
            );
        }
    }

    #[test]
    fn offsets_count_from_the_anchored_edge() {
        let c = crop(Some(3), Some(2), Gravity::SouthEast, 1, 2);
        assert_eq!(corners(c), ((3, 2), [5, 2], [7, 3]));
        let c = crop(Some(3), Some(2), Gravity::NorthWest, 1, 2);
        assert_eq!(corners(c), ((3, 2), [1, 2], [3, 3]));
    }

    #[test]
    fn one_sided_and_oversized_boxes() {
        assert_eq!(
            corners(crop(Some(4), None, Gravity::NorthWest, 0, 0)).0,
            (4, 6)
        );
        assert_eq!(
            corners(crop(None, Some(4), Gravity::NorthWest, 0, 0)).0,
            (9, 4)
        );
        assert_eq!(
            corners(crop(Some(500), Some(500), Gravity::Center, 0, 0)).0,
            (9, 6)
        );
    }

    #[test]
    fn a_box_pushed_partly_out_keeps_the_inside() {
        let c = crop(Some(4), Some(4), Gravity::NorthWest, 7, 0);
        assert_eq!(corners(c), ((2, 4), [7, 0], [8, 3]));
    }

    #[test]
    fn a_box_wholly_outside_is_an_invalid_argument() {
        let c = crop(Some(4), Some(4), Gravity::NorthWest, 9, 0);
        let err = c.output_size(Size::new(9, 6)).unwrap_err();
        assert!(matches!(&err, ImageError::InvalidArgument(m) if m.starts_with("crop")));
    }
}
