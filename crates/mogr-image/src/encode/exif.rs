//! EXIF bytes as encoders embed them: orientation kept in step with the pixels.

use std::borrow::Cow;

/// The `Exif\0\0` prefix JPEG APP1 and WebP readers look for.
pub(crate) const EXIF_PREFIX: &[u8] = b"Exif\0\0";

/// The TIFF tag holding the orientation.
const ORIENTATION_TAG: u16 = 0x0112;

/// EXIF (TIFF header onwards) with IFD0's orientation set to `orientation`.
///
/// Once the engine has rotated the pixels (`auto-orient`) the model's orientation is 1, but the
/// source EXIF still says e.g. 6; leaving it would make viewers rotate a second time.
pub(crate) fn with_orientation(exif: &[u8], orientation: u8) -> Cow<'_, [u8]> {
    let exif = exif.strip_prefix(EXIF_PREFIX).unwrap_or(exif);
    match orientation_offset(exif) {
        Some((offset, big_endian)) => {
            let current = read_u16(exif, offset, big_endian);
            if current == Some(u16::from(orientation)) || !(1..=8).contains(&orientation) {
                return Cow::Borrowed(exif);
            }
            let mut out = exif.to_vec();
            let bytes = if big_endian {
                u16::from(orientation).to_be_bytes()
            } else {
                u16::from(orientation).to_le_bytes()
            };
            if let Some(slot) = out.get_mut(offset..offset + 2) {
                slot.copy_from_slice(&bytes);
            }
            Cow::Owned(out)
        }
        None => Cow::Borrowed(exif),
    }
}

/// Where IFD0's orientation value sits, and the byte order; `None` when absent or malformed.
fn orientation_offset(tiff: &[u8]) -> Option<(usize, bool)> {
    let big_endian = match tiff.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    if read_u16(tiff, 2, big_endian)? != 42 {
        return None;
    }
    let ifd0 = read_u32(tiff, 4, big_endian)? as usize;
    let count = usize::from(read_u16(tiff, ifd0, big_endian)?);
    for i in 0..count {
        let entry = ifd0.checked_add(2 + i * 12)?;
        if read_u16(tiff, entry, big_endian)? == ORIENTATION_TAG {
            // Type 3 (SHORT), count 1: the value sits inline at the start of the value field.
            let typ = read_u16(tiff, entry + 2, big_endian)?;
            let n = read_u32(tiff, entry + 4, big_endian)?;
            return (typ == 3 && n == 1 && tiff.len() >= entry + 10)
                .then_some((entry + 8, big_endian));
        }
    }
    None
}

fn read_u16(b: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(s)
    } else {
        u16::from_le_bytes(s)
    })
}

fn read_u32(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF header with one IFD0 entry: orientation = `o`.
    fn tiff_le(o: u16) -> Vec<u8> {
        let mut t = b"II".to_vec();
        t.extend_from_slice(&42u16.to_le_bytes());
        t.extend_from_slice(&8u32.to_le_bytes());
        t.extend_from_slice(&1u16.to_le_bytes());
        t.extend_from_slice(&ORIENTATION_TAG.to_le_bytes());
        t.extend_from_slice(&3u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&o.to_le_bytes());
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&0u32.to_le_bytes());
        t
    }

    #[test]
    fn orientation_is_rewritten_after_auto_orient() {
        let src = tiff_le(6);
        let out = with_orientation(&src, 1);
        assert_eq!(orientation_offset(&out).map(|(o, _)| out[o]), Some(1));
        assert_eq!(out.len(), src.len());
    }

    #[test]
    fn prefix_is_dropped_and_garbage_passes_through() {
        let mut prefixed = EXIF_PREFIX.to_vec();
        prefixed.extend(tiff_le(3));
        assert_eq!(&with_orientation(&prefixed, 3)[..2], b"II");
        let junk = [1u8, 2, 3];
        assert_eq!(&*with_orientation(&junk, 1), &junk);
    }
}
