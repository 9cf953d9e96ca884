//! JPEG output through mozjpeg: libjpeg-turbo behaviour for `jpg`, trellis for `yjpeg`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use image::DynamicImage;
use mozjpeg::{ColorSpace, Compress, Marker};

use super::exif::{with_orientation, EXIF_PREFIX};
use super::pixels::{gray8_on_white, is_gray, rgb8_on_white};
use super::EncodeSettings;
use crate::error::{ImageError, Result};
use crate::model::Image;

/// JPEG's own side limit (16-bit fields, minus the MCU margin libjpeg keeps).
const MAX_SIDE: u32 = 65_500;
/// An APP marker's payload limit.
const MAX_MARKER_PAYLOAD: usize = 65_533;
/// The XMP namespace header of an APP1 segment.
const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Which JPEG flavour to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// libjpeg-turbo settings: fast, optimised Huffman, baseline unless `interlace/1`.
    Fast,
    /// mozjpeg's default: trellis quantisation and optimised progressive scans (`yjpeg`).
    Small,
}

/// Encode the first frame as JPEG (alpha flattened onto white, 16-bit reduced to 8).
pub fn encode(img: &Image, settings: &EncodeSettings, profile: Profile) -> Result<Vec<u8>> {
    let frame = super::first_frame(img)?;
    let (w, h) = (frame.width(), frame.height());
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(ImageError::ResolutionExceed(format!(
            "{w}x{h} has a side over JPEG's {MAX_SIDE} px"
        )));
    }
    let gray = is_gray(frame);
    let space = if gray {
        ColorSpace::JCS_GRAYSCALE
    } else {
        ColorSpace::JCS_RGB
    };
    let markers = Markers::collect(img, settings.strip);
    let quality = settings.quality.clamp(1, 100);
    let progressive = settings.progressive;

    // libjpeg reports errors by unwinding out of the C code; keep that inside this function.
    let run = catch_unwind(AssertUnwindSafe(|| -> std::io::Result<Vec<u8>> {
        let mut c = Compress::new(space);
        match profile {
            Profile::Fast => {
                c.set_fastest_defaults();
                if progressive {
                    c.set_progressive_mode();
                }
            }
            Profile::Small => {
                c.set_progressive_mode();
                c.set_optimize_scans(true);
            }
        }
        c.set_size(w as usize, h as usize);
        c.set_quality(f32::from(quality));
        c.set_optimize_coding(true);
        let mut s = c.start_compress(Vec::new())?;
        markers.write(&mut s);
        write_rows(&mut s, frame, gray)?;
        s.finish()
    }));
    match run {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(encode_error(e.to_string())),
        Err(panic) => Err(encode_error(panic_message(panic.as_ref()))),
    }
}

/// Rows converted to 8-bit samples at a time: a band, never a copy of the whole frame (a
/// 250 MP canvas would need 750 MB more as RGB); a multiple of the 16-row MCU.
const BAND_ROWS: u32 = 64;

/// Hands the frame's pixels to the compressor: 8-bit RGB or gray frames as they are, any
/// other layout converted (alpha flattened onto white, 16-bit reduced) one band at a time.
fn write_rows<W: std::io::Write>(
    s: &mut mozjpeg::compress::CompressStarted<W>,
    frame: &DynamicImage,
    gray: bool,
) -> std::io::Result<()> {
    match (frame, gray) {
        (DynamicImage::ImageRgb8(b), false) => return s.write_scanlines(b.as_raw()),
        (DynamicImage::ImageLuma8(b), true) => return s.write_scanlines(b.as_raw()),
        _ => {}
    }
    let (w, h) = (frame.width(), frame.height());
    let mut y = 0;
    while y < h {
        let rows = BAND_ROWS.min(h - y);
        let band = frame.crop_imm(0, y, w, rows);
        if gray {
            s.write_scanlines(gray8_on_white(&band).as_raw())?;
        } else {
            s.write_scanlines(rgb8_on_white(&band).as_raw())?;
        }
        y += rows;
    }
    Ok(())
}

