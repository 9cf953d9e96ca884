//! GIF: the `gif` crate's logical screen for the canvas size; a block walk for frame count,
//! transparency and loop count (LZW data skipped, never decoded); the `gif` crate for frames,
//! composited here the way browsers show them.
//!
//! Every frame's own size is checked, as the decoder reads it, before its pixels are decoded:
//! a frame may be far larger than the screen it is drawn on.

use std::num::NonZeroU64;

use gif::{ColorOutput, DecodeOptions, DisposalMethod, MemoryLimit};
use image::{DynamicImage, Rgba, RgbaImage};

use super::bytes::le16;
use super::{corrupt, Header};
use crate::error::{ImageError, Result};
use crate::limits::Limits;
use crate::model::{Frame, ImageFormat};

const FORMAT: ImageFormat = ImageFormat::Gif;

/// Facts from walking the block structure.
struct Walk {
    frames: u32,
    transparent: bool,
    /// NETSCAPE2.0 loop count (0 = forever), if the extension is present.
    netscape_loops: Option<u16>,
    xmp: Option<Vec<u8>>,
}

/// Header facts from the decoder's logical screen and a walk over all blocks.
pub(super) fn read_header(bytes: &[u8]) -> Result<Header> {
    let screen = open(bytes, MemoryLimit::Unlimited)?;
    let (width, height) = (screen.width(), screen.height());
    let Some(&packed) = bytes.get(10) else {
        return Err(corrupt(FORMAT, "truncated logical screen descriptor"));
    };
    let mut pos = 13;
    if packed & 0x80 != 0 {
        pos += 3 << ((packed & 7) + 1);
    }
    let walk = walk_blocks(bytes, pos);
    if walk.frames == 0 {
        return Err(corrupt(FORMAT, "no image data"));
    }
    let mut h = Header::new(FORMAT, u32::from(width), u32::from(height));
    h.frames = walk.frames;
    h.palette = true;
    h.lossless = true;
    h.has_alpha = walk.transparent;
    h.loop_count = loop_count(walk.netscape_loops);
    h.metadata.xmp = walk.xmp;
    Ok(h)
}

/// The model's loop count from the NETSCAPE extension.
///
/// The extension counts *repeats* after the first play (0 = forever), and a GIF without it
/// plays once; the model counts plays, so n repeats become n + 1 plays.
fn loop_count(netscape: Option<u16>) -> u16 {
    match netscape {
        None => 1,
        Some(0) => 0,
        Some(n) => n.saturating_add(1),
    }
}

/// Walk blocks from `pos` to the trailer, counting image descriptors; stops quietly at a
/// truncation or an unknown block, keeping what was seen.
fn walk_blocks(bytes: &[u8], mut pos: usize) -> Walk {
    let mut w = Walk {
        frames: 0,
        transparent: false,
        netscape_loops: None,
        xmp: None,
    };
    while let Some(&block) = bytes.get(pos) {
        match block {
            0x2C => {
                let Some(&packed) = bytes.get(pos + 9) else {
                    break;
                };
                pos += 10;
                if packed & 0x80 != 0 {
                    pos += 3 << ((packed & 7) + 1);
                }
                // LZW minimum code size, then the data sub-blocks.
                pos += 1;
                match skip_sub_blocks(bytes, pos) {
                    Some(next) => pos = next,
                    None => break,
                }
                w.frames += 1;
            }
            0x21 => {
                let Some(&label) = bytes.get(pos + 1) else {
                    break;
                };
                let start = pos + 2;
                if label == 0xF9 && bytes.get(start) == Some(&4) {
                    if let Some(&flags) = bytes.get(start + 1) {
                        w.transparent |= flags & 1 != 0;
                    }
                }
                if label == 0xFF {
                    read_application(bytes, start, &mut w);
                }
                match skip_sub_blocks(bytes, start) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
            _ => break,
        }
    }
    w
}

/// Position after the sub-block chain starting at `pos`, or `None` when truncated.
fn skip_sub_blocks(bytes: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = usize::from(*bytes.get(pos)?);
        pos += 1;
        if len == 0 {
            return Some(pos);
        }
        pos += len;
    }
}

