//! Geometry operations end to end: thumbnail sizes against ImageMagick, shrink-on-load,
//! animations, limits, and the pixels of rotate and crop through the engine.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat as Fmt, Rgb, RgbImage};
use mogr_image::ops::registry::transform_for;
use mogr_image::ops::resize::resize;
use mogr_image::ops::Size;
use mogr_image::{decode, Engine, EngineConfig, ImageError, Limits};
use mogr_rule::Stage;
use ssimulacra2::{compute_frame_ssimulacra2, ColorPrimaries, TransferCharacteristic};

use crate::corpus_support::{corpus_dir, read};

/// `(source width, source height, thumbnail argument, width, height)`: the sizes
/// `convert -size WxH xc:red -resize <geometry>` gave with ImageMagick 6.9.11, where the CI
/// form maps to the ImageMagick geometry as `!Sp` -> `S%`, `!Spx` -> `S%x100%`,
/// `!xSp` -> `100%xS%`, `!WxHr` -> `WxH^`, and every other form is the same string. Rows where
/// ImageMagick refused (a side rounded to 0, or over its own size policy) are left out.
const IMAGEMAGICK: &[(u32, u32, &str, u32, u32)] = &[
    (7, 3, "!1000p", 70, 30),
    (7, 3, "!100x300r", 700, 300),
    (7, 3, "!150p", 11, 5),
    (7, 3, "!1x1r", 2, 1),
    (7, 3, "!200px", 14, 3),
    (7, 3, "!200x200r", 467, 200),
    (7, 3, "!300x100r", 300, 129),
    (7, 3, "!33p", 2, 1),
    (7, 3, "!33px", 2, 3),
    (7, 3, "!37x59r", 138, 59),
    (7, 3, "!5000x10r", 5000, 2143),
    (7, 3, "!50p", 4, 2),
    (7, 3, "!50px", 4, 3),
    (7, 3, "!99p", 7, 3),
    (7, 3, "!x175p", 7, 5),
    (7, 3, "!x33p", 7, 1),
    (7, 3, "!x50p", 7, 2),
    (7, 3, "1000000@", 1527, 654),
    (7, 3, "10000@", 152, 65),
    (7, 3, "10000x10000", 10000, 4286),
    (7, 3, "1000x", 1000, 429),
    (7, 3, "100@", 15, 6),
    (7, 3, "100x300", 100, 43),
    (7, 3, "100x300<", 100, 43),
    (7, 3, "100x300>", 7, 3),
    (7, 3, "12345@", 169, 72),
    (7, 3, "1x", 1, 1),
    (7, 3, "1x1", 1, 1),
    (7, 3, "1x1!", 1, 1),
    (7, 3, "2000x1000<", 2000, 857),
    (7, 3, "200x", 200, 86),
    (7, 3, "200x200", 200, 86),
    (7, 3, "200x200!", 200, 200),
    (7, 3, "200x200<", 200, 86),
    (7, 3, "200x200>", 7, 3),
    (7, 3, "262144@", 782, 335),
    (7, 3, "300x100", 233, 100),
    (7, 3, "300x100>", 7, 3),
    (7, 3, "333x", 333, 143),
    (7, 3, "37x59", 37, 16),
    (7, 3, "37x59!", 37, 59),
    (7, 3, "37x59<", 37, 16),
    (7, 3, "37x59>", 7, 3),
    (7, 3, "50000@", 341, 146),
    (7, 3, "5000x3!", 5000, 3),
    (7, 3, "5000x5000<", 5000, 2143),
    (7, 3, "5000x5000>", 7, 3),
    (7, 3, "512x512", 512, 219),
    (7, 3, "777@", 42, 18),
    (7, 3, "x1", 2, 1),
    (7, 3, "x200", 467, 200),
    (7, 3, "x333", 777, 333),
    (70, 46, "!1000p", 700, 460),
    (70, 46, "!100x300r", 457, 300),
    (70, 46, "!150p", 105, 69),
    (70, 46, "!1x1r", 2, 1),
    (70, 46, "!200px", 140, 46),
    (70, 46, "!200x200r", 304, 200),
    (70, 46, "!300x100r", 300, 197),
    (70, 46, "!33p", 23, 15),
    (70, 46, "!33px", 23, 46),
    (70, 46, "!37x59r", 90, 59),
    (70, 46, "!5000x10r", 5000, 3286),
    (70, 46, "!50p", 35, 23),
    (70, 46, "!50px", 35, 46),
    (70, 46, "!7p", 5, 3),
    (70, 46, "!99p", 69, 46),
    (70, 46, "!x175p", 70, 81),
    (70, 46, "!x33p", 70, 15),
    (70, 46, "!x50p", 70, 23),
    (70, 46, "1000000@", 1233, 810),
    (70, 46, "10000@", 123, 81),
    (70, 46, "10000x10000", 10000, 6571),
    (70, 46, "1000x", 1000, 657),
    (70, 46, "100@", 12, 8),
    (70, 46, "100x300", 100, 66),
    (70, 46, "100x300<", 100, 66),
    (70, 46, "100x300>", 70, 46),
    (70, 46, "12345@", 137, 90),
    (70, 46, "1x", 1, 1),
    (70, 46, "1x1", 1, 1),
    (70, 46, "1x1!", 1, 1),
    (70, 46, "2000x1000<", 1522, 1000),
    (70, 46, "200x", 200, 131),
    (70, 46, "200x200", 200, 131),
    (70, 46, "200x200!", 200, 200),
    (70, 46, "200x200<", 200, 131),
    (70, 46, "200x200>", 70, 46),
    (70, 46, "262144@", 631, 415),
    (70, 46, "2@", 1, 1),
    (70, 46, "300x100", 152, 100),
    (70, 46, "300x100>", 70, 46),
    (70, 46, "333x", 333, 219),
    (70, 46, "37x59", 37, 24),
    (70, 46, "37x59!", 37, 59),
    (70, 46, "37x59<", 70, 46),
    (70, 46, "37x59>", 37, 24),
    (70, 46, "50000@", 275, 181),
    (70, 46, "5000x3!", 5000, 3),
    (70, 46, "5000x5000<", 5000, 3286),
    (70, 46, "5000x5000>", 70, 46),
    (70, 46, "512x512", 512, 336),
    (70, 46, "777@", 34, 22),
    (70, 46, "x1", 2, 1),
    (70, 46, "x200", 304, 200),
    (70, 46, "x333", 507, 333),
    (101, 99, "!1000p", 1010, 990),
    (101, 99, "!100x300r", 306, 300),
    (101, 99, "!150p", 152, 149),
    (101, 99, "!1p", 1, 1),
    (101, 99, "!1x1r", 1, 1),
    (101, 99, "!200px", 202, 99),
    (101, 99, "!200x200r", 204, 200),
    (101, 99, "!300x100r", 300, 294),
    (101, 99, "!33p", 33, 33),
    (101, 99, "!33px", 33, 99),
    (101, 99, "!37x59r", 60, 59),
    (101, 99, "!5000x10r", 5000, 4901),
    (101, 99, "!50p", 51, 50),
    (101, 99, "!50px", 51, 99),
    (101, 99, "!7p", 7, 7),
    (101, 99, "!99p", 100, 98),
    (101, 99, "!x175p", 101, 173),
    (101, 99, "!x33p", 101, 33),
    (101, 99, "!x50p", 101, 50),
    (101, 99, "1000000@", 1010, 990),
    (101, 99, "10000@", 101, 99),
    (101, 99, "1000x", 1000, 980),
    (101, 99, "100@", 10, 9),
    (101, 99, "100x300", 100, 98),
    (101, 99, "100x300<", 101, 99),
    (101, 99, "100x300>", 100, 98),
    (101, 99, "12345@", 112, 110),
    (101, 99, "1x", 1, 1),
    (101, 99, "1x1", 1, 1),
    (101, 99, "1x1!", 1, 1),
    (101, 99, "2000x1000<", 1020, 1000),
    (101, 99, "200x", 200, 196),
    (101, 99, "200x200", 200, 196),
    (101, 99, "200x200!", 200, 200),
    (101, 99, "200x200<", 200, 196),
    (101, 99, "200x200>", 101, 99),
    (101, 99, "262144@", 517, 506),
    (101, 99, "2@", 1, 1),
    (101, 99, "300x100", 102, 100),
    (101, 99, "300x100>", 101, 99),
    (101, 99, "333x", 333, 326),
    (101, 99, "37x59", 37, 36),
    (101, 99, "37x59!", 37, 59),
    (101, 99, "37x59<", 101, 99),
    (101, 99, "37x59>", 37, 36),
    (101, 99, "50000@", 225, 221),
    (101, 99, "5000x3!", 5000, 3),
    (101, 99, "5000x5000<", 5000, 4901),
    (101, 99, "5000x5000>", 101, 99),
    (101, 99, "512x512", 512, 502),
    (101, 99, "777@", 28, 27),
    (101, 99, "x1", 1, 1),
    (101, 99, "x200", 204, 200),
    (101, 99, "x333", 340, 333),
    (245, 163, "!1000p", 2450, 1630),
    (245, 163, "!100x300r", 451, 300),
    (245, 163, "!150p", 368, 245),
    (245, 163, "!1p", 2, 2),
    (245, 163, "!1x1r", 2, 1),
    (245, 163, "!200px", 490, 163),
    (245, 163, "!200x200r", 301, 200),
    (245, 163, "!300x100r", 300, 200),
    (245, 163, "!33p", 81, 54),
    (245, 163, "!33px", 81, 163),
    (245, 163, "!37x59r", 89, 59),
    (245, 163, "!5000x10r", 5000, 3327),
    (245, 163, "!50p", 123, 82),
    (245, 163, "!50px", 123, 163),
    (245, 163, "!7p", 17, 11),
    (245, 163, "!99p", 243, 161),
    (245, 163, "!x175p", 245, 285),
    (245, 163, "!x33p", 245, 54),
    (245, 163, "!x50p", 245, 82),
    (245, 163, "1000000@", 1225, 815),
    (245, 163, "10000@", 122, 81),
    (245, 163, "10000x10000", 10000, 6653),
    (245, 163, "1000x", 1000, 665),
    (245, 163, "100@", 12, 8),
    (245, 163, "100x300", 100, 67),
    (245, 163, "100x300<", 245, 163),
    (245, 163, "100x300>", 100, 67),
    (245, 163, "12345@", 136, 90),
    (245, 163, "1x", 1, 1),
    (245, 163, "1x1", 1, 1),
    (245, 163, "1x1!", 1, 1),
    (245, 163, "2000x1000<", 1503, 1000),
    (245, 163, "200x", 200, 133),
    (245, 163, "200x200", 200, 133),
    (245, 163, "200x200!", 200, 200),
    (245, 163, "200x200<", 245, 163),
    (245, 163, "200x200>", 200, 133),
    (245, 163, "262144@", 627, 417),
    (245, 163, "2@", 1, 1),
    (245, 163, "300x100", 150, 100),
    (245, 163, "300x100>", 150, 100),
    (245, 163, "333x", 333, 222),
    (245, 163, "37x59", 37, 25),
    (245, 163, "37x59!", 37, 59),
    (245, 163, "37x59<", 245, 163),
    (245, 163, "37x59>", 37, 25),
    (245, 163, "50000@", 274, 182),
    (245, 163, "5000x3!", 5000, 3),
    (245, 163, "5000x5000<", 5000, 3327),
    (245, 163, "5000x5000>", 245, 163),
    (245, 163, "512x512", 512, 341),
    (245, 163, "777@", 34, 22),
    (245, 163, "x1", 2, 1),
    (245, 163, "x200", 301, 200),
    (245, 163, "x333", 501, 333),
    (1000, 1, "!1000p", 10000, 10),
    (1000, 1, "!150p", 1500, 2),
    (1000, 1, "!1x1r", 1000, 1),
    (1000, 1, "!200px", 2000, 1),
    (1000, 1, "!33px", 330, 1),
    (1000, 1, "!5000x10r", 10000, 10),
    (1000, 1, "!50p", 500, 1),
    (1000, 1, "!50px", 500, 1),
    (1000, 1, "!99p", 990, 1),
    (1000, 1, "!x175p", 1000, 2),
    (1000, 1, "!x50p", 1000, 1),
    (1000, 1, "10000@", 3162, 3),
    (1000, 1, "10000x10000", 10000, 10),
    (1000, 1, "1000x", 1000, 1),
    (1000, 1, "100x300", 100, 1),
    (1000, 1, "100x300<", 1000, 1),
    (1000, 1, "100x300>", 100, 1),
    (1000, 1, "12345@", 3513, 3),
    (1000, 1, "1x", 1, 1),
    (1000, 1, "1x1", 1, 1),
    (1000, 1, "1x1!", 1, 1),
    (1000, 1, "2000x1000<", 2000, 2),
    (1000, 1, "200x", 200, 1),
    (1000, 1, "200x200", 200, 1),
    (1000, 1, "200x200!", 200, 200),
    (1000, 1, "200x200<", 1000, 1),
    (1000, 1, "200x200>", 200, 1),
    (1000, 1, "300x100", 300, 1),
    (1000, 1, "300x100>", 300, 1),
    (1000, 1, "333x", 333, 1),
    (1000, 1, "37x59", 37, 1),
    (1000, 1, "37x59!", 37, 59),
    (1000, 1, "37x59<", 1000, 1),
    (1000, 1, "37x59>", 37, 1),
    (1000, 1, "50000@", 7071, 7),
    (1000, 1, "5000x3!", 5000, 3),
    (1000, 1, "5000x5000<", 5000, 5),
    (1000, 1, "5000x5000>", 1000, 1),
    (1000, 1, "512x512", 512, 1),
    (1000, 1, "x1", 1000, 1),
    (4032, 3024, "!100x300r", 400, 300),
    (4032, 3024, "!12p", 484, 363),
    (4032, 3024, "!1p", 40, 30),
    (4032, 3024, "!1x1r", 1, 1),
    (4032, 3024, "!33p", 1331, 998),
    (4032, 3024, "!33px", 1331, 3024),
    (4032, 3024, "!37x59r", 79, 59),
    (4032, 3024, "!50p", 2016, 1512),
    (4032, 3024, "!50px", 2016, 3024),
    (4032, 3024, "!512x512r", 683, 512),
    (4032, 3024, "!7p", 282, 212),
    (4032, 3024, "!99p", 3992, 2994),
    (4032, 3024, "!x33p", 4032, 998),
    (4032, 3024, "!x50p", 4032, 1512),
    (4032, 3024, "1000000@", 1154, 866),
    (4032, 3024, "10000@", 115, 86),
    (4032, 3024, "100x300", 100, 75),
    (4032, 3024, "100x300<", 4032, 3024),
    (4032, 3024, "100x300>", 100, 75),
    (4032, 3024, "12345@", 128, 96),
    (4032, 3024, "1x", 1, 1),
    (4032, 3024, "1x1", 1, 1),
    (4032, 3024, "1x1!", 1, 1),
    (4032, 3024, "262144@", 591, 443),
    (4032, 3024, "2@", 1, 1),
    (4032, 3024, "300x100", 133, 100),
    (4032, 3024, "333x", 333, 250),
    (4032, 3024, "37x59", 37, 28),
    (4032, 3024, "37x59!", 37, 59),
    (4032, 3024, "37x59>", 37, 28),
    (4032, 3024, "5000x5000<", 5000, 3750),
    (4032, 3024, "512x", 512, 384),
    (4032, 3024, "512x512", 512, 384),
    (4032, 3024, "512x512!", 512, 512),
    (4032, 3024, "512x512>", 512, 384),
    (4032, 3024, "777@", 32, 24),
    (4032, 3024, "x1", 1, 1),
    (4032, 3024, "x333", 444, 333),
    (4032, 3024, "x512", 683, 512),
];

