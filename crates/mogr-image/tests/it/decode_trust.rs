//! Headers that lie: the size the limits are checked on, and the size imageInfo reports, must be
//! the size the decoder really uses. Files whose parsers disagree are refused before any pixel
//! buffer is allocated (a limit or corrupt-image error), never decoded at a size nobody checked.
//! Also: JPEGs zune-jpeg refuses but libjpeg reads decode through libjpeg.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::{DynamicImage, GrayImage, ImageFormat as Fmt, RgbImage, RgbaImage};
use mogr_image::{decode, header_info, probe, Engine, ImageError, Limits};

fn encode(img: DynamicImage, fmt: Fmt) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).unwrap();
    out.into_inner()
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 90])
    })
}

/// Position of the first `FF <marker>` after SOI.
fn marker_at(jpg: &[u8], marker: u8) -> usize {
    (2..jpg.len() - 1)
        .find(|&i| jpg[i] == 0xFF && jpg[i + 1] == marker)
        .expect("marker present")
}

/// The whole segment (marker, length, payload) starting at `pos`.
fn segment(jpg: &[u8], pos: usize) -> Vec<u8> {
    let len = usize::from(u16::from_be_bytes([jpg[pos + 2], jpg[pos + 3]]));
    jpg[pos..pos + 2 + len].to_vec()
}

/// Set the height and width of the SOF segment starting at `pos`.
fn set_sof_size(jpg: &mut [u8], pos: usize, w: u16, h: u16) {
    jpg[pos + 5..pos + 7].copy_from_slice(&h.to_be_bytes());
    jpg[pos + 7..pos + 9].copy_from_slice(&w.to_be_bytes());
}

/// The crafted JPEG from the security review: right after SOI, a restart marker `FF D0` given
/// a length, whose "payload" is a 16x16 frame header; then a real 8x8 JPEG whose frame header
/// says 20000x20000. A marker walk that treats `FF D0` as length-less (as libjpeg does) sees
/// the 16x16 frame first; zune-jpeg skips the segment by its length and reads 20000x20000.
pub fn hidden_frame_jpeg() -> Vec<u8> {
    let mut real = encode(DynamicImage::ImageRgb8(gradient(8, 8)), Fmt::Jpeg);
    let sof = marker_at(&real, 0xC0);
    let mut fake = segment(&real, sof);
    set_sof_size(&mut fake, 0, 16, 16);
    set_sof_size(&mut real, sof, 20_000, 20_000);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xD0];
    out.extend_from_slice(&(fake.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&fake);
    out.extend_from_slice(&real[2..]);
    out
}

/// Refused as a limit or as a corrupt image (both before any pixel is decoded).
fn assert_refused(what: &str, err: &ImageError) {
    assert!(
        err.is_limit() || matches!(err, ImageError::Corrupt { .. }),
        "{what}: expected a limit or corrupt-image error, got {err:?}"
    );
}

#[test]
fn jpeg_with_a_frame_header_hidden_behind_a_restart_marker_is_refused() {
    let jpg = hidden_frame_jpeg();
    assert!(jpg.len() < 1024, "{} bytes", jpg.len());
    let limits = Limits::default();
    // imageInfo and the probe never report the decoy size.
    match probe(&jpg) {
        Ok(p) => panic!("probe reported {}x{}", p.width, p.height),
        Err(e) => assert_refused("probe", &e),
    }
    match header_info(&jpg, &limits) {
        Ok(i) => panic!("imageInfo reported {}x{}", i.width, i.height),
        Err(e) => assert_refused("imageInfo", &e),
    }
    assert_refused("decode", &decode(&jpg, &limits).unwrap_err());
    let err = Engine::default()
        .process_rule(&jpg, "imageMogr2/format/png")
        .unwrap_err();
    assert_refused("engine", &err);
}

#[test]
fn jpeg_decoder_refuses_a_frame_over_the_limits_by_itself() {
    // The zune-jpeg path checks its own frame size before it allocates, whatever the caller
    // probed: a limit below the real size refuses even an ordinary file.
    let jpg = encode(DynamicImage::ImageRgb8(gradient(64, 48)), Fmt::Jpeg);
    let limits = Limits {
        max_side: 50,
        ..Limits::default()
    };
    let err = decode(&jpg, &limits).unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
}

