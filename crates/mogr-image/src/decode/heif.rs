//! HEIF/HEIC and AVIF through libheif: the primary image, decoded to 8-bit RGB(A).
//!
//! libheif 1.15 cannot decode image sequences (`avis`/`msf1` tracks): such files decode as their
//! primary still image, one frame.
//!
//! The primary image's size (its `ispe`) is not all libheif allocates for: every size the file
//! declares, and every picture size coded in its HEVC/AV1 streams, is checked first (see
//! `heif_items`), and the decoded planes are checked against the reported size before they are
//! copied.

use std::sync::OnceLock;

use image::{DynamicImage, RgbImage, RgbaImage};
use libheif_rs::{ColorSpace, HeifContext, ImageHandle, ItemId, LibHeif, RgbChroma};

use super::{corrupt, heif_items, still, Header};
use crate::error::Result;
use crate::limits::Limits;
use crate::model::{Frame, ImageFormat};
use crate::ops::orient::set_exif_orientation;

/// Most metadata blocks of one type looked at (real files have one or two).
const MAX_METADATA_BLOCKS: usize = 16;

/// One libheif initialisation for the process (init/deinit are reference counted, but
/// re-initialising per image would reload plugins each time).
fn libheif() -> &'static LibHeif {
    static LIB: OnceLock<LibHeif> = OnceLock::new();
    LIB.get_or_init(LibHeif::new)
}

fn open(bytes: &[u8], format: ImageFormat) -> Result<(HeifContext<'_>, ImageHandle)> {
    libheif();
    let ctx = HeifContext::read_from_bytes(bytes).map_err(|e| corrupt(format, e))?;
    let handle = ctx.primary_image_handle().map_err(|e| corrupt(format, e))?;
    Ok((ctx, handle))
}

/// Header facts and metadata from the container (no pixel decoding).
pub(super) fn read_header(bytes: &[u8], format: ImageFormat) -> Result<Header> {
    // A file whose coded pictures are larger than its items declare would report a size the
    // decoder does not use.
    heif_items::check_coded(bytes, format)?;
    let (_ctx, handle) = open(bytes, format)?;
    let mut h = Header::new(format, handle.width(), handle.height());
    h.has_alpha = handle.has_alpha_channel();
    h.bit_depth = match handle.luma_bits_per_pixel() {
        0 | 255 => 8,
        n => n,
    };
    h.metadata.icc = handle
        .color_profile_raw()
        .filter(|p| p.data.len() <= bytes.len())
        .map(|p| p.data);
    h.metadata.exif = metadata_blocks(&handle, b"Exif", bytes.len())
        .into_iter()
        .find_map(|block| exif_payload(&block));
    if let Some(exif) = h.metadata.exif.as_mut() {
        // libheif already applied the container's rotation; a stale EXIF orientation would
        // make viewers rotate the pixels a second time.
        set_exif_orientation(exif, 1);
    }
    h.metadata.xmp = metadata_blocks(&handle, b"mime", bytes.len())
        .into_iter()
        .find(|block| {
            block
                .windows(9)
                .take(512)
                .any(|w| w == b"<x:xmpmet" || w == b"<?xpacket")
        });
    Ok(h)
}

/// Metadata blocks of one type; a block claiming to be larger than the file cannot be real,
/// so libheif is never asked to allocate it.
fn metadata_blocks(handle: &ImageHandle, kind: &[u8; 4], file_len: usize) -> Vec<Vec<u8>> {
    let mut ids: Vec<ItemId> = vec![0; MAX_METADATA_BLOCKS];
    let n = handle.metadata_block_ids(&mut ids, kind);
    ids.truncate(n);
    ids.into_iter()
        .filter(|id| (1..=file_len).contains(&handle.metadata_size(*id)))
        .filter_map(|id| handle.metadata(id).ok())
        .collect()
}

/// HEIF `Exif` items start with a 4-byte offset to the TIFF header.
fn exif_payload(block: &[u8]) -> Option<Vec<u8>> {
    let offset = u32::from_be_bytes(block.get(0..4)?.try_into().ok()?) as usize;
    let tiff = block.get(4usize.checked_add(offset)?..)?;
    (tiff.starts_with(b"II") || tiff.starts_with(b"MM")).then(|| tiff.to_vec())
}

/// Decode the primary image to 8-bit interleaved RGB or RGBA.
pub(super) fn decode(bytes: &[u8], header: &mut Header, limits: &Limits) -> Result<Vec<Frame>> {
    let format = header.format;
    heif_items::check(bytes, format, limits)?;
    let (_ctx, handle) = open(bytes, format)?;
    limits.check_canvas(handle.width(), handle.height())?;
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let img = libheif()
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(|e| corrupt(format, e))?;
    let planes = img.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| corrupt(format, "no interleaved plane"))?;
    let channels = if alpha { 4 } else { 3 };
    let (w, h) = (plane.width, plane.height);
    // What the coded image really holds, which the container's sizes need not match; checked
    // before the copy below allocates.
    limits.check_canvas(w, h)?;
    if w > header.width || h > header.height {
        return Err(corrupt(
            format,
            format!(
                "decoded {w}x{h}, larger than the declared {}x{}",
                header.width, header.height
            ),
        ));
    }
    let row = w as usize * channels;
    let mut data = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        let start = y * plane.stride;
        let line = plane
            .data
            .get(start..start + row)
            .ok_or_else(|| corrupt(format, "short image plane"))?;
        data.extend_from_slice(line);
    }
    let image = if alpha {
        RgbaImage::from_raw(w, h, data).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(w, h, data).map(DynamicImage::ImageRgb8)
    };
    let image = image.ok_or_else(|| corrupt(format, "decoder returned a short buffer"))?;
    Ok(still(image))
}
