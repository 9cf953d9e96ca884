//! One line of text to a coverage mask: shaping with rustybuzz (kerning, ligatures, marks,
//! right-to-left runs), outlines from the font, antialiased rasterisation.
//!
//! Characters the named font has no glyph for are shaped with the book's fallback face, run
//! by run, so Chinese in a Latin font renders instead of showing empty boxes. The size of the
//! mask is computed from the shaped glyphs' boxes and checked before any pixel is allocated.

use ab_glyph_rasterizer::{point, Point, Rasterizer};
use image::GrayImage;
use rustybuzz::ttf_parser::{GlyphId, OutlineBuilder};
use rustybuzz::{Face, UnicodeBuffer};

use crate::error::{ImageError, Result};
use crate::text::fonts::{FaceId, FontBook};

/// Most pixels a text mask may have, whatever the engine's image limits: text is drawn
/// glyph by glyph, and a watermark larger than this is no watermark.
pub const MAX_TEXT_PIXELS: u64 = 64_000_000;

/// Longest side of a text mask.
pub const MAX_TEXT_SIDE: u32 = 16_384;

/// A glyph placed on the line: which face, which glyph, where its origin is (pixels, x to
/// the right of the line start, y up from the baseline).
#[derive(Debug, Clone, Copy)]
struct Placed {
    face: usize,
    glyph: GlyphId,
    x: f32,
    y: f32,
}

/// The coverage of `text` in the font `font` (a CI font name) at `px` pixels per em: 0 is
/// background, 255 is ink. The mask is as wide as the advance of the text (or its ink, if
/// wider) and as tall as the fonts' ascent plus descent, with one pixel of margin.
pub fn render_text(book: &FontBook, font: &str, text: &str, px: u32) -> Result<GrayImage> {
    let primary = book
        .lookup(font)
        .ok_or_else(|| ImageError::InvalidArgument(format!("unknown font {font}")))?;
    let mut ids = vec![primary];
    if let Some(fallback) = book.fallback().filter(|f| *f != primary) {
        ids.push(fallback);
    }
    let faces = ids
        .iter()
        .map(|id| parse_face(book, *id))
        .collect::<Result<Vec<Face<'_>>>>()?;
    let px = px as f32;
    let (glyphs, advance) = shape_line(&faces, text, px);
    let layout = Layout::measure(&faces, &glyphs, advance, px)?;
    let mut mask = GrayImage::new(layout.width, layout.height);
    for g in &glyphs {
        draw_glyph(&mut mask, &faces[g.face], g, px, &layout);
    }
    Ok(mask)
}

fn parse_face(book: &FontBook, id: FaceId) -> Result<Face<'_>> {
    let face = book
        .face(id)
        .ok_or_else(|| ImageError::InvalidArgument("font not in this font book".into()))?;
    Face::from_slice(&face.data, face.index)
        .ok_or_else(|| ImageError::InvalidArgument(format!("{}: unusable font", face.label)))
}

/// Pixels per font unit of `face` at `px` pixels per em.
fn scale(face: &Face<'_>, px: f32) -> f32 {
    px / face.units_per_em().max(1) as f32
}

/// Shapes `text` run by run (a run is a stretch of characters drawn by the same face) and
/// returns the placed glyphs and the total advance in pixels.
fn shape_line(faces: &[Face<'_>], text: &str, px: f32) -> (Vec<Placed>, f32) {
    let mut glyphs = Vec::new();
    let mut pen = 0.0f32;
    for (face_index, run) in runs(faces, text) {
        let face = &faces[face_index];
        let s = scale(face, px);
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(run);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(face, &[], buffer);
        for (info, pos) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
            glyphs.push(Placed {
                face: face_index,
                glyph: GlyphId(u16::try_from(info.glyph_id).unwrap_or(0)),
                x: pen + pos.x_offset as f32 * s,
                y: pos.y_offset as f32 * s,
            });
            pen += pos.x_advance as f32 * s;
        }
    }
    (glyphs, pen)
}