/// NETSCAPE2.0/ANIMEXTS1.0 loop count and XMP from an application extension.
fn read_application(bytes: &[u8], start: usize, w: &mut Walk) {
    let Some(id) = bytes.get(start..start + 12) else {
        return;
    };
    if id[0] != 11 {
        return;
    }
    match &id[1..12] {
        b"NETSCAPE2.0" | b"ANIMEXTS1.0" => {
            let sub = start + 12;
            if bytes.get(sub) == Some(&3) && bytes.get(sub + 1) == Some(&1) {
                if let Some(n) = le16(bytes, sub + 2) {
                    w.netscape_loops.get_or_insert(n);
                }
            }
        }
        b"XMP DataXMP" => {
            // XMP is stored raw in the sub-blocks (the length bytes are part of the packet),
            // followed by a 257-byte "magic trailer".
            let data_start = start + 12;
            if let Some(end) = skip_sub_blocks(bytes, data_start) {
                let raw = &bytes[data_start..end];
                let keep = raw.len().saturating_sub(258);
                if keep > 0 && w.xmp.is_none() {
                    w.xmp = Some(raw[..keep].to_vec());
                }
            }
        }
        _ => {}
    }
}

/// The `gif` crate's decoder, past the logical screen and global palette (no frame read yet).
fn open(bytes: &[u8], memory: MemoryLimit) -> Result<gif::Decoder<&[u8]>> {
    let mut opts = DecodeOptions::new();
    opts.set_color_output(ColorOutput::RGBA);
    opts.set_memory_limit(memory);
    opts.read_info(bytes).map_err(|e| corrupt(FORMAT, e))
}

/// Decode and composite all frames onto a transparent canvas.
pub(super) fn decode(bytes: &[u8], header: &mut Header, limits: &Limits) -> Result<Vec<Frame>> {
    frames(bytes, header, limits)?.collect()
}

/// The composited frames, decoded one at a time as they are asked for.
pub(super) fn frames<'a>(
    bytes: &'a [u8],
    header: &Header,
    limits: &Limits,
) -> Result<GifFrames<'a>> {
    // A frame may not be larger than the canvas by much; this also stops a tiny canvas that
    // declares a 65535x65535 frame.
    let (cw, ch) = (header.width, header.height);
    let budget = (u64::from(cw) * u64::from(ch) * 4).max(1 << 20);
    let memory = NonZeroU64::new(budget).map_or(MemoryLimit::Unlimited, MemoryLimit::Bytes);
    let dec = open(bytes, memory)?;
    if (u32::from(dec.width()), u32::from(dec.height())) != (cw, ch) {
        return Err(corrupt(FORMAT, "the logical screen changed between reads"));
    }
    Ok(GifFrames {
        dec,
        canvas: RgbaImage::new(cw, ch),
        budget,
        limits: *limits,
        count: 0,
        done: false,
    })
}

/// The decoder and the canvas frames are drawn on.
pub(super) struct GifFrames<'a> {
    dec: gif::Decoder<&'a [u8]>,
    canvas: RgbaImage,
    /// Largest frame buffer in bytes.
    budget: u64,
    limits: Limits,
    /// Frames delivered so far.
    count: u32,
    done: bool,
}

impl Iterator for GifFrames<'_> {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Result<Frame>> {
        if self.done {
            return None;
        }
        let out = self.next_frame();
        if !matches!(out, Some(Ok(_))) {
            self.done = true;
        }
        out
    }
}

