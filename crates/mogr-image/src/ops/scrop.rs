//! `scrop/<W>x<H>`: content-aware crop to exactly W x H.
//!
//! CI's scrop looks for faces. mogr ships no face model, so it crops to the region of highest
//! visual interest instead, in the spirit of libvips' `attention` smart crop:
//!
//! 1. Cover: the image is scaled so that it just covers W x H (as `thumbnail/!WxHr` would), so
//!    the crop window spans one whole side and slides along the other. Only the window is
//!    resampled, never the whole scaled image.
//! 2. Interest: on a small grid of cell averages (at most 256 cells along the long side), each
//!    cell scores edges (Laplacian of luma), saturation (chroma of non-dark cells) and
//!    skin-like hue, weighted so that faces (skin plus edges) tend to win.
//! 3. Choice: along the free axis, the window position with the highest interest, cells
//!    weighted more near the window's centre so the detail ends up centred; ties (a flat
//!    image) go to the middle of the image.
//!
//! Unlike CI, an image without a face is still cropped (to its most detailed part) rather
//! than returned unchanged.

use std::sync::OnceLock;

use image::DynamicImage;

use super::channels::{eight_bit, samples};
use super::resize::resize;
use super::transform::{Size, Transform};
use crate::error::{ImageError, Result};

/// Cells along the long side of the interest grid.
const GRID: u32 = 256;
/// Luma (0..=255) under which a cell counts as dark: no saturation or skin interest there.
const DARK: f32 = 20.0;
/// Unit RGB direction of typical skin tones.
const SKIN: [f32; 3] = [0.78, 0.57, 0.44];
/// Distance from [`SKIN`] beyond which a colour scores no skin interest.
const SKIN_REACH: f32 = 0.25;

/// `scrop/<W>x<H>`: cover-scale to W x H, then crop to the window of highest interest.
///
/// One value serves one image: the window is chosen on the first frame it sees and reused for
/// the other frames of that size, so an animation is cropped the same way throughout.
#[derive(Debug, Clone)]
pub struct Scrop {
    /// Output width in pixels.
    pub width: u32,
    /// Output height in pixels.
    pub height: u32,
    /// The frame size and window corner chosen on the first frame.
    chosen: OnceLock<(Size, (u32, u32))>,
}

impl Scrop {
    /// A smart crop to `width` x `height`.
    pub fn new(width: u32, height: u32) -> Scrop {
        Scrop {
            width,
            height,
            chosen: OnceLock::new(),
        }
    }

    /// The part of an `input`-sized image that scales to exactly W x H when the image covers
    /// W x H: the whole of one side, W:H of the other.
    fn window(&self, input: Size) -> Result<Size> {
        if self.width == 0 || self.height == 0 || input.width == 0 || input.height == 0 {
            return Err(ImageError::InvalidArgument(format!(
                "scrop: cannot crop a {}x{} image to {}x{}",
                input.width, input.height, self.width, self.height
            )));
        }
        let (w, h) = (u64::from(input.width), u64::from(input.height));
        let (tw, th) = (u64::from(self.width), u64::from(self.height));
        // Compare tw/w with th/h without rounding: the larger ratio scales the covering side.
        Ok(if tw * h >= th * w {
            let ch = (th * w + tw / 2) / tw;
            Size::new(input.width, clamp_side(ch, input.height))
        } else {
            let cw = (tw * h + th / 2) / th;
            Size::new(clamp_side(cw, input.width), input.height)
        })
    }
}

/// `side` as a u32 in 1..=max.
fn clamp_side(side: u64, max: u32) -> u32 {
    u32::try_from(side).map_or(max, |s| s.clamp(1, max))
}

impl Transform for Scrop {
    fn name(&self) -> &'static str {
        "scrop"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        self.window(input)?;
        Ok(Size::new(self.width, self.height))
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        let size = Size::new(frame.width(), frame.height());
        let window = self.window(size)?;
        let (first_size, corner) = *self
            .chosen
            .get_or_init(|| (size, best_window(frame, window)));
        let (left, top) = if first_size == size {
            corner
        } else {
            best_window(frame, window)
        };
        let part = frame.crop_imm(left, top, window.width, window.height);
        resize(&part, Size::new(self.width, self.height))
    }
}

