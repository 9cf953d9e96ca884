//! Predicting the memory one job needs at its peak, from header facts alone, so a job can be
//! refused or made to wait before any pixel is decoded.
//!
//! A stage holds, at its worst moment, the encoded input, the decoded frames, the frames an
//! operation is producing, and what the decoder or encoder keeps on the side (libwebp's
//! pictures and candidate frames, mozjpeg's coefficients, x265's and libaom's reference
//! pictures ...). The codecs' share is a table of bytes per pixel plus a fixed part
//! ([`decoder_working`], [`encoder_working`]), measured as the peak resident memory of one
//! job in a release build minus the frames themselves, then rounded up. A job's estimate is
//! the largest of its stages (stages run one after the other; only the previous stage's
//! encoded output is held across).
//!
//! The estimate errs on the large side: the decoder is assumed to deliver the full canvas
//! (shrink-on-load only makes it smaller), and a grey image is counted as RGB.

use mogr_rule::{MogrStage, OutputFormat, Pipeline, Stage};

use crate::animation;
use crate::budget::SourceShape;
use crate::engine::{default_output, is_animated_format, EngineConfig};
use crate::error::{ImageError, Result};
use crate::model::{ImageFormat, Probe};
use crate::ops::registry;
use crate::ops::Size;

/// One mebibyte.
pub const MIB: u64 = 1 << 20;

/// Canvas pixels assumed per encoded byte when the headers could not be read.
const PIXELS_PER_BYTE_UNKNOWN: u64 = 8;

/// What a codec needs besides the frames it reads or writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Working {
    /// Bytes per canvas pixel (of one frame).
    pub per_pixel: f64,
    /// Bytes whatever the size (tables, thread stacks, codec contexts).
    pub fixed: u64,
}

impl Working {
    const fn new(per_pixel: f64, fixed_mib: u64) -> Working {
        Working {
            per_pixel,
            fixed: fixed_mib * MIB,
        }
    }

    fn of(self, pixels: u64) -> u64 {
        (self.per_pixel * pixels as f64) as u64 + self.fixed
    }
}

/// A decoder's working memory beyond its output frames (per pixel of one frame).
pub fn decoder_working(format: ImageFormat) -> Working {
    match format {
        // zune-jpeg keeps every coefficient of a progressive file (two bytes each, up to
        // three components at full resolution) and upsampled planes.
        ImageFormat::Jpeg => Working::new(8.0, 8),
        // Rows, the inflater's window; a 16-bit source is converted row by row.
        ImageFormat::Png => Working::new(0.5, 8),
        // The compositing canvas, the copy kept for "restore previous", the frame's indices.
        ImageFormat::Gif => Working::new(9.0, 4),
        // libwebp's lossless decoder keeps an ARGB copy and its transforms' buffers; the
        // animation decoder a canvas and the previous frame.
        ImageFormat::Webp => Working::new(12.0, 8),
        ImageFormat::Bmp => Working::new(1.0, 2),
        // libheif's YCbCr planes, the HEVC/AV1 decoder's reference pictures, then the
        // interleaved copy.
        ImageFormat::Heif | ImageFormat::Avif => Working::new(12.0, 48),
    }
}

/// An encoder's working memory beyond the frames it is given (per pixel of one frame).
///
/// `lossless` matters to WebP only (its lossless coder is far hungrier).
pub fn encoder_working(format: OutputFormat, lossless: bool) -> Working {
    match format {
        // The interleaved copy, mozjpeg's full-image coefficients (optimised Huffman tables
        // and progressive scans need them all), the output.
        OutputFormat::Jpeg | OutputFormat::Yjpeg => Working::new(10.0, 8),
        // The interleaved copy, filtered rows and the compressed output.
        OutputFormat::Png => Working::new(9.0, 8),
        OutputFormat::Bmp => Working::new(8.0, 2),
        // The RGBA copy, indices, the two canvases compared for each frame, quantette's
        // histogram (per frame of the animation: the encoder holds them all).
        OutputFormat::Gif => Working::new(14.0, 16),
        // The interleaved copy, libwebp's ARGB and YUVA pictures, its analysis buffers.
        OutputFormat::Webp if lossless => Working::new(40.0, 8),
        OutputFormat::Webp => Working::new(18.0, 8),
        // x265 / libaom reference pictures, look-ahead and lookup tables.
        OutputFormat::Heif | OutputFormat::Heic => Working::new(40.0, 96),
        OutputFormat::Avif => Working::new(40.0, 96),
        OutputFormat::Tpg => Working::new(0.0, 0),
    }
}

