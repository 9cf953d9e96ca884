//! The typed pipeline a rule string parses into.
//!
//! Every value here is already validated and normalised by the parser: sizes are non-zero and
//! clamped to [`MAX_PIXELS`], ranges hold, and settings that mean the same thing are stored the
//! same way, so two spellings of one rule compare equal and print identically.

/// Most stages a rule may pipe together with `|`.
pub const MAX_STAGES: usize = 10;

/// Pixel arguments (sizes, offsets, radii) above this are clamped to it, as CI does.
pub const MAX_PIXELS: u32 = 10_000;

/// Percent arguments of `thumbnail` lie in `MIN_PERCENT..=MAX_PERCENT`.
///
/// CI documents no range; 1000 follows the Qiniu grammar imageMogr2 comes from, and 0 is
/// refused because it would ask for a zero-sized image.
pub const MAX_PERCENT: u32 = 1000;

/// The smallest accepted `thumbnail` percent.
pub const MIN_PERCENT: u32 = 1;

/// Largest `thumbnail/<Area>@` area: the area of a [`MAX_PIXELS`] square.
pub const MAX_AREA: u32 = MAX_PIXELS * MAX_PIXELS;

/// A parsed rule: one or more stages, applied left to right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    /// Between 1 and [`MAX_STAGES`] stages.
    pub stages: Vec<Stage>,
}

/// One `|`-separated stage of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// `imageMogr2/...` or `imageView2/...`: transform and re-encode the image.
    Mogr(MogrStage),
    /// `imageInfo`: JSON with format, size and dimensions.
    ImageInfo,
    /// `imageAve`: JSON with the average colour.
    ImageAve,
    /// `exif`: JSON with the EXIF tags.
    Exif,
    /// `watermark/1/...` or `watermark/2/...`: draw an image or a text over the image.
    Watermark(crate::Watermark),
}

/// One `imageMogr2` (or rewritten `imageView2`) stage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MogrStage {
    /// Pixel operations, executed in the order they appear in the rule.
    pub ops: Vec<Op>,
    /// Encode-time settings, wherever they appeared in the stage.
    pub output: OutputSpec,
    /// `ignore-error/1` appeared anywhere in the stage.
    pub ignore_error: bool,
}

impl MogrStage {
    /// The `cgif` frame count; the last `cgif` wins.
    pub fn cgif(&self) -> Option<u8> {
        self.ops.iter().rev().find_map(|op| match op {
            Op::Cgif(frames) => Some(*frames),
            _ => None,
        })
    }
}

/// Settings applied when the stage encodes its result; for each, the last one in the stage wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputSpec {
    /// `format/<fmt>`; `None` keeps the source format.
    pub format: Option<OutputFormat>,
    /// `quality`, `rquality` or `lquality` (imageView2 `q`, `rq`, `lq`).
    pub quality: Option<QualitySpec>,
    /// `interlace/1`: progressive JPEG. `interlace/0` is the default and stored as `false`.
    pub interlace: bool,
    /// `strip`: drop EXIF/XMP/comments.
    pub strip: bool,
    /// `size-limit/<n>k|m[!]`: aim the encoded size at a byte budget.
    pub size_limit: Option<SizeLimit>,
}

/// `size-limit/<n>k|<n>m[!]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimit {
    /// The budget in bytes (`k` = 1024 bytes, `m` = 1024 k), never zero.
    pub bytes: u64,
    /// The `!` suffix: return the original when it is smaller than the processed image.
    pub original_if_larger: bool,
}

