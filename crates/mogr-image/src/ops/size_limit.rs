//! `size-limit/<n>k|m[!]`: the highest quality whose encoding fits a byte budget.
//!
//! An output setting for JPEG and WebP, not a pixel operation: the caller hands [`search`] an
//! `encode(quality)` closure and gets the best fitting bytes back. Quality is binary-searched
//! (about seven encodes for quality 100), keeping the bytes of the best fit so the answer is
//! never encoded twice. The search ends with neighbours: the returned quality `q` fits and
//! `q + 1` was encoded and did not (or `q` is the maximum), so sizes that are not perfectly
//! monotonic in quality cannot make it stop early on a wrong guess.
//!
//! When even quality 1 is over the budget the quality-1 bytes are returned: the limit is a
//! target ("aims at" an output size), and the smallest encoding is the closest to it.

use crate::error::Result;

/// Encodes at the highest quality in `1..=q_max` whose output is at most `limit_bytes`.
///
/// Returns the bytes and the quality they were encoded at. Errors from `encode` are returned
/// as they are.
pub fn search<F>(limit_bytes: u64, q_max: u8, mut encode: F) -> Result<(Vec<u8>, u8)>
where
    F: FnMut(u8) -> Result<Vec<u8>>,
{
    let fits = |bytes: &[u8]| u64::try_from(bytes.len()).is_ok_and(|n| n <= limit_bytes);
    let q_max = q_max.clamp(1, 100);
    let first = encode(q_max)?;
    if fits(&first) {
        return Ok((first, q_max));
    }
    // Invariant: `over` was encoded and is over the budget; `fit` (0 = none yet) fits.
    let mut over = (first, q_max);
    let mut fit: Option<(Vec<u8>, u8)> = None;
    loop {
        let low = fit.as_ref().map_or(0, |(_, q)| *q);
        if over.1 - low <= 1 {
            break;
        }
        let mid = low + (over.1 - low) / 2;
        let bytes = encode(mid)?;
        if fits(&bytes) {
            fit = Some((bytes, mid));
        } else {
            over = (bytes, mid);
        }
    }
    // Nothing fits only when quality 1 itself was over: `over` then holds it.
    Ok(fit.unwrap_or(over))
}

/// With `!`, whether the caller answers the original bytes instead of the processed ones: the
/// processed image is used only when it is strictly smaller than the original.
pub fn prefer_original(original_if_larger: bool, original_len: u64, processed_len: u64) -> bool {
    original_if_larger && processed_len >= original_len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{encode, EncodeSettings};
    use crate::engine::EngineConfig;
    use crate::model::{Frame, Image, ImageFormat, Metadata, SourceInfo};
    use image::{DynamicImage, Rgb, RgbImage};
    use mogr_rule::OutputFormat;

    /// A 256x192 picture with gradients and fine texture, so quality changes the size a lot.
    fn picture() -> Image {
        let px = RgbImage::from_fn(256, 192, |x, y| {
            let n = (x * 7919 + y * 104_729) ^ (x * y);
            Rgb([x as u8, (y + (n % 37)) as u8, ((x ^ y) + (n % 23)) as u8])
        });
        Image {
            frames: vec![Frame {
                image: DynamicImage::ImageRgb8(px),
                delay_ms: 0,
            }],
            width: 256,
            height: 192,
            loop_count: 0,
            metadata: Metadata::default(),
            source: SourceInfo {
                format: ImageFormat::Png,
                quality: None,
                lossless: true,
                palette: false,
                has_alpha: false,
                bit_depth: 8,
            },
        }
    }

    fn jpeg(img: &Image, quality: u8) -> Result<Vec<u8>> {
        let settings = EncodeSettings {
            format: OutputFormat::Jpeg,
            quality,
            progressive: false,
            strip: true,
            cgif: None,
        };
        encode(img, &settings, &EngineConfig::default())
    }

    #[test]
    fn finds_the_highest_jpeg_quality_under_the_limit() {
        let img = picture();
        let full = jpeg(&img, 100).unwrap().len() as u64;
        let tiny = jpeg(&img, 5).unwrap().len() as u64;
        for limit in [tiny + 1, (tiny + full) / 4, (tiny + full) / 2, full - 1] {
            let mut calls = 0;
            let (bytes, q) = search(limit, 100, |q| {
                calls += 1;
                jpeg(&img, q)
            })
            .unwrap();
            assert!(bytes.len() as u64 <= limit, "{} > {limit}", bytes.len());
            assert_eq!(
                bytes,
                jpeg(&img, q).unwrap(),
                "bytes are the encode at q={q}"
            );
            assert!(
                q < 100 && jpeg(&img, q + 1).unwrap().len() as u64 > limit,
                "q={q}"
            );
            assert!(calls <= 8, "{calls} encodes");
        }
    }

    #[test]
    fn the_maximum_is_kept_when_it_fits_and_quality_1_when_nothing_does() {
        let img = picture();
        let (_, q) = search(u64::MAX, 85, |q| jpeg(&img, q)).unwrap();
        assert_eq!(q, 85);
        let (bytes, q) = search(10, 90, |q| jpeg(&img, q)).unwrap();
        assert_eq!((q, bytes.len()), (1, jpeg(&img, 1).unwrap().len()));
    }

    #[test]
    fn a_search_stops_on_neighbours_even_when_sizes_are_not_monotonic() {
        // Sizes dip at 60: the answer must still be a fitting q whose q+1 is over.
        let size = |q: u8| if q == 60 { 10 } else { usize::from(q) * 10 };
        let (bytes, q) = search(505, 100, |q| Ok(vec![0; size(q)])).unwrap();
        assert!(bytes.len() <= 505 && size(q + 1) > 505, "q={q}");
    }

    #[test]
    fn encoder_errors_pass_through() {
        let err = search(1, 50, |_| Err(crate::ImageError::UnknownFormat)).unwrap_err();
        assert!(matches!(err, crate::ImageError::UnknownFormat));
    }

    #[test]
    fn the_bang_keeps_the_original_unless_processing_made_it_smaller() {
        assert!(prefer_original(true, 100, 100));
        assert!(prefer_original(true, 100, 150));
        assert!(!prefer_original(true, 100, 99));
        assert!(!prefer_original(false, 100, 150));
    }
}