/// The transform of the single operation in `rule`.
fn transform(rule: &str) -> Box<dyn mogr_image::ops::Transform> {
    let pipeline = mogr_rule::parse(rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
    let Stage::Mogr(stage) = &pipeline.stages[0] else {
        panic!("{rule}: not an imageMogr2 stage")
    };
    transform_for(&stage.ops[0]).unwrap_or_else(|| panic!("{rule}: no transform"))
}

#[test]
fn thumbnail_sizes_are_imagemagicks() {
    let mut wrong = Vec::new();
    for &(w, h, arg, ow, oh) in IMAGEMAGICK {
        let t = transform(&format!("imageMogr2/thumbnail/{arg}"));
        let got = t.output_size(Size::new(w, h)).unwrap();
        if got != Size::new(ow, oh) {
            wrong.push(format!(
                "{w}x{h} {arg}: {}x{} not {ow}x{oh}",
                got.width, got.height
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        IMAGEMAGICK.len(),
        wrong.join("\n")
    );
}

fn encode(img: &DynamicImage, fmt: Fmt) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).unwrap();
    out.into_inner()
}

/// A smooth picture with some detail, so resampling has something to get right.
fn photo(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let ripple = (((x as f32 / 7.0).sin() + (y as f32 / 5.0).cos()) * 40.0) as i32;
        Rgb([
            ((x * 255 / w) as i32 + ripple).clamp(0, 255) as u8,
            ((y * 255 / h) as i32 - ripple).clamp(0, 255) as u8,
            (((x + y) % 256) as i32).clamp(0, 255) as u8,
        ])
    }))
}

