//! The engine: parse -> limits -> decode -> operations -> encode, stage by stage.

use std::time::Duration;

use rayon::prelude::*;

use mogr_rule::{MogrStage, Op, OutputFormat, OutputSpec, Pipeline, Stage, Watermark};

use crate::animation;
use crate::budget::{self, Budget, SourceShape};
use crate::decode;
use crate::encode::{self, EncodeSettings, TPG_UNSUPPORTED};
use crate::error::{ImageError, Result};
use crate::info;
use crate::limits::Limits;
use crate::memory;
use crate::model::{Image, ImageFormat, Probe};
use crate::ops;
use crate::ops::registry;
use crate::ops::thumbnail::{Plan, Planned};
use crate::ops::{Size, Transform};
use crate::quality;
use crate::sniff;
use crate::watermark::{self, Assets};

/// Engine-wide settings (from the server or CLI configuration).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Size limits.
    pub limits: Limits,
    /// x265 preset for HEIF/HEIC output (`ultrafast` .. `placebo`).
    pub heif_preset: String,
    /// libaom speed for AVIF output (0..=9; higher is faster).
    pub avif_speed: u8,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            limits: Limits::default(),
            heif_preset: "medium".to_string(),
            avif_speed: 6,
        }
    }
}

/// The result of running a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Encoded bytes (an image, or JSON for imageInfo/imageAve/exif).
    pub bytes: Vec<u8>,
    /// MIME type for the bytes.
    pub mime: &'static str,
    /// Output format name (`jpg`, `png`, `webp`, ... or `json`).
    pub format: &'static str,
    /// Output width (0 for JSON).
    pub width: u32,
    /// Output height (0 for JSON).
    pub height: u32,
    /// Frames in the output (1 for stills, 0 for JSON).
    pub frame_count: u32,
    /// Quality used for a lossy output, if any.
    pub quality: Option<u8>,
}

/// Runs pipelines under a configuration.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    /// The configuration.
    pub config: EngineConfig,
}

/// MIME type of an output format (CI's exact strings for yjpeg/heif/tpg are unconfirmed;
/// these are the registered types).
pub fn output_mime(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Jpeg | OutputFormat::Yjpeg => "image/jpeg",
        OutputFormat::Png => "image/png",
        OutputFormat::Bmp => "image/bmp",
        OutputFormat::Gif => "image/gif",
        OutputFormat::Webp => "image/webp",
        OutputFormat::Heif => "image/heif",
        OutputFormat::Heic => "image/heic",
        OutputFormat::Avif => "image/avif",
        OutputFormat::Tpg => "image/tpg",
    }
}

/// The output format a source keeps when the rule names none.
///
/// HEIF sources become HEIC: the encoder writes HEVC, which is what `image/heic` means.
pub fn default_output(source: ImageFormat) -> OutputFormat {
    match source {
        ImageFormat::Jpeg => OutputFormat::Jpeg,
        ImageFormat::Png => OutputFormat::Png,
        ImageFormat::Gif => OutputFormat::Gif,
        ImageFormat::Webp => OutputFormat::Webp,
        ImageFormat::Bmp => OutputFormat::Bmp,
        ImageFormat::Heif => OutputFormat::Heic,
        ImageFormat::Avif => OutputFormat::Avif,
    }
}

/// Formats that keep every frame of an animation.
pub(crate) fn is_animated_format(format: OutputFormat) -> bool {
    matches!(format, OutputFormat::Gif | OutputFormat::Webp)
}

/// Whether the encoder codes `img` lossily at the resolved quality (the WebP encoder stays
/// lossless for lossless sources).
pub(crate) fn uses_quality(format: OutputFormat, img: &Image) -> bool {
    match format {
        OutputFormat::Jpeg
        | OutputFormat::Yjpeg
        | OutputFormat::Heif
        | OutputFormat::Heic
        | OutputFormat::Avif => true,
        OutputFormat::Webp => !img.source.lossless,
        OutputFormat::Png | OutputFormat::Bmp | OutputFormat::Gif | OutputFormat::Tpg => false,
    }
}

impl Engine {
    /// An engine with this configuration.
    pub fn new(config: EngineConfig) -> Self {
        Engine { config }
    }

    /// Parse `rule` and run it on `input`.
    pub fn process_rule(&self, input: &[u8], rule: &str) -> Result<Output> {
        let pipeline = mogr_rule::parse(rule)?;
        self.process(input, &pipeline)
    }

