//! The engine end to end: rules in, bytes + facts out.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat as Fmt, Rgb, RgbImage, Rgba, RgbaImage};
use mogr_image::{decode, header_info, Engine, EngineConfig, ImageError, ImageFormat, Limits};

fn encode(img: DynamicImage, fmt: Fmt) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).unwrap();
    out.into_inner()
}

fn photo(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        Rgb([(x * 3) as u8, (y * 5) as u8, ((x ^ y) * 2) as u8])
    }))
}

/// A JPEG written by the image crate (libjpeg-style tables at q75).
fn jpeg(w: u32, h: u32) -> Vec<u8> {
    encode(photo(w, h), Fmt::Jpeg)
}

/// An animated GIF of `n` frames, 10 ms apart.
fn anim_gif(n: u8) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette: Vec<u8> = (0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect();
        let mut enc = gif::Encoder::new(&mut out, 8, 6, &palette).unwrap();
        enc.set_repeat(gif::Repeat::Infinite).unwrap();
        for i in 0..n {
            let mut f = gif::Frame::from_indexed_pixels(8, 6, vec![i.wrapping_mul(9); 48], None);
            f.delay = 10;
            enc.write_frame(&f).unwrap();
        }
    }
    out
}

fn engine() -> Engine {
    Engine::default()
}

#[test]
fn default_format_is_the_source_format() {
    let out = engine()
        .process_rule(&jpeg(40, 30), "imageMogr2/quality/100")
        .unwrap();
    assert_eq!((out.format, out.mime), ("jpg", "image/jpeg"));
    assert_eq!((out.width, out.height, out.frame_count), (40, 30, 1));
    // quality/100 is capped by the source's 75.
    assert_eq!(out.quality, Some(75));
    assert_eq!(
        decode(&out.bytes, &Limits::default())
            .unwrap()
            .source
            .format,
        ImageFormat::Jpeg
    );
}

#[test]
fn format_conversions_report_format_and_mime() {
    let src = jpeg(24, 16);
    for (rule, format, mime, decoded) in [
        (
            "imageMogr2/format/png",
            "png",
            "image/png",
            ImageFormat::Png,
        ),
        (
            "imageMogr2/format/webp",
            "webp",
            "image/webp",
            ImageFormat::Webp,
        ),
        (
            "imageMogr2/format/gif",
            "gif",
            "image/gif",
            ImageFormat::Gif,
        ),
        (
            "imageMogr2/format/bmp",
            "bmp",
            "image/bmp",
            ImageFormat::Bmp,
        ),
        (
            "imageMogr2/format/yjpeg",
            "yjpeg",
            "image/jpeg",
            ImageFormat::Jpeg,
        ),
        (
            "imageMogr2/format/jpeg",
            "jpg",
            "image/jpeg",
            ImageFormat::Jpeg,
        ),
        (
            "imageMogr2/format/heic",
            "heic",
            "image/heic",
            ImageFormat::Heif,
        ),
        (
            "imageMogr2/format/heif",
            "heif",
            "image/heif",
            ImageFormat::Heif,
        ),
        (
            "imageMogr2/format/avif",
            "avif",
            "image/avif",
            ImageFormat::Avif,
        ),
    ] {
        let out = engine()
            .process_rule(&src, rule)
            .unwrap_or_else(|e| panic!("{rule}: {e}"));
        assert_eq!((out.format, out.mime), (format, mime), "{rule}");
        let lossy = !matches!(format, "png" | "gif" | "bmp");
        assert_eq!(
            out.quality.is_some(),
            lossy,
            "{rule}: quality reported for lossy output"
        );
        let img = decode(&out.bytes, &Limits::default()).unwrap_or_else(|e| panic!("{rule}: {e}"));
        assert_eq!(img.source.format, decoded, "{rule}");
        assert_eq!((img.width, img.height), (24, 16), "{rule}");
    }
}