/// An 8-bit grayscale JPEG with a `TEM` marker (`FF 01`, which has no length) right before its
/// frame header, followed by two stray bytes. libjpeg skips the stray bytes and reads the frame
/// header; zune-jpeg takes them for a length, skips the frame header with them and then fails
/// with "Number of components cannot be zero", the error toolkits' odd files give it.
fn stray_marker_gray_jpeg() -> Vec<u8> {
    let gray = GrayImage::from_fn(16, 8, |x, y| image::Luma([(x * 15 + y * 3) as u8]));
    let jpg = encode(DynamicImage::ImageLuma8(gray), Fmt::Jpeg);
    let sof = marker_at(&jpg, 0xC0);
    let sof_len = segment(&jpg, sof).len();
    let mut out = jpg[..sof].to_vec();
    out.extend_from_slice(&[0xFF, 0x01]);
    out.extend_from_slice(&(sof_len as u16 + 2).to_be_bytes());
    out.extend_from_slice(&jpg[sof..]);
    out
}

/// libjpeg's own decode of `bytes` to gray pixels.
fn libjpeg_gray(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    catch_unwind(AssertUnwindSafe(|| {
        let dec = mozjpeg::Decompress::new_mem(bytes).unwrap();
        let mut started = dec.grayscale().unwrap();
        let (w, h) = (started.width(), started.height());
        let px: Vec<u8> = started.read_scanlines().unwrap();
        (w, h, px)
    }))
    .expect("libjpeg decodes the file")
}

#[test]
fn jpeg_that_zune_refuses_decodes_through_libjpeg() {
    let jpg = stray_marker_gray_jpeg();
    let mut zune =
        zune_jpeg::JpegDecoder::new(zune_jpeg::zune_core::bytestream::ZCursor::new(&jpg[..]));
    let zune_err = zune.decode().expect_err("zune-jpeg refuses the file");
    assert!(
        zune_err.to_string().contains("components"),
        "zune-jpeg's error: {zune_err}"
    );
    let (w, h, want) = libjpeg_gray(&jpg);
    assert_eq!((w, h), (16, 8));

    let p = probe(&jpg).unwrap();
    assert_eq!((p.width, p.height), (16, 8));
    let img = decode(&jpg, &Limits::default()).unwrap();
    assert_eq!((img.width, img.height), (16, 8));
    match &img.frames[0].image {
        DynamicImage::ImageLuma8(g) => assert_eq!(g.as_raw(), &want),
        other => panic!("expected gray pixels, got {:?}", other.color()),
    }
    // The libjpeg path is held to the limits too.
    let tight = Limits {
        max_pixels: 100,
        ..Limits::default()
    };
    let err = decode(&jpg, &tight).unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
    // And through the engine.
    let out = Engine::default()
        .process_rule(&jpg, "imageMogr2/format/png")
        .unwrap();
    assert_eq!((out.width, out.height), (16, 8));
}

#[test]
fn libjpeg_is_not_given_more_scans_than_zune_jpeg_accepts() {
    // Each progressive scan is a pass over the whole image; zune-jpeg refuses more than 100,
    // and such a file must not reach libjpeg instead. Scan markers past the end count too.
    let mut jpg = stray_marker_gray_jpeg();
    assert!(decode(&jpg, &Limits::default()).is_ok());
    for _ in 0..101 {
        jpg.extend_from_slice(&[0xFF, 0xDA]);
    }
    let err = decode(&jpg, &Limits::default()).unwrap_err();
    assert!(matches!(err, ImageError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("scans"), "{err}");
}

#[test]
fn jpeg_neither_decoder_reads_is_refused_as_corrupt() {
    // Two frame headers: zune-jpeg and libjpeg both refuse a second one.
    let jpg = encode(DynamicImage::ImageRgb8(gradient(8, 8)), Fmt::Jpeg);
    let sof = marker_at(&jpg, 0xC0);
    let seg = segment(&jpg, sof);
    let mut twice = jpg[..sof].to_vec();
    twice.extend_from_slice(&seg);
    twice.extend_from_slice(&jpg[sof..]);
    let err = decode(&twice, &Limits::default()).unwrap_err();
    assert!(matches!(err, ImageError::Corrupt { .. }), "{err:?}");
}

/// CRC-32 (ISO-HDLC) as PNG chunks use it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG chunk with its length and CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&out[4..]).to_be_bytes());
    out
}

