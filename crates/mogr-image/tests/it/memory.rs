//! Memory: animations processed frame by frame give the whole-animation path's bytes, 16-bit
//! PNGs decoded straight to 8-bit give the pixels the 16-bit path gave, and the memory
//! estimate is never below the measured peak of a job.

use std::io::Write;
use std::process::Command;

use crate::encode_support::*;
use image::{DynamicImage, Rgba, RgbaImage};
use mogr_image::encode::EncodeSettings;
use mogr_image::memory;
use mogr_image::ops::registry;
use mogr_image::{Engine, EngineConfig, ImageFormat, OutputFormat, Pipeline, SourceShape};
use mogr_rule::Stage;

/// An animation with transparency and varied delays, encoded by the engine as `format`.
fn animation(format: OutputFormat, frames: u32) -> Vec<u8> {
    let list = (0..frames)
        .map(|i| {
            let mut f = moving_square(96, 64, i % 20);
            // Some transparent pixels, moving, so frames differ in alpha too.
            for x in 0..8 {
                f.put_pixel((x + i * 3) % 96, 5, Rgba([0, 0, 0, 0]));
            }
            (DynamicImage::ImageRgba8(f), 40 + (i % 3) * 30)
        })
        .collect();
    let lossless = format == OutputFormat::Gif;
    let img = image(list, 2, source(ImageFormat::Gif, lossless, lossless));
    encode(&img, settings(format, 80)).unwrap()
}

/// The whole-animation path, spelled out: decode every frame, run each operation on every
/// frame, encode all frames at once.
fn whole_animation(input: &[u8], rule: &str) -> Vec<u8> {
    let pipeline = mogr_rule::parse(rule).unwrap();
    let Stage::Mogr(stage) = &pipeline.stages[0] else {
        panic!("not an imageMogr2 rule")
    };
    let cfg = EngineConfig::default();
    let mut img = mogr_image::decode(input, &cfg.limits).unwrap();
    for op in &stage.ops {
        let t = registry::transform_for(op).unwrap();
        for f in &mut img.frames {
            f.image = t.apply_frame(&f.image).unwrap();
        }
        img.width = img.frames[0].image.width();
        img.height = img.frames[0].image.height();
    }
    let settings = EncodeSettings {
        format: OutputFormat::Webp,
        quality: mogr_image::quality::resolve(
            stage.output.quality,
            &img.source,
            OutputFormat::Webp,
        ),
        progressive: false,
        strip: false,
        cgif: None,
    };
    mogr_image::encode::encode(&img, &settings, &cfg).unwrap()
}

#[test]
fn frame_by_frame_output_equals_the_whole_animation_output() {
    let gif = animation(OutputFormat::Gif, 24);
    let lossy_webp = animation(OutputFormat::Webp, 12);
    let engine = Engine::default();
    for (name, input) in [("gif", &gif), ("webp", &lossy_webp)] {
        let probe = mogr_image::probe(input).unwrap();
        for rule in [
            "imageMogr2/format/webp",
            "imageMogr2/thumbnail/!50p/format/webp",
            "imageMogr2/crop/60x40/rotate/90/format/webp",
            "imageMogr2/quality/60/blur/3x2/format/webp",
        ] {
            let rule = if name == "webp" {
                rule.replace("/format/webp", "")
            } else {
                rule.to_string()
            };
            let rule = if rule == "imageMogr2" {
                "imageMogr2/strip".to_string()
            } else {
                rule
            };
            let pipeline = mogr_rule::parse(&rule).unwrap();
            let Stage::Mogr(stage) = &pipeline.stages[0] else {
                unreachable!()
            };
            assert!(
                mogr_image::animation::streams(stage, &probe),
                "{name} {rule} should run frame by frame"
            );
            let streamed = engine.process_rule(input, &rule).unwrap();
            let whole = whole_animation(input, &rule);
            assert_eq!(streamed.bytes, whole, "{name} {rule}");
            assert_eq!(streamed.frame_count, probe.frames, "{name} {rule}");
            let frames = decode_webp_anim(&streamed.bytes);
            assert_eq!(frames.len() as u32, probe.frames);
        }
    }
}

#[test]
fn a_sixteen_bit_png_decoded_for_an_eight_bit_output_keeps_its_pixels() {
    // 16-bit RGBA with values that round differently from a plain high-byte cut.
    let img16 = DynamicImage::ImageRgba16(image::ImageBuffer::from_fn(70, 50, |x, y| {
        image::Rgba([
            (x * 937 + y * 13) as u16,
            (x * 128 + 127) as u16,
            (y * 1300 + 200) as u16,
            if x % 7 == 0 { 30000 } else { 65535 },
        ])
    }));
    let mut png = Vec::new();
    img16
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let engine = Engine::default();
    let out = engine.process_rule(&png, "imageMogr2/format/bmp").unwrap();
    let got = image::load_from_memory(&out.bytes).unwrap().to_rgba8();
    // What the 16-bit canvas converted at encode time gave: `image`'s own conversion.
    let want = img16.to_rgba8();
    // BMP has no alpha here: compare colour where opaque.
    for (g, w) in got.pixels().zip(want.pixels()) {
        if w.0[3] == 255 {
            assert_eq!(&g.0[..3], &w.0[..3]);
        }
    }
    // PNG output keeps 16 bits.
    let again = engine.process_rule(&png, "imageMogr2/format/png").unwrap();
    let back = image::load_from_memory(&again.bytes).unwrap();
    assert_eq!(back, img16);
}

