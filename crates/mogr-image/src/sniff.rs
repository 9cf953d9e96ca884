//! Format sniffing from magic bytes, and header-only probing for the limits.

use crate::decode;
use crate::decode::bytes::be32;
use crate::error::Result;
use crate::model::{ImageFormat, Probe};

/// ISOBMFF brands that mean AV1 still images or sequences.
const AVIF_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];
/// ISOBMFF brands of HEVC (and generic HEIF) images or sequences.
const HEIF_BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis",
];

/// The format `bytes` start with, from magic bytes only; `None` when unrecognised.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ImageFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(ImageFormat::Png);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(ImageFormat::Gif);
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Some(ImageFormat::Webp);
    }
    if bytes.starts_with(b"BM") {
        return Some(ImageFormat::Bmp);
    }
    sniff_isobmff(bytes)
}

/// HEIF or AVIF from the `ftyp` box: major brand and compatible brands, AVIF brands first
/// because AVIF files also list the generic `mif1`.
fn sniff_isobmff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.get(4..8)? != b"ftyp" {
        return None;
    }
    let box_len = be32(bytes, 0)? as usize;
    let end = box_len.min(bytes.len());
    let major = bytes.get(8..12)?;
    let compatible = bytes.get(16..end).unwrap_or(&[]);
    let brands = std::iter::once(major).chain(compatible.chunks_exact(4));
    let brands: Vec<&[u8]> = brands.collect();
    if brands.iter().any(|b| AVIF_BRANDS.iter().any(|a| *b == *a)) {
        return Some(ImageFormat::Avif);
    }
    if brands.iter().any(|b| HEIF_BRANDS.iter().any(|h| *b == *h)) {
        return Some(ImageFormat::Heif);
    }
    None
}

/// Format, canvas size and frame count from headers alone (no pixel allocation).
///
/// Unknown or empty input gives `UnknownFormat`; a recognised but truncated header `Corrupt`.
pub fn probe(bytes: &[u8]) -> Result<Probe> {
    Ok(decode::read_header(bytes)?.probe())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isobmff_brands() {
        let mut avif = b"\0\0\0\x1cftypavif\0\0\0\0mif1miafMA1B".to_vec();
        assert_eq!(sniff(&avif), Some(ImageFormat::Avif));
        avif[8..12].copy_from_slice(b"mif1");
        avif[16..20].copy_from_slice(b"avif");
        assert_eq!(sniff(&avif), Some(ImageFormat::Avif));
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(sniff(heic), Some(ImageFormat::Heif));
        let mp4 = b"\0\0\0\x18ftypisom\0\0\0\0isomiso2";
        assert_eq!(sniff(mp4), None);
    }

    #[test]
    fn empty_and_short_inputs() {
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\xff\xd8"), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEB"), None);
        assert!(matches!(probe(b""), Err(crate::ImageError::UnknownFormat)));
    }
}
