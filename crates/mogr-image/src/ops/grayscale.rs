//! `grayscale/<0|1>`: convert to gray.
//!
//! Gray is Rec.601 luma, `Y = 0.299 R + 0.587 G + 0.114 B` on the stored (gamma-encoded)
//! values: the Y that JPEG itself stores, so a gray JPEG equals the colour one's luma plane,
//! and what Pillow's `convert("L")` gives. The frame becomes Gray (or Gray+alpha), so every
//! encoder writes a gray image (JPEG and PNG with a single gray channel).

use image::{DynamicImage, GrayAlphaImage, GrayImage};
use rayon::prelude::*;

use super::channels::eight_bit;
use super::transform::{Size, Transform};
use crate::error::Result;

/// Rec.601 weights in 16.16 fixed point; they sum to exactly 65536.
const WEIGHTS: [u32; 3] = [19_595, 38_470, 7_471];

/// `grayscale/<0|1>`: `enabled == false` (`grayscale/0`) returns the frame unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grayscale {
    /// `grayscale/1`.
    pub enabled: bool,
}

impl Grayscale {
    /// The operation for `grayscale/1` (`true`) or `grayscale/0` (`false`).
    pub fn new(enabled: bool) -> Grayscale {
        Grayscale { enabled }
    }
}

/// Rec.601 luma of one 8-bit RGB pixel.
fn luma(rgb: &[u8]) -> u8 {
    let sum: u32 = rgb
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| u32::from(c) * w)
        .sum();
    ((sum + 32_768) >> 16) as u8
}

impl Transform for Grayscale {
    fn name(&self) -> &'static str {
        "grayscale"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        Ok(input)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        if !self.enabled {
            return Ok(frame.clone());
        }
        let frame = eight_bit(frame);
        let (w, h) = (frame.width(), frame.height());
        let rebuilt = match frame.as_ref() {
            DynamicImage::ImageRgb8(b) => {
                let gray = b.as_raw().par_chunks_exact(3).map(luma).collect();
                GrayImage::from_raw(w, h, gray).map(DynamicImage::ImageLuma8)
            }
            DynamicImage::ImageRgba8(b) => {
                let gray = b
                    .as_raw()
                    .par_chunks_exact(4)
                    .flat_map_iter(|px| [luma(&px[..3]), px[3]])
                    .collect();
                GrayAlphaImage::from_raw(w, h, gray).map(DynamicImage::ImageLumaA8)
            }
            // Already gray.
            _ => None,
        };
        Ok(rebuilt.unwrap_or_else(|| frame.into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    #[test]
    fn rgb_becomes_rec601_gray() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(4, 1, |x, _| {
            Rgb([[255, 0, 0], [0, 255, 0], [0, 0, 255], [200, 100, 50]][x as usize])
        }));
        let out = Grayscale::new(true).apply_frame(&img).unwrap();
        assert_eq!(out.color(), image::ColorType::L8);
        let g = out.to_luma8();
        // 0.299 * 255, 0.587 * 255, 0.114 * 255, 0.299*200 + 0.587*100 + 0.114*50.
        let got: Vec<u8> = g.pixels().map(|p| p.0[0]).collect();
        assert_eq!(got, vec![76, 150, 29, 124]);
    }

    #[test]
    fn alpha_is_kept_and_white_stays_white() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 2, Rgba([255, 255, 255, 90])));
        let out = Grayscale::new(true).apply_frame(&img).unwrap();
        assert_eq!(out.color(), image::ColorType::La8);
        assert!(out.to_luma_alpha8().pixels().all(|p| p.0 == [255, 90]));
    }

    #[test]
    fn zero_is_a_no_op() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, Rgb([1, 2, 3])));
        assert_eq!(Grayscale::new(false).apply_frame(&img).unwrap(), img);
    }
}
