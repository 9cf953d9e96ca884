//! `strip`: drop descriptive metadata, keep what the pixels need.

use crate::model::Image;

/// Drop EXIF and XMP (comments are never carried); keep the ICC profile, which defines colour.
///
/// The orientation is kept: without EXIF it can no longer travel with the file, so callers
/// that want upright pixels run `auto-orient` first (as the CI docs advise).
pub fn strip(img: &mut Image) {
    img.metadata.exif = None;
    img.metadata.xmp = None;
}
