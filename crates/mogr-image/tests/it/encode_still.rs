//! Still-image encoders, checked with decoders other than the encoding library.

use crate::encode_support::*;
use image::{DynamicImage, GenericImageView, ImageBuffer, ImageFormat as Fmt, Luma, Rgba};
use mogr_image::{ImageError, ImageFormat, OutputFormat};

fn photo_source() -> mogr_image::SourceInfo {
    source(ImageFormat::Jpeg, false, false)
}

/// A little-endian TIFF block whose IFD0 holds only an orientation entry.
fn exif_with_orientation(o: u16) -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&o.to_le_bytes());
    t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    t
}

#[test]
fn jpeg_is_baseline_by_default_and_progressive_with_interlace() {
    let img = still(DynamicImage::ImageRgb8(photo_like(96, 64)), photo_source());
    let base = encode(&img, settings(OutputFormat::Jpeg, 85)).unwrap();
    let markers: Vec<u8> = jpeg_segments(&base).iter().map(|s| s.0).collect();
    assert!(markers.contains(&0xC0), "SOF0 expected: {markers:x?}");
    assert!(!markers.contains(&0xC2));

    let mut s = settings(OutputFormat::Jpeg, 85);
    s.progressive = true;
    let prog = encode(&img, s).unwrap();
    let markers: Vec<u8> = jpeg_segments(&prog).iter().map(|s| s.0).collect();
    assert!(markers.contains(&0xC2), "SOF2 expected: {markers:x?}");

    for bytes in [&base, &prog] {
        let back = image::load_from_memory_with_format(bytes, Fmt::Jpeg).unwrap();
        assert_eq!(back.dimensions(), (96, 64));
        let p = psnr(&img.frames[0].image.to_rgb8(), &back.to_rgb8());
        assert!(p > 30.0, "PSNR {p:.1} dB");
    }
}

#[test]
fn jpeg_quality_changes_size_and_fidelity() {
    let img = still(
        DynamicImage::ImageRgb8(photo_like(128, 128)),
        photo_source(),
    );
    let low = encode(&img, settings(OutputFormat::Jpeg, 30)).unwrap();
    let high = encode(&img, settings(OutputFormat::Jpeg, 95)).unwrap();
    assert!(low.len() < high.len());
    let src = img.frames[0].image.to_rgb8();
    let p_low = psnr(&src, &image::load_from_memory(&low).unwrap().to_rgb8());
    let p_high = psnr(&src, &image::load_from_memory(&high).unwrap().to_rgb8());
    assert!(p_high > p_low + 3.0, "{p_low:.1} vs {p_high:.1}");
}

#[test]
fn gray_input_gives_a_one_component_jpeg() {
    let gray = ImageBuffer::from_fn(40, 30, |x, y| Luma([(x * 5 + y) as u8]));
    let img = still(DynamicImage::ImageLuma8(gray), photo_source());
    let bytes = encode(&img, settings(OutputFormat::Jpeg, 90)).unwrap();
    let sof = jpeg_segments(&bytes)
        .into_iter()
        .find(|s| s.0 == 0xC0)
        .unwrap();
    assert_eq!(sof.1[5], 1, "component count");
    let back = image::load_from_memory(&bytes).unwrap();
    assert_eq!(back.color(), image::ColorType::L8);
}

#[test]
fn jpeg_flattens_alpha_onto_white_and_reduces_16_bit() {
    let mut rgba = gradient_rgba(64, 32);
    for y in 0..32 {
        rgba.put_pixel(0, y, Rgba([0, 0, 0, 0]));
    }
    let img = still(DynamicImage::ImageRgba8(rgba), photo_source());
    let bytes = encode(&img, settings(OutputFormat::Jpeg, 95)).unwrap();
    let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
    let left = back.get_pixel(0, 16).0;
    assert!(
        left.iter().all(|&c| c > 235),
        "transparent column became {left:?}"
    );

    let deep = DynamicImage::ImageRgb8(photo_like(48, 48)).to_rgb16();
    let img = still(DynamicImage::ImageRgb16(deep), photo_source());
    let bytes = encode(&img, settings(OutputFormat::Jpeg, 90)).unwrap();
    let back = image::load_from_memory(&bytes).unwrap();
    assert_eq!(back.color(), image::ColorType::Rgb8);
    assert!(psnr(&photo_like(48, 48), &back.to_rgb8()) > 30.0);
}

