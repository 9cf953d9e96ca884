//! Decoding generated inputs: bit depths, palettes, transparency, animation compositing,
//! delays and loop counts, and typed errors for broken input.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageFormat as Fmt, Rgb, RgbImage, Rgba, RgbaImage};
use mogr_image::{decode, probe, ImageError, ImageFormat, Limits};

fn encode(img: DynamicImage, fmt: Fmt) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).unwrap();
    out.into_inner()
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
    })
}

fn limits() -> Limits {
    Limits::default()
}

#[test]
fn png_16_bit_is_kept() {
    let img16 = DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(5, 4, |x, y| {
        Rgb([x as u16 * 1000 + 7, y as u16 * 2000 + 3, 65535])
    }));
    let png = encode(img16.clone(), Fmt::Png);
    let img = decode(&png, &limits()).unwrap();
    assert_eq!(img.source.bit_depth, 16);
    assert!(img.source.lossless);
    assert_eq!(
        img.frames[0].image, img16,
        "16-bit samples round-trip exactly"
    );

    let rgba16 = DynamicImage::ImageRgba16(image::ImageBuffer::from_fn(3, 3, |x, _| {
        Rgba([1, 2, 3, x as u16 * 30000])
    }));
    let img = decode(&encode(rgba16.clone(), Fmt::Png), &limits()).unwrap();
    assert!(img.source.has_alpha);
    assert_eq!(img.frames[0].image, rgba16);
}

#[test]
fn png_palette_with_trns() {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 2, 1);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(vec![255, 0, 0, 0, 0, 255]);
        enc.set_trns(vec![255, 0]);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[0, 1]).unwrap();
    }
    let img = decode(&out, &limits()).unwrap();
    assert!(img.source.palette);
    assert!(img.source.has_alpha);
    let px = img.frames[0].image.to_rgba8();
    assert_eq!(px.get_pixel(0, 0).0, [255, 0, 0, 255]);
    assert_eq!(px.get_pixel(1, 0).0[3], 0, "tRNS makes index 1 transparent");
}

#[test]
fn apng_frames_delays_loops_and_blending() {
    let red = [255u8, 0, 0, 255].repeat(4 * 4);
    let blue_half = [0u8, 0, 255, 128].repeat(2 * 2);
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 4, 4);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_animated(2, 3).unwrap();
        let mut w = enc.write_header().unwrap();
        w.set_frame_delay(1, 10).unwrap();
        w.write_image_data(&red).unwrap();
        w.set_frame_delay(25, 100).unwrap();
        w.set_frame_dimension(2, 2).unwrap();
        w.set_frame_position(1, 1).unwrap();
        w.set_blend_op(png::BlendOp::Over).unwrap();
        w.write_image_data(&blue_half).unwrap();
        w.finish().unwrap();
    }
    assert_eq!(probe(&out).unwrap().frames, 2);
    let img = decode(&out, &limits()).unwrap();
    assert_eq!(img.frames.len(), 2);
    assert_eq!(img.loop_count, 3);
    assert_eq!(img.frames[0].delay_ms, 100);
    assert_eq!(img.frames[1].delay_ms, 250);
    let f1 = img.frames[1].image.to_rgba8();
    assert_eq!(
        f1.get_pixel(0, 0).0,
        [255, 0, 0, 255],
        "outside the sub-frame"
    );
    let blended = f1.get_pixel(1, 1).0;
    assert!(
        blended[0] > 100 && blended[0] < 160,
        "red half covered: {blended:?}"
    );
    assert!(
        blended[2] > 100 && blended[2] < 160,
        "blue half shown: {blended:?}"
    );
}