/// The top-left corner of the `window` of highest interest in `frame`; the window spans the
/// frame along at least one axis, so only the other axis is searched.
fn best_window(frame: &DynamicImage, window: Size) -> (u32, u32) {
    let (w, h) = (frame.width(), frame.height());
    if window.width >= w && window.height >= h {
        return (0, 0);
    }
    let grid = InterestGrid::of(frame);
    if window.width < w {
        let profile = grid.column_sums();
        let x = best_offset(&profile, grid.cell, window.width, w);
        (x, 0)
    } else {
        let profile = grid.row_sums();
        let y = best_offset(&profile, grid.cell, window.height, h);
        (0, y)
    }
}

/// The offset in `0..=len - span` (pixels) of the span with the highest interest, where
/// `profile[i]` is the interest of cells `i * cell .. (i + 1) * cell`.
///
/// Cells count fully at the span's centre and half at its ends, so among spans that hold the
/// same detail the one that centres it wins; ties (a flat image) go to the centre.
fn best_offset(profile: &[f64], cell: u32, span: u32, len: u32) -> u32 {
    let max_offset = len - span;
    let half = f64::from(span) / 2.0;
    let centre = f64::from(max_offset) / 2.0;
    let score = |x: u32| -> f64 {
        let mid = f64::from(x) + half;
        (0u32..)
            .zip(profile)
            .map(|(i, v)| {
                let cell_mid = (f64::from(i) + 0.5) * f64::from(cell);
                let d = (cell_mid - mid).abs();
                if d <= half {
                    v * (1.0 - 0.5 * d / half)
                } else {
                    0.0
                }
            })
            .sum()
    };
    let step = (cell / 2).max(1) as usize;
    let candidates = (0..=max_offset)
        .step_by(step)
        .chain([max_offset / 2, max_offset]);
    let mut best = (f64::NEG_INFINITY, f64::INFINITY, max_offset / 2);
    for x in candidates {
        let s = score(x);
        let off_centre = (f64::from(x) - centre).abs();
        // A relative margin keeps float noise from breaking ties away from the centre.
        let margin = 1e-9 * s.abs().max(1.0);
        if s > best.0 + margin || (s >= best.0 - margin && off_centre < best.1) {
            best = (s, off_centre, x);
        }
    }
    best.2
}

/// Interest scores on a grid of cell averages.
struct InterestGrid {
    /// Side of a cell in source pixels.
    cell: u32,
    /// Cells across.
    cols: usize,
    /// Cells down.
    rows: usize,
    /// Row-major interest per cell.
    score: Vec<f32>,
}

impl InterestGrid {
    /// Averages `frame` over cells and scores each cell.
    fn of(frame: &DynamicImage) -> InterestGrid {
        let frame = eight_bit(frame);
        let (w, h) = (frame.width(), frame.height());
        let cell = w.max(h).div_ceil(GRID).max(1);
        let (cols, rows) = (w.div_ceil(cell) as usize, h.div_ceil(cell) as usize);
        let rgb = cell_means(&frame, cell, cols, rows);
        let luma: Vec<f32> = rgb
            .iter()
            .map(|c| 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])
            .collect();
        let at = |x: usize, y: usize| luma[y * cols + x];
        let mut score = vec![0.0f32; cols * rows];
        for y in 0..rows {
            for x in 0..cols {
                let centre = at(x, y);
                // Missing neighbours at the border repeat the centre, adding no edge.
                let n = [
                    if x > 0 { at(x - 1, y) } else { centre },
                    if x + 1 < cols { at(x + 1, y) } else { centre },
                    if y > 0 { at(x, y - 1) } else { centre },
                    if y + 1 < rows { at(x, y + 1) } else { centre },
                ];
                let edge = (4.0 * centre - n.iter().sum::<f32>()).abs();
                let c = rgb[y * cols + x];
                score[y * cols + x] = edge + colour_interest(c, centre);
            }
        }
        InterestGrid {
            cell,
            cols,
            rows,
            score,
        }
    }

    /// Total interest of each column of cells.
    fn column_sums(&self) -> Vec<f64> {
        let mut sums = vec![0.0; self.cols];
        for row in self.score.chunks_exact(self.cols) {
            for (s, v) in sums.iter_mut().zip(row) {
                *s += f64::from(*v);
            }
        }
        sums
    }

    /// Total interest of each row of cells.
    fn row_sums(&self) -> Vec<f64> {
        let sums: Vec<f64> = self
            .score
            .chunks_exact(self.cols)
            .map(|row| row.iter().map(|v| f64::from(*v)).sum())
            .collect();
        debug_assert_eq!(sums.len(), self.rows);
        sums
    }
}