/// Splits `text` into runs of one face: the first face that has a glyph for a character draws
/// it; whitespace and characters no face has stay with the run they are in (the primary face
/// at the start), so a missing character shows the primary font's "missing glyph" box.
fn runs<'t>(faces: &[Face<'_>], text: &'t str) -> Vec<(usize, &'t str)> {
    let mut out: Vec<(usize, &'t str)> = Vec::new();
    let mut start = 0;
    let mut current = 0;
    for (at, c) in text.char_indices() {
        let face = if c.is_whitespace() {
            current
        } else {
            faces
                .iter()
                .position(|f| f.glyph_index(c).is_some())
                .unwrap_or(current)
        };
        if face != current && at > start {
            out.push((current, &text[start..at]));
            start = at;
        }
        current = face;
    }
    if start < text.len() {
        out.push((current, &text[start..]));
    }
    out
}

/// The mask's size and where the baseline and the line start sit in it.
#[derive(Debug, Clone, Copy)]
struct Layout {
    width: u32,
    height: u32,
    /// Pixel x of the line start.
    origin_x: f32,
    /// Pixel row of the baseline.
    baseline: f32,
}

impl Layout {
    fn measure(faces: &[Face<'_>], glyphs: &[Placed], advance: f32, px: f32) -> Result<Layout> {
        // The line box: the advance across, the tallest ascent and deepest descent of the
        // faces used, so texts in one font share a baseline whatever their letters.
        let (mut left, mut right) = (0.0f32, advance);
        let (mut top, mut bottom) = (0.0f32, 0.0f32);
        let mut used = vec![false; faces.len()];
        for g in glyphs {
            used[g.face] = true;
            let face = &faces[g.face];
            if let Some(b) = face.glyph_bounding_box(g.glyph) {
                let s = scale(face, px);
                left = left.min(g.x + f32::from(b.x_min) * s);
                right = right.max(g.x + f32::from(b.x_max) * s);
                top = top.max(g.y + f32::from(b.y_max) * s);
                bottom = bottom.min(g.y + f32::from(b.y_min) * s);
            }
        }
        for (face, _) in faces.iter().zip(&used).filter(|(_, u)| **u) {
            let s = scale(face, px);
            top = top.max(f32::from(face.ascender()) * s);
            bottom = bottom.min(f32::from(face.descender()) * s);
        }
        let width = (right - left).ceil() + 2.0;
        let height = (top - bottom).ceil() + 2.0;
        let too_big = || {
            ImageError::ResolutionExceed(format!(
                "the text watermark would be {width}x{height} px, over {MAX_TEXT_SIDE} px a \
                 side or {MAX_TEXT_PIXELS} pixels"
            ))
        };
        if !(width.is_finite() && height.is_finite())
            || width > MAX_TEXT_SIDE as f32
            || height > MAX_TEXT_SIDE as f32
            || (width as u64) * (height as u64) > MAX_TEXT_PIXELS
        {
            return Err(too_big());
        }
        Ok(Layout {
            width: width as u32,
            height: height as u32,
            origin_x: 1.0 - left,
            baseline: 1.0 + top,
        })
    }
}

/// Rasterises one glyph's outline and adds its coverage to `mask`.
fn draw_glyph(mask: &mut GrayImage, face: &Face<'_>, g: &Placed, px: f32, layout: &Layout) {
    let Some(b) = face.glyph_bounding_box(g.glyph) else {
        return; // a space: nothing to draw
    };
    let s = scale(face, px);
    let gx = layout.origin_x + g.x;
    let gy = layout.baseline - g.y;
    let left = (gx + f32::from(b.x_min) * s).floor();
    let top = (gy - f32::from(b.y_max) * s).floor();
    let right = (gx + f32::from(b.x_max) * s).ceil();
    let bottom = (gy - f32::from(b.y_min) * s).ceil();
    let (w, h) = ((right - left) as usize, (bottom - top) as usize);
    if w == 0 || h == 0 {
        return;
    }
    let mut outline = Outline {
        raster: Rasterizer::new(w, h),
        scale: s,
        dx: gx - left,
        dy: gy - top,
        start: point(0.0, 0.0),
        last: point(0.0, 0.0),
    };
    if face.outline_glyph(g.glyph, &mut outline).is_none() {
        return;
    }
    let (mw, mh) = mask.dimensions();
    outline.raster.for_each_pixel_2d(|x, y, coverage| {
        let (mx, my) = (left as i64 + i64::from(x), top as i64 + i64::from(y));
        if mx < 0 || my < 0 || mx >= i64::from(mw) || my >= i64::from(mh) {
            return;
        }
        let p = mask.get_pixel_mut(mx as u32, my as u32);
        let add = (coverage.clamp(0.0, 1.0) * 255.0).round() as u16;
        p.0[0] = (u16::from(p.0[0]) + add).min(255) as u8;
    });
}

/// Feeds a glyph outline (font units, y up) to the rasteriser (pixels, y down).
struct Outline {
    raster: Rasterizer,
    scale: f32,
    dx: f32,
    dy: f32,
    start: Point,
    last: Point,
}

impl Outline {
    fn at(&self, x: f32, y: f32) -> Point {
        point(self.dx + x * self.scale, self.dy - y * self.scale)
    }
}

impl OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        self.start = self.at(x, y);
        self.last = self.start;
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.at(x, y);
        self.raster.draw_line(self.last, p);
        self.last = p;
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (c, p) = (self.at(x1, y1), self.at(x, y));
        self.raster.draw_quad(self.last, c, p);
        self.last = p;
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (c1, c2, p) = (self.at(x1, y1), self.at(x2, y2), self.at(x, y));
        self.raster.draw_cubic(self.last, c1, c2, p);
        self.last = p;
    }

    fn close(&mut self) {
        if self.last != self.start {
            self.raster.draw_line(self.last, self.start);
        }
        self.last = self.start;
    }
}
