//! GIF output through the `gif` crate, colours through quantette (`palette.rs`).
//!
//! Every frame, its delay and the loop count are written. Frames that already have at most 256
//! colours keep them exactly, so GIF -> GIF is lossless. Later frames store only what changed
//! on the displayed canvas (cropped, unchanged pixels transparent), which is lossless too; where
//! a pixel must turn transparent, the frame before is cleared after display (see
//! `plan_disposal`).

use gif::{DisposalMethod, Encoder, Frame, Repeat};
use image::RgbaImage;
use quantette::deps::palette::Srgb;
use rayon::prelude::*;

use super::palette::{self, AlphaMode, Indexed, Method};
use super::pixels::rgba8;
use super::EncodeSettings;
use crate::budget::Budget;
use crate::error::{ImageError, Result};
use crate::model::Image;

/// Colours in the shared palette `cgif` uses (one more entry is kept for transparency, which
/// makes a 128-entry table and 7-bit LZW codes).
pub const CGIF_COLOURS: u16 = 127;

/// Pixels sampled from all frames to build the `cgif` palette (keeps large animations cheap).
const CGIF_SAMPLE: usize = 1 << 20;

/// A GIF colour table, RGB per entry.
type Table = Vec<[u8; 3]>;

/// Encode all frames as GIF.
pub fn encode(img: &Image, settings: &EncodeSettings, budget: &Budget) -> Result<Vec<u8>> {
    let (w, h) = gif_dims(img.width, img.height)?;
    let frames: Vec<RgbaImage> = img.frames.par_iter().map(|f| rgba8(&f.image)).collect();
    if frames.is_empty() {
        return Err(gif_error("image has no frames"));
    }
    if frames
        .iter()
        .any(|f| f.dimensions() != (img.width, img.height))
    {
        return Err(gif_error("frame size differs from the canvas"));
    }
    let animated = frames.len() > 1;
    let (global, indexed) = match settings.cgif {
        Some(_) => shared_palette(&frames)?,
        None => (None, local_palettes(&frames, animated, budget)?),
    };
    let delays = centiseconds(img.frames.iter().map(|f| f.delay_ms));
    let global_transparent = global
        .as_ref()
        .and_then(|t| u8::try_from(t.len().saturating_sub(1)).ok());

    let mut out = Vec::new();
    {
        let global_table = global.as_ref().map(|p| p.concat()).unwrap_or_default();
        let mut enc = Encoder::new(&mut out, w, h, &global_table).map_err(gif_error)?;
        // `loop_count` counts plays; NETSCAPE counts repeats after the first play, and a GIF
        // without the extension plays once.
        if animated && img.loop_count != 1 {
            let repeat = match img.loop_count {
                0 => Repeat::Infinite,
                n => Repeat::Finite(n - 1),
            };
            enc.set_repeat(repeat).map_err(gif_error)?;
        }
        let (wu, hu) = (usize::from(w), usize::from(h));
        // A frame's disposal is only known once the next frame is planned, so each frame waits
        // here for its successor before it is written.
        let mut pending: Option<Planned> = None;
        for (i, ix) in indexed.iter().enumerate() {
            budget.check()?;
            let mut now = shown(ix);
            let planned = match pending.take() {
                None => Planned {
                    index: i,
                    base: vec![None; now.len()],
                    rect: Rect::full(wu, hu),
                    shown: now,
                    dispose: DisposalMethod::Keep,
                },
                Some(mut prev) => {
                    let base = plan_disposal(&mut prev, &now, wu);
                    if let (Some(before), Some(after)) = (frames.get(i - 1), frames.get(i)) {
                        if has_transparent_slot(ix, global_transparent) {
                            keep_unchanged(&mut now, &base, before, after);
                        }
                    }
                    let frame = prev.to_frame(&indexed, wu, w, h, global_transparent);
                    write(&mut enc, frame, &delays, prev.index)?;
                    let rect = changed(&base, &now, wu, |a, b| a != b).unwrap_or(Rect {
                        x0: 0,
                        y0: 0,
                        x1: 1,
                        y1: 1,
                    });
                    Planned {
                        index: i,
                        base,
                        rect,
                        shown: now,
                        dispose: DisposalMethod::Keep,
                    }
                }
            };
            pending = Some(planned);
        }
        if let Some(last) = pending {
            let frame = last.to_frame(&indexed, wu, w, h, global_transparent);
            write(&mut enc, frame, &delays, last.index)?;
        }
    }
    Ok(out)
}