/// Saturation and skin interest of a cell of mean colour `rgb` and luma `luma` (0..=255).
fn colour_interest(rgb: [f32; 3], luma: f32) -> f32 {
    if luma < DARK {
        return 0.0;
    }
    let max = rgb.iter().copied().fold(0.0, f32::max);
    let min = rgb.iter().copied().fold(255.0, f32::min);
    let saturation = max - min;
    let norm = (rgb[0] * rgb[0] + rgb[1] * rgb[1] + rgb[2] * rgb[2]).sqrt();
    let skin = if norm > 0.0 {
        let d: f32 = rgb
            .iter()
            .zip(SKIN)
            .map(|(c, s)| (c / norm - s).powi(2))
            .sum::<f32>()
            .sqrt();
        (1.0 - d / SKIN_REACH).max(0.0) * 255.0
    } else {
        0.0
    };
    // Saturation alone is weak evidence (a blue sky, an orange suit); skin is the best hint
    // of a face there is without a face model, so it outweighs both saturation and edges.
    saturation * 0.25 + skin * 3.0
}

/// Mean RGB of each `cell` x `cell` block (partial blocks at the right and bottom edges
/// average what they have); colour is premultiplied by alpha, so transparent areas read dark.
fn cell_means(frame: &DynamicImage, cell: u32, cols: usize, rows: usize) -> Vec<[f32; 3]> {
    let (data, channels) = samples(frame);
    let row_len = frame.width() as usize * channels;
    let cell = cell as usize;
    let mut sums = vec![[0u64; 4]; cols * rows];
    for (y, row) in data.chunks_exact(row_len.max(1)).enumerate() {
        let band = &mut sums[(y / cell) * cols..][..cols];
        for (s, block) in band.iter_mut().zip(row.chunks(cell * channels)) {
            for px in block.chunks_exact(channels) {
                let (r, g, b) = match *px {
                    [v] => (v, v, v),
                    [v, a] => {
                        let v = premul(v, a);
                        (v, v, v)
                    }
                    [r, g, b] => (r, g, b),
                    [r, g, b, a] => (premul(r, a), premul(g, a), premul(b, a)),
                    _ => (0, 0, 0),
                };
                s[0] += u64::from(r);
                s[1] += u64::from(g);
                s[2] += u64::from(b);
                s[3] += 1;
            }
        }
    }
    sums.iter()
        .map(|s| {
            let n = s[3].max(1) as f32;
            [s[0] as f32 / n, s[1] as f32 / n, s[2] as f32 / n]
        })
        .collect()
}

