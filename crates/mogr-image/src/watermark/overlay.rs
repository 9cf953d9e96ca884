//! Where the mark goes: once, at the gravity and offsets, or (`batch/1`) tiled over the whole
//! image, each tile turned by `degree`. `dissolve` scales the mark's opacity.
//!
//! Tiles sit on a grid that passes through the position the single mark would have, with a
//! gap between tiles of half the tile's size (at least [`MIN_GAP`] pixels), so the pattern
//! covers the image evenly whatever the gravity.

use image::{DynamicImage, RgbaImage};
use mogr_rule::Watermark;

use crate::error::Result;
use crate::limits::Limits;
use crate::ops::geometry::Gravity;
use crate::ops::rotate::Rotate;
use crate::ops::{Size, Transform};
use crate::watermark::composite::Canvas;

/// Smallest gap between tiles, so a tiny mark cannot mean millions of tiles.
pub const MIN_GAP: u32 = 8;

/// Draws one prepared mark on every frame; the canvas keeps its size.
#[derive(Debug, Clone)]
pub struct Overlay {
    mark: RgbaImage,
    canvas: Size,
    layout: Layout,
}

/// The mark's positions (top-left corners) on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One mark.
    Single { x: i64, y: i64 },
    /// A grid through (`x`, `y`) with these steps.
    Tiled {
        x: i64,
        y: i64,
        step_x: i64,
        step_y: i64,
    },
}

impl Overlay {
    /// Prepares `mark` (straight alpha) for `watermark` on a `canvas`-sized image: applies
    /// `dissolve`, turns a tiled mark, and plans the positions.
    pub(crate) fn new(
        mut mark: RgbaImage,
        watermark: &Watermark,
        canvas: Size,
        limits: &Limits,
    ) -> Result<Overlay> {
        if watermark.dissolve < 100 {
            let d = u32::from(watermark.dissolve);
            for p in mark.pixels_mut() {
                p.0[3] = ((u32::from(p.0[3]) * d + 50) / 100) as u8;
            }
        }
        if watermark.batch && watermark.degree != 0 {
            let turn = Rotate {
                degrees: f64::from(watermark.degree),
            };
            let to = turn.output_size(Size::new(mark.width(), mark.height()))?;
            limits.check_canvas(to.width, to.height)?;
            mark = turn
                .apply_frame(&DynamicImage::ImageRgba8(mark))?
                .into_rgba8();
        }
        let size = Size::new(mark.width(), mark.height());
        let (x, y) = Gravity::from(watermark.gravity).place(
            canvas,
            size,
            i64::from(watermark.dx),
            i64::from(watermark.dy),
        );
        let layout = if watermark.batch {
            let gap = |side: u32| i64::from((side / 2).max(MIN_GAP));
            Layout::Tiled {
                x,
                y,
                step_x: i64::from(size.width) + gap(size.width),
                step_y: i64::from(size.height) + gap(size.height),
            }
        } else {
            Layout::Single { x, y }
        };
        Ok(Overlay {
            mark,
            canvas,
            layout,
        })
    }

    /// The top-left corners of every mark that touches the canvas.
    fn positions(&self) -> Vec<(i64, i64)> {
        match self.layout {
            Layout::Single { x, y } => vec![(x, y)],
            Layout::Tiled {
                x,
                y,
                step_x,
                step_y,
            } => {
                let xs = starts(x, step_x, i64::from(self.mark.width()), self.canvas.width);
                let ys = starts(y, step_y, i64::from(self.mark.height()), self.canvas.height);
                ys.iter()
                    .flat_map(|&ty| xs.iter().map(move |&tx| (tx, ty)))
                    .collect()
            }
        }
    }
}

/// Starts of tiles of length `len`, every `step` through `anchor`, that overlap `0..span`.
fn starts(anchor: i64, step: i64, len: i64, span: u32) -> Vec<i64> {
    let step = step.max(1);
    // A start on the grid left of every tile that overlaps the span, then walk right.
    let mut at = anchor - ((anchor + len) / step + 1) * step;
    while at + len <= 0 {
        at += step;
    }
    let mut out = Vec::new();
    while at < i64::from(span) {
        out.push(at);
        at += step;
    }
    out
}

impl Transform for Overlay {
    fn name(&self) -> &'static str {
        "watermark"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        Ok(input)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        let mut canvas = Canvas::of(frame);
        for (x, y) in self.positions() {
            canvas.draw(&self.mark, x, y);
        }
        Ok(canvas.into_frame())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_starts_cover_the_span_through_the_anchor() {
        let s = starts(30, 20, 10, 100);
        assert!(s.contains(&30), "{s:?}");
        // The tile at -10 ends where the span starts: not drawn.
        assert_eq!(s.first(), Some(&10));
        assert_eq!(s.last(), Some(&90));
        assert!(s.windows(2).all(|w| w[1] - w[0] == 20));
        // Anchors far outside still give the tiles inside.
        assert_eq!(starts(-1000, 20, 10, 40), vec![0, 20]);
        assert_eq!(starts(1000, 20, 10, 40), vec![0, 20]);
    }
}
