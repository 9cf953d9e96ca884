//! The engine: parse -> limits -> decode -> operations -> encode, stage by stage.

use mogr_rule::{MogrStage, Op, OutputFormat, Pipeline, Stage};

use crate::decode;
use crate::encode::{self, EncodeSettings, TPG_UNSUPPORTED};
use crate::error::{ImageError, Result};
use crate::info;
use crate::limits::Limits;
use crate::model::{Image, ImageFormat};
use crate::ops;
use crate::quality;
use crate::sniff;

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
fn is_animated_format(format: OutputFormat) -> bool {
    matches!(format, OutputFormat::Gif | OutputFormat::Webp)
}

/// Whether the encoder codes `img` lossily at the resolved quality (the WebP encoder stays
/// lossless for lossless sources).
fn uses_quality(format: OutputFormat, img: &Image) -> bool {
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
        let mut current: Option<Output> = None;
        for stage in &pipeline.stages {
            let bytes = current.as_ref().map_or(input, |o| o.bytes.as_slice());
            let out = match stage {
                Stage::Mogr(m) => match self.run_mogr(bytes, m) {
                    Ok(out) => out,
                    Err(e) if m.ignore_error && e.is_limit() => return Ok(original(input)),
                    Err(e) => return Err(e),
                },
                Stage::ImageInfo => json(info::header_info(bytes, &self.config.limits)?.to_json()),
                Stage::ImageAve => json(info::image_ave_json(bytes, &self.config.limits)?),
                Stage::Exif => json(info::exif_json(bytes, &self.config.limits)?),
            };
            current = Some(out);
        }
        current.ok_or_else(|| ImageError::InvalidArgument("empty pipeline".into()))
    }

    /// One imageMogr2 stage: decode, operations in URL order, one encode.
    fn run_mogr(&self, input: &[u8], stage: &MogrStage) -> Result<Output> {
        let limits = &self.config.limits;
        // Refuse tpg before any decoding work.
        let requested = stage.output.format;
        if requested == Some(OutputFormat::Tpg) {
            return Err(ImageError::UnsupportedFormat(TPG_UNSUPPORTED.to_string()));
        }
        let mut img = decode::decode(input, limits)?;
        for op in &stage.ops {
            match op {
                Op::AutoOrient => ops::orient::auto_orient(&mut img),
                Op::Cgif(n) => ops::cgif::apply(&mut img, *n),
                other => {
                    return Err(ImageError::InvalidArgument(format!(
                        "unsupported operation {other}"
                    )))
                }
            }
        }
        if stage.output.strip {
            ops::strip::strip(&mut img);
        }
        let format = requested.unwrap_or_else(|| default_output(img.source.format));
        if !is_animated_format(format) {
            img.frames.truncate(1);
        }
        check_output_size(&img, format, limits)?;
        let settings = EncodeSettings {
            format,
            quality: quality::resolve(stage.output.quality, &img.source, format),
            progressive: stage.output.interlace,
            strip: stage.output.strip,
            cgif: stage.cgif(),
        };
        let bytes = encode::encode(&img, &settings, &self.config)?;
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
            quality: uses_quality(format, &img).then_some(settings.quality),
        })
    }
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
