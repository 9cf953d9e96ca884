//! Decoders, one file per format. Each format first reads its header facts (no pixels), the
//! limits are checked against them, and only then are pixels decoded.

mod bmp;
pub(crate) mod bytes;
mod cmyk;
mod gif;
mod heif;
mod heif_items;
mod jpeg;
mod libjpeg;
mod png;
mod webp;

use std::fmt::Display;

use crate::error::{ImageError, Result};
use crate::limits::Limits;
use crate::model::{Frame, Image, ImageFormat, Metadata, Probe, SourceInfo};
use crate::sniff;

/// Everything a format's headers tell without decoding pixels.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// The sniffed container format.
    pub format: ImageFormat,
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// Frames the container declares (1 for stills).
    pub frames: u32,
    /// 0 = forever, n = play n times.
    pub loop_count: u16,
    /// Bits per channel (8, 16, or 10/12 for HEIF/AVIF).
    pub bit_depth: u8,
    /// The image has an alpha channel or transparency.
    pub has_alpha: bool,
    /// The image is palette based.
    pub palette: bool,
    /// The image is losslessly coded.
    pub lossless: bool,
    /// Estimated encoder quality 1..=100 (JPEG, lossy WebP).
    pub quality: Option<u8>,
    /// Horizontal and vertical resolution in dots per inch, when the file says.
    pub dpi: Option<(u32, u32)>,
    /// EXIF/ICC/XMP and the EXIF orientation.
    pub metadata: Metadata,
}

impl Header {
    /// A header with the format's neutral defaults, to be filled in by a format reader.
    fn new(format: ImageFormat, width: u32, height: u32) -> Header {
        Header {
            format,
            width,
            height,
            frames: 1,
            loop_count: 0,
            bit_depth: 8,
            has_alpha: false,
            palette: false,
            lossless: false,
            quality: None,
            dpi: None,
            metadata: Metadata {
                orientation: 1,
                ..Metadata::default()
            },
        }
    }

    /// The limit-relevant facts.
    pub fn probe(&self) -> Probe {
        Probe {
            format: self.format,
            width: self.width,
            height: self.height,
            frames: self.frames,
            bit_depth: self.bit_depth,
            has_alpha: self.has_alpha,
        }
    }

    /// The facts that decide output defaults.
    pub fn source(&self) -> SourceInfo {
        SourceInfo {
            format: self.format,
            quality: self.quality,
            lossless: self.lossless,
            palette: self.palette,
            has_alpha: self.has_alpha,
            bit_depth: self.bit_depth,
        }
    }
}

/// Read the header facts of `bytes` without decoding pixels.
pub(crate) fn read_header(bytes: &[u8]) -> Result<Header> {
    let format = sniff::sniff(bytes).ok_or(ImageError::UnknownFormat)?;
    let mut header = match format {
        ImageFormat::Jpeg => jpeg::read_header(bytes)?,
        ImageFormat::Png => png::read_header(bytes)?,
        ImageFormat::Gif => gif::read_header(bytes)?,
        ImageFormat::Webp => webp::read_header(bytes)?,
        ImageFormat::Bmp => bmp::read_header(bytes)?,
        ImageFormat::Heif | ImageFormat::Avif => heif::read_header(bytes, format)?,
    };
    if header.width == 0 || header.height == 0 {
        return Err(corrupt(format, "zero width or height"));
    }
    // libheif already applies the container's rotation and mirror, so an EXIF orientation
    // there is informative only; for the other formats it tells how to display the pixels.
    if let Some(parsed) = header.metadata.exif.as_deref().and_then(parse_exif) {
        if !matches!(format, ImageFormat::Heif | ImageFormat::Avif) {
            header.metadata.orientation = orientation_of(&parsed);
        }
        if header.dpi.is_none() {
            header.dpi = dpi_of(&parsed);
        }
    }
    Ok(header)
}

/// Decode `bytes` into an [`Image`], refusing anything over `limits` before allocating pixels.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Image> {
    decode_scaled(bytes, limits, |_, _| None)
}

