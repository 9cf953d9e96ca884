//! Prints the SSIMULACRA2 score of a distorted image against a reference (100 = identical,
//! 90 visually lossless, 70 high quality, 50 medium, below 30 poor).
//!
//! `cargo run --release -p mogr-image --example ssimulacra2 -- REF.png DIST.any`
//!
//! Both files are decoded by the `image` crate (JPEG, PNG, GIF, WebP, BMP; animations give
//! their first frame), whatever their extension says. HEIF/AVIF are not decoded here: convert
//! them to PNG first (`heif-convert d.heic d.png` or `vips copy d.avif d.png`). EXIF orientation
//! is ignored, so both images must already be upright and the same size. Used by bench/.

use std::path::Path;
use std::process::ExitCode;

use image::{DynamicImage, ImageReader};
use ssimulacra2::{compute_frame_ssimulacra2, ColorPrimaries, Rgb, TransferCharacteristic};

/// Backgrounds an image with alpha is laid over; the worse score counts, as in libjxl's
/// tool, so that an error hidden by one background still shows on the other.
const ALPHA_BACKGROUNDS: [f32; 2] = [0.1, 0.9];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [reference, distorted] = args.as_slice() else {
        eprintln!(
            "usage: ssimulacra2 REF DIST   (prints the SSIMULACRA2 score of DIST against REF)"
        );
        return ExitCode::from(2);
    };
    match score_files(Path::new(reference), Path::new(distorted)) {
        Ok(score) => {
            println!("{score:.4}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("ssimulacra2: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Decodes both files and scores them, over each background when either has alpha.
fn score_files(reference: &Path, distorted: &Path) -> Result<f64, String> {
    let reference = decode(reference)?;
    let distorted = decode(distorted)?;
    if reference.width() != distorted.width() || reference.height() != distorted.height() {
        return Err(format!(
            "sizes differ: reference {}x{}, distorted {}x{}",
            reference.width(),
            reference.height(),
            distorted.width(),
            distorted.height()
        ));
    }
    let has_alpha = reference.color().has_alpha() || distorted.color().has_alpha();
    let backgrounds: &[f32] = if has_alpha {
        &ALPHA_BACKGROUNDS
    } else {
        &[0.0]
    };
    let mut worst = f64::INFINITY;
    for &background in backgrounds {
        let score = compute_frame_ssimulacra2(
            to_srgb(&reference, background)?,
            to_srgb(&distorted, background)?,
        )
        .map_err(|e| e.to_string())?;
        worst = worst.min(score);
    }
    Ok(worst)
}

/// Decodes by content, not extension, so `out.bin` or a misnamed file still works.
fn decode(path: &Path) -> Result<DynamicImage, String> {
    let reader = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if reader.format().is_none() {
        return Err(format!(
            "{}: format not decodable here (HEIF/AVIF: convert to PNG first with \
             `heif-convert` or `vips copy`)",
            path.display()
        ));
    }
    reader
        .decode()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Float sRGB pixels, alpha composited over a grey `background` (0..1, sRGB-encoded).
fn to_srgb(image: &DynamicImage, background: f32) -> Result<Rgb, String> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let pixels = image
        .to_rgba32f()
        .pixels()
        .map(|p| {
            let [r, g, b, a] = p.0;
            let over = |c: f32| c * a + background * (1.0 - a);
            [over(r), over(g), over(b)]
        })
        .collect();
    Rgb::new(
        pixels,
        width,
        height,
        TransferCharacteristic::SRGB,
        ColorPrimaries::BT709,
    )
    .map_err(|e| format!("{e:?}"))
}