/// One colour sample multiplied by its alpha.
fn premul(c: u8, a: u8) -> u8 {
    ((u32::from(c) * u32::from(a) + 127) / 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    /// A flat grey `w` x `h` picture with a 24x24 checkerboard object at (`ox`, `oy`).
    fn scene(w: u32, h: u32, ox: u32, oy: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            let inside = (ox..ox + 24).contains(&x) && (oy..oy + 24).contains(&y);
            if inside && ((x / 3) + (y / 3)) % 2 == 0 {
                Rgb([20, 20, 20])
            } else if inside {
                Rgb([240, 240, 240])
            } else {
                Rgb([128, 128, 128])
            }
        }))
    }

    /// True when the output shows part of the checkerboard (near-black and near-white pixels).
    fn shows_object(out: &DynamicImage) -> bool {
        let g = out.to_luma8();
        g.pixels().any(|p| p.0[0] < 60) && g.pixels().any(|p| p.0[0] > 200)
    }

    #[test]
    fn the_crop_follows_the_object_along_a_wide_image() {
        for ox in [10, 150, 290, 370] {
            let img = scene(400, 100, ox, 40);
            let op = Scrop::new(100, 100);
            let out = op.apply_frame(&img).unwrap();
            assert_eq!((out.width(), out.height()), (100, 100));
            let (left, _) = best_window(&img, Size::new(100, 100));
            assert!(
                left <= ox && ox + 24 <= left + 100,
                "object at {ox}, crop at {left}"
            );
            // Away from the image's ends the object is centred in the crop.
            if (50..=326).contains(&ox) {
                let off = i64::from(ox + 12) - i64::from(left + 50);
                assert!(off.abs() <= 3, "object at {ox}, crop at {left}");
            }
            assert!(shows_object(&out), "object at {ox}");
        }
    }

    #[test]
    fn the_crop_follows_the_object_down_a_tall_image_after_scaling() {
        // 200x800 to 50x50: covered at scale 1/4, so a 200x200 window slides down.
        for oy in [5, 300, 770] {
            let img = scene(200, 800, 90, oy);
            let op = Scrop::new(50, 50);
            let (_, top) = best_window(&img, op.window(Size::new(200, 800)).unwrap());
            assert!(
                top <= oy && oy + 24 <= top + 200,
                "object at {oy}, crop at {top}"
            );
            let out = op.apply_frame(&img).unwrap();
            assert_eq!((out.width(), out.height()), (50, 50));
        }
    }

    #[test]
    fn every_frame_of_an_animation_gets_the_first_frame_s_window() {
        let op = Scrop::new(100, 100);
        let first = op.apply_frame(&scene(400, 100, 300, 40)).unwrap();
        assert!(shows_object(&first));
        // The object moved away in the next frame; the window stays where it was.
        let second = op.apply_frame(&scene(400, 100, 20, 40)).unwrap();
        assert!(!shows_object(&second));
    }

    #[test]
    fn a_flat_image_is_cropped_in_the_centre() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 100, Rgb([9, 9, 9])));
        assert_eq!(best_window(&img, Size::new(100, 100)), (100, 0));
    }

    #[test]
    fn windows_cover_one_whole_side() {
        let op = Scrop::new(100, 50);
        assert_eq!(op.window(Size::new(400, 400)).unwrap(), Size::new(400, 200));
        assert_eq!(op.window(Size::new(400, 100)).unwrap(), Size::new(200, 100));
        assert_eq!(op.window(Size::new(1, 1)).unwrap(), Size::new(1, 1));
        assert_eq!(op.output_size(Size::new(7, 3)).unwrap(), Size::new(100, 50));
        let err = Scrop::new(0, 5).output_size(Size::new(7, 3)).unwrap_err();
        assert!(matches!(&err, ImageError::InvalidArgument(m) if m.starts_with("scrop")));
    }

    #[test]
    fn transparent_edges_keep_their_colour_when_scaled() {
        // Opaque red over transparent black, scaled down: no visible pixel turns dark red.
        let img = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(64, 64, |x, _| {
            if x < 32 {
                image::Rgba([255, 0, 0, 255])
            } else {
                image::Rgba([0, 0, 0, 0])
            }
        }));
        let out = Scrop::new(16, 16).apply_frame(&img).unwrap().to_rgba8();
        assert!(out.pixels().filter(|p| p.0[3] >= 32).all(|p| p.0[0] >= 240));
    }

    #[test]
    fn tiny_inputs_scale_up_without_panicking() {
        for (w, h) in [(1, 1), (2, 2), (1, 9), (9, 1)] {
            let img = DynamicImage::ImageRgba8(image::RgbaImage::new(w, h));
            let out = Scrop::new(16, 8).apply_frame(&img).unwrap();
            assert_eq!((out.width(), out.height()), (16, 8));
        }
    }
}
