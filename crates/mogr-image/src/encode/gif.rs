//! GIF output through the `gif` crate, colours through quantette (`palette.rs`).
//!
//! Every frame, its delay and the loop count are written. Frames that already have at most 256
//! colours keep them exactly, so GIF -> GIF is lossless. Opaque animations store only what changed
//! since the previous frame (cropped, unchanged pixels transparent), which is lossless too.

use gif::{DisposalMethod, Encoder, Frame, Repeat};
use image::RgbaImage;
use quantette::deps::palette::Srgb;
use rayon::prelude::*;

use super::palette::{self, AlphaMode, Indexed, Method};
use super::pixels::rgba8;
use super::EncodeSettings;
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
pub fn encode(img: &Image, settings: &EncodeSettings) -> Result<Vec<u8>> {
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
        None => (None, local_palettes(&frames, animated)?),
    };
    let opaque = indexed.iter().all(|ix| ix.transparent.is_none());
    let delays = centiseconds(img.frames.iter().map(|f| f.delay_ms));

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
        let mut canvas: Option<Vec<[u8; 3]>> = None;
        for (i, ix) in indexed.iter().enumerate() {
            let mut frame = if animated && opaque {
                let global_transparent = global
                    .as_ref()
                    .and_then(|t| u8::try_from(t.len().saturating_sub(1)).ok());
                diff_frame(ix, &mut canvas, w, h, global_transparent)
            } else {
                full_frame(ix, w, h, global.is_some())
            };
            frame.delay = delays.get(i).copied().unwrap_or(0);
            frame.dispose = if opaque {
                DisposalMethod::Keep
            } else {
                // Full frames with holes: clear to transparent before the next one is drawn.
                DisposalMethod::Background
            };
            enc.write_frame(&frame).map_err(gif_error)?;
        }
    }
    Ok(out)
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
fn local_palettes(frames: &[RgbaImage], animated: bool) -> Result<Vec<Indexed>> {
    // k-means is worth its time on one picture; animations favour Wu's speed.
    let method = if animated {
        Method::Fast
    } else {
        Method::Quality
    };
    frames
        .par_iter()
        .map(|f| match palette::exact(f, 256, AlphaMode::Binary) {
            Some(ix) => Ok(ix),
            None => palette::quantize(f, 256, method, true),
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

/// Only the rectangle that changed since the displayed canvas; inside it, pixels that did not
/// change become transparent when the palette has a free entry. `canvas` is updated.
///
/// `global_transparent` is the shared table's transparent entry when a global palette is used.
fn diff_frame(
    ix: &Indexed,
    canvas: &mut Option<Vec<[u8; 3]>>,
    w: u16,
    h: u16,
    global_transparent: Option<u8>,
) -> Frame<'static> {
    let global = global_transparent.is_some();
    let colours: Vec<[u8; 3]> = ix
        .indices
        .iter()
        .map(|&i| ix.palette.get(usize::from(i)).copied().unwrap_or_default())
        .collect();
    let Some(prev) = canvas.as_mut() else {
        *canvas = Some(colours);
        return full_frame(ix, w, h, global);
    };
    let (wu, hu) = (usize::from(w), usize::from(h));
    let (mut x0, mut y0, mut x1, mut y1) = (wu, hu, 0, 0);
    for y in 0..hu {
        let row = y * wu..(y + 1) * wu;
        let (Some(now), Some(before)) = (colours.get(row.clone()), prev.get(row)) else {
            continue;
        };
        if let Some(first) = now.iter().zip(before).position(|(a, b)| a != b) {
            let last = now
                .iter()
                .zip(before)
                .rposition(|(a, b)| a != b)
                .unwrap_or(first);
            x0 = x0.min(first);
            x1 = x1.max(last + 1);
            y0 = y0.min(y);
            y1 = y + 1;
        }
    }
    if x0 >= x1 {
        // Nothing changed: a 1x1 frame still carries the delay.
        (x0, y0, x1, y1) = (0, 0, 1, 1);
    }
    let mut palette = ix.palette.clone();
    let transparent = match global_transparent {
        Some(t) => Some(t),
        None => u8::try_from(palette.len())
            .ok()
            .inspect(|_| palette.push([0, 0, 0])),
    };
    let mut buffer = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        for x in x0..x1 {
            let at = y * wu + x;
            let (Some(&i), Some(now), Some(before)) =
                (ix.indices.get(at), colours.get(at), prev.get(at))
            else {
                continue;
            };
            buffer.push(match transparent {
                Some(t) if now == before => t,
                _ => i,
            });
        }
    }
    *prev = colours;
    Frame {
        left: x0 as u16,
        top: y0 as u16,
        width: (x1 - x0) as u16,
        height: (y1 - y0) as u16,
        buffer: buffer.into(),
        palette: (!global).then(|| palette.concat()),
        transparent,
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
