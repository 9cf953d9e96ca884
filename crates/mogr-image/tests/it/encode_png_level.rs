//! The measurement behind `encode::DEFLATE_LEVEL`: PNG size and time per deflate level on a
//! corpus photo, next to libvips and ImageMagick writing the same picture in the same run.

use std::process::Command;
use std::time::Instant;

use crate::encode_support::*;
use image::DynamicImage;
use mogr_image::{ImageFormat, OutputFormat};
use png::{DeflateCompression, Filter};

fn png_with(rgb: &image::RgbImage, level: Option<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, rgb.width(), rgb.height());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    match level {
        Some(l) => enc.set_deflate_compression(DeflateCompression::Level(l)),
        None => enc.set_deflate_compression(DeflateCompression::FdeflateUltraFast),
    }
    enc.set_filter(Filter::Adaptive);
    let mut w = enc.write_header().unwrap();
    w.write_image_data(rgb.as_raw()).unwrap();
    w.finish().unwrap();
    out
}

/// Median wall time of `runs` calls, in ms, and the last result.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (u128, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_millis());
    }
    times.sort_unstable();
    (times[runs / 2], last.unwrap())
}

#[test]
#[ignore = "measurement: run with --ignored --nocapture"]
fn measure_png_levels() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: corpus absent");
        return;
    };
    for name in ["photo_path_2560x1600.jpg", "astronaut_rgb.png"] {
        let rgb = image::open(dir.join(name)).unwrap().to_rgb8();
        let tmp = std::env::temp_dir().join(format!("mogr-png-level-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let src = tmp.join("src.png");
        std::fs::write(&src, png_with(&rgb, None)).unwrap();
        println!(
            "{name} {}x{}: setting | ms | bytes",
            rgb.width(),
            rgb.height()
        );
        let (ms, b) = timed(3, || png_with(&rgb, None));
        println!("png Fast (fdeflate) | {ms} | {}", b.len());
        for level in [1u8, 2, 3, 4, 6, 9] {
            let (ms, b) = timed(3, || png_with(&rgb, Some(level)));
            println!("png level {level} | {ms} | {}", b.len());
        }
        let img = still(
            DynamicImage::ImageRgb8(rgb.clone()),
            source(ImageFormat::Png, true, false),
        );
        let (ms, b) = timed(3, || encode(&img, settings(OutputFormat::Png, 85)).unwrap());
        println!(
            "mogr encode (level {}) | {ms} | {}",
            mogr_image::encode::DEFLATE_LEVEL,
            b.len()
        );
        for (label, cmd, args) in [
            ("CLI vips copy (incl. start + decode)", "vips", vec!["copy"]),
            ("CLI convert (incl. start + decode)", "convert", vec![]),
        ] {
            let out = tmp.join(format!("{cmd}.png"));
            let (ms, ok) = timed(3, || {
                Command::new(cmd)
                    .args(&args)
                    .arg(&src)
                    .arg(&out)
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false)
            });
            if ok {
                let len = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
                println!("{label} | {ms} | {len}");
            } else {
                println!("{label} | not installed");
            }
        }
        let (ms, _) = timed(3, || {
            Command::new("vips")
                .args(["copy"])
                .arg(&src)
                .arg(tmp.join("v.v"))
                .status()
        });
        println!("CLI vips decode only (to .v), for subtraction | {ms} |");
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
