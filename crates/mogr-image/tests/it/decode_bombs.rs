//! Decompression bombs: tiny files whose headers declare enormous canvases are refused from the
//! header alone, with a limit error, before any pixel buffer is allocated.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat as Fmt, RgbImage, RgbaImage};
use mogr_image::{decode, probe, Engine, ImageError, Limits};

fn encode(img: DynamicImage, fmt: Fmt) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).unwrap();
    out.into_inner()
}

fn small_rgb() -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(8, 8, |x, y| {
        image::Rgb([x as u8 * 30, y as u8 * 30, 9])
    }))
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

fn assert_refused(name: &str, bytes: &[u8], want_w: u32, want_h: u32) {
    let p = probe(bytes).unwrap_or_else(|e| panic!("{name}: probe failed: {e}"));
    assert_eq!((p.width, p.height), (want_w, want_h), "{name}: probed dims");
    let err = decode(bytes, &Limits::default()).expect_err(name);
    assert!(
        matches!(err, ImageError::ResolutionExceed(_)),
        "{name}: expected ResolutionExceed, got {err:?}"
    );
    assert!(err.is_limit());
    // Through the engine as well, and ignore-error hands back the original bytes.
    let engine = Engine::default();
    let err = engine
        .process_rule(bytes, "imageMogr2/format/png")
        .expect_err(name);
    assert!(err.is_limit(), "{name}: engine error {err:?}");
    let out = engine
        .process_rule(bytes, "imageMogr2/ignore-error/1/format/png")
        .unwrap_or_else(|e| panic!("{name}: ignore-error: {e}"));
    assert_eq!(out.bytes, bytes, "{name}: original returned");
}

#[test]
fn png_bomb() {
    let mut png = encode(small_rgb(), Fmt::Png);
    // IHDR data starts at 16: width, height (big-endian); its CRC follows the 13 data bytes.
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    assert_refused("png", &png, 100_000, 100_000);
}

#[test]
fn gif_bomb() {
    let mut gif = encode(DynamicImage::ImageRgba8(RgbaImage::new(8, 8)), Fmt::Gif);
    // Logical screen 65535x65535 (4.3 Gpx).
    gif[6..10].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    assert_refused("gif", &gif, 65_535, 65_535);
}

#[test]
fn gif_frame_larger_than_canvas_is_not_allocated() {
    let mut gif = encode(DynamicImage::ImageRgba8(RgbaImage::new(8, 8)), Fmt::Gif);
    // Find the image descriptor and make the frame 65535x65535 on an 8x8 canvas.
    let pos = gif.iter().position(|&b| b == 0x2C).unwrap();
    gif[pos + 5..pos + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    let result = decode(&gif, &Limits::default());
    assert!(
        result.is_err(),
        "a 65535x65535 frame must not decode on an 8x8 canvas"
    );
}

#[test]
fn jpeg_bomb() {
    let mut jpg = encode(small_rgb(), Fmt::Jpeg);
    let sof = (2..jpg.len() - 1)
        .find(|&i| jpg[i] == 0xFF && matches!(jpg[i + 1], 0xC0 | 0xC2))
        .unwrap();
    // SOF: FF Cx, length(2), precision(1), height(2), width(2).
    jpg[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    assert_refused("jpeg", &jpg, 65_535, 65_535);
}

#[test]
fn webp_bomb() {
    let mut webp = encode(DynamicImage::ImageRgba8(RgbaImage::new(8, 8)), Fmt::WebP);
    assert_eq!(&webp[12..16], b"VP8L");
    // VP8L: 14-bit width-1 and height-1 at their maximum: 16384x16384 = 268 Mpx > 250 Mpx.
    let bits = 0x3FFFu32 | (0x3FFF << 14) | (u32::from(webp[21] >> 4) << 28);
    webp[21..25].copy_from_slice(&bits.to_le_bytes());
    assert_refused("webp", &webp, 16_384, 16_384);
}

#[test]
fn webp_vp8x_bomb() {
    // A VP8X canvas of 100000x100000 in front of a tiny lossless bitstream.
    let inner = encode(DynamicImage::ImageRgba8(RgbaImage::new(8, 8)), Fmt::WebP);
    let vp8l = &inner[12..];
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(b"VP8X");
    body.extend_from_slice(&10u32.to_le_bytes());
    body.push(0x10);
    body.extend_from_slice(&[0, 0, 0]);
    body.extend_from_slice(&(100_000u32 - 1).to_le_bytes()[..3]);
    body.extend_from_slice(&(100_000u32 - 1).to_le_bytes()[..3]);
    body.extend_from_slice(vp8l);
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&(body.len() as u32).to_le_bytes());
    webp.extend_from_slice(&body);
    assert_refused("webp vp8x", &webp, 100_000, 100_000);
}

#[test]
fn bmp_bomb() {
    let mut bmp = encode(small_rgb(), Fmt::Bmp);
    bmp[18..22].copy_from_slice(&100_000i32.to_le_bytes());
    bmp[22..26].copy_from_slice(&100_000i32.to_le_bytes());
    assert_refused("bmp", &bmp, 100_000, 100_000);
}

#[test]
fn too_many_frames_is_a_limit() {
    // 301 one-pixel frames: over the 300-frame limit.
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, 1, 1, &[0, 0, 0, 255, 255, 255]).unwrap();
        for i in 0..301u32 {
            let mut f = gif::Frame::from_indexed_pixels(1, 1, vec![(i % 2) as u8], None);
            f.delay = 1;
            enc.write_frame(&f).unwrap();
        }
    }
    assert_eq!(probe(&out).unwrap().frames, 301);
    let err = decode(&out, &Limits::default()).unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
}

#[test]
fn input_over_the_byte_limit_is_too_large() {
    let png = encode(small_rgb(), Fmt::Png);
    let limits = Limits {
        max_input_bytes: 16,
        ..Limits::default()
    };
    let err = decode(&png, &limits).unwrap_err();
    assert!(matches!(err, ImageError::TooLarge(_)), "{err:?}");
}
