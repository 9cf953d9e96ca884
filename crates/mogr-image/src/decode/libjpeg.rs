//! libjpeg-turbo (linked through mozjpeg) as the second JPEG decoder, for files zune-jpeg
//! refuses but libjpeg reads (it is more lenient about stray markers and odd scan headers).
//!
//! libjpeg reports fatal errors by unwinding out of the C code; every call here runs under
//! [`guard`] so such an error becomes a `Corrupt` error instead of a panic.

use image::{DynamicImage, GrayImage, RgbImage};
use mozjpeg::{ColorSpace, Decompress};

use super::{corrupt, guard};
use crate::error::Result;
use crate::limits::Limits;
use crate::model::ImageFormat;

const FORMAT: ImageFormat = ImageFormat::Jpeg;

/// Most scans libjpeg is given, zune-jpeg's own default: every progressive scan is a pass over
/// the whole image, so a small file with thousands of scans is a CPU bomb, and libjpeg has no
/// such limit of its own (zune-jpeg refuses those files, which would otherwise land here).
const MAX_SCANS: usize = 100;

/// The frame size libjpeg reads from the headers (up to the first scan; no pixels).
pub(super) fn dimensions(bytes: &[u8]) -> Result<(u32, u32)> {
    guard(FORMAT, || {
        let dec = Decompress::new_mem(bytes).map_err(|e| corrupt(FORMAT, e))?;
        size_of(&dec)
    })
}

/// What libjpeg decoded: gray or RGB pixels, or CMYK still to be converted by the caller.
pub(super) enum Pixels {
    /// Ready to use.
    Image(DynamicImage),
    /// Interleaved 4-channel pixels as stored: CMYK, or YCCK when `ycck`.
    Cmyk {
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
        /// `width * height * 4` bytes.
        data: Vec<u8>,
        /// The channels are Y, Cb, Cr, K.
        ycck: bool,
    },
}

/// Decode with libjpeg, refusing a frame over `limits` before libjpeg allocates its buffers.
///
/// `expected` is the frame size the caller checked and reported; libjpeg must agree with it.
pub(super) fn decode(bytes: &[u8], expected: (u32, u32), limits: &Limits) -> Result<Pixels> {
    // `FF DA` cannot occur inside entropy-coded data (an `FF` there is followed by `00` or a
    // restart marker), so counting the pairs bounds the scans from above.
    let scans = bytes.windows(2).filter(|w| *w == [0xFF, 0xDA]).count();
    if scans > MAX_SCANS {
        return Err(corrupt(
            FORMAT,
            format!("{scans} scans, more than {MAX_SCANS}"),
        ));
    }
    guard(FORMAT, || {
        let dec = Decompress::new_mem(bytes).map_err(|e| corrupt(FORMAT, e))?;
        let (width, height) = size_of(&dec)?;
        limits.check_canvas(width, height)?;
        if (width, height) != expected {
            return Err(corrupt(
                FORMAT,
                format!(
                    "libjpeg reads a {width}x{height} frame where the headers say {}x{}",
                    expected.0, expected.1
                ),
            ));
        }
        // 4-channel files keep their colour space (libjpeg converts nothing) so that both
        // decoders hand the same kind of pixels to the CMYK conversion.
        let out = match dec.color_space() {
            space @ (ColorSpace::JCS_GRAYSCALE | ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK) => {
                space
            }
            _ => ColorSpace::JCS_RGB,
        };
        // Pixels are allocated from here on, for the frame size checked above.
        let mut started = dec.to_colorspace(out).map_err(|e| corrupt(FORMAT, e))?;
        let data: Vec<u8> = started.read_scanlines().map_err(|e| corrupt(FORMAT, e))?;
        started.finish().map_err(|e| corrupt(FORMAT, e))?;
        let short = || corrupt(FORMAT, "libjpeg returned a short buffer");
        Ok(match out {
            ColorSpace::JCS_GRAYSCALE => Pixels::Image(DynamicImage::ImageLuma8(
                GrayImage::from_raw(width, height, data).ok_or_else(short)?,
            )),
            ColorSpace::JCS_RGB => Pixels::Image(DynamicImage::ImageRgb8(
                RgbImage::from_raw(width, height, data).ok_or_else(short)?,
            )),
            _ => {
                if data.len() != width as usize * height as usize * 4 {
                    return Err(short());
                }
                Pixels::Cmyk {
                    width,
                    height,
                    data,
                    ycck: out == ColorSpace::JCS_YCCK,
                }
            }
        })
    })
}

/// Width and height from libjpeg's header read.
fn size_of<R>(dec: &Decompress<R>) -> Result<(u32, u32)> {
    let (w, h) = dec.size();
    match (u32::try_from(w), u32::try_from(h)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(corrupt(FORMAT, format!("libjpeg read a {w}x{h} frame"))),
    }
}
