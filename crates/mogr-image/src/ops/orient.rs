//! `auto-orient`: apply the EXIF orientation to the pixels.

use image::metadata::Orientation;

use crate::model::Image;

/// The TIFF tag holding the orientation.
const ORIENTATION_TAG: u16 = 0x0112;

/// Rotate/flip every frame as EXIF orientation 1..=8 says, then record orientation 1 (in the
/// model and in the EXIF bytes, so viewers do not rotate a second time).
pub fn auto_orient(img: &mut Image) {
    let orientation = img.metadata.orientation;
    let Some(transform) = Orientation::from_exif(orientation).filter(|_| orientation != 1) else {
        return;
    };
    for frame in &mut img.frames {
        frame.image.apply_orientation(transform);
    }
    if let Some(first) = img.frames.first() {
        img.width = first.image.width();
        img.height = first.image.height();
    }
    img.metadata.orientation = 1;
    if let Some(exif) = img.metadata.exif.as_mut() {
        set_exif_orientation(exif, 1);
    }
}

/// Overwrite IFD0's orientation in raw EXIF (TIFF header onwards) in place.
///
/// Returns false when the EXIF has no well-formed orientation entry (nothing is changed).
pub fn set_exif_orientation(exif: &mut [u8], value: u16) -> bool {
    let big_endian = match exif.get(0..2) {
        Some(b"MM") => true,
        Some(b"II") => false,
        _ => return false,
    };
    let u16_at = |b: &[u8], p: usize| -> Option<u16> {
        let s = b.get(p..p.checked_add(2)?)?;
        Some(if big_endian {
            u16::from_be_bytes([s[0], s[1]])
        } else {
            u16::from_le_bytes([s[0], s[1]])
        })
    };
    let u32_at = |b: &[u8], p: usize| -> Option<u32> {
        let s = b.get(p..p.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    let Some(ifd0) = u32_at(exif, 4).map(|o| o as usize) else {
        return false;
    };
    let Some(count) = u16_at(exif, ifd0) else {
        return false;
    };
    for i in 0..usize::from(count) {
        let entry = ifd0 + 2 + i * 12;
        if u16_at(exif, entry) != Some(ORIENTATION_TAG) {
            continue;
        }
        // SHORT (type 3), count 1: the value sits in the first two bytes of the value field.
        if u16_at(exif, entry + 2) != Some(3) || u32_at(exif, entry + 4) != Some(1) {
            return false;
        }
        let bytes = if big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        };
        return match exif.get_mut(entry + 8..entry + 10) {
            Some(slot) => {
                slot.copy_from_slice(&bytes);
                true
            }
            None => false,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Frame, ImageFormat, Metadata, SourceInfo};
    use image::{DynamicImage, Rgb, RgbImage};

    /// A 3x2 image whose every pixel encodes its own (x, y).
    fn labelled() -> RgbImage {
        RgbImage::from_fn(3, 2, |x, y| Rgb([x as u8, y as u8, 0]))
    }

    fn image_with(orientation: u8) -> Image {
        Image {
            frames: vec![Frame {
                image: DynamicImage::ImageRgb8(labelled()),
                delay_ms: 0,
            }],
            width: 3,
            height: 2,
            loop_count: 0,
            metadata: Metadata {
                orientation,
                ..Metadata::default()
            },
            source: SourceInfo {
                format: ImageFormat::Jpeg,
                quality: None,
                lossless: false,
                palette: false,
                has_alpha: false,
                bit_depth: 8,
            },
        }
    }

    /// Where the displayed pixel (x, y) comes from in the stored w x h image, per the EXIF
    /// definition of each orientation (TIFF 6.0 / EXIF 2.3 tag 274).
    fn source_of(o: u8, x: u32, y: u32, w: u32, h: u32) -> (u32, u32) {
        match o {
            1 => (x, y),
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (y, h - 1 - x),
            7 => (w - 1 - y, h - 1 - x),
            8 => (w - 1 - y, x),
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_orientation_maps_pixels_as_exif_defines() {
        for o in 1..=8u8 {
            let mut img = image_with(o);
            auto_orient(&mut img);
            let out = img.frames[0].image.to_rgb8();
            let (ow, oh) = out.dimensions();
            assert_eq!((img.width, img.height), (ow, oh));
            assert_eq!((ow, oh), if o >= 5 { (2, 3) } else { (3, 2) }, "o={o}");
            for y in 0..oh {
                for x in 0..ow {
                    let (sx, sy) = source_of(o, x, y, 3, 2);
                    assert_eq!(
                        out.get_pixel(x, y).0,
                        [sx as u8, sy as u8, 0],
                        "o={o} ({x},{y})"
                    );
                }
            }
            assert_eq!(img.metadata.orientation, 1);
        }
    }

    #[test]
    fn exif_orientation_is_rewritten() {
        // II*\0, IFD0 at 8, one entry: 0x0112 SHORT 1 value 6.
        let mut exif = vec![
            b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0,
            0,
        ];
        assert!(set_exif_orientation(&mut exif, 1));
        assert_eq!(exif[18], 1);
        assert!(!set_exif_orientation(&mut [0u8; 4], 1));
        assert!(!set_exif_orientation(&mut exif[..12], 1));
    }
}
