//! Writes small valid images, made by mogr's own encoders, as seed corpora for the decoder
//! fuzz targets: `OUT/decode_<format>/<name>`. Extra folders given after `OUT` add their files
//! (up to 64 KiB each) to the corpus of the format they sniff as.
//!
//! `cargo run -p mogr-image --example fuzz_seeds -- fuzz/corpus [EXTRA_DIR...]` (run by
//! scripts/fuzz.sh).

use std::io::Cursor;
use std::path::Path;
use std::process::ExitCode;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, DynamicImage, Frame, GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use mogr_image::{sniff, Engine, ImageFormat};

/// Largest extra file copied into a corpus: bigger inputs only slow the fuzzer down.
const MAX_EXTRA_BYTES: u64 = 64 << 10;

/// The rules applied to each source, and the name the output gets.
const RULES: &[(&str, &str)] = &[
    ("jpg", "imageMogr2/format/jpg"),
    ("jpg-progressive", "imageMogr2/format/jpg/interlace/1"),
    ("jpg-q20", "imageMogr2/format/jpg/quality/20"),
    ("yjpeg", "imageMogr2/format/yjpeg"),
    ("png", "imageMogr2/format/png"),
    ("gif", "imageMogr2/format/gif"),
    ("gif-cgif", "imageMogr2/format/gif/cgif/16"),
    ("webp", "imageMogr2/format/webp"),
    ("webp-q100", "imageMogr2/format/webp/quality/100"),
    ("bmp", "imageMogr2/format/bmp"),
    ("heif", "imageMogr2/format/heif"),
    ("avif", "imageMogr2/format/avif"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, extra)) = args.split_first() else {
        eprintln!("usage: fuzz_seeds OUT [EXTRA_DIR...]");
        return ExitCode::from(2);
    };
    match write_seeds(Path::new(out), extra) {
        Ok(n) => {
            println!("fuzz_seeds: {n} seeds under {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fuzz_seeds: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_seeds(out: &Path, extra: &[String]) -> Result<usize, String> {
    let engine = Engine::default();
    let mut written = 0;
    for (source_name, source) in sources()? {
        for (rule_name, rule) in RULES {
            let output = engine
                .process_rule(&source, rule)
                .map_err(|e| format!("{source_name} with {rule}: {e}"))?;
            written += store(out, &format!("{source_name}-{rule_name}"), &output.bytes)?;
        }
        // The source itself (PNG or GIF) is a seed too.
        written += store(out, source_name, &source)?;
    }
    for dir in extra {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{dir}: {e}"))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let small = entry
                .metadata()
                .is_ok_and(|m| m.is_file() && m.len() <= MAX_EXTRA_BYTES);
            if !small {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("extra");
            written += store(out, &format!("extra-{name}"), &bytes)?;
        }
    }
    Ok(written)
}

/// Writes `bytes` into the corpus of the format it sniffs as; 0 when it is not an image.
fn store(out: &Path, name: &str, bytes: &[u8]) -> Result<usize, String> {
    let Some(format) = sniff(bytes) else {
        return Ok(0);
    };
    let dir = out.join(format!("decode_{}", target_suffix(format)));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(1)
}

fn target_suffix(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Png => "png",
        ImageFormat::Gif => "gif",
        ImageFormat::Webp => "webp",
        ImageFormat::Bmp => "bmp",
        ImageFormat::Heif => "heif",
        ImageFormat::Avif => "avif",
    }
}

/// Small sources covering colour, alpha, grey and animation, as encoded files.
fn sources() -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let rgb = RgbImage::from_fn(32, 24, |x, y| Rgb([(x * 8) as u8, (y * 10) as u8, 128]));
    let rgba = RgbaImage::from_fn(24, 24, |x, y| {
        Rgba([200, (x * 10) as u8, (y * 10) as u8, ((x + y) * 5) as u8])
    });
    let grey = GrayImage::from_fn(16, 16, |x, y| Luma([((x ^ y) * 16) as u8]));
    Ok(vec![
        ("rgb", png(DynamicImage::ImageRgb8(rgb))?),
        ("rgba", png(DynamicImage::ImageRgba8(rgba))?),
        ("grey", png(DynamicImage::ImageLuma8(grey))?),
        ("animated", animated_gif()?),
    ])
}

fn png(img: DynamicImage) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// Four frames of a square moving over a transparent background, looping forever.
fn animated_gif() -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder
            .set_repeat(Repeat::Infinite)
            .map_err(|e| e.to_string())?;
        for i in 0..4u32 {
            let frame = RgbaImage::from_fn(24, 16, |x, y| {
                let inside = (i * 4..i * 4 + 8).contains(&x) && (4..12).contains(&y);
                if inside {
                    Rgba([255, (i * 60) as u8, 0, 255])
                } else {
                    Rgba([0, 0, 0, 0])
                }
            });
            let delay = Delay::from_numer_denom_ms(40 + i * 20, 1);
            encoder
                .encode_frame(Frame::from_parts(frame, 0, 0, delay))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(out)
}