    /// Run `pipeline` on `input`; each stage's output is the next stage's input.
    ///
    /// A stage with `ignore-error/1` that fails on a limit (`err.is_limit()`) makes the whole
    /// call return the original `input` unchanged.
    pub fn process(&self, input: &[u8], pipeline: &Pipeline) -> Result<Output> {
        self.process_within(input, pipeline, &Budget::unlimited())
    }

    /// As [`process`](Self::process), checking `budget` between stages, frames and codec
    /// calls. Running out of time is a limit for the whole pipeline: with `ignore-error/1`
    /// on any stage the original comes back instead of the error.
    pub fn process_within(
        &self,
        input: &[u8],
        pipeline: &Pipeline,
        budget: &Budget,
    ) -> Result<Output> {
        self.process_with(input, pipeline, budget, &Assets::default())
    }

    /// As [`process_within`](Self::process_within), with the watermark images and fonts the
    /// pipeline's watermark stages draw.
    pub fn process_with(
        &self,
        input: &[u8],
        pipeline: &Pipeline,
        budget: &Budget,
        assets: &Assets,
    ) -> Result<Output> {
        match self.run_stages(input, pipeline, budget, assets) {
            Err(ImageError::TimeBudgetExceeded(_)) if ignores_errors(pipeline) => {
                Ok(original(input))
            }
            other => other,
        }
    }

    /// Predicted single-core time of `pipeline` on a source shaped like `source`.
    pub fn estimate(&self, pipeline: &Pipeline, source: SourceShape) -> Duration {
        budget::estimate(pipeline, source, &self.config)
    }

    fn run_stages(
        &self,
        input: &[u8],
        pipeline: &Pipeline,
        budget: &Budget,
        assets: &Assets,
    ) -> Result<Output> {
        let mut current: Option<Output> = None;
        for stage in &pipeline.stages {
            budget.check()?;
            let bytes = current.as_ref().map_or(input, |o| o.bytes.as_slice());
            let out = match stage {
                Stage::Mogr(m) => match self.run_mogr(bytes, m, budget) {
                    Ok(out) => out,
                    Err(e) if m.ignore_error && e.is_limit() => return Ok(original(input)),
                    Err(e) => return Err(e),
                },
                Stage::ImageInfo => json(info::header_info(bytes, &self.config.limits)?.to_json()),
                Stage::ImageAve => json(info::image_ave_json(bytes, &self.config.limits)?),
                Stage::Exif => json(info::exif_json(bytes, &self.config.limits)?),
                Stage::Watermark(w) => self.run_watermark(bytes, w, budget, assets)?,
            };
            current = Some(out);
        }
        current.ok_or_else(|| ImageError::InvalidArgument("empty pipeline".into()))
    }

    /// One imageMogr2 stage: decode, operations in URL order, one encode.
    fn run_mogr(&self, input: &[u8], stage: &MogrStage, budget: &Budget) -> Result<Output> {
        let limits = &self.config.limits;
        // Refuse tpg before any decoding work.
        let requested = stage.output.format;
        if requested == Some(OutputFormat::Tpg) {
            return Err(ImageError::UnsupportedFormat(TPG_UNSUPPORTED.to_string()));
        }
        // Every operation is resolved before any decoding work, so an operation this build
        // cannot run is refused at once.
        let steps = stage
            .ops
            .iter()
            .map(Step::of)
            .collect::<Result<Vec<Step>>>()?;
        // Header facts decide, before any pixel is decoded, whether the stage fits the memory
        // budget at all, and how it runs.
        limits.check_bytes(input.len())?;
        let probe = sniff::probe(input)?;
        limits.check_probe(&probe)?;
        memory::check_stage(stage, &probe, input.len() as u64, &self.config)?;
        if animation::streams(stage, &probe) {
            let transforms: Vec<&dyn Transform> = steps
                .iter()
                .filter_map(|s| match s {
                    Step::Pixels(t) => Some(t.as_ref()),
                    Step::AutoOrient | Step::Cgif(_) => None,
                })
                .collect();
            return animation::run(input, stage, &transforms, &self.config, budget);
        }
        let out_format = requested.unwrap_or_else(|| default_output(probe.format));
        let eight_bit = !decode::keeps_16_bit(probe.format, out_format);
        let mut preplanned: Option<(usize, Plan)> = None;
        let first = if animation::first_frame_only(stage, &probe) {
            decode::first_frame(input, limits)?
        } else {
            None
        };
        let mut img = match first {
            Some(img) => img,
            None => decode::decode_for(input, limits, eight_bit, |probe, orientation| {
                let (index, plan, min) = shrink_on_load(&stage.ops, probe, orientation)?;
                preplanned = Some((index, plan));
                Some(min)
            })?,
        };
        for (index, step) in steps.iter().enumerate() {
            budget.check()?;
            match step {
                Step::AutoOrient => ops::orient::auto_orient(&mut img),
                Step::Cgif(n) => ops::cgif::apply(&mut img, *n),
                Step::Pixels(transform) => match preplanned {
                    Some((at, plan)) if at == index => {
                        apply(&mut img, &Planned(plan), limits, budget)?
                    }
                    _ => apply(&mut img, transform.as_ref(), limits, budget)?,
                },
            }
        }
        self.encode_stage(img, input, &stage.output, stage.cgif(), budget)
    }