/// Where chunk `kind` starts (its length field), the `nth` one.
fn png_chunk_at(png: &[u8], kind: &[u8; 4], nth: usize) -> usize {
    png.windows(4)
        .enumerate()
        .filter(|(_, w)| w == kind)
        .nth(nth)
        .map(|(i, _)| i - 4)
        .expect("chunk present")
}

#[test]
fn png_with_a_second_larger_ihdr_never_decodes_at_an_unchecked_size() {
    let png = encode(DynamicImage::ImageRgb8(gradient(16, 16)), Fmt::Png);
    let ihdr = png_chunk_at(&png, b"IHDR", 0);
    let mut data = png[ihdr + 8..ihdr + 8 + 13].to_vec();
    data[0..4].copy_from_slice(&20_000u32.to_be_bytes());
    data[4..8].copy_from_slice(&20_000u32.to_be_bytes());
    let mut hostile = png[..ihdr + 25].to_vec();
    hostile.extend_from_slice(&png_chunk(b"IHDR", &data));
    hostile.extend_from_slice(&png[ihdr + 25..]);
    let probed = probe(&hostile).ok().map(|p| (p.width, p.height));
    match decode(&hostile, &Limits::default()) {
        Ok(img) => {
            assert_eq!(Some((img.width, img.height)), probed);
            assert_eq!((img.width, img.height), (16, 16));
        }
        Err(e) => assert_refused("decode", &e),
    }
}

#[test]
fn apng_frame_larger_than_its_canvas_is_refused() {
    let mut apng = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut apng, 8, 8);
        enc.set_color(png::ColorType::Rgba);
        enc.set_animated(2, 0).unwrap();
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[200u8; 8 * 8 * 4]).unwrap();
        w.write_image_data(&[90u8; 8 * 8 * 4]).unwrap();
        w.finish().unwrap();
    }
    // The second fcTL: sequence number, then width and height.
    let fctl = png_chunk_at(&apng, b"fcTL", 1);
    let mut data = apng[fctl + 8..fctl + 8 + 26].to_vec();
    data[4..8].copy_from_slice(&20_000u32.to_be_bytes());
    data[8..12].copy_from_slice(&20_000u32.to_be_bytes());
    let mut hostile = apng[..fctl].to_vec();
    hostile.extend_from_slice(&png_chunk(b"fcTL", &data));
    hostile.extend_from_slice(&apng[fctl + 12 + 26..]);
    let p = probe(&hostile).unwrap();
    assert_eq!((p.width, p.height, p.frames), (8, 8, 2));
    match decode(&hostile, &Limits::default()) {
        // The damaged frame is dropped; the canvas stays the probed one.
        Ok(img) => {
            assert_eq!((img.width, img.height), (8, 8));
            assert_eq!(img.frames.len(), 1);
        }
        Err(e) => assert_refused("decode", &e),
    }
}

/// A one-frame GIF with a `screen` logical screen whose frame descriptor is rewritten.
fn gif_with_frame(screen: (u16, u16), left: u16, top: u16, w: u16, h: u16) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette = [0, 0, 0, 255, 0, 0];
        let mut enc = gif::Encoder::new(&mut out, screen.0, screen.1, &palette).unwrap();
        let frame = gif::Frame::from_indexed_pixels(4, 4, vec![1; 16], None);
        enc.write_frame(&frame).unwrap();
    }
    let pos = out.iter().position(|&b| b == 0x2C).unwrap();
    out[pos + 1..pos + 3].copy_from_slice(&left.to_le_bytes());
    out[pos + 3..pos + 5].copy_from_slice(&top.to_le_bytes());
    out[pos + 5..pos + 7].copy_from_slice(&w.to_le_bytes());
    out[pos + 7..pos + 9].copy_from_slice(&h.to_le_bytes());
    out
}

