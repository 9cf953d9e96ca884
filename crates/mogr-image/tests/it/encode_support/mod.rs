//! Shared helpers for the encoder tests: images built in memory and independent inspection of
//! the encoded bytes.

#![allow(dead_code)]

use std::path::PathBuf;

use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use mogr_image::encode::EncodeSettings;
use mogr_image::{EngineConfig, Frame, Image, ImageFormat, Metadata, OutputFormat, SourceInfo};

/// Facts about a made-up source.
pub fn source(format: ImageFormat, lossless: bool, palette: bool) -> SourceInfo {
    SourceInfo {
        format,
        quality: None,
        lossless,
        palette,
        has_alpha: false,
        bit_depth: 8,
    }
}

/// An `Image` from frames and their delays.
pub fn image(frames: Vec<(DynamicImage, u32)>, loop_count: u16, source: SourceInfo) -> Image {
    let (width, height) = frames
        .first()
        .map(|(f, _)| (f.width(), f.height()))
        .unwrap_or((0, 0));
    Image {
        frames: frames
            .into_iter()
            .map(|(image, delay_ms)| Frame { image, delay_ms })
            .collect(),
        width,
        height,
        loop_count,
        metadata: Metadata {
            orientation: 1,
            ..Metadata::default()
        },
        source,
    }
}

/// A still `Image`.
pub fn still(img: DynamicImage, source: SourceInfo) -> Image {
    image(vec![(img, 0)], 0, source)
}

/// Settings for `format` at quality `q`, baseline, nothing stripped.
pub fn settings(format: OutputFormat, q: u8) -> EncodeSettings {
    EncodeSettings {
        format,
        quality: q,
        progressive: false,
        strip: false,
        cgif: None,
    }
}

/// Encode with the default engine configuration.
pub fn encode(img: &Image, s: EncodeSettings) -> mogr_image::Result<Vec<u8>> {
    mogr_image::encode::encode(img, &s, &EngineConfig::default())
}

/// A smooth photo-like RGB test picture (many colours, some detail).
pub fn photo_like(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        let ripple = ((fx * 25.0).sin() * (fy * 17.0).cos() * 30.0) as i32;
        Rgb([
            (fx * 200.0) as u8 + 20,
            (fy * 180.0) as u8 + 30,
            (128 + ripple).clamp(0, 255) as u8,
        ])
    })
}

/// A gradient with an alpha ramp from transparent (left) to opaque (right).
pub fn gradient_rgba(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        Rgba([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            90,
            (x * 255 / (w - 1).max(1)) as u8,
        ])
    })
}

/// An animation frame: a coloured square moving over a flat background, `k` colours.
pub fn moving_square(w: u32, h: u32, step: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let inside = (step * 4..step * 4 + 12).contains(&x) && (10..22).contains(&y);
        if inside {
            Rgba([220, 30, (step * 20) as u8, 255])
        } else {
            Rgba([20, 80 + (y % 4) as u8 * 10, 160, 255])
        }
    })
}

/// Peak signal-to-noise ratio of two same-size RGB pictures, in dB.
pub fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let n = a.as_raw().len() as f64;
    let se: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum();
    if se == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / (se / n)).log10()
}

/// The JPEG marker segments before the first scan: (marker byte, payload).
pub fn jpeg_segments(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        out.push((marker, bytes[at + 4..at + 2 + len].to_vec()));
        if marker == 0xDA {
            break;
        }
        at += 2 + len;
    }
    out
}

/// RIFF chunks of a WebP file: (fourcc, payload).
pub fn riff_chunks(bytes: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WEBP");
    let riff_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff_len + 8, bytes.len(), "RIFF size field");
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let fourcc: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        out.push((fourcc, bytes[at + 8..at + 8 + len].to_vec()));
        at += 8 + len + (len & 1);
    }
    out
}

/// The NETSCAPE2.0 loop count of a GIF, if the extension is present.
pub fn gif_loop_count(bytes: &[u8]) -> Option<u16> {
    let tag = b"NETSCAPE2.0";
    let at = bytes.windows(tag.len()).position(|w| w == tag)?;
    // NETSCAPE2.0, sub-block size 3, id 1, loop count (LE).
    let lc = bytes.get(at + tag.len() + 2..at + tag.len() + 4)?;
    Some(u16::from_le_bytes([lc[0], lc[1]]))
}

/// Decoded GIF frames (composited RGBA canvases) and delays in ms, via the `image` crate.
pub fn decode_gif(bytes: &[u8]) -> Vec<(RgbaImage, u32)> {
    use image::AnimationDecoder;
    let dec = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    dec.into_frames()
        .collect_frames()
        .unwrap()
        .into_iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            (f.into_buffer(), n / d.max(1))
        })
        .collect()
}