/// `jpeg` with an EXIF APP1 segment carrying `orientation`, right after SOI.
fn with_orientation(jpeg: &[u8], orientation: u8) -> Vec<u8> {
    let tiff = [
        b'I',
        b'I',
        42,
        0,
        8,
        0,
        0,
        0,
        1,
        0,
        0x12,
        0x01,
        3,
        0,
        1,
        0,
        0,
        0,
        orientation,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn dims(bytes: &[u8]) -> (u32, u32) {
    let img = decode(bytes, &Limits::default()).unwrap();
    (img.width, img.height)
}

#[test]
fn jpeg_thumbnails_shrink_on_load_to_the_exact_size() {
    let src = encode(&photo(2000, 1500), Fmt::Jpeg);
    let engine = Engine::default();
    for (arg, size) in [
        ("100x", (100, 75)),
        ("!10p", (200, 150)),
        ("333x333", (333, 250)),
        ("!120x120r", (160, 120)),
        ("90x90!", (90, 90)),
        ("10000@", (115, 86)),
    ] {
        let out = engine
            .process_rule(&src, &format!("imageMogr2/thumbnail/{arg}"))
            .unwrap();
        assert_eq!((out.width, out.height), size, "{arg}");
        assert_eq!(dims(&out.bytes), size, "{arg}");
    }
}

#[test]
fn shrink_on_load_follows_auto_orient() {
    // Stored 2000x1000; orientation 6 shows it as 1000x2000.
    let src = with_orientation(&encode(&photo(2000, 1000), Fmt::Jpeg), 6);
    let engine = Engine::default();
    let out = engine
        .process_rule(&src, "imageMogr2/auto-orient/thumbnail/100x")
        .unwrap();
    assert_eq!((out.width, out.height), (100, 200));
    assert_eq!(dims(&out.bytes), (100, 200));
    let out = engine
        .process_rule(&src, "imageMogr2/thumbnail/100x")
        .unwrap();
    assert_eq!((out.width, out.height), (100, 50));
}

fn ssimulacra2(a: &RgbImage, b: &RgbImage) -> f64 {
    let frame = |img: &RgbImage| {
        let data: Vec<[f32; 3]> = img
            .pixels()
            .map(|p| p.0.map(|c| f32::from(c) / 255.0))
            .collect();
        ssimulacra2::Rgb::new(
            data,
            img.width() as usize,
            img.height() as usize,
            TransferCharacteristic::SRGB,
            ColorPrimaries::BT709,
        )
        .unwrap()
    };
    compute_frame_ssimulacra2(frame(a), frame(b)).unwrap()
}

/// Shrink-on-load must cost next to no quality: the engine's thumbnail of a 12 MP photo scores
/// within a point of resampling the full decode with the same resampler, both against a
/// reference (the image crate's own Lanczos3 from the full decode). Shrinking the decode right
/// down to the target size instead loses about two points here.
#[test]
fn shrink_on_load_thumbnail_looks_as_good_as_a_full_decode() {
    let Some(dir) = corpus_dir() else { return };
    let src = read(&dir, "photo_dog_4032x3024_exif-orient6.jpg");
    let full = decode(&src, &Limits::default())
        .unwrap()
        .frames
        .remove(0)
        .image;
    let reference = full
        .resize_exact(512, 384, image::imageops::FilterType::Lanczos3)
        .to_rgb8();
    let direct = resize(&full, Size::new(512, 384)).unwrap().to_rgb8();
    let out = Engine::default()
        .process_rule(&src, "imageMogr2/thumbnail/512x/format/png")
        .unwrap();
    let thumb = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
    assert_eq!(thumb.dimensions(), (512, 384));
    let (shrunk, whole) = (
        ssimulacra2(&reference, &thumb),
        ssimulacra2(&reference, &direct),
    );
    println!("SSIMULACRA2 vs reference: shrink-on-load {shrunk:.2}, full decode {whole:.2}");
    assert!(
        shrunk >= whole - 1.0,
        "shrink-on-load {shrunk:.2} vs full decode {whole:.2}"
    );
    assert!(shrunk > 90.0, "{shrunk:.2}");
}

/// An animated GIF of `n` frames of `w`x`h`, `delay` centiseconds each, looping forever.
fn anim_gif(n: u8, w: u16, h: u16, delay: u16) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette: Vec<u8> = (0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect();
        let mut enc = gif::Encoder::new(&mut out, w, h, &palette).unwrap();
        enc.set_repeat(gif::Repeat::Infinite).unwrap();
        for i in 0..n {
            let px: Vec<u8> = (0..u32::from(w) * u32::from(h))
                .map(|p| (p as u8).wrapping_add(i.wrapping_mul(40)))
                .collect();
            let mut f = gif::Frame::from_indexed_pixels(w, h, px, None);
            f.delay = delay;
            enc.write_frame(&f).unwrap();
        }
    }
    out
}

#[test]
fn animated_thumbnails_keep_every_frame_and_the_duration() {
    let src = anim_gif(5, 40, 30, 7);
    let before = decode(&src, &Limits::default()).unwrap();
    for rule in [
        "imageMogr2/thumbnail/!50p",
        "imageMogr2/thumbnail/20x",
        "imageMogr2/thumbnail/!50p/format/webp",
    ] {
        let out = Engine::default().process_rule(&src, rule).unwrap();
        assert_eq!(
            (out.width, out.height, out.frame_count),
            (20, 15, 5),
            "{rule}"
        );
        let after = decode(&out.bytes, &Limits::default()).unwrap();
        assert_eq!(after.frames.len(), 5, "{rule}");
        assert!(after.frames.iter().all(|f| f.image.width() == 20), "{rule}");
        let total = |img: &mogr_image::Image| img.frames.iter().map(|f| f.delay_ms).sum::<u32>();
        assert_eq!(total(&after), total(&before), "{rule}");
        assert_eq!(after.loop_count, before.loop_count, "{rule}");
    }
}

#[test]
fn an_output_over_the_limits_is_refused_before_pixels_and_ignore_error_returns_the_original() {
    let mut config = EngineConfig::default();
    config.limits.max_side = 1000;
    let engine = Engine::new(config);
    let src = encode(&photo(200, 100), Fmt::Png);
    let err = engine
        .process_rule(&src, "imageMogr2/thumbnail/!1000p")
        .unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
    let out = engine
        .process_rule(&src, "imageMogr2/thumbnail/!1000p/ignore-error/1")
        .unwrap();
    assert_eq!(out.bytes, src);
    // A later step that grows the canvas is checked too: 990x495 fits, rotated it does not.
    let err = engine
        .process_rule(&src, "imageMogr2/thumbnail/990x/rotate/45")
        .unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
}

#[test]
fn a_crop_outside_the_image_is_an_invalid_argument_naming_crop() {
    let src = encode(&photo(60, 40), Fmt::Png);
    for (rule, token) in [
        ("imageMogr2/gravity/northwest/dx/100/crop/10x10", "crop"),
        ("imageMogr2/cut/10x10x60x0", "cut"),
    ] {
        let err = Engine::default().process_rule(&src, rule).unwrap_err();
        assert!(
            matches!(&err, ImageError::InvalidArgument(m) if m.contains(token)),
            "{rule}: {err:?}"
        );
    }
}

#[test]
fn rotated_corners_are_white_in_jpeg_and_transparent_in_png() {
    let src = encode(
        &DynamicImage::ImageRgb8(RgbImage::from_pixel(80, 40, Rgb([0, 0, 200]))),
        Fmt::Png,
    );
    let engine = Engine::default();
    let png = engine.process_rule(&src, "imageMogr2/rotate/30").unwrap();
    let img = image::load_from_memory(&png.bytes).unwrap().to_rgba8();
    assert_eq!(img.get_pixel(0, 0).0[3], 0);
    let (w, h) = img.dimensions();
    assert_eq!(img.get_pixel(w / 2, h / 2).0, [0, 0, 200, 255]);
    let jpg = engine
        .process_rule(&src, "imageMogr2/rotate/30/format/jpg")
        .unwrap();
    let img = image::load_from_memory(&jpg.bytes).unwrap().to_rgb8();
    let corner = img.get_pixel(0, 0).0;
    assert!(corner.iter().all(|&c| c >= 250), "{corner:?}");
    let centre = img.get_pixel(w / 2, h / 2).0;
    assert!(centre[2] > 180 && centre[0] < 30, "{centre:?}");
}

#[test]
fn image_view2_modes_give_their_boxes() {
    let src = encode(&photo(400, 200), Fmt::Png);
    let engine = Engine::default();
    for (rule, size) in [
        ("imageView2/1/w/100/h/100", (100, 100)),
        ("imageView2/2/w/100/h/100", (100, 50)),
        ("imageView2/3/w/100/h/100", (200, 100)),
        ("imageView2/4/w/300/h/100", (300, 150)),
        ("imageView2/5/w/300/h/100", (300, 100)),
        ("imageView2/2/w/100", (100, 50)),
    ] {
        let out = engine.process_rule(&src, rule).unwrap();
        assert_eq!((out.width, out.height), size, "{rule}");
        assert_eq!(dims(&out.bytes), size, "{rule}");
    }
}