#[test]
fn tpg_is_refused_naming_open_alternatives() {
    let err = engine()
        .process_rule(&jpeg(8, 8), "imageMogr2/format/tpg")
        .unwrap_err();
    assert!(matches!(err, ImageError::UnsupportedFormat(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("avif") && msg.contains("heif"), "{msg}");
}

#[test]
fn animation_to_still_takes_the_first_frame() {
    let gif = anim_gif(5);
    let out = engine()
        .process_rule(&gif, "imageMogr2/format/png")
        .unwrap();
    assert_eq!(out.frame_count, 1);
    let first = decode(&gif, &Limits::default()).unwrap().frames[0]
        .image
        .to_rgba8();
    let png = decode(&out.bytes, &Limits::default()).unwrap();
    assert_eq!(png.frames.len(), 1);
    assert_eq!(png.frames[0].image.to_rgba8(), first);

    let out = engine()
        .process_rule(&gif, "imageMogr2/format/webp")
        .unwrap();
    assert_eq!(out.frame_count, 5);
    assert_eq!(
        decode(&out.bytes, &Limits::default()).unwrap().frames.len(),
        5
    );
}

#[test]
fn cgif_reduces_frames() {
    let out = engine()
        .process_rule(&anim_gif(12), "imageMogr2/cgif/4")
        .unwrap();
    assert_eq!(out.format, "gif");
    assert_eq!(out.frame_count, 4);
    assert_eq!(
        decode(&out.bytes, &Limits::default()).unwrap().frames.len(),
        4
    );
}

#[test]
fn quality_interlace_and_strip() {
    let out = engine()
        .process_rule(&jpeg(64, 48), "imageMogr2/quality/50!/interlace/1")
        .unwrap();
    assert_eq!(out.quality, Some(50));
    assert_eq!(
        header_info(&out.bytes, &Limits::default()).unwrap().quality,
        Some(50)
    );
    // Progressive output has an SOF2 marker.
    assert!(
        out.bytes.windows(2).any(|w| w == [0xFF, 0xC2]),
        "progressive JPEG"
    );
}

#[test]
fn ignore_error_returns_the_original_on_limit_errors_only() {
    let src = jpeg(64, 48);
    let small = Engine::new(EngineConfig {
        limits: Limits {
            max_side: 32,
            ..Limits::default()
        },
        ..EngineConfig::default()
    });
    let err = small
        .process_rule(&src, "imageMogr2/format/png")
        .unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
    let out = small
        .process_rule(&src, "imageMogr2/format/png/ignore-error/1")
        .unwrap();
    assert_eq!(out.bytes, src);
    assert_eq!(
        (out.format, out.mime, out.width, out.height),
        ("jpg", "image/jpeg", 64, 48)
    );
    // A corrupt input is not a limit failure: the error stays.
    let err = small
        .process_rule(&src[..20], "imageMogr2/ignore-error/1/format/png")
        .unwrap_err();
    assert!(matches!(err, ImageError::Corrupt { .. }), "{err:?}");
}

#[test]
fn ignore_error_in_a_later_stage_returns_the_callers_input() {
    // Stage 1 succeeds (PNG); stage 2 hits WebP's side limit.
    let wide = encode(
        DynamicImage::ImageRgb8(RgbImage::from_pixel(16_384, 1, Rgb([9, 9, 9]))),
        Fmt::Jpeg,
    );
    let out = engine()
        .process_rule(
            &wide,
            "imageMogr2/format/png|imageMogr2/format/webp/ignore-error/1",
        )
        .unwrap();
    assert_eq!(out.bytes, wide, "the original JPEG, not stage 1's PNG");
    assert_eq!(out.format, "jpg");
}

#[test]
fn webp_output_side_limit() {
    let wide = encode(
        DynamicImage::ImageRgb8(RgbImage::from_pixel(16_384, 1, Rgb([1, 2, 3]))),
        Fmt::Png,
    );
    let err = engine()
        .process_rule(&wide, "imageMogr2/format/webp")
        .unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
    let out = engine()
        .process_rule(&wide, "imageMogr2/format/webp/ignore-error/1")
        .unwrap();
    assert_eq!(out.bytes, wide);
    assert_eq!(out.format, "png");
}

#[test]
fn image_info_json() {
    let src = jpeg(40, 30);
    let out = engine().process_rule(&src, "imageInfo").unwrap();
    assert_eq!((out.mime, out.format), ("application/json", "json"));
    let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
    let obj = v.as_object().unwrap();
    assert!(
        obj.values().all(|v| v.is_string()),
        "all values are strings: {v}"
    );
    assert_eq!(v["format"], "jpeg");
    assert_eq!(v["width"], "40");
    assert_eq!(v["height"], "30");
    assert_eq!(v["size"], src.len().to_string());
    assert_eq!(v["frame_count"], "1");
    assert_eq!(v["bit_depth"], "8");
    assert_eq!(v["quality"], "75");
    use md5::Digest;
    assert_eq!(v["md5"], hex::encode(md5::Md5::digest(&src)));
}

#[test]
fn image_ave_json() {
    let src = encode(
        DynamicImage::ImageRgba8(RgbaImage::from_fn(4, 4, |x, _| {
            // Transparent pixels do not count toward the average.
            if x < 2 {
                Rgba([0x73, 0x62, 0x46, 255])
            } else {
                Rgba([255, 255, 255, 0])
            }
        })),
        Fmt::Png,
    );
    let out = engine().process_rule(&src, "imageAve").unwrap();
    assert_eq!(
        String::from_utf8(out.bytes).unwrap(),
        r#"{"RGB":"0x736246"}"#
    );
}

#[test]
fn exif_json_without_exif() {
    let out = engine().process_rule(&jpeg(8, 8), "exif").unwrap();
    assert_eq!(
        String::from_utf8(out.bytes).unwrap(),
        r#"{"error" : "no exif data"}"#
    );
}

#[test]
fn stages_pipe_their_bytes() {
    let out = engine()
        .process_rule(&jpeg(20, 10), "imageMogr2/format/png|imageInfo")
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
    assert_eq!(v["format"], "png");
    assert_eq!(v["width"], "20");
}

#[test]
fn bad_rules_are_rule_errors() {
    let err = engine()
        .process_rule(&jpeg(8, 8), "imageMogr2/format/xyz")
        .unwrap_err();
    assert!(matches!(err, ImageError::Rule(_)), "{err:?}");
}