/// Inputs of the calibration set: (name, input bytes, rule).
fn calibration_set() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let photo = photo_like(1200, 900);
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(photo.clone())
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let rgba = DynamicImage::ImageRgba8(gradient_rgba(1000, 700));
    let mut png = Vec::new();
    rgba.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let png16 = DynamicImage::ImageRgba16(DynamicImage::ImageRgb8(photo).to_rgba16());
    let mut png16_bytes = Vec::new();
    png16
        .write_to(
            &mut std::io::Cursor::new(&mut png16_bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    let gif = big_gif(40, 240);
    vec![
        ("jpeg-to-webp", jpeg.clone(), "imageMogr2/format/webp"),
        ("jpeg-to-jpeg", jpeg.clone(), "imageMogr2/quality/80"),
        ("jpeg-to-png", jpeg.clone(), "imageMogr2/format/png"),
        (
            "jpeg-thumb-avif",
            jpeg,
            "imageMogr2/thumbnail/400x/format/avif",
        ),
        ("png-to-webp", png.clone(), "imageMogr2/format/webp"),
        ("png-rotate-jpg", png, "imageMogr2/rotate/30/format/jpg"),
        ("png16-to-jpg", png16_bytes.clone(), "imageMogr2/format/jpg"),
        ("png16-to-png", png16_bytes, "imageMogr2/format/png"),
        ("gif-to-webp", gif.clone(), "imageMogr2/format/webp"),
        ("gif-to-gif", gif.clone(), "imageMogr2/thumbnail/!50p"),
        ("gif-to-jpg", gif, "imageMogr2/format/jpg"),
    ]
}

fn big_gif(frames: u32, side: u32) -> Vec<u8> {
    let list = (0..frames)
        .map(|i| {
            let f = RgbaImage::from_fn(side, side, |x, y| {
                Rgba([(x + i) as u8, (y * 2) as u8, ((x ^ y) + i * 5) as u8, 255])
            });
            (DynamicImage::ImageRgba8(f), 50)
        })
        .collect();
    let img = image(list, 0, source(ImageFormat::Gif, true, true));
    encode(&img, settings(OutputFormat::Gif, 80)).unwrap()
}

/// Resident memory of this process in bytes: current (`VmRSS`) and peak (`VmHWM`).
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Run by [`the_estimate_is_never_below_the_measured_peak`] in a child process of its own (so
/// no other test shares the memory), one case per run: resets the peak, runs the job and
/// prints the peak it added. Does nothing when not asked to.
#[test]
fn peak_of_one_case() {
    let Ok(case) = std::env::var("MOGR_MEMORY_CASE") else {
        return;
    };
    let (path, rule) = case.split_once('|').unwrap();
    let input = std::fs::read(path).unwrap();
    let engine = Engine::default();
    // Writing 5 to clear_refs resets VmHWM to the current resident size.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let (before, _) = rss().unwrap();
    let out = engine.process_rule(&input, rule).unwrap();
    let (_, peak) = rss().unwrap();
    drop(out);
    println!("PEAK {}", peak.saturating_sub(before));
}

#[test]
fn the_estimate_is_never_below_the_measured_peak() {
    if rss().is_none() || std::fs::metadata("/proc/self/clear_refs").is_err() {
        eprintln!("skipped: /proc is needed to measure resident memory");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile_dir();
    let cfg = EngineConfig::default();
    for (name, input, rule) in calibration_set() {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&input))
            .unwrap();
        let out = Command::new(&exe)
            .args([
                "memory::peak_of_one_case",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("MOGR_MEMORY_CASE", format!("{}|{rule}", path.display()))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {text}");
        let peak: u64 = text
            .lines()
            .find_map(|l| l.split("PEAK ").nth(1))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{name}: no PEAK line in {text}"));
        let pipeline: Pipeline = mogr_rule::parse(rule).unwrap();
        let shape = SourceShape {
            probe: mogr_image::probe(&input).ok(),
            bytes: input.len() as u64,
        };
        let estimate = memory::estimate(&pipeline, shape, &cfg);
        eprintln!(
            "{name}: measured {} KiB, estimated {} KiB",
            peak / 1024,
            estimate / 1024
        );
        assert!(
            estimate >= peak,
            "{name}: estimate {estimate} < measured peak {peak}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mogr-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
