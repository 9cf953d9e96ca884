//! `OriginalInfo/ImageInfo` of an `<UploadResult>`: the engine's image facts as CI spells them.

use mogr_cos::xml::ImageInfoXml;
use mogr_image::info::{header_info, image_info};
use mogr_image::{ImageError, Limits};

/// The `Quality` CI reports for a source with no lossy quality to estimate (PNG, GIF, BMP,
/// lossless WebP): CI always sends the field, and 100 for lossless images.
pub const LOSSLESS_QUALITY: u32 = 100;

/// Format, size, quality, average colour, orientation and (for animations) frame count.
///
/// The average colour needs the pixels; an original over a pixel or frame limit is still
/// described from its headers (without `Ave`), so `ignore-error/1` rules can store it.
pub fn original_image_info(bytes: &[u8], limits: &Limits) -> Result<ImageInfoXml, ImageError> {
    let info = match image_info(bytes, limits) {
        Err(e) if e.is_limit() => header_info(bytes, limits)?,
        other => other?,
    };
    Ok(ImageInfoXml {
        // CI's own example spells the original's format in capitals (`JPEG`).
        format: info.format.to_ascii_uppercase(),
        width: info.width,
        height: info.height,
        quality: Some(info.quality.map_or(LOSSLESS_QUALITY, u32::from)),
        ave: info.ave.unwrap_or_default(),
        orientation: u32::from(info.orientation),
        frame_count: (info.frame_count > 1).then_some(info.frame_count),
    })
}