#[test]
fn jpeg_keeps_exif_and_icc_and_strip_drops_exif_only() {
    let mut img = still(DynamicImage::ImageRgb8(photo_like(32, 32)), photo_source());
    img.metadata.exif = Some(exif_with_orientation(6));
    img.metadata.orientation = 1;
    img.metadata.icc = Some(vec![7u8; 3000]);
    let bytes = encode(&img, settings(OutputFormat::Jpeg, 85)).unwrap();
    let segs = jpeg_segments(&bytes);
    let exif = segs
        .iter()
        .find(|s| s.0 == 0xE1 && s.1.starts_with(b"Exif\0\0"))
        .expect("APP1 Exif");
    // Pixels were already upright (orientation 1): the tag must say so.
    let tiff = &exif.1[6..];
    assert_eq!(u16::from_le_bytes([tiff[18], tiff[19]]), 1);
    let icc = segs
        .iter()
        .find(|s| s.0 == 0xE2 && s.1.starts_with(b"ICC_PROFILE\0"))
        .expect("APP2 ICC");
    assert_eq!(&icc.1[14..], &[7u8; 3000][..]);

    let mut s = settings(OutputFormat::Jpeg, 85);
    s.strip = true;
    let stripped = encode(&img, s).unwrap();
    let segs = jpeg_segments(&stripped);
    assert!(!segs.iter().any(|s| s.0 == 0xE1), "no APP1 after strip");
    assert!(segs.iter().any(|s| s.0 == 0xE2), "ICC kept after strip");
}

#[test]
fn yjpeg_is_smaller_than_jpg_at_equal_quality_and_progressive() {
    let img = still(
        DynamicImage::ImageRgb8(photo_like(256, 192)),
        photo_source(),
    );
    let jpg = encode(&img, settings(OutputFormat::Jpeg, 85)).unwrap();
    let y = encode(&img, settings(OutputFormat::Yjpeg, 85)).unwrap();
    assert!(
        (y.len() as f64) < jpg.len() as f64 * 0.92,
        "yjpeg {} vs jpg {}",
        y.len(),
        jpg.len()
    );
    assert!(jpeg_segments(&y).iter().any(|s| s.0 == 0xC2));
    let back = image::load_from_memory(&y).unwrap();
    assert!(psnr(&photo_like(256, 192), &back.to_rgb8()) > 28.0);
}

#[test]
fn png_keeps_alpha_and_pixels_exactly() {
    let rgba = gradient_rgba(50, 20);
    let img = still(
        DynamicImage::ImageRgba8(rgba.clone()),
        source(ImageFormat::Png, true, false),
    );
    let bytes = encode(&img, settings(OutputFormat::Png, 85)).unwrap();
    let back = image::load_from_memory_with_format(&bytes, Fmt::Png).unwrap();
    assert_eq!(back.color(), image::ColorType::Rgba8);
    assert_eq!(diff(&back.to_rgba8(), &rgba), (0, 0));
}

#[test]
fn png_keeps_16_bit() {
    let deep = ImageBuffer::from_fn(30, 10, |x, y| {
        image::Rgb([x as u16 * 2000, y as u16 * 6000 + 1, 65535 - x as u16])
    });
    let img = still(
        DynamicImage::ImageRgb16(deep.clone()),
        source(ImageFormat::Png, true, false),
    );
    let bytes = encode(&img, settings(OutputFormat::Png, 85)).unwrap();
    let back = image::load_from_memory(&bytes).unwrap();
    assert_eq!(back.color(), image::ColorType::Rgb16);
    assert!(back.to_rgb16() == deep, "16-bit samples changed");
}

/// The IHDR colour type and bit depth of a PNG.
fn png_colour_type(bytes: &[u8]) -> (u8, u8) {
    assert_eq!(&bytes[12..16], b"IHDR");
    (bytes[25], bytes[24])
}

#[test]
fn palette_source_gives_an_exact_palette_png_with_transparency() {
    let mut rgba = image::RgbaImage::from_fn(33, 17, |x, y| {
        let c = ((x / 3 + y / 3) % 5) as u8;
        Rgba([c * 50, 255 - c * 40, 7, 255])
    });
    rgba.put_pixel(0, 0, Rgba([0, 0, 0, 0]));
    rgba.put_pixel(1, 0, Rgba([10, 20, 30, 128]));
    let img = still(
        DynamicImage::ImageRgba8(rgba.clone()),
        source(ImageFormat::Png, true, true),
    );
    let bytes = encode(&img, settings(OutputFormat::Png, 85)).unwrap();
    let (ct, depth) = png_colour_type(&bytes);
    assert_eq!(ct, 3, "indexed colour");
    assert_eq!(depth, 4, "7 colours fit in 4 bits");
    let back = image::load_from_memory(&bytes).unwrap().to_rgba8();
    assert_eq!(diff(&back, &rgba), (0, 0), "exact palette is lossless");
}