/// The metadata segments to write after the JFIF header.
struct Markers {
    exif: Option<Vec<u8>>,
    xmp: Option<Vec<u8>>,
    icc: Option<Vec<u8>>,
}

impl Markers {
    fn collect(img: &Image, strip: bool) -> Markers {
        let md = &img.metadata;
        let exif = md.exif.as_deref().filter(|_| !strip).and_then(|e| {
            let tiff = with_orientation(e, md.orientation);
            let mut seg = EXIF_PREFIX.to_vec();
            seg.extend_from_slice(&tiff);
            // An EXIF block too big for one segment would need the rarely read extended form.
            (seg.len() <= MAX_MARKER_PAYLOAD).then_some(seg)
        });
        let xmp = md.xmp.as_deref().filter(|_| !strip).and_then(|x| {
            let mut seg = XMP_PREFIX.to_vec();
            seg.extend_from_slice(x);
            (seg.len() <= MAX_MARKER_PAYLOAD).then_some(seg)
        });
        // The ICC profile is colour, not metadata: `strip` keeps it so colours stay right.
        let icc = md.icc.clone().filter(|p| !p.is_empty());
        Markers { exif, xmp, icc }
    }

    fn write<W>(&self, s: &mut mozjpeg::compress::CompressStarted<W>) {
        if let Some(e) = &self.exif {
            s.write_marker(Marker::APP(1), e);
        }
        if let Some(p) = &self.icc {
            s.write_icc_profile(p);
        }
        if let Some(x) = &self.xmp {
            s.write_marker(Marker::APP(1), x);
        }
    }
}

fn encode_error(detail: String) -> ImageError {
    ImageError::Encode {
        format: "jpg",
        detail,
    }
}

/// The text of a caught unwind (mozjpeg's carries libjpeg's message as a String).
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "encoder aborted".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Frame, ImageFormat, Metadata, SourceInfo};
    use image::{ImageBuffer, LumaA, Rgba};
    use mogr_rule::OutputFormat;

    fn still(image: DynamicImage) -> Image {
        let (width, height) = (image.width(), image.height());
        Image {
            frames: vec![Frame { image, delay_ms: 0 }],
            width,
            height,
            loop_count: 0,
            metadata: Metadata::default(),
            source: SourceInfo {
                format: ImageFormat::Png,
                quality: None,
                lossless: true,
                palette: false,
                has_alpha: true,
                bit_depth: 16,
            },
        }
    }

    fn jpeg(image: DynamicImage, profile: Profile) -> Vec<u8> {
        let settings = EncodeSettings {
            format: OutputFormat::Jpeg,
            quality: 85,
            progressive: false,
            strip: true,
            cgif: None,
        };
        encode(&still(image), &settings, profile).unwrap()
    }

    /// Several bands and a short last one, with transparency and 16-bit samples.
    fn rgba16(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgba16(ImageBuffer::from_fn(w, h, |x, y| {
            let v = (x * 2311 + y * 977) as u16;
            Rgba([v, v.rotate_left(5), (x * y) as u16, ((x + y) * 700) as u16])
        }))
    }

    #[test]
    fn banded_conversion_writes_the_same_jpeg_as_a_whole_frame_copy() {
        let (w, h) = (37, 2 * BAND_ROWS + 21);
        for profile in [Profile::Fast, Profile::Small] {
            let frame = rgba16(w, h);
            let whole = DynamicImage::ImageRgb8(rgb8_on_white(&frame));
            assert_eq!(jpeg(frame, profile), jpeg(whole, profile));
        }
        let gray = DynamicImage::ImageLumaA16(ImageBuffer::from_fn(w, h, |x, y| {
            LumaA([(x * 1777 + y * 31) as u16, ((x ^ y) * 900) as u16])
        }));
        let whole = DynamicImage::ImageLuma8(gray8_on_white(&gray));
        assert_eq!(jpeg(gray, Profile::Fast), jpeg(whole, Profile::Fast));
    }

    #[test]
    fn a_banded_frame_decodes_to_its_size() {
        let bytes = jpeg(rgba16(50, 3 * BAND_ROWS + 1), Profile::Fast);
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (50, 3 * BAND_ROWS + 1));
    }
}