/// Write one frame with its delay.
fn write<W: std::io::Write>(
    enc: &mut Encoder<W>,
    mut frame: Frame<'static>,
    delays: &[u16],
    index: usize,
) -> Result<()> {
    frame.delay = delays.get(index).copied().unwrap_or(0);
    enc.write_frame(&frame).map_err(gif_error)
}

/// What a viewer shows per pixel: a colour, or `None` where the canvas is transparent.
type Canvas = Vec<Option<[u8; 3]>>;

/// The pixels of a frame as displayed on its own.
fn shown(ix: &Indexed) -> Canvas {
    ix.indices
        .iter()
        .map(|&i| {
            (Some(i) != ix.transparent)
                .then(|| ix.palette.get(usize::from(i)).copied().unwrap_or_default())
        })
        .collect()
}

/// Whether a change-only frame can mark pixels as "leave the canvas alone".
fn has_transparent_slot(ix: &Indexed, global_transparent: Option<u8>) -> bool {
    global_transparent.is_some() || ix.transparent.is_some() || ix.palette.len() < 256
}

/// Where the source pixel did not change, keep what the canvas already shows instead of this
/// frame's quantised colour.
///
/// Quantising (and dithering) each frame on its own maps a still background to slightly
/// different colours every frame; without this, every frame would be stored whole. The kept
/// colour is the same source pixel through an earlier frame's palette, so quality holds, and
/// exact palettes are unaffected since their colours are the source's.
fn keep_unchanged(now: &mut Canvas, base: &Canvas, before: &RgbaImage, after: &RgbaImage) {
    let opaque = |p: &image::Rgba<u8>| p.0[3] >= 128;
    for (((cell, kept), b), a) in now
        .iter_mut()
        .zip(base)
        .zip(before.pixels())
        .zip(after.pixels())
    {
        let same = opaque(a) == opaque(b) && (!opaque(a) || a.0[..3] == b.0[..3]);
        // A cleared pixel (disposal) no longer shows the earlier colour.
        if same && kept.is_some() == cell.is_some() {
            *cell = *kept;
        }
    }
}

/// A half-open pixel rectangle on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rect {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Rect {
    fn full(w: usize, h: usize) -> Self {
        Rect {
            x0: 0,
            y0: 0,
            x1: w,
            y1: h,
        }
    }

    fn union(self, other: Rect) -> Self {
        Rect {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }
}

/// The bounding rectangle of the pixels where `differs(before, now)` holds, if any.
fn changed(
    before: &Canvas,
    now: &Canvas,
    w: usize,
    differs: impl Fn(&Option<[u8; 3]>, &Option<[u8; 3]>) -> bool,
) -> Option<Rect> {
    let mut found: Option<Rect> = None;
    for (y, (b, n)) in before.chunks(w).zip(now.chunks(w)).enumerate() {
        let Some(first) = b.iter().zip(n).position(|(b, n)| differs(b, n)) else {
            continue;
        };
        let last = b
            .iter()
            .zip(n)
            .rposition(|(b, n)| differs(b, n))
            .unwrap_or(first);
        let row = Rect {
            x0: first,
            y0: y,
            x1: last + 1,
            y1: y + 1,
        };
        found = Some(found.map_or(row, |r| r.union(row)));
    }
    found
}

