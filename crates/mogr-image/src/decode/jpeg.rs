//! JPEG: a marker walk for metadata and quality; zune-jpeg for pixels, with libjpeg (through
//! mozjpeg) for files zune-jpeg refuses; CMYK and YCCK converted to sRGB (through the embedded
//! ICC profile when there is one).
//!
//! The frame size comes from the decoder that will decode the file, never from the marker walk
//! alone: the two parsers can disagree about which bytes are a segment (a restart marker given
//! a length, say), and a file that shows the walk a small frame while the decoder reads a huge
//! one would get past the limits. Such a file is refused as corrupt.

use image::{DynamicImage, GrayImage, RgbImage};
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::bytes::be16;
use super::libjpeg::{self, Pixels};
use super::{corrupt, still, Header};
use crate::error::Result;
use crate::limits::Limits;
use crate::model::{Frame, ImageFormat};

const FORMAT: ImageFormat = ImageFormat::Jpeg;

/// Facts from the frame header (SOFn).
#[derive(Debug, Clone, Copy)]
struct Sof {
    precision: u8,
    width: u16,
    height: u16,
    components: u8,
}

/// What the marker walk collects before the first scan.
#[derive(Debug, Default)]
struct Markers {
    sof: Option<Sof>,
    /// Quantisation tables 0..=3 in natural (row-major) order.
    tables: [Option<[u16; 64]>; 4],
    /// (unit, x density, y density) from JFIF APP0.
    density: Option<(u8, u16, u16)>,
    exif: Option<Vec<u8>>,
    xmp: Option<Vec<u8>>,
    /// (sequence number, data) of `ICC_PROFILE` APP2 chunks.
    icc_chunks: Vec<(u8, Vec<u8>)>,
    /// Adobe APP14 colour transform (0 = none/CMYK, 1 = YCbCr, 2 = YCCK).
    adobe_transform: Option<u8>,
}

/// Zig-zag index -> natural index (ITU T.81 figure A.6).
const NATURAL_ORDER: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// ITU T.81 Annex K example luminance table (natural order), the base of libjpeg's scaling.
const STD_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// ITU T.81 Annex K example chrominance table (natural order).
const STD_CHROMA: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Header facts: dimensions, components, quality, density and metadata.
pub(super) fn read_header(bytes: &[u8]) -> Result<Header> {
    let m = walk_markers(bytes)?;
    let sof = m
        .sof
        .ok_or_else(|| corrupt(FORMAT, "no frame header before the image data"))?;
    let walked = (u32::from(sof.width), u32::from(sof.height));
    // When no decoder reads the headers nothing will be decoded, and the walk's size is only
    // reported.
    let (width, height) = decoder_dimensions(bytes).unwrap_or(walked);
    if (width, height) != walked {
        return Err(corrupt(
            FORMAT,
            format!(
                "ambiguous frame header: the decoder reads {width}x{height}, the segments \
                 before it show {}x{}",
                sof.width, sof.height
            ),
        ));
    }
    let mut h = Header::new(FORMAT, width, height);
    h.bit_depth = sof.precision;
    h.quality = estimate_quality(&m.tables);
    h.dpi = m.density.and_then(|(unit, x, y)| match unit {
        1 => Some((u32::from(x), u32::from(y))),
        2 => Some((dpcm_to_dpi(x), dpcm_to_dpi(y))),
        _ => None,
    });
    h.metadata.exif = m.exif;
    h.metadata.xmp = m.xmp;
    h.metadata.icc = join_icc(m.icc_chunks);
    Ok(h)
}

fn dpcm_to_dpi(v: u16) -> u32 {
    (f64::from(v) * 2.54).round() as u32
}