/// A 4x4 GIF exercising every disposal method and a transparent frame.
fn disposal_gif(repeat: gif::Repeat) -> Vec<u8> {
    // Palette: 0 red, 1 blue, 2 green, 3 (transparent key).
    let palette = [255, 0, 0, 0, 0, 255, 0, 255, 0, 9, 9, 9];
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, 4, 4, &palette).unwrap();
        enc.set_repeat(repeat).unwrap();
        let frame = |left, top, w, h, idx: u8, dispose, delay| {
            let mut f =
                gif::Frame::from_indexed_pixels(w, h, vec![idx; usize::from(w * h)], Some(3));
            f.left = left;
            f.top = top;
            f.dispose = dispose;
            f.delay = delay;
            f
        };
        use gif::DisposalMethod::*;
        enc.write_frame(&frame(0, 0, 4, 4, 0, Keep, 10)).unwrap();
        enc.write_frame(&frame(0, 0, 2, 2, 1, Background, 20))
            .unwrap();
        enc.write_frame(&frame(3, 3, 1, 1, 2, Previous, 30))
            .unwrap();
        enc.write_frame(&frame(2, 2, 1, 1, 3, Keep, 40)).unwrap();
    }
    out
}

#[test]
fn gif_disposal_and_transparency_are_composited() {
    let img = decode(&disposal_gif(gif::Repeat::Infinite), &limits()).unwrap();
    assert_eq!(img.frames.len(), 4);
    assert!(img.source.palette && img.source.has_alpha);
    let delays: Vec<u32> = img.frames.iter().map(|f| f.delay_ms).collect();
    assert_eq!(delays, [100, 200, 300, 400]);
    assert_eq!(img.loop_count, 0, "NETSCAPE 0 = forever");
    let px = |i: usize, x, y| img.frames[i].image.to_rgba8().get_pixel(x, y).0;
    const RED: [u8; 4] = [255, 0, 0, 255];
    const BLUE: [u8; 4] = [0, 0, 255, 255];
    const GREEN: [u8; 4] = [0, 255, 0, 255];
    assert_eq!(px(0, 3, 3), RED);
    assert_eq!(px(1, 0, 0), BLUE);
    assert_eq!(px(1, 3, 3), RED);
    // Frame 2's area went back to the (transparent) background.
    assert_eq!(px(2, 0, 0)[3], 0);
    assert_eq!(px(2, 3, 3), GREEN);
    // Frame 3 was disposed to previous: its green pixel is gone; frame 4 is fully transparent.
    assert_eq!(px(3, 3, 3), RED);
    assert_eq!(px(3, 2, 2), RED);
    assert_eq!(px(3, 0, 0)[3], 0);
}

#[test]
fn gif_loop_counts_become_plays() {
    let img = decode(&disposal_gif(gif::Repeat::Finite(2)), &limits()).unwrap();
    assert_eq!(img.loop_count, 3, "2 repeats = 3 plays");
}

#[test]
fn webp_lossless_lossy_alpha() {
    let rgb = gradient(40, 30);
    let lossless = encode(DynamicImage::ImageRgb8(rgb.clone()), Fmt::WebP);
    let img = decode(&lossless, &limits()).unwrap();
    assert!(img.source.lossless);
    assert_eq!(img.source.quality, None);
    assert_eq!(img.frames[0].image.to_rgb8(), rgb, "lossless round trip");

    for q in [50.0f32, 75.0, 90.0] {
        let lossy = webp::Encoder::from_rgb(rgb.as_raw(), 40, 30)
            .encode(q)
            .to_vec();
        let img = decode(&lossy, &limits()).unwrap();
        assert!(!img.source.lossless);
        assert!(!img.source.has_alpha);
        let est = f32::from(img.source.quality.expect("lossy quality estimate"));
        assert!((est - q).abs() <= 12.0, "q{q} estimated as {est}");
    }

    let rgba = RgbaImage::from_fn(16, 16, |x, _| Rgba([200, 10, 10, (x * 16) as u8]));
    let lossy_alpha = webp::Encoder::from_rgba(rgba.as_raw(), 16, 16)
        .encode(80.0)
        .to_vec();
    let img = decode(&lossy_alpha, &limits()).unwrap();
    assert!(img.source.has_alpha);
    assert!(!img.source.lossless);
    assert_eq!(img.frames[0].image.to_rgba8().get_pixel(0, 0).0[3], 0);
}