/// A frame whose rectangle and disposal are settled only by the frame after it.
struct Planned {
    index: usize,
    /// The canvas this frame is drawn on.
    base: Canvas,
    /// The canvas once this frame is drawn.
    shown: Canvas,
    rect: Rect,
    dispose: DisposalMethod,
}

/// Settle `prev`'s disposal for a successor showing `next`, and return the canvas that
/// successor is drawn on.
///
/// GIF cannot draw transparency over a colour, so when a pixel has to turn transparent, `prev`
/// is grown to cover every such pixel and cleared to transparent after display (Background);
/// the successor is still drawn as a change-only frame on top of that cleared area.
fn plan_disposal(prev: &mut Planned, next: &Canvas, w: usize) -> Canvas {
    let mut base = prev.shown.clone();
    if let Some(clear) = changed(&prev.shown, next, w, |b, n| b.is_some() && n.is_none()) {
        prev.rect = prev.rect.union(clear);
        prev.dispose = DisposalMethod::Background;
        for row in base.chunks_mut(w).take(prev.rect.y1).skip(prev.rect.y0) {
            if let Some(cells) = row.get_mut(prev.rect.x0..prev.rect.x1) {
                cells.fill(None);
            }
        }
    }
    base
}

impl Planned {
    /// The GIF frame: the rectangle, with pixels that show no change left transparent when the
    /// palette has an entry for it.
    fn to_frame(
        &self,
        indexed: &[Indexed],
        w: usize,
        fw: u16,
        fh: u16,
        global_transparent: Option<u8>,
    ) -> Frame<'static> {
        let global = global_transparent.is_some();
        let Some(ix) = indexed.get(self.index) else {
            return Frame::default();
        };
        let mut frame = if self.index == 0 {
            full_frame(ix, fw, fh, global)
        } else {
            self.diff_frame(ix, w, global_transparent)
        };
        frame.dispose = self.dispose;
        frame
    }

    fn diff_frame(&self, ix: &Indexed, w: usize, global_transparent: Option<u8>) -> Frame<'static> {
        let global = global_transparent.is_some();
        let mut palette = ix.palette.clone();
        let transparent = match (global_transparent, ix.transparent) {
            (Some(t), _) | (None, Some(t)) => Some(t),
            (None, None) => u8::try_from(palette.len())
                .ok()
                .inspect(|_| palette.push([0, 0, 0])),
        };
        let r = self.rect;
        let mut buffer = Vec::with_capacity((r.x1 - r.x0) * (r.y1 - r.y0));
        for y in r.y0..r.y1 {
            for x in r.x0..r.x1 {
                let at = y * w + x;
                let (Some(&i), Some(now), Some(before)) =
                    (ix.indices.get(at), self.shown.get(at), self.base.get(at))
                else {
                    continue;
                };
                buffer.push(match transparent {
                    Some(t) if now.is_none() || now == before => t,
                    _ => i,
                });
            }
        }
        Frame {
            left: r.x0 as u16,
            top: r.y0 as u16,
            width: (r.x1 - r.x0) as u16,
            height: (r.y1 - r.y0) as u16,
            buffer: buffer.into(),
            palette: (!global).then(|| palette.concat()),
            transparent,
            ..Frame::default()
        }
    }
}

/// GIF stores sides in 16 bits.
fn gif_dims(width: u32, height: u32) -> Result<(u16, u16)> {
    match (u16::try_from(width), u16::try_from(height)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(ImageError::ResolutionExceed(format!(
            "{width}x{height} does not fit GIF's 65535 px sides"
        ))),
    }
}

/// Each frame with its own palette: exact when it fits, else quantised.
fn local_palettes(frames: &[RgbaImage], animated: bool, budget: &Budget) -> Result<Vec<Indexed>> {
    // k-means is worth its time on one picture; animations favour Wu's speed.
    let method = if animated {
        Method::Fast
    } else {
        Method::Quality
    };
    // Animations keep one entry free so change-only frames can mark unchanged pixels.
    let quantised_colours = if animated { 255 } else { 256 };
    frames
        .par_iter()
        .map(|f| {
            budget.check()?;
            match palette::exact(f, 256, AlphaMode::Binary) {
                Some(ix) => Ok(ix),
                None => palette::quantize(f, quantised_colours, method, true),
            }
        })
        .collect()
}