#[test]
fn gif_frame_far_larger_than_its_screen_is_a_limit_error() {
    let gif = gif_with_frame((1, 1), 0, 0, 20_000, 20_000);
    let p = probe(&gif).unwrap();
    assert_eq!((p.width, p.height), (1, 1));
    let err = decode(&gif, &Limits::default()).unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
}

#[test]
fn gif_frame_outside_its_screen_is_clipped_to_the_probed_canvas() {
    let gif = gif_with_frame((8, 8), 60_000, 60_000, 4, 4);
    let p = probe(&gif).unwrap();
    let img = decode(&gif, &Limits::default()).unwrap();
    assert_eq!((img.width, img.height), (p.width, p.height));
    assert_eq!((img.width, img.height), (8, 8));
}

#[test]
fn webp_whose_canvas_hides_a_larger_bitstream_is_refused() {
    // A VP8X canvas of 16x16 in front of a lossless bitstream that says 16384x16384.
    let inner = encode(DynamicImage::ImageRgba8(RgbaImage::new(8, 8)), Fmt::WebP);
    let mut vp8l = inner[12..].to_vec();
    assert_eq!(&vp8l[..4], b"VP8L");
    let bits = 0x3FFFu32 | (0x3FFF << 14) | (u32::from(vp8l[12] >> 4) << 28);
    vp8l[9..13].copy_from_slice(&bits.to_le_bytes());
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(b"VP8X");
    body.extend_from_slice(&10u32.to_le_bytes());
    body.push(0x10);
    body.extend_from_slice(&[0, 0, 0]);
    body.extend_from_slice(&15u32.to_le_bytes()[..3]);
    body.extend_from_slice(&15u32.to_le_bytes()[..3]);
    body.extend_from_slice(&vp8l);
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&(body.len() as u32).to_le_bytes());
    webp.extend_from_slice(&body);
    let err = decode(&webp, &Limits::default()).unwrap_err();
    assert_refused("decode", &err);
}

/// A 64x64 HEIC made by the engine's own encoder.
fn heic() -> Vec<u8> {
    let png = encode(DynamicImage::ImageRgb8(gradient(64, 64)), Fmt::Png);
    Engine::default()
        .process_rule(&png, "imageMogr2/format/heic")
        .unwrap()
        .bytes
}

#[test]
fn heic_whose_ispe_understates_the_coded_image_is_refused() {
    let mut heic = heic();
    assert_eq!(decode(&heic, &Limits::default()).unwrap().width, 64);
    // ispe: size, "ispe", version and flags, then width and height.
    let ispe = heic.windows(4).position(|w| w == b"ispe").unwrap();
    heic[ispe + 8..ispe + 12].copy_from_slice(&16u32.to_be_bytes());
    heic[ispe + 12..ispe + 16].copy_from_slice(&16u32.to_be_bytes());
    let p = probe(&heic).unwrap();
    assert_eq!((p.width, p.height), (16, 16));
    let err = decode(&heic, &Limits::default()).unwrap_err();
    assert_refused("decode", &err);
}

#[test]
fn heic_item_over_the_limits_is_refused_before_decoding() {
    let heic = heic();
    let limits = Limits {
        max_pixels: 64 * 64 - 1,
        ..Limits::default()
    };
    let err = decode(&heic, &limits).unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
}

/// A 64x64 AVIF made by the engine's own encoder.
fn avif() -> Vec<u8> {
    let png = encode(DynamicImage::ImageRgb8(gradient(64, 64)), Fmt::Png);
    Engine::default()
        .process_rule(&png, "imageMogr2/format/avif")
        .unwrap()
        .bytes
}

