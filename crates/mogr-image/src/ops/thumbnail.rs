//! `thumbnail/<geometry>` with its `pad/1` and `color/<c>` modifiers: scale, then pad.

use image::DynamicImage;

use crate::error::Result;
use crate::ops::geometry::{Gravity, ResizeGeometry, Rgba};
use crate::ops::pad::pad;
use crate::ops::resize::resize;
use crate::ops::transform::{Size, Transform};

/// Scale the image as ImageMagick's `-resize <geometry>` would size it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thumbnail {
    /// The target size rule.
    pub geometry: ResizeGeometry,
    /// `pad/1`: place the scaled image, centred, on a canvas the size of the geometry's box,
    /// filled with this colour (`color/<c>`, white by default). Only the bounding-box forms
    /// (`<W>x<H>`, `<W>x<H>>`, `<W>x<H><`) have a box; the others ignore it.
    pub pad: Option<Rgba>,
}

/// What a thumbnail does to one canvas size, worked out before any pixel is touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The size the picture is resampled to.
    pub scaled: Size,
    /// The output canvas: `scaled`, the pad box around it, or the crop box inside it. The
    /// scaled picture is centred on it.
    pub canvas: Size,
    /// The pad colour where `canvas` is larger than `scaled`.
    pub fill: Rgba,
}

impl Thumbnail {
    /// The sizes this thumbnail gives an `input` canvas.
    pub fn plan(&self, input: Size) -> Plan {
        let scaled = self.geometry.resize(input);
        if let Some(cropped) = self.geometry.crop_box(input) {
            return Plan {
                scaled,
                canvas: Size::new(
                    cropped.width.min(scaled.width),
                    cropped.height.min(scaled.height),
                ),
                fill: Rgba::WHITE,
            };
        }
        let (canvas, fill) = match (self.pad, self.geometry.pad_box()) {
            // An image larger than the box (`<W>x<H><` of a big image) is not cut: the canvas
            // grows to hold it.
            (Some(fill), Some(b)) => (
                Size::new(b.width.max(scaled.width), b.height.max(scaled.height)),
                fill,
            ),
            _ => (scaled, Rgba::WHITE),
        };
        Plan {
            scaled,
            canvas,
            fill,
        }
    }
}

impl Plan {
    /// Resample `frame` (whatever its size) to `scaled`, then crop or pad it to `canvas`.
    ///
    /// Taking the frame's own size as the source lets the engine hand in a frame that the
    /// decoder already shrank (shrink-on-load) while the plan was made from the full size.
    pub fn apply(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        let scaled = resize(frame, self.scaled)?;
        if self.canvas == self.scaled {
            return Ok(scaled);
        }
        let at = Gravity::Center.place(self.canvas, self.scaled, 0, 0);
        if self.scaled.width >= self.canvas.width && self.scaled.height >= self.canvas.height {
            // A centred crop: copy only the part kept.
            let (x, y) = ((-at.0).max(0) as u32, (-at.1).max(0) as u32);
            return Ok(scaled.crop_imm(x, y, self.canvas.width, self.canvas.height));
        }
        Ok(pad(&scaled, self.canvas, at, self.fill))
    }
}

/// A thumbnail whose sizes were worked out in advance from the source's full size, applied to
/// whatever frame the decoder produced: shrink-on-load hands in a smaller one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned(pub Plan);

impl Transform for Planned {
    fn name(&self) -> &'static str {
        "thumbnail"
    }

    fn output_size(&self, _input: Size) -> Result<Size> {
        Ok(self.0.canvas)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        self.0.apply(frame)
    }
}

impl Transform for Thumbnail {
    fn name(&self) -> &'static str {
        "thumbnail"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        Ok(self.plan(input).canvas)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        self.plan(Size::new(frame.width(), frame.height()))
            .apply(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba as RgbaPx, RgbaImage};

