//! Hostile input: every corpus file and generated sample, truncated at several points and with
//! deterministic bit flips, goes through sniff/probe/decode/info and the engine. Each call must
//! return Ok or a typed error: a panic fails the test with the file and the mutation.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::{DynamicImage, ImageFormat as Fmt, Rgb, RgbImage, Rgba, RgbaImage};
use mogr_image::{
    decode, exif_json, header_info, image_ave_json, probe, sniff, Engine, EngineConfig, Limits,
};

/// Tighter than the defaults so a flipped size byte cannot make a test allocate gigabytes.
fn limits() -> Limits {
    Limits {
        max_pixels: 16_000_000,
        max_total_pixels: 32_000_000,
        ..Limits::default()
    }
}

/// Run everything on one input; the rules only for inputs small enough to encode quickly.
fn exercise(bytes: &[u8], with_engine: bool) {
    let limits = limits();
    let _ = sniff(bytes);
    let _ = probe(bytes);
    let _ = header_info(bytes, &limits);
    let _ = exif_json(bytes, &limits);
    let decoded = decode(bytes, &limits);
    if with_engine && decoded.is_ok() {
        let engine = Engine::new(EngineConfig {
            limits,
            ..EngineConfig::default()
        });
        let _ = image_ave_json(bytes, &limits);
        for rule in [
            "imageMogr2/auto-orient/format/png",
            "imageMogr2/format/jpg/strip|imageInfo",
        ] {
            let _ = engine.process_rule(bytes, rule);
        }
    }
}

/// xorshift64*: deterministic, seedable, good enough to pick bytes and bits.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// (description, mutated bytes) for one input.
fn mutations(bytes: &[u8], seed: u64, flips: usize) -> Vec<(String, Vec<u8>)> {
    let len = bytes.len();
    let mut out = Vec::new();
    let mut cuts = vec![
        0,
        1,
        2,
        3,
        6,
        8,
        12,
        16,
        24,
        32,
        64,
        100,
        300,
        len / 4,
        len / 2,
        len * 3 / 4,
        len - 1,
    ];
    cuts.retain(|&c| c < len);
    cuts.sort_unstable();
    cuts.dedup();
    for c in cuts {
        out.push((format!("truncated to {c}"), bytes[..c].to_vec()));
    }
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for i in 0..flips {
        let mut m = bytes.to_vec();
        // Half the variants hit the first 512 bytes, where the headers are.
        let span = if i % 2 == 0 { len.min(512) } else { len };
        let n = 1 + rng.below(4);
        let mut desc = format!("flip#{i}:");
        for _ in 0..n {
            let pos = rng.below(span);
            let bit = rng.below(8);
            m[pos] ^= 1 << bit;
            desc.push_str(&format!(" {pos}.{bit}"));
        }
        out.push((desc, m));
    }
    out
}

/// Bit-flip variants per small input; `MOGR_FUZZ_FLIPS` raises it for a longer local run.
fn flip_count() -> usize {
    std::env::var("MOGR_FUZZ_FLIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// Shifts every input's flip seed; `MOGR_FUZZ_SEED` explores other flips locally.
fn seed_offset() -> u64 {
    std::env::var("MOGR_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// Exercise every mutation of every input, collecting panics instead of stopping at one.
fn run(inputs: Vec<(String, Vec<u8>)>) {
    let mut failures = Vec::new();
    for (seed, (name, bytes)) in inputs.into_iter().enumerate() {
        let p = probe(&bytes).ok();
        let pixels = p.map_or(0, |p| {
            u64::from(p.width) * u64::from(p.height) * u64::from(p.frames)
        });
        // Large photos: truncations only, no engine (keeps the debug run well under a minute).
        let big = pixels > 1_500_000;
        let small = pixels <= 300_000;
        let flips = if big { 4 } else { flip_count() };
        let mut cases = vec![("original".to_string(), bytes.clone())];
        cases.extend(mutations(&bytes, seed as u64 + seed_offset(), flips));
        for (what, data) in cases {
            let result = catch_unwind(AssertUnwindSafe(|| exercise(&data, small)));
            if result.is_err() {
                failures.push(format!("{name}: {what}"));
            }
        }
    }
    assert!(failures.is_empty(), "panics on:\n{}", failures.join("\n"));
}

fn encode(img: DynamicImage, fmt: Fmt) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).unwrap();
    out.into_inner()
}

fn generated() -> Vec<(String, Vec<u8>)> {
    let rgb = DynamicImage::ImageRgb8(RgbImage::from_fn(24, 16, |x, y| {
        Rgb([x as u8 * 9, y as u8 * 13, 77])
    }));
    let rgba = DynamicImage::ImageRgba8(RgbaImage::from_fn(24, 16, |x, y| {
        Rgba([x as u8 * 9, y as u8 * 13, 77, (x * 10) as u8])
    }));
    let mut v = vec![
        ("gen.jpg".to_string(), encode(rgb.clone(), Fmt::Jpeg)),
        ("gen.png".to_string(), encode(rgba.clone(), Fmt::Png)),
        (
            "gen16.png".to_string(),
            encode(DynamicImage::ImageRgba16(rgba.to_rgba16()), Fmt::Png),
        ),
        ("gen.gif".to_string(), encode(rgba.clone(), Fmt::Gif)),
        ("gen.webp".to_string(), encode(rgba.clone(), Fmt::WebP)),
        ("gen.bmp".to_string(), encode(rgb.clone(), Fmt::Bmp)),
        (
            "gen_lossy.webp".to_string(),
            webp::Encoder::from_rgb(rgb.to_rgb8().as_raw(), 24, 16)
                .encode(70.0)
                .to_vec(),
        ),
    ];
    // APNG with a partial, blended second frame.
    let mut apng = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut apng, 8, 8);
        enc.set_color(png::ColorType::Rgba);
        enc.set_animated(3, 0).unwrap();
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[200u8; 8 * 8 * 4]).unwrap();
        w.set_frame_dimension(4, 4).unwrap();
        w.set_frame_position(2, 2).unwrap();
        w.set_blend_op(png::BlendOp::Over).unwrap();
        w.set_dispose_op(png::DisposeOp::Previous).unwrap();
        w.write_image_data(&[90u8; 4 * 4 * 4]).unwrap();
        w.write_image_data(&[30u8; 4 * 4 * 4]).unwrap();
        w.finish().unwrap();
    }
    v.push(("gen.apng".to_string(), apng));
    // Animated WebP.
    let config = webp::WebPConfig::new().unwrap();
    let frames: Vec<RgbaImage> = (0..3u8)
        .map(|i| RgbaImage::from_pixel(10, 8, Rgba([i * 80, 40, 200, 255 - i * 60])))
        .collect();
    let mut enc = webp::AnimEncoder::new(10, 8, &config);
    for (i, f) in frames.iter().enumerate() {
        enc.add_frame(webp::AnimFrame::from_rgba(f.as_raw(), 10, 8, i as i32 * 50));
    }
    v.push((
        "gen_anim.webp".to_string(),
        enc.try_encode().unwrap().to_vec(),
    ));
    v
}

#[test]
fn generated_inputs_never_panic() {
    run(generated());
}

#[test]
fn corpus_inputs_never_panic() {
    let Some(dir) = crate::corpus_support::corpus_dir() else {
        return;
    };
    let inputs = crate::corpus_support::manifest(&dir)
        .into_iter()
        .map(|e| {
            let bytes = crate::corpus_support::read(&dir, &e.file);
            (e.file, bytes)
        })
        .collect();
    run(inputs);
}