/// (position, header length, total length, type) of the boxes laid end to end in `file[from..to]`.
fn boxes_in(file: &[u8], from: usize, to: usize) -> Vec<(usize, usize, usize, [u8; 4])> {
    let mut out = Vec::new();
    let mut pos = from;
    while pos + 8 <= to {
        let size = u32::from_be_bytes(file[pos..pos + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = file[pos + 4..pos + 8].try_into().unwrap();
        let size = if size == 0 { to - pos } else { size };
        out.push((pos, 8, size, kind));
        pos += size;
    }
    out
}

/// The payload range of the box at `path` (meta's version and flags skipped when descending).
fn box_range(file: &[u8], path: &[&[u8; 4]]) -> (usize, usize) {
    let (mut from, mut to) = (0, file.len());
    for (depth, kind) in path.iter().enumerate() {
        let (pos, header, size, _) = *boxes_in(file, from, to)
            .iter()
            .find(|b| &b.3 == *kind)
            .unwrap_or_else(|| panic!("no {:?} box", String::from_utf8_lossy(*kind)));
        from = pos + header;
        to = pos + size;
        if **kind == *b"meta" && depth + 1 < path.len() {
            from += 4;
        }
    }
    (from, to)
}

/// `file` with the payload of the box at `path` replaced: the sizes of the enclosing boxes grow
/// with it, and item data offsets in the file (behind `meta`, as the encoder writes them) move.
fn replace_box(file: &[u8], path: &[&[u8; 4]], payload: &[u8]) -> Vec<u8> {
    let (from, to) = box_range(file, path);
    let delta = payload.len() as i64 - (to - from) as i64;
    let mut out = file[..from].to_vec();
    out.extend_from_slice(payload);
    out.extend_from_slice(&file[to..]);
    for depth in 1..=path.len() {
        let pos = box_range(file, &path[..depth]).0 - 8;
        let size = u32::from_be_bytes(out[pos..pos + 4].try_into().unwrap());
        out[pos..pos + 4].copy_from_slice(&((size as i64 + delta) as u32).to_be_bytes());
    }
    if !path.contains(&b"mdat") {
        shift_iloc(&mut out, delta, 0);
    }
    out
}

/// Add `offset_delta` to every item's file offsets and `length_delta` to every extent length
/// in the `iloc` (version 0 or 1, construction method 0).
fn shift_iloc(file: &mut [u8], offset_delta: i64, length_delta: i64) {
    let (from, _) = box_range(file, &[b"meta", b"iloc"]);
    let version = file[from];
    let (offset_size, length_size) = (file[from + 4] >> 4, file[from + 4] & 15);
    let base_size = file[from + 5] >> 4;
    let index_size = if version == 0 { 0 } else { file[from + 5] & 15 };
    let mut pos = from + 6;
    let field = |file: &mut [u8], pos: &mut usize, n: u8, delta: i64| {
        let n = usize::from(n);
        if n > 0 {
            let mut v = file[*pos..*pos + n]
                .iter()
                .fold(0i64, |v, b| (v << 8) | i64::from(*b));
            v += delta;
            for i in 0..n {
                file[*pos + i] = (v >> (8 * (n - 1 - i))) as u8;
            }
        }
        *pos += n;
    };
    let count = u16::from_be_bytes([file[pos], file[pos + 1]]);
    pos += 2;
    for _ in 0..count {
        pos += if version == 0 { 4 } else { 6 }; // id, method, data reference
        let offset_delta_here = if base_size > 0 { 0 } else { offset_delta };
        field(file, &mut pos, base_size, offset_delta);
        let extents = u16::from_be_bytes([file[pos], file[pos + 1]]);
        pos += 2;
        for _ in 0..extents {
            field(file, &mut pos, index_size, 0);
            field(file, &mut pos, offset_size, offset_delta_here);
            field(file, &mut pos, length_size, length_delta);
        }
    }
}

/// MSB-first bits of `bytes`.
fn to_bits(bytes: &[u8]) -> Vec<bool> {
    bytes
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1))
        .collect()
}

/// Bytes of `bits` followed by a stop bit and zero padding, as headers end.
fn from_bits(mut bits: Vec<bool>) -> Vec<u8> {
    bits.push(true);
    while !bits.len().is_multiple_of(8) {
        bits.push(false);
    }
    bits.chunks(8)
        .map(|c| c.iter().fold(0u8, |v, &b| (v << 1) | u8::from(b)))
        .collect()
}