/// `cgif`: one palette for the whole animation, built from a sample of every frame.
///
/// A shared table is written once instead of once per frame, the colours do not flicker between
/// frames, static areas map to the same indices frame after frame (so the change detection in
/// `diff_frame` finds them), and 7-bit codes shrink the LZW stream.
fn shared_palette(frames: &[RgbaImage]) -> Result<(Option<Table>, Vec<Indexed>)> {
    let total: usize = frames.iter().map(|f| f.as_raw().len() / 4).sum();
    let step = total.div_ceil(CGIF_SAMPLE).max(1);
    let sample: Vec<Srgb<u8>> = frames
        .iter()
        .flat_map(|f| f.pixels().step_by(step))
        .filter(|p| p.0[3] >= 128)
        .map(|p| Srgb::new(p.0[0], p.0[1], p.0[2]))
        .collect();
    let mut table = palette::build_palette(&sample, CGIF_COLOURS, Method::Fast)?;
    if table.is_empty() {
        table.push([0, 0, 0]);
    }
    let mut indexed: Vec<Indexed> = frames
        .par_iter()
        .map(|f| palette::remap(f, &table, true))
        .collect::<Result<_>>()?;
    // The entry after the colours is transparent in every frame that needs one: holes in the
    // frame, or unchanged pixels in `diff_frame`.
    let t = u8::try_from(table.len()).map_err(|_| gif_error("palette too large"))?;
    table.push([0, 0, 0]);
    for ix in &mut indexed {
        ix.palette.clone_from(&table);
        if ix.transparent.is_some() {
            ix.transparent = Some(t);
        }
    }
    Ok((Some(table), indexed))
}

/// The whole canvas as one frame.
fn full_frame(ix: &Indexed, w: u16, h: u16, global: bool) -> Frame<'static> {
    Frame {
        width: w,
        height: h,
        buffer: ix.indices.clone().into(),
        palette: (!global).then(|| ix.palette.concat()),
        transparent: ix.transparent,
        ..Frame::default()
    }
}

/// Per-frame delays in GIF's 10 ms units, rounded on the running total so rounding errors do
/// not add up over a long animation. A zero delay stays zero ("as the viewer likes"); anything
/// shorter than 20 ms becomes 20 ms, since browsers slow 0-10 ms frames down to 100 ms.
fn centiseconds(delays_ms: impl Iterator<Item = u32>) -> Vec<u16> {
    let mut out = Vec::new();
    let (mut elapsed_ms, mut rounded_cs) = (0u64, 0u64);
    for d in delays_ms {
        elapsed_ms += u64::from(d);
        let step = ((elapsed_ms + 5) / 10).saturating_sub(rounded_cs);
        rounded_cs += step;
        // The minimum is not paid back by later frames: it is a display fix, not a rounding.
        let cs = if d == 0 {
            0
        } else {
            step.clamp(2, u64::from(u16::MAX))
        };
        out.push(cs as u16);
    }
    out
}

fn gif_error(detail: impl ToString) -> ImageError {
    ImageError::Encode {
        format: "gif",
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_on_the_running_total() {
        // 33 ms frames: 3,4,3 cs... total of 30 frames stays at 99 cs (990 ms).
        let cs = centiseconds(std::iter::repeat_n(33, 30));
        assert_eq!(cs.iter().map(|&c| u32::from(c)).sum::<u32>(), 99);
        assert!(cs.iter().all(|&c| c == 3 || c == 4));
    }

    #[test]
    fn very_short_delays_become_twenty_ms_and_zero_stays_zero() {
        assert_eq!(
            centiseconds([5, 0, 10, 1000].into_iter()),
            vec![2, 0, 2, 100]
        );
    }
}