/// Walk the segments up to the first scan.
fn walk_markers(bytes: &[u8]) -> Result<Markers> {
    let mut m = Markers::default();
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(corrupt(FORMAT, "missing start-of-image marker"));
    }
    let mut pos = 2;
    while pos < bytes.len() {
        // Tolerate garbage between segments the way libjpeg does: scan to the next 0xFF.
        if bytes[pos] != 0xFF {
            pos += 1;
            continue;
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else { break };
        pos += 1;
        match marker {
            0x00 | 0x01 | 0xD0..=0xD8 => continue,
            0xD9 => break,
            _ => {}
        }
        let Some(len) = be16(bytes, pos).map(usize::from) else {
            break;
        };
        if len < 2 {
            return Err(corrupt(
                FORMAT,
                format!("segment 0x{marker:02X} has length {len}"),
            ));
        }
        let Some(seg) = bytes.get(pos + 2..pos + len) else {
            // A truncated segment ends the walk; a missing frame header is reported below.
            break;
        };
        pos += len;
        if marker == 0xDA {
            // Start of scan: everything the header facts need comes before it.
            break;
        }
        read_segment(marker, seg, &mut m)?;
    }
    Ok(m)
}

/// Collect what one segment before the first scan tells.
fn read_segment(marker: u8, seg: &[u8], m: &mut Markers) -> Result<()> {
    match marker {
        0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) && m.sof.is_none() => {
            m.sof = Some(parse_sof(seg)?);
        }
        0xDB => parse_dqt(seg, &mut m.tables)?,
        0xE0 if seg.len() >= 12 && seg.starts_with(b"JFIF\0") => {
            let x = be16(seg, 8).unwrap_or(0);
            let y = be16(seg, 10).unwrap_or(0);
            if x > 0 && y > 0 {
                m.density = Some((seg[7], x, y));
            }
        }
        0xE1 => {
            if let Some(exif) = seg.strip_prefix(b"Exif\0\0") {
                m.exif.get_or_insert_with(|| exif.to_vec());
            } else if let Some(xmp) = seg.strip_prefix(b"http://ns.adobe.com/xap/1.0/\0") {
                m.xmp.get_or_insert_with(|| xmp.to_vec());
            }
        }
        0xE2 => {
            if let Some(rest) = seg.strip_prefix(b"ICC_PROFILE\0").filter(|r| r.len() >= 2) {
                m.icc_chunks.push((rest[0], rest[2..].to_vec()));
            }
        }
        0xEE if seg.len() >= 12 && seg.starts_with(b"Adobe") => {
            m.adobe_transform = Some(seg[11]);
        }
        _ => {}
    }
    Ok(())
}

fn parse_sof(seg: &[u8]) -> Result<Sof> {
    if seg.len() < 6 {
        return Err(corrupt(FORMAT, "frame header too short"));
    }
    let sof = Sof {
        precision: seg[0],
        height: be16(seg, 1).unwrap_or(0),
        width: be16(seg, 3).unwrap_or(0),
        components: seg[5],
    };
    if sof.width == 0 || sof.height == 0 {
        return Err(corrupt(FORMAT, "zero width or height in the frame header"));
    }
    if !matches!(sof.components, 1 | 3 | 4) {
        return Err(corrupt(
            FORMAT,
            format!("{} colour components are not supported", sof.components),
        ));
    }
    Ok(sof)
}

fn parse_dqt(seg: &[u8], tables: &mut [Option<[u16; 64]>; 4]) -> Result<()> {
    let mut i = 0;
    while i < seg.len() {
        let pq_tq = seg[i];
        let wide = pq_tq >> 4 != 0;
        let id = usize::from(pq_tq & 0x0F);
        let size = if wide { 128 } else { 64 };
        let Some(data) = seg.get(i + 1..i + 1 + size) else {
            return Err(corrupt(FORMAT, "truncated quantisation table"));
        };
        let mut table = [0u16; 64];
        for (k, natural) in NATURAL_ORDER.iter().enumerate() {
            table[*natural] = if wide {
                u16::from_be_bytes([data[2 * k], data[2 * k + 1]])
            } else {
                u16::from(data[k])
            };
        }
        if let Some(slot) = tables.get_mut(id) {
            *slot = Some(table);
        }
        i += 1 + size;
    }
    Ok(())
}