impl GifFrames<'_> {
    fn next_frame(&mut self) -> Option<Result<Frame>> {
        let (cw, ch) = self.canvas.dimensions();
        let decoded_some = self.count > 0;
        let info = match self.dec.next_frame_info() {
            Ok(Some(f)) => FrameInfo::of(f),
            Ok(None) => return None,
            // Like browsers, keep the frames decoded before a damaged one.
            Err(_) if decoded_some => return None,
            Err(e) => return Some(Err(corrupt(FORMAT, e))),
        };
        // Checked before the frame's pixels and the next canvas copy are allocated.
        if let Err(e) = self.limits.check_frames(cw, ch, self.count + 1) {
            return Some(Err(e));
        }
        let size = self.dec.buffer_size();
        if size as u64 > self.budget {
            return Some(Err(ImageError::ResolutionExceed(format!(
                "a {}x{} GIF frame is far larger than its {cw}x{ch} canvas",
                info.width, info.height
            ))));
        }
        let mut buf = vec![0u8; size];
        match self.dec.read_into_buffer(&mut buf) {
            Ok(()) => {}
            Err(_) if decoded_some => return None,
            Err(e) => return Some(Err(corrupt(FORMAT, e))),
        }
        let saved = (info.dispose == DisposalMethod::Previous).then(|| self.canvas.clone());
        let rect = draw(&mut self.canvas, &info, &buf);
        let frame = Frame {
            image: DynamicImage::ImageRgba8(self.canvas.clone()),
            delay_ms: u32::from(info.delay) * 10,
        };
        match info.dispose {
            DisposalMethod::Background => clear(&mut self.canvas, rect),
            DisposalMethod::Previous => {
                if let Some(saved) = saved {
                    self.canvas = saved;
                }
            }
            DisposalMethod::Keep | DisposalMethod::Any => {}
        }
        self.count += 1;
        Some(Ok(frame))
    }
}

/// Where a frame goes and how it behaves, copied out of the decoder before its pixels are read.
struct FrameInfo {
    left: u16,
    top: u16,
    width: u16,
    height: u16,
    delay: u16,
    dispose: DisposalMethod,
}

impl FrameInfo {
    fn of(f: &gif::Frame<'_>) -> FrameInfo {
        FrameInfo {
            left: f.left,
            top: f.top,
            width: f.width,
            height: f.height,
            delay: f.delay,
            dispose: f.dispose,
        }
    }
}

/// The part of the canvas a frame covers: (x, y, width, height), clipped.
type Rect = (u32, u32, u32, u32);

/// Draw a frame's opaque RGBA pixels `buf` onto the canvas (clipped to it); transparent ones
/// let the canvas show.
fn draw(canvas: &mut RgbaImage, frame: &FrameInfo, buf: &[u8]) -> Rect {
    let (cw, ch) = canvas.dimensions();
    let (left, top) = (u32::from(frame.left), u32::from(frame.top));
    let (fw, fh) = (u32::from(frame.width), u32::from(frame.height));
    let x_end = left.saturating_add(fw).min(cw);
    let y_end = top.saturating_add(fh).min(ch);
    for y in top..y_end {
        for x in left..x_end {
            let i = ((y - top) as usize * fw as usize + (x - left) as usize) * 4;
            let Some(px) = buf.get(i..i + 4) else {
                continue;
            };
            if px[3] != 0 {
                canvas.put_pixel(x, y, Rgba([px[0], px[1], px[2], px[3]]));
            }
        }
    }
    (
        left.min(cw),
        top.min(ch),
        x_end.saturating_sub(left),
        y_end.saturating_sub(top),
    )
}

/// Restore a rectangle to the (transparent) background, as browsers do.
fn clear(canvas: &mut RgbaImage, (x0, y0, w, h): Rect) {
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            canvas.put_pixel(x, y, Rgba([0, 0, 0, 0]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_counts() {
        assert_eq!(loop_count(None), 1);
        assert_eq!(loop_count(Some(0)), 0);
        assert_eq!(loop_count(Some(2)), 3);
        assert_eq!(loop_count(Some(u16::MAX)), u16::MAX);
    }
}
