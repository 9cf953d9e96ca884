//! Writes the small-file, huge-canvas inputs the memory report runs: a 16-bit RGBA PNG of
//! 121 MP, a 15800x15800 16-bit RGB PNG, and a 300-frame 912x912 GIF. Each compresses to
//! well under 2 MB, yet decodes to gigabytes; they are generated, never committed.
//!
//! `cargo run --release -p mogr-image --example hostile_inputs -- <folder>`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&dir)?;
    png16(&dir.join("rgba16_11000x11000.png"), 11_000, 11_000, true)?;
    png16(&dir.join("rgb16_15800x15800.png"), 15_800, 15_800, false)?;
    gif_frames(&dir.join("anim_912x912_300f.gif"), 912, 300)?;
    Ok(())
}

/// A 16-bit PNG of soft horizontal bands (rows repeat, so it deflates to almost nothing).
fn png16(path: &Path, w: u32, h: u32, alpha: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut enc = png::Encoder::new(BufWriter::new(File::create(path)?), w, h);
    enc.set_color(if alpha {
        png::ColorType::Rgba
    } else {
        png::ColorType::Rgb
    });
    enc.set_depth(png::BitDepth::Sixteen);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header()?.into_stream_writer()?;
    let channels = if alpha { 4 } else { 3 };
    let mut row = vec![0u8; w as usize * channels * 2];
    for y in 0..h {
        let band = (y / 64) as u16;
        for (x, px) in row.chunks_exact_mut(channels * 2).enumerate() {
            let v = band.wrapping_mul(911) ^ ((x as u16 / 512) << 8);
            for c in 0..channels {
                let s = if c == 3 {
                    0xFFFF
                } else {
                    v.wrapping_add(c as u16 * 4099)
                };
                px[c * 2..c * 2 + 2].copy_from_slice(&s.to_be_bytes());
            }
        }
        writer.write_all(&row)?;
    }
    writer.finish()?;
    Ok(())
}

/// An animated GIF whose frames are full-canvas: a flat background with a moving square.
fn gif_frames(path: &Path, side: u16, frames: u16) -> Result<(), Box<dyn std::error::Error>> {
    let palette: Vec<u8> = (0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect();
    let mut enc = gif::Encoder::new(BufWriter::new(File::create(path)?), side, side, &palette)?;
    enc.set_repeat(gif::Repeat::Infinite)?;
    let n = usize::from(side);
    for f in 0..frames {
        let mut buf = vec![(f % 200) as u8; n * n];
        let at = usize::from(f) * 3 % (n - 64);
        for y in at..at + 64 {
            buf[y * n + at..y * n + at + 64].fill(255);
        }
        let mut frame = gif::Frame::from_indexed_pixels(side, side, buf, None);
        frame.delay = 4;
        enc.write_frame(&frame)?;
    }
    Ok(())
}