/// Join `ICC_PROFILE` chunks in sequence order; `None` when absent or inconsistent.
fn join_icc(mut chunks: Vec<(u8, Vec<u8>)>) -> Option<Vec<u8>> {
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|(seq, _)| *seq);
    if chunks.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    Some(chunks.into_iter().flat_map(|(_, d)| d).collect())
}

/// The libjpeg quality of the file's quantisation tables, as ImageMagick reports it.
///
/// libjpeg (and everything built on it) scales the Annex K tables by `5000/q` (q < 50) or
/// `200 - 2q` percent. Like ImageMagick's `%Q`, scan q upwards and stop at the first q whose
/// scaled tables are no coarser than the file's, judged by the sum of all entries and by a
/// four-entry fingerprint (luma 2 and 53, chroma 0 and 63). Files made by libjpeg give their
/// exact q; others get the nearest q at or above their coarseness.
pub(crate) fn estimate_quality(tables: &[Option<[u16; 64]>; 4]) -> Option<u8> {
    let luma = tables[0].as_ref()?;
    let chroma = tables[1].as_ref();
    let sum: u32 = tables
        .iter()
        .flatten()
        .flatten()
        .map(|&v| u32::from(v))
        .sum();
    let fingerprint = |l: &[u16; 64], c: Option<&[u16; 64]>| -> u32 {
        u32::from(l[2]) + u32::from(l[53]) + c.map_or(0, |c| u32::from(c[0]) + u32::from(c[63]))
    };
    let actual = fingerprint(luma, chroma);
    for q in 1..=100u8 {
        let l = scaled_table(&STD_LUMA, q);
        let c = chroma.map(|_| scaled_table(&STD_CHROMA, q));
        let q_sum: u32 = l
            .iter()
            .chain(c.iter().flatten())
            .map(|&v| u32::from(v))
            .sum();
        if actual >= fingerprint(&l, c.as_ref()) || sum >= q_sum {
            return Some(q);
        }
    }
    Some(100)
}

/// An Annex K table scaled to libjpeg quality `q`, clamped to baseline (1..=255).
fn scaled_table(standard: &[u16; 64], q: u8) -> [u16; 64] {
    let q = u32::from(q);
    let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
    standard.map(|s| ((u32::from(s) * scale + 50) / 100).clamp(1, 255) as u16)
}

/// zune-jpeg options with the side limit: zune refuses a larger frame by itself too.
fn zune_options(max_side: u32) -> DecoderOptions {
    let max = usize::try_from(max_side).unwrap_or(usize::MAX);
    DecoderOptions::default()
        .set_max_width(max)
        .set_max_height(max)
        .set_strict_mode(false)
}

/// The frame size the pixel decoder reads: zune-jpeg's, or libjpeg's when zune-jpeg refuses
/// the headers (the file then decodes through libjpeg); `None` when neither reads them.
fn decoder_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    // No side limit here: imageInfo reports the size of images too large to decode.
    let mut zune = JpegDecoder::new_with_options(ZCursor::new(bytes), zune_options(u32::MAX));
    match zune.decode_headers() {
        Ok(()) => zune_size(&zune).ok(),
        Err(_) => libjpeg::dimensions(bytes).ok(),
    }
}

/// Width and height of a zune decoder whose headers are decoded.
fn zune_size<T: zune_jpeg::zune_core::bytestream::ZByteReaderTrait>(
    dec: &JpegDecoder<T>,
) -> Result<(u32, u32)> {
    dec.info()
        .map(|i| (u32::from(i.width), u32::from(i.height)))
        .ok_or_else(|| corrupt(FORMAT, "no dimensions"))
}

