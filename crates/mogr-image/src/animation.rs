//! Animations to animated WebP, one frame at a time: decode a frame, run the stage's
//! operations on it, hand it to the encoder, drop it. Memory follows a few frames instead of
//! the whole animation (300 frames of 912x912 RGBA are a gigabyte; a frame is 3 MB).
//!
//! The output is the whole-animation path's, byte for byte: the frames go through the same
//! operations in the same order (the first frame first, as stateful operations such as
//! `scrop` expect) and into the same libwebp calls. Stages this cannot serve (`auto-orient`
//! and `cgif` work on the animation as a whole, `size-limit` encodes several times, other
//! output formats) take the whole-animation path.

use mogr_rule::{MogrStage, Op, OutputFormat};

use crate::budget::{self, Budget};
use crate::decode;
use crate::encode::webp::{config_for, with_metadata, AnimWriter};
use crate::encode::{self, EncodeSettings};
use crate::engine::{default_output, output_mime, uses_quality, EngineConfig, Output};
use crate::error::{ImageError, Result};
use crate::model::{Frame, Image, ImageFormat, Probe};
use crate::ops::{self, Size, Transform};
use crate::quality;

/// Whether `stage` on a source like `src` runs frame by frame.
pub fn streams(stage: &MogrStage, src: &Probe) -> bool {
    src.frames > 1
        && matches!(src.format, ImageFormat::Gif | ImageFormat::Webp)
        && stage
            .output
            .format
            .unwrap_or_else(|| default_output(src.format))
            == OutputFormat::Webp
        && stage.output.size_limit.is_none()
        && stage
            .ops
            .iter()
            .all(|op| !matches!(op, Op::AutoOrient | Op::Cgif(_)))
}

/// Whether `stage` needs only the first frame of an animated `src`: its output is a still and
/// no operation chooses frames (`cgif`), so the other frames would be decoded for nothing.
pub fn first_frame_only(stage: &MogrStage, src: &Probe) -> bool {
    src.frames > 1
        && matches!(src.format, ImageFormat::Gif | ImageFormat::Webp)
        && !crate::engine::is_animated_format(
            stage
                .output
                .format
                .unwrap_or_else(|| default_output(src.format)),
        )
        && !stage.ops.iter().any(|op| matches!(op, Op::Cgif(_)))
}

/// Runs `stage` (whose operations are `transforms`, in order) on the animation `input`.
pub(crate) fn run(
    input: &[u8],
    stage: &MogrStage,
    transforms: &[&dyn Transform],
    cfg: &EngineConfig,
    budget: &Budget,
) -> Result<Output> {
    let limits = &cfg.limits;
    let Some((header, mut frames)) = decode::animation_frames(input, limits)? else {
        return Err(ImageError::InvalidArgument(
            "frame-by-frame processing needs an animation".into(),
        ));
    };
    let format = header.format;
    let first = frames
        .next()
        .ok_or_else(|| decode::corrupt(format, "no frame could be decoded"))??;
    // Sizes and limits of every step, before any operation runs.
    let mut size = Size::new(first.image.width(), first.image.height());
    for t in transforms {
        size = t.output_size(size)?;
        limits.check_canvas(size.width, size.height)?;
    }
    let max = limits.max_webp_side;
    if size.width > max || size.height > max {
        return Err(ImageError::ResolutionExceed(format!(
            "{}x{} is over WebP's {max} px side limit",
            size.width, size.height
        )));
    }
    let mut shell = Image {
        frames: Vec::new(),
        width: size.width,
        height: size.height,
        loop_count: header.loop_count,
        source: header.source(),
        metadata: header.metadata.clone(),
    };
    if stage.output.strip {
        ops::strip::strip(&mut shell);
    }
    let settings = EncodeSettings {
        format: OutputFormat::Webp,
        quality: quality::resolve(stage.output.quality, &shell.source, OutputFormat::Webp),
        progressive: stage.output.interlace,
        strip: stage.output.strip,
        cgif: None,
    };
    let pixels = size.area() * u64::from(header.frames.max(1));
    let predicted = budget::predict(budget::encode_ms_per_mp(OutputFormat::Webp, cfg), pixels);
    budget.ensure(predicted, "the webp encode")?;

    let transform = |frame: Frame| -> Result<Frame> {
        let mut image = frame.image;
        for t in transforms {
            image = t.apply_frame(&image)?;
        }
        Ok(Frame {
            image,
            delay_ms: frame.delay_ms,
        })
    };
    let first = transform(first)?;
    let Some(second) = frames.next() else {
        // A single frame after all (the rest was damaged): a still, as the whole path makes.
        shell.frames.push(first);
        return finish(
            encode::encode_within(&shell, &settings, cfg, budget)?,
            &shell,
            &settings,
            limits.max_input_bytes,
        );
    };
    let mut writer = AnimWriter::new(
        size.width,
        size.height,
        config_for(&settings, shell.source.lossless)?,
    )?;
    // Importing RGBA gives libwebp the same ARGB as RGB would for opaque frames, so the
    // frames need not be scanned for alpha before the first is encoded.
    writer.add(&first.image, first.delay_ms, true)?;
    drop(first);
    let mut count = 1u32;
    for frame in std::iter::once(second).chain(frames) {
        budget.check()?;
        count += 1;
        limits.check_frames(size.width, size.height, count)?;
        let frame = transform(frame?)?;
        writer.add(&frame.image, frame.delay_ms, true)?;
    }
    budget.check()?;
    let bytes = writer.finish(shell.loop_count)?;
    let bytes = with_metadata(bytes, &shell, settings.strip, true);
    let mut out = finish(bytes, &shell, &settings, limits.max_input_bytes)?;
    out.frame_count = count;
    Ok(out)
}

/// The output record, refusing bytes over the size limit as the whole path does.
fn finish(bytes: Vec<u8>, img: &Image, settings: &EncodeSettings, max: u64) -> Result<Output> {
    if bytes.len() as u64 > max {
        return Err(ImageError::TooLarge(format!(
            "output of {} bytes is over the {max} byte limit",
            bytes.len()
        )));
    }
    Ok(Output {
        bytes,
        mime: output_mime(OutputFormat::Webp),
        format: OutputFormat::Webp.name(),
        width: img.width,
        height: img.height,
        frame_count: img.frames.len().max(1) as u32,
        quality: uses_quality(OutputFormat::Webp, img).then_some(settings.quality),
    })
}