fn put_bits(out: &mut Vec<bool>, n: u32, v: u64) {
    out.extend((0..n).rev().map(|i| (v >> i) & 1 == 1));
}

/// An Exp-Golomb code read from `bits` at `pos`.
fn read_ue(bits: &[bool], pos: &mut usize) -> u64 {
    let zeros = bits[*pos..].iter().take_while(|b| !**b).count();
    let v = bits[*pos + zeros..*pos + 2 * zeros + 1]
        .iter()
        .fold(0u64, |v, &b| (v << 1) | u64::from(b));
    *pos += 2 * zeros + 1;
    v - 1
}

fn put_ue(out: &mut Vec<bool>, v: u64) {
    let len = 64 - (v + 1).leading_zeros();
    put_bits(out, len - 1, 0);
    put_bits(out, len, v + 1);
}

/// `sps` (an HEVC SPS NAL unit of one sub-layer) saying `w` x `h`: the RBSP is re-coded with
/// new Exp-Golomb sizes and its emulation prevention bytes redone.
fn sps_with_size(sps: &[u8], w: u64, h: u64) -> Vec<u8> {
    let mut rbsp = Vec::new();
    for (i, &b) in sps.iter().enumerate().skip(2) {
        if !(b == 3 && i >= 4 && sps[i - 1] == 0 && sps[i - 2] == 0) {
            rbsp.push(b);
        }
    }
    let bits = to_bits(&rbsp);
    assert!(!bits[4] && !bits[5] && !bits[6], "one sub-layer");
    // VPS id, sub-layers, nesting flag, profile_tier_level; then the SPS id and chroma format.
    let mut pos = 8 + 96;
    read_ue(&bits, &mut pos);
    assert_ne!(read_ue(&bits, &mut pos), 3);
    let mut out = bits[..pos].to_vec();
    read_ue(&bits, &mut pos);
    read_ue(&bits, &mut pos);
    put_ue(&mut out, w);
    put_ue(&mut out, h);
    let last_one = bits.iter().rposition(|b| *b).unwrap();
    out.extend_from_slice(&bits[pos..last_one]);
    let mut nal = sps[..2].to_vec();
    let mut zeros = 0;
    for b in from_bits(out) {
        if zeros >= 2 && b <= 3 {
            nal.push(3);
            zeros = 0;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        nal.push(b);
    }
    nal
}

/// `heic` with the picture size in the SPS of its `hvcC` set to `w` x `h`; its `ispe` stays.
fn heic_with_coded_size(heic: &[u8], w: u64, h: u64) -> Vec<u8> {
    let path: [&[u8; 4]; 4] = [b"meta", b"iprp", b"ipco", b"hvcC"];
    let (from, to) = box_range(heic, &path);
    let hvcc = &heic[from..to];
    let mut out = hvcc[..23].to_vec();
    let mut pos = 23;
    for _ in 0..hvcc[22] {
        out.extend_from_slice(&hvcc[pos..pos + 3]);
        let count = u16::from_be_bytes([hvcc[pos + 1], hvcc[pos + 2]]);
        pos += 3;
        for _ in 0..count {
            let len = usize::from(u16::from_be_bytes([hvcc[pos], hvcc[pos + 1]]));
            let mut nal = hvcc[pos + 2..pos + 2 + len].to_vec();
            if (nal[0] >> 1) & 0x3F == 33 {
                nal = sps_with_size(&nal, w, h);
            }
            out.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            out.extend_from_slice(&nal);
            pos += 2 + len;
        }
    }
    replace_box(heic, &path, &out)
}

/// `avif` (one item, its data the whole `mdat`) with the maximum frame size of the sequence
/// header in its data set to `w` x `h`, written with 16-bit fields.
fn avif_with_coded_size(avif: &[u8], w: u64, h: u64) -> Vec<u8> {
    let (from, to) = box_range(avif, &[b"mdat"]);
    let data = &avif[from..to];
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        // OBU header with a size field, no extension; sizes under 128 in these small files.
        assert_eq!(data[pos] & 6, 2, "OBU with a size field and no extension");
        let (kind, len) = ((data[pos] >> 3) & 15, usize::from(data[pos + 1]));
        assert!(len < 128);
        let mut payload = data[pos + 2..pos + 2 + len].to_vec();
        if kind == 1 {
            let bits = to_bits(&payload);
            assert!(bits[4], "reduced still picture header");
            let wbits = bits[10..14]
                .iter()
                .fold(0, |v, &b| (v << 1) | usize::from(b))
                + 1;
            let hbits = bits[14..18]
                .iter()
                .fold(0, |v, &b| (v << 1) | usize::from(b))
                + 1;
            let rest = 18 + wbits + hbits;
            let mut new = bits[..10].to_vec();
            put_bits(&mut new, 4, 15);
            put_bits(&mut new, 4, 15);
            put_bits(&mut new, 16, w - 1);
            put_bits(&mut new, 16, h - 1);
            let last_one = bits.iter().rposition(|b| *b).unwrap();
            new.extend_from_slice(&bits[rest..last_one]);
            payload = from_bits(new);
        }
        out.push(data[pos]);
        out.push(payload.len() as u8);
        out.extend_from_slice(&payload);
        pos += 2 + len;
    }
    let delta = out.len() as i64 - data.len() as i64;
    let mut file = replace_box(avif, &[b"mdat"], &out);
    shift_iloc(&mut file, 0, delta);
    file
}