/// Decoded WebP animation frames and delays in ms, via the `image` crate (image-webp).
pub fn decode_webp_anim(bytes: &[u8]) -> Vec<(RgbaImage, u32)> {
    use image::AnimationDecoder;
    let dec = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    assert!(dec.has_animation());
    dec.into_frames()
        .collect_frames()
        .unwrap()
        .into_iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            (f.into_buffer(), n / d.max(1))
        })
        .collect()
}

/// The shared corpus, or `None` (the caller prints "skipped: corpus absent").
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.is_dir().then_some(dir)
}

/// The ISOBMFF `ftyp` major brand and compatible brands.
pub fn ftyp_brands(bytes: &[u8]) -> (String, Vec<String>) {
    assert_eq!(&bytes[4..8], b"ftyp");
    let size = u32::from_be_bytes(bytes[0..4].try_into().unwrap()) as usize;
    let major = String::from_utf8_lossy(&bytes[8..12]).into_owned();
    let compat = bytes[16..size]
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    (major, compat)
}

/// Decode a HEIF/AVIF back through libheif: (width, height, has alpha, RGB pixels).
pub fn decode_heif(bytes: &[u8]) -> (u32, u32, bool, RgbImage) {
    use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};
    let lib = LibHeif::new();
    let ctx = HeifContext::read_from_bytes(bytes).unwrap();
    let handle = ctx.primary_image_handle().unwrap();
    let (w, h, alpha) = (handle.width(), handle.height(), handle.has_alpha_channel());
    let img = lib
        .decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None)
        .unwrap();
    let planes = img.planes();
    let p = planes.interleaved.unwrap();
    let mut rgb = RgbImage::new(w, h);
    for y in 0..h as usize {
        let row = &p.data[y * p.stride..y * p.stride + w as usize * 3];
        rgb.as_mut()[y * w as usize * 3..(y + 1) * w as usize * 3].copy_from_slice(row);
    }
    (w, h, alpha, rgb)
}

/// How many pixels differ, and the largest per-channel difference.
pub fn diff(a: &RgbaImage, b: &RgbaImage) -> (usize, u8) {
    assert_eq!(a.dimensions(), b.dimensions());
    a.pixels().zip(b.pixels()).fold((0, 0), |(n, m), (p, q)| {
        let d =
            p.0.iter()
                .zip(q.0.iter())
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap_or(0);
        (n + usize::from(d > 0), m.max(d))
    })
}

/// Decoded WebP animation frames via libwebp's own demuxer (the `webp` crate).
pub fn decode_webp_anim_libwebp(bytes: &[u8]) -> Vec<RgbaImage> {
    let anim = webp::AnimDecoder::new(bytes).decode().unwrap();
    (0..anim.len())
        .map(|i| {
            let f = anim.get_frame(i).unwrap();
            DynamicImage::from(&f).to_rgba8()
        })
        .collect()
}

/// SSIMULACRA2 score of `distorted` against `reference` (100 = identical, 90 visually
/// lossless, 70 high quality, 50 medium).
pub fn ssimulacra2(reference: &RgbImage, distorted: &RgbImage) -> f64 {
    use ssimulacra2::{ColorPrimaries, Rgb as SRgb, TransferCharacteristic};
    let conv = |i: &RgbImage| {
        let data = i
            .pixels()
            .map(|p| {
                [
                    f32::from(p.0[0]) / 255.0,
                    f32::from(p.0[1]) / 255.0,
                    f32::from(p.0[2]) / 255.0,
                ]
            })
            .collect();
        SRgb::new(
            data,
            i.width() as usize,
            i.height() as usize,
            TransferCharacteristic::SRGB,
            ColorPrimaries::BT709,
        )
        .unwrap()
    };
    ssimulacra2::compute_frame_ssimulacra2(conv(reference), conv(distorted)).unwrap()
}

/// The corpus photos (`photo_*.jpg`), decoded by the `image` crate, sorted by name.
pub fn corpus_photos() -> Option<Vec<(String, RgbImage)>> {
    let dir = corpus_dir()?;
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("photo_") && n.ends_with(".jpg"))
        .collect();
    names.sort();
    Some(
        names
            .into_iter()
            .map(|n| {
                let img = image::open(dir.join(&n)).unwrap().to_rgb8();
                (n, img)
            })
            .collect(),
    )
}

/// Shrink so the longer side is at most `max` (Lanczos3): a cleaner reference than the
/// source JPEG itself, and a size the slow encoders finish quickly.
pub fn shrink(img: &RgbImage, max: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let scale = f64::from(max) / f64::from(w.max(h));
    if scale >= 1.0 {
        return img.clone();
    }
    let (nw, nh) = (
        (f64::from(w) * scale).round() as u32,
        (f64::from(h) * scale).round() as u32,
    );
    image::imageops::resize(img, nw, nh, image::imageops::FilterType::Lanczos3)
}