    /// One watermark stage: decode, draw the mark on every frame, encode in the source's
    /// format at the source's quality.
    fn run_watermark(
        &self,
        input: &[u8],
        mark: &Watermark,
        budget: &Budget,
        assets: &Assets,
    ) -> Result<Output> {
        let limits = &self.config.limits;
        let mut img = decode::decode(input, limits)?;
        budget.check()?;
        let overlay = watermark::overlay(mark, Size::new(img.width, img.height), assets, limits)?;
        apply(&mut img, &overlay, limits, budget)?;
        self.encode_stage(img, input, &OutputSpec::default(), None, budget)
    }

    /// Encode the result of a stage under its output settings (`input` is the pipeline's
    /// original, for `size-limit/...!`).
    fn encode_stage(
        &self,
        mut img: Image,
        input: &[u8],
        output: &OutputSpec,
        cgif: Option<u8>,
        budget: &Budget,
    ) -> Result<Output> {
        let limits = &self.config.limits;
        if output.strip {
            ops::strip::strip(&mut img);
        }
        let format = output
            .format
            .unwrap_or_else(|| default_output(img.source.format));
        if !is_animated_format(format) {
            img.frames.truncate(1);
        }
        check_output_size(&img, format, limits)?;
        let settings = EncodeSettings {
            format,
            quality: quality::resolve(output.quality, &img.source, format),
            progressive: output.interlace,
            strip: output.strip,
            cgif,
        };
        let pixels = u64::from(img.width) * u64::from(img.height) * img.frames.len() as u64;
        let predicted = budget::predict(budget::encode_ms_per_mp(format, &self.config), pixels);
        budget.ensure(predicted, &format!("the {} encode", format.name()))?;
        let (bytes, quality) = match output.size_limit {
            Some(limit) if aims_at_size(format, &img) => {
                let (bytes, quality) =
                    ops::size_limit::search(limit.bytes, settings.quality, |quality| {
                        budget.check()?;
                        let at = EncodeSettings {
                            quality,
                            ..settings
                        };
                        encode::encode_within(&img, &at, &self.config, budget)
                    })?;
                if ops::size_limit::prefer_original(
                    limit.original_if_larger,
                    input.len() as u64,
                    bytes.len() as u64,
                ) {
                    return Ok(original(input));
                }
                (bytes, quality)
            }
            _ => (
                encode::encode_within(&img, &settings, &self.config, budget)?,
                settings.quality,
            ),
        };
        if bytes.len() as u64 > limits.max_input_bytes {
            return Err(ImageError::TooLarge(format!(
                "output of {} bytes is over the {} byte limit",
                bytes.len(),
                limits.max_input_bytes
            )));
        }
        Ok(Output {
            bytes,
            mime: output_mime(format),
            format: format.name(),
            width: img.width,
            height: img.height,
            frame_count: img.frames.len() as u32,
            quality: uses_quality(format, &img).then_some(quality),
        })
    }
}

/// Whether `size-limit` applies: a JPEG or lossy WebP output, whose size follows its quality.
fn aims_at_size(format: OutputFormat, img: &Image) -> bool {
    matches!(
        format,
        OutputFormat::Jpeg | OutputFormat::Yjpeg | OutputFormat::Webp
    ) && uses_quality(format, img)
}

/// One operation of a stage, ready to run.
enum Step {
    /// `auto-orient`: works on the whole image and its metadata.
    AutoOrient,
    /// `cgif/<n>`: drops frames.
    Cgif(u8),
    /// A pixel operation, applied to every frame alike.
    Pixels(Box<dyn Transform>),
}