/// libwebp's animation encoder, per pixel of the canvas: the previous and current canvases,
/// the disposed copy, and up to four candidate encodings of the changed rectangle.
const ANIMATION_ENCODER: Working = Working::new(48.0, 16);

/// Encoded bytes assumed per output pixel of every frame, kept until the file is assembled.
const ENCODED_BYTES_PER_PIXEL: f64 = 0.5;

/// The predicted peak of a pipeline: the largest stage.
pub fn estimate(pipeline: &Pipeline, source: SourceShape, cfg: &EngineConfig) -> u64 {
    let limits = &cfg.limits;
    let mut probe = source.probe.unwrap_or_else(|| {
        // Unknown headers: a square canvas of as many pixels as the bytes suggest.
        let px = source
            .bytes
            .saturating_mul(PIXELS_PER_BYTE_UNKNOWN)
            .min(limits.max_pixels);
        let side = (px as f64).sqrt().ceil().min(f64::from(u32::MAX)) as u32;
        Probe {
            has_alpha: true,
            ..Probe::new(ImageFormat::Png, side.max(1), side.max(1), 1)
        }
    });
    probe.frames = probe.frames.clamp(1, limits.max_frames.max(1));
    let mut input = source.bytes;
    let mut peak = input;
    for stage in &pipeline.stages {
        match stage {
            Stage::ImageInfo | Stage::Exif => return peak.max(input),
            Stage::ImageAve => return peak.max(input + decoded(&probe, all_frames(&probe))),
            Stage::Mogr(m) => {
                let s = stage_peak(m, &probe, input, cfg);
                peak = peak.max(s.bytes);
                input = s.output_bytes;
                probe = s.output;
            }
            Stage::Watermark(_) => {
                // Decode, draw, encode in the same format: a re-encode with no operations,
                // plus the mark (or the tiled layer) at most one canvas large.
                let s = stage_peak(&MogrStage::default(), &probe, input, cfg);
                peak = peak.max(s.bytes.saturating_add(decoded(&probe, 1)));
                input = s.output_bytes;
                probe = s.output;
            }
        }
    }
    peak
}

/// What one stage needs at its peak, and what it hands to the next stage.
#[derive(Debug, Clone, Copy)]
pub struct StagePeak {
    /// Peak bytes.
    pub bytes: u64,
    /// The output as the next stage will see it.
    pub output: Probe,
    /// Predicted encoded output bytes.
    pub output_bytes: u64,
}