#[test]
fn palette_source_with_many_colours_is_quantised_to_256() {
    let rgb = photo_like(120, 80);
    let img = still(
        DynamicImage::ImageRgb8(rgb.clone()),
        source(ImageFormat::Png, true, true),
    );
    let bytes = encode(&img, settings(OutputFormat::Png, 85)).unwrap();
    assert_eq!(png_colour_type(&bytes), (3, 8));
    let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
    let p = psnr(&rgb, &back);
    assert!(p > 30.0, "quantised PSNR {p:.1}");
}

#[test]
fn png_carries_icc_and_exif_unless_stripped() {
    let mut img = still(
        DynamicImage::ImageRgb8(photo_like(16, 16)),
        source(ImageFormat::Png, true, false),
    );
    img.metadata.icc = Some(vec![3u8; 200]);
    img.metadata.exif = Some(exif_with_orientation(1));
    let bytes = encode(&img, settings(OutputFormat::Png, 85)).unwrap();
    let has = |b: &[u8], t: &[u8]| b.windows(4).any(|w| w == t);
    assert!(has(&bytes, b"iCCP"));
    assert!(has(&bytes, b"eXIf"));
    let mut s = settings(OutputFormat::Png, 85);
    s.strip = true;
    let stripped = encode(&img, s).unwrap();
    assert!(has(&stripped, b"iCCP"));
    assert!(!has(&stripped, b"eXIf"));
}

#[test]
fn bmp_round_trips_rgb_and_rgba() {
    let rgb = photo_like(21, 13);
    let img = still(
        DynamicImage::ImageRgb8(rgb.clone()),
        source(ImageFormat::Bmp, true, false),
    );
    let bytes = encode(&img, settings(OutputFormat::Bmp, 85)).unwrap();
    assert_eq!(&bytes[..2], b"BM");
    let back = image::load_from_memory_with_format(&bytes, Fmt::Bmp).unwrap();
    assert!(back.to_rgb8() == rgb, "BMP pixels changed");

    let rgba = gradient_rgba(9, 9);
    let img = still(
        DynamicImage::ImageRgba8(rgba.clone()),
        source(ImageFormat::Png, true, false),
    );
    let bytes = encode(&img, settings(OutputFormat::Bmp, 85)).unwrap();
    let back = image::load_from_memory_with_format(&bytes, Fmt::Bmp).unwrap();
    assert!(back.color().has_alpha());
    assert_eq!(diff(&back.to_rgba8(), &rgba), (0, 0));
}

#[test]
fn webp_is_lossy_for_lossy_sources_and_lossless_for_lossless_ones() {
    let rgb = photo_like(80, 60);
    let lossy_src = still(DynamicImage::ImageRgb8(rgb.clone()), photo_source());
    let lossy = encode(&lossy_src, settings(OutputFormat::Webp, 80)).unwrap();
    let chunks = riff_chunks(&lossy);
    assert_eq!(&chunks[0].0, b"VP8 ");
    let back = image::load_from_memory_with_format(&lossy, Fmt::WebP).unwrap();
    assert_eq!(back.dimensions(), (80, 60));
    assert!(psnr(&rgb, &back.to_rgb8()) > 28.0);

    let lossless_src = still(
        DynamicImage::ImageRgb8(rgb.clone()),
        source(ImageFormat::Png, true, false),
    );
    let lossless = encode(&lossless_src, settings(OutputFormat::Webp, 80)).unwrap();
    assert_eq!(&riff_chunks(&lossless)[0].0, b"VP8L");
    let back = image::load_from_memory_with_format(&lossless, Fmt::WebP).unwrap();
    assert!(back.to_rgb8() == rgb, "lossless WebP changed pixels");
}

#[test]
fn webp_keeps_alpha() {
    let rgba = gradient_rgba(64, 40);
    let img = still(DynamicImage::ImageRgba8(rgba.clone()), photo_source());
    let bytes = encode(&img, settings(OutputFormat::Webp, 90)).unwrap();
    let chunks = riff_chunks(&bytes);
    assert!(chunks.iter().any(|c| &c.0 == b"ALPH"), "lossy alpha chunk");
    let back = image::load_from_memory_with_format(&bytes, Fmt::WebP)
        .unwrap()
        .to_rgba8();
    assert_eq!(back.get_pixel(0, 5).0[3], 0);
    assert_eq!(back.get_pixel(63, 5).0[3], 255);
}