/// As [`decode`], letting the caller settle for a smaller frame (shrink-on-load).
///
/// For JPEG and WebP sources, `want` sees the header facts (whose size is the full decoded
/// size) and the EXIF orientation (1..=8), and may return the smallest width and height it can
/// use; JPEG and still WebP then decode to a cheaper size at least that large in both sides.
/// `want` is not called for other formats, which decode at full size. The image's `width` and
/// `height` are always those of the decoded frames.
pub fn decode_scaled(
    bytes: &[u8],
    limits: &Limits,
    want: impl FnOnce(&Probe, u8) -> Option<(u32, u32)>,
) -> Result<Image> {
    decode_for(bytes, limits, false, want)
}

/// Whether a source of `format` decoded for an `out` encode keeps 16-bit samples: only a PNG
/// written again as PNG has room for them; everything else is converted to 8 bits while
/// decoding, so the 16-bit canvas is never held.
pub fn keeps_16_bit(format: ImageFormat, out: mogr_rule::OutputFormat) -> bool {
    format == ImageFormat::Png && out == mogr_rule::OutputFormat::Png
}

/// As [`decode_scaled`]; with `eight_bit`, 16-bit sources are delivered as 8-bit samples.
pub fn decode_for(
    bytes: &[u8],
    limits: &Limits,
    eight_bit: bool,
    want: impl FnOnce(&Probe, u8) -> Option<(u32, u32)>,
) -> Result<Image> {
    limits.check_bytes(bytes.len())?;
    let mut header = read_header(bytes)?;
    limits.check_probe(&header.probe())?;
    let format = header.format;
    // Asked only of the formats that can shrink, whose header size is the decoded size.
    let min = || want(&header.probe(), header.metadata.orientation);
    let frames = match format {
        ImageFormat::Jpeg => {
            let min = min();
            jpeg::decode(bytes, &mut header, limits, min)?
        }
        ImageFormat::Png => png::decode(bytes, &mut header, limits, eight_bit)?,
        ImageFormat::Gif => gif::decode(bytes, &mut header, limits)?,
        ImageFormat::Webp => {
            let min = min();
            webp::decode(bytes, &mut header, limits, min)?
        }
        ImageFormat::Bmp => bmp::decode(bytes, &mut header, limits)?,
        ImageFormat::Heif | ImageFormat::Avif => heif::decode(bytes, &mut header, limits)?,
    };
    let Some(first) = frames.first() else {
        return Err(corrupt(format, "no frame could be decoded"));
    };
    let (width, height) = (first.image.width(), first.image.height());
    if frames
        .iter()
        .any(|f| f.image.width() != width || f.image.height() != height)
    {
        return Err(corrupt(format, "frames of different sizes"));
    }
    header.frames = frames.len() as u32;
    Ok(Image {
        frames,
        width,
        height,
        loop_count: header.loop_count,
        source: header.source(),
        metadata: header.metadata,
    })
}

/// A `Corrupt` error for `format`.
pub(crate) fn corrupt(format: ImageFormat, detail: impl Display) -> ImageError {
    ImageError::Corrupt {
        format: format.name(),
        detail: detail.to_string(),
    }
}

/// Map an `image` crate error: its allocation limits count as resolution limits.
fn from_image_error(format: ImageFormat, err: image::ImageError) -> ImageError {
    match err {
        image::ImageError::Limits(e) => {
            ImageError::ResolutionExceed(format!("{} decoder limit: {e}", format.name()))
        }
        other => corrupt(format, other),
    }
}

/// Allocation limits for `image` crate decoders: room for two 16-bit RGBA canvases.
fn image_limits(header: &Header, limits: &Limits) -> image::Limits {
    let canvas = u64::from(header.width) * u64::from(header.height) * 8;
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(canvas.saturating_mul(2).saturating_add(64 << 20));
    l
}

/// Parsed EXIF (TIFF header onwards); `None` when it does not parse.
fn parse_exif(exif: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new().read_raw(exif.to_vec()).ok()
}

/// The EXIF orientation 1..=8; 1 when absent or invalid.
fn orientation_of(parsed: &exif::Exif) -> u8 {
    parsed
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| (1..=8).contains(v))
        .unwrap_or(1)
}