/// The predicted peak of one `imageMogr2` stage on `src` (`input` encoded bytes).
pub fn stage_peak(stage: &MogrStage, src: &Probe, input: u64, cfg: &EngineConfig) -> StagePeak {
    let limits = &cfg.limits;
    let format = stage
        .output
        .format
        .unwrap_or_else(|| default_output(src.format));
    let frames = if animation::first_frame_only(stage, src) {
        1
    } else {
        u64::from(src.frames.max(1))
    };
    let src_px = area(src);
    let dec_bpp = decoded_bytes_per_pixel(src, format);
    let lossless_out = matches!(
        src.format,
        ImageFormat::Png | ImageFormat::Gif | ImageFormat::Bmp
    ) || (src.format == ImageFormat::Webp && src.has_alpha && src.frames > 1);

    // The canvas after every operation, and the largest intermediate frame.
    let mut size = Size::new(src.width, src.height);
    let mut largest = src_px;
    for op in &stage.ops {
        if let Some(Ok(next)) = registry::transform_for(op).map(|t| t.output_size(size)) {
            size = next;
            largest = largest.max(next.area());
        }
    }
    let out_px = size.area().min(limits.max_pixels);
    let out_frames = if is_animated_format(format) {
        frames
    } else {
        1
    };
    let encoded = ((out_px * out_frames) as f64 * ENCODED_BYTES_PER_PIXEL) as u64;
    let encoded = encoded.max(MIB);

    let bytes = if animation::streams(stage, src) {
        // A few frames at a time: the decoder's canvas, the frame in hand and what each
        // operation makes of it, the animation encoder's canvases and the encoded frames.
        let frame = src_px * 4;
        input
            + decoder_working(src.format).of(src_px)
            + 2 * frame
            + 2 * largest * 4
            + ANIMATION_ENCODER.of(out_px)
            + encoded
    } else {
        let all = frames * src_px * dec_bpp;
        let decode = decoder_working(src.format).of(src_px) + all;
        // Operations replace frames one by one, a few in parallel.
        let in_flight = frames.min(rayon::current_num_threads() as u64 + 1);
        let ops = frames * largest * dec_bpp + 2 * in_flight * largest * dec_bpp;
        let kept = out_frames * out_px * dec_bpp;
        let mut work = encoder_working(format, lossless_out).of(out_px);
        if out_frames > 1 {
            // Every frame is converted (and, for WebP, imported by libwebp) before the
            // animation is coded.
            work = work.max(ANIMATION_ENCODER.of(out_px)) + out_frames * out_px * 8;
        }
        input + decode.max(ops).max(kept + work + encoded)
    };
    StagePeak {
        bytes,
        output: Probe {
            format: source_of(format),
            width: size.width,
            height: size.height,
            frames: out_frames as u32,
            bit_depth: 8,
            has_alpha: src.has_alpha,
        },
        output_bytes: encoded.min(limits.max_input_bytes),
    }
}

/// Refuses a stage whose predicted peak is over the job budget (`max_memory`): it could never
/// run, however long it waited. `ImageTooLarge`, which `ignore-error/1` turns into the original.
pub fn check_stage(stage: &MogrStage, src: &Probe, input: u64, cfg: &EngineConfig) -> Result<()> {
    let max = cfg.limits.max_memory;
    let need = stage_peak(stage, src, input, cfg).bytes;
    if need > max {
        return Err(ImageError::TooLarge(format!(
            "processing this {}x{} {} ({} frame{}) would need about {} MiB of memory, over the \
             {} MiB max_memory budget",
            src.width,
            src.height,
            src.format.name(),
            src.frames,
            if src.frames == 1 { "" } else { "s" },
            need.div_ceil(MIB),
            max / MIB
        )));
    }
    Ok(())
}

/// Bytes per pixel of the decoded frames: RGBA for animations, 16-bit samples only when the
/// decoder keeps them (a PNG encoded again as PNG).
fn decoded_bytes_per_pixel(src: &Probe, out: OutputFormat) -> u64 {
    if src.frames > 1 || src.format == ImageFormat::Gif {
        return 4;
    }
    let channels = if src.has_alpha { 4 } else { 3 };
    let sample = if src.bit_depth > 8 && crate::decode::keeps_16_bit(src.format, out) {
        2
    } else {
        1
    };
    channels * sample
}

fn area(p: &Probe) -> u64 {
    u64::from(p.width) * u64::from(p.height)
}

fn all_frames(p: &Probe) -> u64 {
    u64::from(p.frames.max(1))
}

/// Bytes of `frames` decoded frames of `p` (and the decoder's working memory).
fn decoded(p: &Probe, frames: u64) -> u64 {
    let bpp = if p.frames > 1 || p.bit_depth > 8 || p.has_alpha {
        8
    } else {
        4
    };
    frames * area(p) * bpp + decoder_working(p.format).of(area(p))
}