/// One pixel operation of an `imageMogr2` stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `thumbnail/<size>[/pad/1][/color/<b64>]`: resize.
    Thumbnail {
        /// How the output size follows from the input size.
        size: ThumbSize,
        /// `pad/1` (only with [`ThumbSize::Fit`]): centre the result on a canvas of exactly the
        /// box size filled with this colour (`color/<b64>`, white by default).
        pad: Option<Rgb>,
    },
    /// `[gravity/<g>][/dx/<x>][/dy/<y>]/crop/<W>x<H>` (or `crop/<W>x<H>/gravity/...`).
    Crop {
        /// Crop width; `None` keeps the image width (`crop/x<H>`).
        width: Option<u32>,
        /// Crop height; `None` keeps the image height (`crop/<W>x`).
        height: Option<u32>,
        /// Which part of the image the crop keeps; `NorthWest` when no `gravity` is given.
        gravity: Gravity,
        /// Horizontal offset inward from the anchored edge; always 0 for gravities that centre
        /// horizontally (`north`, `center`, `south`), which ignore it.
        dx: u32,
        /// Vertical offset inward from the anchored edge; always 0 for gravities that centre
        /// vertically (`west`, `center`, `east`), which ignore it.
        dy: u32,
    },
    /// `cut/<w>x<h>x<dx>x<dy>`: the `w`×`h` rectangle whose top-left corner is at (`dx`, `dy`).
    Cut {
        /// Rectangle width, non-zero.
        width: u32,
        /// Rectangle height, non-zero.
        height: u32,
        /// Left edge.
        dx: u32,
        /// Top edge.
        dy: u32,
    },
    /// `iradius/<r>`: the inscribed circle of radius `r` around the centre.
    IRadius(u32),
    /// `rradius/<r>`: round the corners with radius `r`.
    RRadius(u32),
    /// `rotate/<deg>`: rotate clockwise by 0..=360 degrees.
    Rotate(u32),
    /// `flip/vertical|horizontal`: mirror the image.
    Flip(Axis),
    /// `blur/<radius>x<sigma>`: Gaussian blur.
    Blur {
        /// 1..=50.
        radius: u32,
        /// Standard deviation, 1..=50.
        sigma: u32,
    },
    /// `sharpen/<v>`: unsharp mask of strength 10..=300.
    Sharpen(u32),
    /// `bright/<v>`: brightness change -100..=100 (0 = none).
    Bright(i32),
    /// `contrast/<v>`: contrast change -100..=100 (0 = none).
    Contrast(i32),
    /// `grayscale/<0|1>`.
    Grayscale(bool),
    /// `scrop/<W>x<H>`: content-aware crop to `W`×`H`.
    Scrop {
        /// Crop width, non-zero.
        width: u32,
        /// Crop height, non-zero.
        height: u32,
    },
    /// `auto-orient`: apply the EXIF orientation.
    AutoOrient,
    /// `cgif/<n>`: reduce an animation to `n` frames (1 = keep the first 30) and its colours.
    Cgif(u8),
}

/// The output size of a `thumbnail`, one variant per documented form.
///
/// Sizes follow ImageMagick's `-resize <geometry>`; every number is non-zero, pixel numbers are
/// clamped to [`MAX_PIXELS`] and percents lie in [`MIN_PERCENT`]`..=`[`MAX_PERCENT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbSize {
    /// `!<S>p`: both sides scaled to S %.
    Percent(u32),
    /// `!<S>px`: width scaled to S %, height unchanged.
    PercentWidth(u32),
    /// `!x<S>p`: height scaled to S %, width unchanged.
    PercentHeight(u32),
    /// `<W>x`: width W, height proportional.
    Width(u32),
    /// `x<H>`: height H, width proportional.
    Height(u32),
    /// `<W>x<H>`: the largest proportional size inside W×H (may enlarge).
    Fit {
        /// Box width.
        width: u32,
        /// Box height.
        height: u32,
    },
    /// `<W>x<H>>`: like `Fit`, but only ever shrinks.
    Shrink {
        /// Box width.
        width: u32,
        /// Box height.
        height: u32,
    },
    /// `<W>x<H><`: like `Fit`, but only ever enlarges.
    Enlarge {
        /// Box width.
        width: u32,
        /// Box height.
        height: u32,
    },
    /// `!<W>x<H>r`: the smallest proportional size covering W×H.
    Cover {
        /// Minimum width.
        width: u32,
        /// Minimum height.
        height: u32,
    },
    /// `<W>x<H>!`: exactly W×H, aspect ratio ignored.
    Exact {
        /// Output width.
        width: u32,
        /// Output height.
        height: u32,
    },
    /// `<Area>@`: the largest proportional size with width × height ≤ Area.
    Area(u32),
    /// imageView2 mode 4: the smallest proportional size whose long edge is at least `long` and
    /// whose short edge is at least `short` (`long > short`; equal edges become [`Self::Cover`]).
    EdgeCover {
        /// Minimum long edge.
        long: u32,
        /// Minimum short edge.
        short: u32,
    },
    /// imageView2 mode 5: [`Self::EdgeCover`], then a centred crop to `long`×`short` oriented like
    /// the image (`long` across a landscape image, down a portrait one).
    EdgeFill {
        /// Long edge of the output.
        long: u32,
        /// Short edge of the output.
        short: u32,
    },
}

/// A 3×3 anchor for `crop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Gravity {
    /// Top-left corner (the default).
    #[default]
    NorthWest,
    /// Top edge, centred horizontally.
    North,
    /// Top-right corner.
    NorthEast,
    /// Left edge, centred vertically.
    West,
    /// Centre.
    Center,
    /// Right edge, centred vertically.
    East,
    /// Bottom-left corner.
    SouthWest,
    /// Bottom edge, centred horizontally.
    South,
    /// Bottom-right corner.
    SouthEast,
}

/// The mirror of `flip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// `flip/vertical`: upside down (top and bottom rows swap).
    Vertical,
    /// `flip/horizontal`: left and right columns swap.
    Horizontal,
}

/// An opaque colour, from `color/<url-safe base64 of "#RRGGBB">`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
}

impl Rgb {
    /// The default pad colour.
    pub const WHITE: Rgb = Rgb {
        r: 255,
        g: 255,
        b: 255,
    };
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