#[test]
fn webp_animation_frames_delays_and_loops() {
    let mut config = webp::WebPConfig::new().unwrap();
    config.lossless = 1;
    let frames: Vec<RgbaImage> = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
        .iter()
        .map(|c| RgbaImage::from_pixel(6, 5, Rgba([c[0], c[1], c[2], 255])))
        .collect();
    let mut enc = webp::AnimEncoder::new(6, 5, &config);
    enc.set_loop_count(4);
    for (i, f) in frames.iter().enumerate() {
        enc.add_frame(webp::AnimFrame::from_rgba(f.as_raw(), 6, 5, i as i32 * 120));
    }
    let bytes = enc.try_encode().unwrap().to_vec();
    let p = probe(&bytes).unwrap();
    assert_eq!(
        (p.format, p.width, p.height, p.frames),
        (ImageFormat::Webp, 6, 5, 3)
    );
    let img = decode(&bytes, &limits()).unwrap();
    assert_eq!(img.frames.len(), 3);
    assert_eq!(img.loop_count, 4);
    assert!(img.source.lossless);
    assert_eq!(img.frames[0].delay_ms, 120);
    for (frame, want) in img.frames.iter().zip(&frames) {
        let got = frame.image.to_rgba8().get_pixel(2, 2).0;
        let want = want.get_pixel(2, 2).0;
        assert!(
            got.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 3),
            "{got:?} vs {want:?}"
        );
    }
}

#[test]
fn jpeg_gray_and_colour() {
    let gray = DynamicImage::ImageLuma8(GrayImage::from_fn(17, 9, |x, _| {
        image::Luma([x as u8 * 10])
    }));
    let img = decode(&encode(gray, Fmt::Jpeg), &limits()).unwrap();
    assert!(matches!(img.frames[0].image, DynamicImage::ImageLuma8(_)));
    assert_eq!((img.width, img.height), (17, 9));
    let img = decode(
        &encode(DynamicImage::ImageRgb8(gradient(33, 21)), Fmt::Jpeg),
        &limits(),
    )
    .unwrap();
    assert!(matches!(img.frames[0].image, DynamicImage::ImageRgb8(_)));
    assert_eq!(
        img.source.quality,
        Some(75),
        "image crate's default JPEG quality"
    );
}

#[test]
fn bmp_decodes() {
    let rgb = gradient(13, 7);
    let img = decode(
        &encode(DynamicImage::ImageRgb8(rgb.clone()), Fmt::Bmp),
        &limits(),
    )
    .unwrap();
    assert_eq!(img.frames[0].image.to_rgb8(), rgb);
    assert!(img.source.lossless);
}

#[test]
fn broken_inputs_give_typed_errors() {
    let limits = limits();
    assert!(matches!(
        decode(b"", &limits),
        Err(ImageError::UnknownFormat)
    ));
    assert!(matches!(
        decode(b"hello world, not an image", &limits),
        Err(ImageError::UnknownFormat)
    ));
    // A JPEG named .png is still decoded as what it is: formats come from bytes, not names.
    let jpg = encode(DynamicImage::ImageRgb8(gradient(8, 8)), Fmt::Jpeg);
    assert_eq!(
        decode(&jpg, &limits).unwrap().source.format,
        ImageFormat::Jpeg
    );
    for (name, bytes) in [
        (
            "png",
            encode(DynamicImage::ImageRgb8(gradient(8, 8)), Fmt::Png),
        ),
        (
            "gif",
            encode(DynamicImage::ImageRgb8(gradient(8, 8)), Fmt::Gif),
        ),
        (
            "webp",
            encode(DynamicImage::ImageRgb8(gradient(8, 8)), Fmt::WebP),
        ),
        (
            "bmp",
            encode(DynamicImage::ImageRgb8(gradient(8, 8)), Fmt::Bmp),
        ),
        ("jpeg", jpg.clone()),
    ] {
        // Cut inside the header: recognised but corrupt.
        let err = decode(&bytes[..14.min(bytes.len())], &limits).unwrap_err();
        assert!(
            matches!(err, ImageError::Corrupt { .. }),
            "{name} header cut: {err:?}"
        );
    }
}