/// Refused with `ResolutionExceed` by the probe, imageInfo, the decoder and the engine.
fn assert_resolution_refused(what: &str, file: &[u8]) {
    let limits = Limits::default();
    let is_resolution = |e: &ImageError| matches!(e, ImageError::ResolutionExceed(_));
    match probe(file) {
        Ok(p) => panic!("{what}: probe reported {}x{}", p.width, p.height),
        Err(e) => assert!(is_resolution(&e), "{what}: probe: {e:?}"),
    }
    match header_info(file, &limits) {
        Ok(i) => panic!("{what}: imageInfo reported {}x{}", i.width, i.height),
        Err(e) => assert!(is_resolution(&e), "{what}: imageInfo: {e:?}"),
    }
    let err = decode(file, &limits).unwrap_err();
    assert!(is_resolution(&err), "{what}: decode: {err:?}");
    let err = Engine::default()
        .process_rule(file, "imageMogr2/format/png")
        .unwrap_err();
    assert!(is_resolution(&err), "{what}: engine: {err:?}");
}

#[test]
fn heic_with_its_own_sps_size_rewritten_still_decodes() {
    // The rewriting itself keeps the file valid: the same size re-coded decodes as before.
    let heic = heic();
    let same = heic_with_coded_size(&heic, 64, 64);
    let img = decode(&same, &Limits::default()).unwrap();
    assert_eq!((img.width, img.height), (64, 64));
}

#[test]
fn heic_whose_sps_hides_a_huge_picture_is_refused_before_decoding() {
    // The ispe says 64x64; the SPS libde265 allocates from says 40000x40000.
    let hostile = heic_with_coded_size(&heic(), 40_000, 40_000);
    assert_resolution_refused("heic 40000x40000", &hostile);
}

#[test]
fn heic_whose_sps_is_far_larger_than_its_ispe_is_refused_within_the_limits() {
    // 4096x4096 is within the limits, but not the 64x64 the file declares and was probed at.
    let hostile = heic_with_coded_size(&heic(), 4096, 4096);
    assert_resolution_refused("heic 4096x4096", &hostile);
}

#[test]
fn avif_with_its_own_sequence_header_rewritten_still_decodes() {
    let avif = avif();
    let same = avif_with_coded_size(&avif, 64, 64);
    let img = decode(&same, &Limits::default()).unwrap();
    assert_eq!((img.width, img.height), (64, 64));
}

#[test]
fn avif_whose_sequence_header_hides_a_huge_picture_is_refused_before_decoding() {
    let avif = avif();
    assert_resolution_refused(
        "avif 40000x40000",
        &avif_with_coded_size(&avif, 40_000, 40_000),
    );
    assert_resolution_refused("avif 4096x4096", &avif_with_coded_size(&avif, 4096, 4096));
}
