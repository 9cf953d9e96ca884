//! The typed pipeline a rule string parses into.

/// Most stages a rule may pipe together with `|` (spec §2.1).
pub const MAX_STAGES: usize = 10;

/// A parsed rule: one or more stages, applied left to right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    /// Between 1 and [`MAX_STAGES`] stages.
    pub stages: Vec<Stage>,
}

/// One `|`-separated stage of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// `imageMogr2/...`: transform and re-encode the image.
    Mogr(MogrStage),
    /// `imageInfo`: JSON with format, size and dimensions (spec §2.4).
    ImageInfo,
    /// `imageAve`: JSON with the average colour.
    ImageAve,
    /// `exif`: JSON with the EXIF tags.
    Exif,
}

/// The operations of one `imageMogr2` stage, in URL order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MogrStage {
    /// Operations in the order they appear in the rule.
    pub ops: Vec<Op>,
    /// `ignore-error/1` appeared anywhere in the stage.
    pub ignore_error: bool,
}

impl MogrStage {
    /// The requested output format; the last `format` wins.
    pub fn format(&self) -> Option<OutputFormat> {
        self.ops.iter().rev().find_map(|op| match op {
            Op::Format(format) => Some(*format),
            _ => None,
        })
    }

    /// The requested quality; the last of `quality`, `rquality` and `lquality` wins.
    pub fn quality(&self) -> Option<QualitySpec> {
        self.ops.iter().rev().find_map(|op| match op {
            Op::Quality(quality) => Some(*quality),
            _ => None,
        })
    }

    /// Whether progressive output was asked for; the last `interlace` wins, default off.
    pub fn interlace(&self) -> bool {
        self.ops
            .iter()
            .rev()
            .find_map(|op| match op {
                Op::Interlace(on) => Some(*on),
                _ => None,
            })
            .unwrap_or(false)
    }

    /// Whether `strip` appeared anywhere in the stage.
    pub fn strip(&self) -> bool {
        self.ops.contains(&Op::Strip)
    }

    /// The `cgif` frame count; the last `cgif` wins.
    pub fn cgif(&self) -> Option<u8> {
        self.ops.iter().rev().find_map(|op| match op {
            Op::Cgif(frames) => Some(*frames),
            _ => None,
        })
    }

    /// Whether `auto-orient` appeared anywhere in the stage.
    pub fn auto_orient(&self) -> bool {
        self.ops.contains(&Op::AutoOrient)
    }
}

/// One executable `imageMogr2` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `format/<fmt>`: the output format.
    Format(OutputFormat),
    /// `cgif/<n>`: reduce an animation to `n` frames (1 = keep the first 30) and its colours.
    Cgif(u8),
    /// `interlace/<0|1>`: progressive JPEG output.
    Interlace(bool),
    /// `quality`, `rquality`, `lquality`.
    Quality(QualitySpec),
    /// `strip`: drop EXIF/XMP/comments.
    Strip,
    /// `auto-orient`: apply the EXIF orientation.
    AutoOrient,
}

/// How the output quality relates to the source's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualitySpec {
    /// `quality/<q>`: min(source, q); with `!` (`force`) exactly q.
    Absolute {
        /// 0..=100.
        value: u8,
        /// The `!` suffix was given.
        force: bool,
    },
    /// `rquality/<q>`: source × q %.
    Relative(u8),
    /// `lquality/<q>`: max(source, q).
    Floor(u8),
}

/// An output format named by `format/<fmt>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// `jpg`, `jpeg`.
    Jpeg,
    /// `yjpeg`: optimised JPEG (trellis, optimised progressive scans).
    Yjpeg,
    /// `png`.
    Png,
    /// `bmp`.
    Bmp,
    /// `gif`.
    Gif,
    /// `webp`.
    Webp,
    /// `heif`.
    Heif,
    /// `heic`.
    Heic,
    /// `avif`.
    Avif,
    /// `tpg`: a closed proprietary codec; parsed so the engine can refuse it clearly.
    Tpg,
}

impl OutputFormat {
    /// The canonical lower-case name used in rules and responses.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Yjpeg => "yjpeg",
            OutputFormat::Png => "png",
            OutputFormat::Bmp => "bmp",
            OutputFormat::Gif => "gif",
            OutputFormat::Webp => "webp",
            OutputFormat::Heif => "heif",
            OutputFormat::Heic => "heic",
            OutputFormat::Avif => "avif",
            OutputFormat::Tpg => "tpg",
        }
    }
}
