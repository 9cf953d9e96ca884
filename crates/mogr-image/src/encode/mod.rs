//! Encoders, one file per output format.

mod bmp;
mod exif;
mod gif;
mod heif;
mod jpeg;
mod palette;
mod pixels;
mod png;
pub(crate) mod webp;

use image::DynamicImage;
use mogr_rule::OutputFormat;

use crate::budget::Budget;
use crate::engine::EngineConfig;
use crate::error::{ImageError, Result};
use crate::model::Image;

pub use self::gif::CGIF_COLOURS;
pub use self::heif::{native_quality, Codec};
pub use self::png::DEFLATE_LEVEL;

/// Why `tpg` output is refused.
pub const TPG_UNSUPPORTED: &str = "tpg is Tencent's closed proprietary codec with no public \
     specification; use format/avif or format/heif for open high-compression output";

/// Resolved output settings for one encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeSettings {
    /// Target format.
    pub format: OutputFormat,
    /// Resolved quality 1..=100 (used by lossy encoders).
    pub quality: u8,
    /// Progressive JPEG (`interlace/1`).
    pub progressive: bool,
    /// Drop EXIF/XMP/comments (`strip`).
    pub strip: bool,
    /// `cgif/N` was requested: the GIF encoder also reduces colours.
    pub cgif: Option<u8>,
}

/// Encode `img` as `settings.format`.
///
/// Still formats (JPEG, PNG, BMP, HEIF, AVIF) take the first frame of an animation; GIF and
/// WebP keep every frame.
pub fn encode(img: &Image, settings: &EncodeSettings, cfg: &EngineConfig) -> Result<Vec<u8>> {
    encode_within(img, settings, cfg, &Budget::unlimited())
}

/// As [`encode`], checking `budget` between the frames of an animation.
pub fn encode_within(
    img: &Image,
    settings: &EncodeSettings,
    cfg: &EngineConfig,
    budget: &Budget,
) -> Result<Vec<u8>> {
    match settings.format {
        OutputFormat::Jpeg => jpeg::encode(img, settings, jpeg::Profile::Fast),
        OutputFormat::Yjpeg => jpeg::encode(img, settings, jpeg::Profile::Small),
        OutputFormat::Png => png::encode(img, settings),
        OutputFormat::Bmp => bmp::encode(img),
        OutputFormat::Gif => gif::encode(img, settings, budget),
        OutputFormat::Webp => webp::encode(img, settings, cfg, budget),
        OutputFormat::Heif | OutputFormat::Heic => heif::encode(img, settings, cfg, Codec::Hevc),
        OutputFormat::Avif => heif::encode(img, settings, cfg, Codec::Av1),
        OutputFormat::Tpg => Err(ImageError::UnsupportedFormat(TPG_UNSUPPORTED.to_string())),
    }
}

/// The picture a still format encodes.
fn first_frame(img: &Image) -> Result<&DynamicImage> {
    img.frames
        .first()
        .map(|f| &f.image)
        .filter(|f| f.width() > 0 && f.height() > 0)
        .ok_or_else(|| ImageError::InvalidArgument("image has no pixels to encode".into()))
}
