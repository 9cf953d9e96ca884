//! The measurement behind the default qualities in `quality.rs` and the JPEG-scale map for
//! HEIF/AVIF in `encode/heif.rs`: SSIMULACRA2 and bytes per candidate quality on the corpus
//! photos (shrunk to 1 MP so a clean reference exists and HEIC finishes in time).

use crate::encode_support::*;
use image::DynamicImage;
use mogr_image::encode::EncodeSettings;
use mogr_image::{EngineConfig, ImageFormat, OutputFormat};

#[test]
#[ignore = "measurement: run with --ignored --nocapture"]
fn measure_quality_candidates() {
    let Some(photos) = corpus_photos() else {
        println!("skipped: corpus absent");
        return;
    };
    let refs: Vec<(String, image::RgbImage)> = photos
        .into_iter()
        .map(|(n, p)| (n, shrink(&p, 1200)))
        .collect();
    let cfg = EngineConfig::default();
    let candidates: &[(OutputFormat, &[u8])] = &[
        (OutputFormat::Jpeg, &[60, 70, 75, 80, 85, 90, 95]),
        (OutputFormat::Webp, &[60, 70, 75, 80, 85, 90, 95]),
        (
            OutputFormat::Heic,
            &[30, 40, 50, 60, 70, 75, 80, 85, 88, 90, 92, 95, 98],
        ),
        (
            OutputFormat::Avif,
            &[30, 40, 50, 60, 70, 75, 80, 85, 88, 90, 92, 95, 98],
        ),
    ];
    println!("format q(jpeg-scale) native | mean ssim2 | mean bytes | per photo ssim2");
    for &(format, qs) in candidates {
        for &q in qs {
            let mut scores = Vec::new();
            let mut bytes = 0usize;
            for (_, rgb) in &refs {
                let img = still(
                    DynamicImage::ImageRgb8(rgb.clone()),
                    source(ImageFormat::Png, false, false),
                );
                let s = EncodeSettings {
                    format,
                    quality: q,
                    progressive: false,
                    strip: true,
                    cgif: None,
                };
                let out = mogr_image::encode::encode(&img, &s, &cfg).unwrap();
                bytes += out.len();
                let back = match format {
                    OutputFormat::Heic | OutputFormat::Avif => decode_heif(&out).3,
                    _ => image::load_from_memory(&out).unwrap().to_rgb8(),
                };
                scores.push(ssimulacra2(rgb, &back));
            }
            let native = match format {
                OutputFormat::Heic => {
                    mogr_image::encode::native_quality(mogr_image::encode::Codec::Hevc, q)
                }
                OutputFormat::Avif => {
                    mogr_image::encode::native_quality(mogr_image::encode::Codec::Av1, q)
                }
                _ => q,
            };
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            let per: Vec<String> = scores.iter().map(|s| format!("{s:.1}")).collect();
            println!(
                "{} {q} {native} | {mean:.2} | {} | {}",
                format.name(),
                bytes / refs.len(),
                per.join(" ")
            );
        }
    }
}