/// X/Y resolution in dots per inch from EXIF (ResolutionUnit 2 = inch, the default; 3 = cm).
fn dpi_of(parsed: &exif::Exif) -> Option<(u32, u32)> {
    let rational = |tag| match parsed.get_field(tag, exif::In::PRIMARY).map(|f| &f.value) {
        Some(exif::Value::Rational(v)) => v.first().filter(|r| r.denom != 0).map(|r| r.to_f64()),
        _ => None,
    };
    let per_cm = parsed
        .get_field(exif::Tag::ResolutionUnit, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        == Some(3);
    let to_dpi = |v: f64| {
        let dpi = if per_cm { v * 2.54 } else { v };
        (1.0..1e6).contains(&dpi).then(|| dpi.round() as u32)
    };
    Some((
        to_dpi(rational(exif::Tag::XResolution)?)?,
        to_dpi(rational(exif::Tag::YResolution)?)?,
    ))
}

/// Raw EXIF without the `Exif\0\0` prefix some containers keep.
fn strip_exif_prefix(data: &[u8]) -> Vec<u8> {
    data.strip_prefix(b"Exif\0\0").unwrap_or(data).to_vec()
}

/// Run a third-party decoder that is known to panic on some malformed input, turning a panic
/// into a `Corrupt` error. Only a last line of defence: decoders that return errors properly
/// are called directly.
fn guard<T>(format: ImageFormat, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(corrupt(format, format!("decoder failed: {msg}")))
    })
}

/// Collect an `image` crate animation into composited frames, refusing more frames (or more
/// pixels over all frames) than the limits, counted on what the decoder really produces.
fn collect_frames(
    frames: image::Frames<'_>,
    format: ImageFormat,
    limits: &Limits,
) -> Result<Vec<Frame>> {
    checked_frames(frames, format, *limits).collect()
}

/// An `image` crate animation as composited frames, one at a time, under the limits; frames
/// after a damaged one are dropped, as browsers do.
fn checked_frames(
    frames: image::Frames<'_>,
    format: ImageFormat,
    limits: Limits,
) -> impl Iterator<Item = Result<Frame>> + '_ {
    let mut count = 0u32;
    let mut done = false;
    frames.map_while(move |frame| {
        if done {
            return None;
        }
        let out = match frame {
            Ok(f) => {
                let buffer = f.buffer();
                let (w, h) = (buffer.width(), buffer.height());
                match limits.check_frames(w, h, count + 1) {
                    Ok(()) => {
                        let (num, den) = f.delay().numer_denom_ms();
                        Ok(Frame {
                            delay_ms: num.checked_div(den).unwrap_or(0),
                            image: image::DynamicImage::ImageRgba8(f.into_buffer()),
                        })
                    }
                    Err(e) => Err(e),
                }
            }
            Err(_) if count > 0 => return None,
            Err(e) => Err(from_image_error(format, e)),
        };
        done = out.is_err();
        count += 1;
        Some(out)
    })
}

/// The frames of an animated GIF or WebP with the header facts, decoded one at a time as
/// they are asked for (so an animation need not be held whole). `None` for other sources.
pub(crate) fn animation_frames<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<Option<(Header, FrameIter<'a>)>> {
    limits.check_bytes(bytes.len())?;
    let header = read_header(bytes)?;
    limits.check_probe(&header.probe())?;
    let frames: FrameIter<'a> = match header.format {
        ImageFormat::Gif => Box::new(gif::frames(bytes, &header, limits)?),
        ImageFormat::Webp if header.frames > 1 => webp::frames(bytes, &header, limits)?,
        _ => return Ok(None),
    };
    Ok(Some((header, frames)))
}

/// The first frame of an animated GIF or WebP as a still `Image` (`None` for other sources).
pub(crate) fn first_frame(bytes: &[u8], limits: &Limits) -> Result<Option<Image>> {
    let Some((header, mut frames)) = animation_frames(bytes, limits)? else {
        return Ok(None);
    };
    let format = header.format;
    let first = frames
        .next()
        .ok_or_else(|| corrupt(format, "no frame could be decoded"))??;
    Ok(Some(Image {
        width: first.image.width(),
        height: first.image.height(),
        frames: vec![first],
        loop_count: header.loop_count,
        source: header.source(),
        metadata: header.metadata,
    }))
}

/// Frames decoded on demand.
pub(crate) type FrameIter<'a> = Box<dyn Iterator<Item = Result<Frame>> + 'a>;

/// A 1-frame still.
fn still(image: image::DynamicImage) -> Vec<Frame> {
    vec![Frame { image, delay_ms: 0 }]
}
