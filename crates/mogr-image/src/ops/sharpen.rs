//! `sharpen/<v>`: unsharp mask.
//!
//! Each colour sample moves away from its Gaussian-blurred neighbourhood (sigma 1 px):
//! `out = in + amount * (in - blurred)` with `amount = v / 100`, so the recommended 70 adds
//! 70% of the local detail back (a moderate web sharpen) and 300 triples it. Flat areas have
//! no detail and stay unchanged. Alpha is kept; the neighbourhood is computed premultiplied so
//! the colour hidden under transparent pixels cannot leak into visible edges.

use std::borrow::Cow;

use image::DynamicImage;
use rayon::prelude::*;

use super::blur::gaussian;
use super::channels::{
    chunk_len, eight_bit, from_samples, has_alpha, premultiply, samples, unpremultiply,
};
use super::transform::{Size, Transform};
use crate::error::{ImageError, Result};

/// Smallest accepted strength.
pub const MIN: u32 = 10;
/// Largest accepted strength.
pub const MAX: u32 = 300;
/// Deviation of the neighbourhood the detail is measured against, in pixels.
const SIGMA: f32 = 1.0;
/// Kernel half-width for that deviation (4 sigma).
const RADIUS: u32 = 4;

/// `sharpen/<v>`: unsharp mask of strength `v` (10..=300, 70 recommended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sharpen {
    /// Strength; the mask's amount is `value / 100`.
    pub value: u32,
}

impl Sharpen {
    /// A sharpen of strength `value` (checked when applied).
    pub fn new(value: u32) -> Sharpen {
        Sharpen { value }
    }

    /// The strength is in 10..=300.
    fn check(&self) -> Result<()> {
        if (MIN..=MAX).contains(&self.value) {
            Ok(())
        } else {
            Err(ImageError::InvalidArgument(format!(
                "sharpen: {} is outside {MIN}..={MAX}",
                self.value
            )))
        }
    }
}

impl Transform for Sharpen {
    fn name(&self) -> &'static str {
        "sharpen"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        self.check()?;
        Ok(input)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        self.check()?;
        let frame = eight_bit(frame);
        let blurred = gaussian(&frame, RADIUS, SIGMA, "sharpen")?;
        let (src, channels) = samples(&frame);
        let (soft, _) = samples(&blurred);
        let row = frame.width() as usize * channels;
        // The blurred copy went through premultiplied 8-bit samples, which rounds colour where
        // alpha is low; measure detail against the source rounded the same way, so a flat
        // translucent area has no detail to amplify.
        let reference = if has_alpha(channels) {
            let mut rounded = src.to_vec();
            premultiply(&mut rounded, channels, row);
            unpremultiply(&mut rounded, channels, row);
            Cow::Owned(rounded)
        } else {
            Cow::Borrowed(src)
        };
        let colours = if has_alpha(channels) {
            channels - 1
        } else {
            channels
        };
        // amount = value / 100 in 8.8 fixed point.
        let gain = (self.value * 256 / 100) as i32;
        let mut out = src.to_vec();
        let chunk = chunk_len(row);
        out.par_chunks_mut(chunk)
            .zip(soft.par_chunks(chunk))
            .zip(reference.par_chunks(chunk))
            .for_each(|((dst, soft), reference)| {
                let pixels = dst
                    .chunks_exact_mut(channels)
                    .zip(soft.chunks_exact(channels))
                    .zip(reference.chunks_exact(channels));
                for ((px, soft), reference) in pixels {
                    for ((c, &s), &r) in px[..colours].iter_mut().zip(soft).zip(reference) {
                        let detail = i32::from(r) - i32::from(s);
                        let v = i32::from(*c) + ((detail * gain + 128) >> 8);
                        *c = v.clamp(0, 255) as u8;
                    }
                }
            });
        from_samples(frame.width(), frame.height(), channels, out)
            .ok_or_else(|| ImageError::InvalidArgument("sharpen: unsupported pixel layout".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgba, RgbaImage};

    /// Gray 100 left of the middle, 150 from it on.
    fn soft_edge() -> DynamicImage {
        DynamicImage::ImageLuma8(GrayImage::from_fn(20, 4, |x, _| {
            Luma([if x < 10 { 100 } else { 150 }])
        }))
    }

    #[test]
    fn edge_contrast_increases_with_the_strength() {
        let row = |v: u32| -> (u8, u8) {
            let out = Sharpen::new(v)
                .apply_frame(&soft_edge())
                .unwrap()
                .to_luma8();
            (out.get_pixel(9, 2).0[0], out.get_pixel(10, 2).0[0])
        };
        let (dark70, light70) = row(70);
        assert!(dark70 < 100 && light70 > 150, "{dark70} {light70}");
        let (dark300, light300) = row(300);
        assert!(
            dark300 < dark70 && light300 > light70,
            "{dark300} {light300}"
        );
        // Far from the edge nothing changes.
        let out = Sharpen::new(300)
            .apply_frame(&soft_edge())
            .unwrap()
            .to_luma8();
        assert_eq!(out.get_pixel(0, 0).0[0], 100);
        assert_eq!(out.get_pixel(19, 3).0[0], 150);
    }

    #[test]
    fn flat_stays_flat_and_alpha_is_kept() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(9, 9, Rgba([40, 90, 200, 77])));
        let out = Sharpen::new(300).apply_frame(&img).unwrap().to_rgba8();
        assert!(out.pixels().all(|p| p.0 == [40, 90, 200, 77]));
    }

    #[test]
    fn hidden_colour_under_transparency_does_not_leak() {
        // Visible white next to transparent black: without premultiplying, the black would
        // read as a dark neighbour and the white would get no halo; it must stay white.
        let img = DynamicImage::ImageRgba8(RgbaImage::from_fn(12, 2, |x, _| {
            if x < 6 {
                Rgba([255, 255, 255, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        }));
        let out = Sharpen::new(300).apply_frame(&img).unwrap().to_rgba8();
        assert_eq!(out.get_pixel(5, 0).0, [255, 255, 255, 255]);
        let grey = DynamicImage::ImageRgba8(RgbaImage::from_fn(12, 2, |x, _| {
            if x < 6 {
                Rgba([128, 128, 128, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        }));
        let out = Sharpen::new(300).apply_frame(&grey).unwrap().to_rgba8();
        assert_eq!(out.get_pixel(5, 0).0, [128, 128, 128, 255]);
    }

    #[test]
    fn out_of_range_strengths_name_the_token() {
        for v in [0, 9, 301] {
            let err = Sharpen::new(v).output_size(Size::new(4, 4)).unwrap_err();
            assert!(matches!(&err, ImageError::InvalidArgument(m) if m.starts_with("sharpen")));
        }
        let one = DynamicImage::ImageRgb8(image::RgbImage::new(1, 1));
        assert_eq!(Sharpen::new(70).apply_frame(&one).unwrap().width(), 1);
    }
}
