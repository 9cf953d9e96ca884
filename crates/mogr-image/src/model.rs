//! The in-memory image model shared by decoders, operations and encoders.

use image::DynamicImage;

/// A container format the engine can sniff and decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (baseline or progressive).
    Jpeg,
    /// PNG, including APNG.
    Png,
    /// GIF, still or animated.
    Gif,
    /// WebP: lossy, lossless, animated.
    Webp,
    /// Windows bitmap.
    Bmp,
    /// HEIF/HEIC (HEVC).
    Heif,
    /// AVIF (AV1 in HEIF).
    Avif,
}

impl ImageFormat {
    /// Lower-case name as imageInfo reports it (`jpeg`, `png`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Gif => "gif",
            ImageFormat::Webp => "webp",
            ImageFormat::Bmp => "bmp",
            ImageFormat::Heif => "heif",
            ImageFormat::Avif => "avif",
        }
    }

    /// The MIME type for a response carrying this format.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Bmp => "image/bmp",
            ImageFormat::Heif => "image/heif",
            ImageFormat::Avif => "image/avif",
        }
    }
}

/// One frame: a full-canvas, already composited picture and how long it shows.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Canvas-sized pixels (8-bit RGB/RGBA/Gray/GrayA, or 16-bit where the source has it).
    pub image: DynamicImage,
    /// Display time in milliseconds (0 for stills).
    pub delay_ms: u32,
}

/// Metadata carried from decode to encode.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// Raw EXIF (TIFF header onwards, without the `Exif\0\0` prefix).
    pub exif: Option<Vec<u8>>,
    /// ICC profile bytes.
    pub icc: Option<Vec<u8>>,
    /// XMP packet.
    pub xmp: Option<Vec<u8>>,
    /// EXIF orientation 1..=8 (1 when absent).
    pub orientation: u8,
}

/// Facts about the source that decide output defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    /// The decoded container format.
    pub format: ImageFormat,
    /// Estimated quality 1..=100 (JPEG from quantisation tables; WebP lossy estimate), if known.
    pub quality: Option<u8>,
    /// The source was losslessly coded (PNG, BMP, GIF, lossless WebP).
    pub lossless: bool,
    /// The source was palette-based (indexed PNG/BMP, GIF).
    pub palette: bool,
    /// The source has an alpha channel or transparency.
    pub has_alpha: bool,
    /// Bits per channel of the source (8 or 16; 10/12 reported as such for HEIF/AVIF).
    pub bit_depth: u8,
}

/// A decoded image: one frame for stills, several for animations.
#[derive(Debug, Clone)]
pub struct Image {
    /// At least one frame; all of canvas size.
    pub frames: Vec<Frame>,
    /// Canvas width in pixels.
    pub width: u32,
    /// Canvas height in pixels.
    pub height: u32,
    /// Loop count: 0 = forever, n = play n times.
    pub loop_count: u16,
    /// EXIF/ICC/XMP and orientation.
    pub metadata: Metadata,
    /// Facts about the source.
    pub source: SourceInfo,
}

impl Image {
    /// True when the image has more than one frame.
    pub fn is_animated(&self) -> bool {
        self.frames.len() > 1
    }
}

/// What header parsing tells before any pixels are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Sniffed format.
    pub format: ImageFormat,
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// Frame count where the header tells it cheaply (GIF counted by a block walk), else 1.
    pub frames: u32,
    /// Bits per channel (8, 16, or 10/12 for HEIF/AVIF).
    pub bit_depth: u8,
    /// The image has an alpha channel or transparency.
    pub has_alpha: bool,
}

impl Probe {
    /// A probe of an opaque 8-bit image (for callers that know only format, size and frames).
    pub fn new(format: ImageFormat, width: u32, height: u32, frames: u32) -> Probe {
        Probe {
            format,
            width,
            height,
            frames,
            bit_depth: 8,
            has_alpha: false,
        }
    }
}