/// Decode pixels: gray stays gray, YCbCr/RGB become RGB, CMYK/YCCK become sRGB.
///
/// zune-jpeg first; when it refuses the file for any reason but a limit, libjpeg gets a try.
pub(super) fn decode(bytes: &[u8], header: &mut Header, limits: &Limits) -> Result<Vec<Frame>> {
    let expected = (header.width, header.height);
    let pixels = match decode_zune(bytes, expected, limits) {
        Ok(pixels) => pixels,
        Err(e) if e.is_limit() => return Err(e),
        Err(zune_err) => libjpeg::decode(bytes, expected, limits).map_err(|libjpeg_err| {
            if libjpeg_err.is_limit() {
                libjpeg_err
            } else {
                corrupt(FORMAT, format!("{zune_err}; libjpeg: {libjpeg_err}"))
            }
        })?,
    };
    let image = match pixels {
        Pixels::Image(image) => image,
        Pixels::Cmyk {
            width,
            height,
            data,
            ycck,
        } => {
            let adobe = walk_markers(bytes)?.adobe_transform.is_some();
            let rgb = super::cmyk::to_srgb(&data, ycck, adobe, header.metadata.icc.as_deref());
            // The pixels are sRGB now: a CMYK profile no longer describes them.
            header.metadata.icc = None;
            DynamicImage::ImageRgb8(
                RgbImage::from_raw(width, height, rgb)
                    .ok_or_else(|| corrupt(FORMAT, "decoder returned a short buffer"))?,
            )
        }
    };
    Ok(still(image))
}

/// zune-jpeg's pixels, refusing a frame over `limits` before zune-jpeg allocates them.
fn decode_zune(bytes: &[u8], expected: (u32, u32), limits: &Limits) -> Result<Pixels> {
    let base = zune_options(limits.max_side);
    let mut probe = JpegDecoder::new_with_options(ZCursor::new(bytes), base);
    probe.decode_headers().map_err(|e| corrupt(FORMAT, e))?;
    let input = probe
        .input_colorspace()
        .ok_or_else(|| corrupt(FORMAT, "no colour space"))?;
    let out = match input {
        ColorSpace::Luma => ColorSpace::Luma,
        ColorSpace::CMYK | ColorSpace::YCCK => input,
        _ => ColorSpace::RGB,
    };
    let mut dec =
        JpegDecoder::new_with_options(ZCursor::new(bytes), base.jpeg_set_out_colorspace(out));
    // The size this decoder instance will allocate for, checked before `decode` allocates.
    dec.decode_headers().map_err(|e| corrupt(FORMAT, e))?;
    let (w, h) = zune_size(&dec)?;
    limits.check_canvas(w, h)?;
    if (w, h) != expected {
        return Err(corrupt(
            FORMAT,
            format!(
                "the decoder reads a {w}x{h} frame where the headers say {}x{}",
                expected.0, expected.1
            ),
        ));
    }
    let pixels = dec.decode().map_err(|e| corrupt(FORMAT, e))?;
    let short = || corrupt(FORMAT, "decoder returned a short buffer");
    Ok(match out {
        ColorSpace::Luma => Pixels::Image(DynamicImage::ImageLuma8(
            GrayImage::from_raw(w, h, pixels).ok_or_else(short)?,
        )),
        ColorSpace::RGB => Pixels::Image(DynamicImage::ImageRgb8(
            RgbImage::from_raw(w, h, pixels).ok_or_else(short)?,
        )),
        _ => {
            if pixels.len() != w as usize * h as usize * 4 {
                return Err(short());
            }
            Pixels::Cmyk {
                width: w,
                height: h,
                data: pixels,
                ycck: input == ColorSpace::YCCK,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_inverts_libjpeg_scaling() {
        for q in [1u8, 10, 25, 40, 50, 75, 80, 90, 95, 97, 99, 100] {
            let colour = [
                Some(scaled_table(&STD_LUMA, q)),
                Some(scaled_table(&STD_CHROMA, q)),
                None,
                None,
            ];
            assert_eq!(estimate_quality(&colour), Some(q), "q={q}");
            let gray = [Some(scaled_table(&STD_LUMA, q)), None, None, None];
            assert_eq!(estimate_quality(&gray), Some(q), "gray q={q}");
        }
        assert_eq!(estimate_quality(&[None; 4]), None);
    }

    #[test]
    fn truncated_headers_are_corrupt() {
        assert!(read_header(&[0xFF, 0xD8, 0xFF]).is_err());
        assert!(read_header(&[0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 0]).is_err());
    }
}
