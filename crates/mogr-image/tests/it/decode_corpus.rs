//! Every corpus file decodes to the dimensions and frame count its manifest records.

use crate::corpus_support::{corpus_dir, manifest, read};
use mogr_image::{decode, probe, ImageFormat, Limits};

/// Pillow counts a HEIC's extra top-level image as a frame; the engine decodes the primary
/// image only, as a still.
fn expected_frames(file: &str, manifest_frames: u32) -> u32 {
    if file.ends_with(".heic") {
        1
    } else {
        manifest_frames
    }
}

#[test]
fn corpus_dimensions_and_frames() {
    let Some(dir) = corpus_dir() else { return };
    let limits = Limits::default();
    for e in manifest(&dir) {
        let bytes = read(&dir, &e.file);
        let frames = expected_frames(&e.file, e.frames);
        let p = probe(&bytes).unwrap_or_else(|err| panic!("{}: probe: {err}", e.file));
        assert_eq!(
            (p.width, p.height),
            (e.width, e.height),
            "{} probe dims",
            e.file
        );
        assert_eq!(p.frames, frames, "{} probe frames", e.file);
        let img = decode(&bytes, &limits).unwrap_or_else(|err| panic!("{}: decode: {err}", e.file));
        assert_eq!(
            (img.width, img.height),
            (e.width, e.height),
            "{} dims",
            e.file
        );
        assert_eq!(img.frames.len() as u32, frames, "{} frames", e.file);
        for f in &img.frames {
            assert_eq!(
                (f.image.width(), f.image.height()),
                (e.width, e.height),
                "{}",
                e.file
            );
        }
        let alpha_mode = e.mode.contains('A');
        if alpha_mode {
            assert!(img.source.has_alpha, "{} should report alpha", e.file);
        }
        assert_eq!(img.source.palette, e.mode == "P", "{} palette", e.file);
    }
}

#[test]
fn corpus_formats_are_sniffed() {
    let Some(dir) = corpus_dir() else { return };
    for e in manifest(&dir) {
        let bytes = read(&dir, &e.file);
        let want = match e.file.rsplit('.').next().unwrap() {
            "jpg" => ImageFormat::Jpeg,
            "png" => ImageFormat::Png,
            "gif" => ImageFormat::Gif,
            "webp" => ImageFormat::Webp,
            "bmp" => ImageFormat::Bmp,
            "heic" => ImageFormat::Heif,
            "avif" => ImageFormat::Avif,
            other => panic!("unexpected extension {other}"),
        };
        assert_eq!(probe(&bytes).unwrap().format, want, "{}", e.file);
    }
}