#[test]
fn webp_carries_icc_and_exif_in_an_extended_file() {
    let mut img = still(DynamicImage::ImageRgb8(photo_like(30, 20)), photo_source());
    img.metadata.icc = Some(vec![5u8; 301]);
    img.metadata.exif = Some(exif_with_orientation(1));
    let bytes = encode(&img, settings(OutputFormat::Webp, 80)).unwrap();
    let chunks = riff_chunks(&bytes);
    let names: Vec<&[u8; 4]> = chunks.iter().map(|c| &c.0).collect();
    assert_eq!(names, vec![b"VP8X", b"ICCP", b"VP8 ", b"EXIF"]);
    let vp8x = &chunks[0].1;
    assert_eq!(vp8x[0] & 0x28, 0x28, "ICC and EXIF flags");
    assert_eq!(u32::from_le_bytes([vp8x[4], vp8x[5], vp8x[6], 0]) + 1, 30);
    assert_eq!(chunks[1].1, vec![5u8; 301]);
    let back = image::load_from_memory_with_format(&bytes, Fmt::WebP).unwrap();
    assert_eq!(back.dimensions(), (30, 20));

    let mut s = settings(OutputFormat::Webp, 80);
    s.strip = true;
    let stripped = riff_chunks(&encode(&img, s).unwrap());
    assert!(!stripped.iter().any(|c| &c.0 == b"EXIF"));
}

#[test]
fn webp_refuses_sides_over_16383() {
    let img = still(
        DynamicImage::ImageLuma8(ImageBuffer::new(16_384, 1)),
        photo_source(),
    );
    let err = encode(&img, settings(OutputFormat::Webp, 80)).unwrap_err();
    assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
}

#[test]
fn heic_has_its_brand_and_decodes_back_at_size() {
    let rgb = photo_like(67, 45);
    let img = still(DynamicImage::ImageRgb8(rgb.clone()), photo_source());
    let cfg = mogr_image::EngineConfig {
        heif_preset: "ultrafast".into(),
        ..Default::default()
    };
    for format in [OutputFormat::Heic, OutputFormat::Heif] {
        let bytes = mogr_image::encode::encode(&img, &settings(format, 85), &cfg).unwrap();
        let (major, compat) = ftyp_brands(&bytes);
        assert_eq!(major, "heic", "compatible: {compat:?}");
        let (w, h, alpha, back) = decode_heif(&bytes);
        assert_eq!((w, h, alpha), (67, 45, false));
        assert!(psnr(&rgb, &back) > 28.0);
    }
}

#[test]
fn avif_has_its_brand_keeps_alpha_and_decodes_back() {
    let rgba = gradient_rgba(40, 24);
    let img = still(DynamicImage::ImageRgba8(rgba), photo_source());
    let cfg = mogr_image::EngineConfig {
        avif_speed: 9,
        ..Default::default()
    };
    let bytes = mogr_image::encode::encode(&img, &settings(OutputFormat::Avif, 85), &cfg).unwrap();
    let (major, _) = ftyp_brands(&bytes);
    assert_eq!(major, "avif");
    let (w, h, alpha, _) = decode_heif(&bytes);
    assert_eq!((w, h, alpha), (40, 24, true));
}

#[test]
fn still_formats_take_the_first_frame_of_an_animation() {
    let frames = (0..3)
        .map(|i| (DynamicImage::ImageRgba8(moving_square(48, 32, i)), 100))
        .collect();
    let img = image(frames, 0, source(ImageFormat::Gif, true, true));
    let bytes = encode(&img, settings(OutputFormat::Png, 85)).unwrap();
    let back = image::load_from_memory(&bytes).unwrap().to_rgba8();
    assert_eq!(diff(&back, &moving_square(48, 32, 0)), (0, 0));
}

#[test]
fn tpg_is_refused_with_a_pointer_to_open_formats() {
    let img = still(DynamicImage::ImageRgb8(photo_like(8, 8)), photo_source());
    match encode(&img, settings(OutputFormat::Tpg, 85)) {
        Err(ImageError::UnsupportedFormat(msg)) => {
            assert!(msg.contains("avif") && msg.contains("heif"), "{msg}")
        }
        other => panic!("expected UnsupportedFormat, got {other:?}"),
    }
}
