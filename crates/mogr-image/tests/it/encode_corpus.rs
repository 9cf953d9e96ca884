//! Encoders on the shared corpus photos: `yjpeg` against `jpg`, and the measurements behind
//! the JPEG figures in the report (`--ignored`).

use std::time::Instant;

use crate::encode_support::*;
use image::DynamicImage;
use mogr_image::{ImageFormat, OutputFormat};

fn jpeg_source() -> mogr_image::SourceInfo {
    source(ImageFormat::Jpeg, false, false)
}

#[test]
fn yjpeg_is_at_least_8_percent_smaller_than_jpg_on_corpus_photos() {
    let Some(photos) = corpus_photos() else {
        println!("skipped: corpus absent");
        return;
    };
    for (name, rgb) in photos {
        // Resized, as a thumbnail or any resize leaves it: the picture no longer sits on its
        // source's 8x8 grid. Re-encoding a JPEG at its own size saves much less on some photos
        // (its coefficients are already quantised); the ignored test below measures that case.
        let rgb = shrink(&rgb, 1280);
        let img = still(DynamicImage::ImageRgb8(rgb), jpeg_source());
        let jpg = encode(&img, settings(OutputFormat::Jpeg, 85)).unwrap();
        let y = encode(&img, settings(OutputFormat::Yjpeg, 85)).unwrap();
        let saving = 1.0 - y.len() as f64 / jpg.len() as f64;
        println!(
            "{name}: jpg {} B, yjpeg {} B, -{:.1} %",
            jpg.len(),
            y.len(),
            saving * 100.0
        );
        assert!(
            saving >= 0.08,
            "{name}: yjpeg saves only {:.1} %",
            saving * 100.0
        );
    }
}

/// Bytes and SSIMULACRA2 of jpg, progressive jpg and yjpeg at q85 on the full-size photos.
#[test]
#[ignore = "measurement: run with --ignored --nocapture"]
fn measure_yjpeg_against_jpg() {
    let Some(photos) = corpus_photos() else {
        println!("skipped: corpus absent");
        return;
    };
    println!(
        "photo | jpg bytes / ssim2 / ms | prog bytes | yjpeg bytes / ssim2 / ms | yjpeg vs jpg"
    );
    for (name, rgb) in photos {
        let img = still(DynamicImage::ImageRgb8(rgb.clone()), jpeg_source());
        let run = |s| {
            let t = Instant::now();
            let b = encode(&img, s).unwrap();
            (b, t.elapsed().as_millis())
        };
        let (jpg, tj) = run(settings(OutputFormat::Jpeg, 85));
        let mut sp = settings(OutputFormat::Jpeg, 85);
        sp.progressive = true;
        let (prog, _) = run(sp);
        let (y, ty) = run(settings(OutputFormat::Yjpeg, 85));
        let score = |b: &[u8]| ssimulacra2(&rgb, &image::load_from_memory(b).unwrap().to_rgb8());
        println!(
            "{name} | {} / {:.2} / {tj} | {} | {} / {:.2} / {ty} | {:+.1} %",
            jpg.len(),
            score(&jpg),
            prog.len(),
            y.len(),
            score(&y),
            (y.len() as f64 / jpg.len() as f64 - 1.0) * 100.0
        );
    }
}

/// Frames of a corpus animation, decoded by the `image` crate.
fn corpus_animation(name: &str) -> Option<mogr_image::Image> {
    use image::AnimationDecoder;
    let bytes = std::fs::read(corpus_dir()?.join(name)).ok()?;
    let cursor = std::io::Cursor::new(bytes);
    let frames = if name.ends_with(".gif") {
        image::codecs::gif::GifDecoder::new(cursor)
            .ok()?
            .into_frames()
            .collect_frames()
            .ok()?
    } else {
        image::codecs::webp::WebPDecoder::new(cursor)
            .ok()?
            .into_frames()
            .collect_frames()
            .ok()?
    };
    let frames = frames
        .into_iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            (DynamicImage::ImageRgba8(f.into_buffer()), n / d.max(1))
        })
        .collect();
    let lossless = name.ends_with(".gif");
    Some(image(
        frames,
        0,
        source(ImageFormat::Gif, lossless, lossless),
    ))
}

/// GIF bytes, time and fidelity without and with `cgif` colour reduction.
#[test]
#[ignore = "measurement: run with --ignored --nocapture"]
fn measure_cgif_colour_reduction() {
    for name in ["animated_42frames.gif", "animated_42frames.webp"] {
        let Some(img) = corpus_animation(name) else {
            println!("skipped: corpus absent");
            return;
        };
        println!(
            "{name}: {} frames {}x{}",
            img.frames.len(),
            img.width,
            img.height
        );
        for (label, cgif) in [("plain (local palettes)", None), ("cgif", Some(42u8))] {
            let mut s = settings(OutputFormat::Gif, 85);
            s.cgif = cgif;
            let t = Instant::now();
            let out = encode(&img, s).unwrap();
            let ms = t.elapsed().as_millis();
            let back = decode_gif(&out);
            let mut p = 0.0;
            let mut s2 = 0.0;
            for i in [0usize, 10, 20, 30] {
                let src = img.frames[i].image.to_rgb8();
                let got = DynamicImage::ImageRgba8(back[i].0.clone()).to_rgb8();
                p += psnr(&src, &got).min(99.0) / 4.0;
                s2 += ssimulacra2(&src, &got) / 4.0;
            }
            println!(
                "  {label} | {} B | {ms} ms | PSNR {p:.2} | SSIM2 {s2:.2}",
                out.len()
            );
        }
    }
}