impl Step {
    /// The step for `op`; an operation without an implementation is `InvalidArgument`.
    fn of(op: &Op) -> Result<Step> {
        Ok(match op {
            Op::AutoOrient => Step::AutoOrient,
            Op::Cgif(n) => Step::Cgif(*n),
            other => Step::Pixels(registry::transform_for(other).ok_or_else(|| {
                ImageError::InvalidArgument(format!("unsupported operation {other}"))
            })?),
        })
    }
}

/// Run `transform` on every frame of `img`, after checking the canvas it will produce against
/// the limits (so nothing over them is ever allocated). Frames keep their delays; the first
/// frame goes first so a transform that decides something on it (scrop) sees it first.
fn apply(
    img: &mut Image,
    transform: &dyn Transform,
    limits: &Limits,
    budget: &Budget,
) -> Result<()> {
    let out = transform.output_size(Size::new(img.width, img.height))?;
    limits.check_canvas(out.width, out.height)?;
    limits.check_frames(out.width, out.height, img.frames.len() as u32)?;
    let Some((first, rest)) = img.frames.split_first_mut() else {
        return Ok(());
    };
    first.image = transform.apply_frame(&first.image)?;
    rest.par_iter_mut().try_for_each(|frame| {
        budget.check()?;
        frame.image = transform.apply_frame(&frame.image)?;
        Ok::<(), ImageError>(())
    })?;
    img.width = out.width;
    img.height = out.height;
    Ok(())
}

/// Shrink-on-load: when the first pixel operation of a stage is a `thumbnail` (only
/// `auto-orient` and `cgif` may come before it), its sizes are planned from the source's full
/// size, and the decoder may deliver any frame at least as large as the planned scaled
/// picture; the plan, not the smaller frame's size, then decides the thumbnail's size. Returns the operation's index, the plan, and that minimum size in the stored
/// (un-oriented) frame's axes.
fn shrink_on_load(ops: &[Op], probe: &Probe, orientation: u8) -> Option<(usize, Plan, (u32, u32))> {
    let mut turned = false;
    for (index, op) in ops.iter().enumerate() {
        match op {
            // Orientations 5..=8 swap the axes; auto-orient applies them before the thumbnail.
            Op::AutoOrient => turned = orientation >= 5,
            Op::Cgif(_) => {}
            Op::Thumbnail { size, pad } => {
                let (w, h) = (probe.width, probe.height);
                let seen = if turned {
                    Size::new(h, w)
                } else {
                    Size::new(w, h)
                };
                let plan = registry::thumbnail(*size, *pad).plan(seen);
                let (sw, sh) = (plan.scaled.width, plan.scaled.height);
                let min = if turned { (sh, sw) } else { (sw, sh) };
                return Some((index, plan, min));
            }
            _ => return None,
        }
    }
    None
}

/// Whether any stage asked for `ignore-error/1`.
fn ignores_errors(pipeline: &Pipeline) -> bool {
    pipeline
        .stages
        .iter()
        .any(|s| matches!(s, Stage::Mogr(m) if m.ignore_error))
}

/// Output-side resolution limits: WebP's own side bound, and the canvas limits.
fn check_output_size(img: &Image, format: OutputFormat, limits: &Limits) -> Result<()> {
    if format == OutputFormat::Webp
        && (img.width > limits.max_webp_side || img.height > limits.max_webp_side)
    {
        return Err(ImageError::ResolutionExceed(format!(
            "{}x{} is over WebP's {} px side limit",
            img.width, img.height, limits.max_webp_side
        )));
    }
    limits.check_canvas(img.width, img.height)?;
    limits.check_frames(img.width, img.height, img.frames.len() as u32)
}

/// The untouched input as an output (for `ignore-error/1`), described as far as it probes.
fn original(input: &[u8]) -> Output {
    let probe = sniff::probe(input).ok();
    let format = probe.map(|p| default_output(p.format));
    Output {
        bytes: input.to_vec(),
        mime: format.map_or("application/octet-stream", output_mime),
        format: format.map_or("unknown", OutputFormat::name),
        width: probe.map_or(0, |p| p.width),
        height: probe.map_or(0, |p| p.height),
        frame_count: probe.map_or(0, |p| p.frames),
        quality: None,
    }
}

fn json(body: String) -> Output {
    Output {
        bytes: body.into_bytes(),
        mime: "application/json",
        format: "json",
        width: 0,
        height: 0,
        frame_count: 0,
        quality: None,
    }
}