/// The format the next stage decodes after an encode to `out`.
fn source_of(out: OutputFormat) -> ImageFormat {
    match out {
        OutputFormat::Jpeg | OutputFormat::Yjpeg | OutputFormat::Tpg => ImageFormat::Jpeg,
        OutputFormat::Png => ImageFormat::Png,
        OutputFormat::Bmp => ImageFormat::Bmp,
        OutputFormat::Gif => ImageFormat::Gif,
        OutputFormat::Webp => ImageFormat::Webp,
        OutputFormat::Heif | OutputFormat::Heic => ImageFormat::Heif,
        OutputFormat::Avif => ImageFormat::Avif,
    }
}

/// The memory this machine gives the process: the cgroup limit when one is set, else the
/// physical memory; `None` when neither can be read.
pub fn system_memory() -> Option<u64> {
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .filter_map(|s| s.trim().parse::<u64>().ok())
    // cgroup v1 reports "no limit" as a huge number.
    .find(|&v| v < (1 << 50));
    let physical = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    match (cgroup, physical) {
        (Some(c), Some(p)) => Some(c.min(p)),
        (c, p) => c.or(p),
    }
}

/// The default image-work budget: half of [`system_memory`] (the store, the runtime and the
/// page cache need the rest), or 2 GiB when it cannot be read.
pub fn default_max_memory() -> u64 {
    static DEFAULT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *DEFAULT.get_or_init(|| system_memory().map_or(2 << 30, |m| (m / 2).max(256 * MIB)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> EngineConfig {
        EngineConfig::default()
    }

    fn shape(p: Probe, bytes: u64) -> SourceShape {
        SourceShape {
            probe: Some(p),
            bytes,
        }
    }

    fn rule(r: &str) -> Pipeline {
        mogr_rule::parse(r).unwrap()
    }

    #[test]
    fn a_thumbnail_needs_less_than_a_full_size_encode() {
        let photo = shape(Probe::new(ImageFormat::Jpeg, 4000, 3000, 1), 3 << 20);
        let full = estimate(&rule("imageMogr2/format/webp"), photo, &cfg());
        let thumb = estimate(
            &rule("imageMogr2/thumbnail/400x/format/webp"),
            photo,
            &cfg(),
        );
        assert!(thumb < full, "{thumb} vs {full}");
        // A 12 MP photo is at least its decoded RGB.
        assert!(full > 36_000_000, "{full}");
    }

    #[test]
    fn header_only_stages_need_the_input_only() {
        let photo = shape(Probe::new(ImageFormat::Jpeg, 4000, 3000, 1), 3 << 20);
        assert_eq!(estimate(&rule("imageInfo"), photo, &cfg()), 3 << 20);
    }

    #[test]
    fn sixteen_bit_png_counts_double_only_when_it_stays_png() {
        let p = Probe {
            bit_depth: 16,
            has_alpha: true,
            ..Probe::new(ImageFormat::Png, 1000, 1000, 1)
        };
        assert_eq!(decoded_bytes_per_pixel(&p, OutputFormat::Png), 8);
        assert_eq!(decoded_bytes_per_pixel(&p, OutputFormat::Jpeg), 4);
    }

    #[test]
    fn a_stage_over_the_budget_is_image_too_large() {
        let mut cfg = cfg();
        cfg.limits.max_memory = 64 * MIB;
        let stage = match &rule("imageMogr2/format/png").stages[0] {
            Stage::Mogr(m) => m.clone(),
            _ => unreachable!(),
        };
        let small = Probe::new(ImageFormat::Png, 100, 100, 1);
        assert!(check_stage(&stage, &small, 1000, &cfg).is_ok());
        let big = Probe::new(ImageFormat::Png, 8000, 8000, 1);
        let err = check_stage(&stage, &big, 1000, &cfg).unwrap_err();
        assert!(err.is_limit());
        assert!(err.to_string().contains("max_memory"), "{err}");
    }
}