    fn frame(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, Rgb([0, 0, 255])))
    }

    fn run(t: Thumbnail, w: u32, h: u32) -> DynamicImage {
        let f = frame(w, h);
        let out = t.apply_frame(&f).unwrap();
        let size = t.output_size(Size::new(w, h)).unwrap();
        assert_eq!((out.width(), out.height()), (size.width, size.height));
        out
    }

    #[test]
    fn fit_scales_proportionally() {
        let t = Thumbnail {
            geometry: ResizeGeometry::Fit(Size::new(100, 100)),
            pad: None,
        };
        let out = run(t, 400, 200);
        assert_eq!((out.width(), out.height()), (100, 50));
    }

    #[test]
    fn pad_centres_the_picture_on_the_colour() {
        let t = Thumbnail {
            geometry: ResizeGeometry::Fit(Size::new(100, 100)),
            pad: Some(Rgba::rgb(0x3d, 0x3d, 0x3d)),
        };
        let out = run(t, 400, 200).to_rgb8();
        assert_eq!(out.dimensions(), (100, 100));
        // 100x50 picture at y = 25..75.
        assert_eq!(out.get_pixel(50, 10).0, [0x3d, 0x3d, 0x3d]);
        assert_eq!(out.get_pixel(50, 90).0, [0x3d, 0x3d, 0x3d]);
        assert_eq!(out.get_pixel(50, 24).0, [0x3d, 0x3d, 0x3d]);
        assert_eq!(out.get_pixel(50, 25).0, [0, 0, 255]);
        assert_eq!(out.get_pixel(50, 74).0, [0, 0, 255]);
        assert_eq!(out.get_pixel(50, 75).0, [0x3d, 0x3d, 0x3d]);
        assert_eq!(out.get_pixel(0, 50).0, [0, 0, 255]);
    }

    #[test]
    fn pad_on_a_picture_with_alpha_is_the_opaque_colour() {
        let t = Thumbnail {
            geometry: ResizeGeometry::Fit(Size::new(10, 10)),
            pad: Some(Rgba::WHITE),
        };
        let f = DynamicImage::ImageRgba8(RgbaImage::from_pixel(20, 10, RgbaPx([0, 0, 0, 0])));
        let out = t.apply_frame(&f).unwrap().to_rgba8();
        assert_eq!(out.dimensions(), (10, 10));
        assert_eq!(out.get_pixel(5, 0).0, [255, 255, 255, 255]);
        assert_eq!(out.get_pixel(5, 5).0[3], 0);
    }

    #[test]
    fn pad_is_ignored_without_a_box() {
        let t = Thumbnail {
            geometry: ResizeGeometry::Width(50),
            pad: Some(Rgba::WHITE),
        };
        let out = run(t, 100, 60);
        assert_eq!((out.width(), out.height()), (50, 30));
    }

    #[test]
    fn exact_distorts() {
        let t = Thumbnail {
            geometry: ResizeGeometry::Exact(Size::new(30, 70)),
            pad: None,
        };
        let out = run(t, 100, 60);
        assert_eq!((out.width(), out.height()), (30, 70));
    }

    #[test]
    fn edge_fill_scales_to_cover_then_crops_the_centre() {
        // A portrait image, left half red, right half blue.
        let img = RgbImage::from_fn(200, 400, |x, _| {
            if x < 100 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let t = Thumbnail {
            geometry: ResizeGeometry::EdgeFill {
                long: 300,
                short: 100,
            },
            pad: None,
        };
        assert_eq!(
            t.output_size(Size::new(200, 400)).unwrap(),
            Size::new(100, 300)
        );
        let out = t
            .apply_frame(&DynamicImage::ImageRgb8(img))
            .unwrap()
            .to_rgb8();
        // Scaled to 150x300, then x 25..125 kept: red on the left, blue on the right.
        assert_eq!(out.dimensions(), (100, 300));
        assert_eq!(out.get_pixel(10, 150).0, [255, 0, 0]);
        assert_eq!(out.get_pixel(90, 150).0, [0, 0, 255]);
    }

    #[test]
    fn a_plan_made_for_the_full_size_applies_to_a_pre_shrunk_frame() {
        let t = Thumbnail {
            geometry: ResizeGeometry::Percent { x: 10.0, y: 10.0 },
            pad: None,
        };
        let plan = t.plan(Size::new(800, 600));
        let out = plan.apply(&frame(200, 150)).unwrap();
        assert_eq!((out.width(), out.height()), (80, 60));
    }
}
