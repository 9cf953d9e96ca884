//! The effect operations on a real photo and on degenerate inputs: output sizes match what
//! each op announces, pixels change the way the op says, and nothing panics.

use image::{DynamicImage, GenericImageView, ImageBuffer, Luma, LumaA, Rgb, Rgba};
use mogr_image::encode::{encode, EncodeSettings};
use mogr_image::ops::blur::Blur;
use mogr_image::ops::bright::Bright;
use mogr_image::ops::contrast::Contrast;
use mogr_image::ops::grayscale::Grayscale;
use mogr_image::ops::iradius::IRadius;
use mogr_image::ops::rradius::RRadius;
use mogr_image::ops::scrop::Scrop;
use mogr_image::ops::sharpen::Sharpen;
use mogr_image::ops::size_limit;
use mogr_image::ops::{Size, Transform};
use mogr_image::{decode, EngineConfig, Image, ImageError, Limits, OutputFormat};

use crate::corpus_support::{corpus_dir, read};

const PHOTO: &str = "photo_path_2560x1600.jpg";

/// The corpus photo, decoded.
fn photo() -> Option<Image> {
    let dir = corpus_dir()?;
    Some(decode(&read(&dir, PHOTO), &Limits::default()).unwrap())
}

/// Runs `op` on `frame`, checking the output has the size `output_size` announced.
fn run(op: &dyn Transform, frame: &DynamicImage) -> DynamicImage {
    let size = op
        .output_size(Size::new(frame.width(), frame.height()))
        .unwrap();
    let out = op.apply_frame(frame).unwrap();
    assert_eq!(
        Size::new(out.width(), out.height()),
        size,
        "{} announced its size",
        op.name()
    );
    out
}

/// Mean absolute difference between horizontal neighbours' luma: a sharpness measure.
fn detail(img: &DynamicImage) -> f64 {
    let g = img.to_luma8();
    let mut sum = 0u64;
    for row in g.rows() {
        let v: Vec<u8> = row.map(|p| p.0[0]).collect();
        sum += v
            .windows(2)
            .map(|w| u64::from(w[0].abs_diff(w[1])))
            .sum::<u64>();
    }
    sum as f64 / f64::from(g.width().saturating_sub(1) * g.height())
}

/// Mean and standard deviation of luma.
fn luma_stats(img: &DynamicImage) -> (f64, f64) {
    let g = img.to_luma8();
    let n = f64::from(g.width() * g.height());
    let mean = g.pixels().map(|p| f64::from(p.0[0])).sum::<f64>() / n;
    let var = g
        .pixels()
        .map(|p| (f64::from(p.0[0]) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

#[test]
fn blur_and_sharpen_move_detail_the_right_way() {
    let Some(img) = photo() else { return };
    let frame = &img.frames[0].image;
    let before = detail(frame);
    let blurred = run(&Blur::new(10, 5.0), frame);
    assert!(
        detail(&blurred) < before / 2.0,
        "blur: {} vs {before}",
        detail(&blurred)
    );
    let sharpened = run(&Sharpen::new(70), frame);
    assert!(
        detail(&sharpened) > before * 1.2,
        "sharpen: {} vs {before}",
        detail(&sharpened)
    );
    let stronger = run(&Sharpen::new(300), frame);
    assert!(detail(&stronger) > detail(&sharpened));
}

#[test]
fn bright_and_contrast_move_luma_statistics() {
    let Some(img) = photo() else { return };
    let frame = &img.frames[0].image;
    let (mean, spread) = luma_stats(frame);
    let (brighter, _) = luma_stats(&run(&Bright::new(30), frame));
    assert!(brighter > mean + 30.0, "{brighter} vs {mean}");
    let (darker, _) = luma_stats(&run(&Bright::new(-30), frame));
    assert!(darker < mean - 30.0, "{darker} vs {mean}");
    let (_, more) = luma_stats(&run(&Contrast::new(50), frame));
    let (_, less) = luma_stats(&run(&Contrast::new(-50), frame));
    // -50 is slope 0.41 around mid-grey; +50 is slope 2.41 but clips this darkish photo.
    assert!(
        more > spread * 1.1 && less < spread * 0.5,
        "{less} < {spread} < {more}"
    );
    for op in [&Bright::new(0) as &dyn Transform, &Contrast::new(0)] {
        assert_eq!(run(op, frame).to_rgb8(), frame.to_rgb8(), "{} 0", op.name());
    }
}

#[test]
fn grayscale_gives_a_gray_frame_of_rec601_luma() {
    let Some(img) = photo() else { return };
    let frame = &img.frames[0].image;
    let out = run(&Grayscale::new(true), frame);
    assert!(matches!(out, DynamicImage::ImageLuma8(_)));
    for (x, y) in [(0, 0), (1280, 800), (2559, 1599), (100, 1500)] {
        let [r, g, b, _] = frame.get_pixel(x, y).0;
        let want = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
        let got = f64::from(out.get_pixel(x, y).0[0]);
        assert!(
            (got - want).abs() <= 0.5 + 1e-9,
            "({x},{y}): {got} vs {want}"
        );
    }
}

#[test]
fn iradius_and_rradius_cut_transparent_corners() {
    let Some(img) = photo() else { return };
    let frame = &img.frames[0].image;
    let disc = run(&IRadius::new(400), frame);
    assert_eq!((disc.width(), disc.height()), (800, 800));
    for (x, y) in [(0, 0), (799, 0), (0, 799), (799, 799)] {
        assert_eq!(disc.get_pixel(x, y).0[3], 0, "iradius corner ({x},{y})");
    }
    let [r, g, b, _] = frame.get_pixel(1280, 800).0;
    assert_eq!(disc.get_pixel(400, 400).0, [r, g, b, 255]);

    let rounded = run(&RRadius::new(100), frame);
    assert_eq!((rounded.width(), rounded.height()), (2560, 1600));
    for (x, y) in [(0, 0), (2559, 0), (0, 1599), (2559, 1599), (20, 20)] {
        assert_eq!(rounded.get_pixel(x, y).0[3], 0, "rradius corner ({x},{y})");
    }
    assert_eq!(rounded.get_pixel(1280, 800).0, [r, g, b, 255]);
    assert_eq!(rounded.get_pixel(1280, 0).0[3], 255);

    let err = IRadius::new(801)
        .output_size(Size::new(2560, 1600))
        .unwrap_err();
    assert!(matches!(err, ImageError::InvalidArgument(m) if m.contains("iradius")));
}

#[test]
fn scrop_gives_the_exact_size_from_a_window_of_the_photo() {
    let Some(img) = photo() else { return };
    let frame = &img.frames[0].image;
    for (w, h) in [(500, 500), (300, 600), (2560, 100), (4000, 100)] {
        let out = run(&Scrop::new(w, h), frame);
        let (_, spread) = luma_stats(&out);
        assert!(
            spread > 5.0,
            "{w}x{h}: a real part of the photo, not a flat fill"
        );
    }
}

#[test]
fn size_limit_finds_the_best_jpeg_under_the_budget() {
    let Some(img) = photo() else { return };
    let jpeg = |q: u8| {
        let settings = EncodeSettings {
            format: OutputFormat::Jpeg,
            quality: q,
            progressive: false,
            strip: true,
            cgif: None,
        };
        encode(&img, &settings, &EngineConfig::default())
    };
    let limit = 200 * 1024;
    let (bytes, q) = size_limit::search(limit, 90, jpeg).unwrap();
    assert!(bytes.len() as u64 <= limit, "{} bytes", bytes.len());
    assert!(
        q < 90 && jpeg(q + 1).unwrap().len() as u64 > limit,
        "q = {q}"
    );
    let back = decode(&bytes, &Limits::default()).unwrap();
    assert_eq!((back.width, back.height), (2560, 1600));
}

/// Every effect op with arguments that suit a 10x10 image.
fn all_ops() -> Vec<Box<dyn Transform>> {
    vec![
        Box::new(Blur::new(50, 50.0)),
        Box::new(Blur::new(1, 0.1)),
        Box::new(Sharpen::new(300)),
        Box::new(Bright::new(-100)),
        Box::new(Contrast::new(100)),
        Box::new(Grayscale::new(true)),
        Box::new(IRadius::new(1)),
        Box::new(RRadius::new(1)),
        Box::new(Scrop::new(7, 3)),
    ]
}

/// One frame of every pixel layout a decoder hands out, at `w` x `h`.
fn layouts(w: u32, h: u32) -> Vec<DynamicImage> {
    vec![
        DynamicImage::ImageLuma8(ImageBuffer::from_pixel(w, h, Luma([77]))),
        DynamicImage::ImageLumaA8(ImageBuffer::from_pixel(w, h, LumaA([77, 9]))),
        DynamicImage::ImageRgb8(ImageBuffer::from_pixel(w, h, Rgb([1, 2, 3]))),
        DynamicImage::ImageRgba8(ImageBuffer::from_pixel(w, h, Rgba([1, 2, 3, 0]))),
        DynamicImage::ImageRgb16(ImageBuffer::from_pixel(w, h, Rgb([1u16, 600, 65535]))),
        DynamicImage::ImageRgba16(ImageBuffer::from_pixel(w, h, Rgba([9u16, 9, 9, 9]))),
        DynamicImage::ImageLuma16(ImageBuffer::from_pixel(w, h, Luma([4000u16]))),
    ]
}

#[test]
fn tiny_frames_of_every_layout_never_panic() {
    for (w, h) in [(1, 1), (2, 2), (1, 3), (3, 1)] {
        for frame in layouts(w, h) {
            for op in all_ops() {
                let size = op.output_size(Size::new(w, h));
                let out = op.apply_frame(&frame);
                match (size, out) {
                    (Ok(size), Ok(out)) => {
                        assert_eq!(Size::new(out.width(), out.height()), size, "{}", op.name())
                    }
                    (Err(ImageError::InvalidArgument(a)), Err(ImageError::InvalidArgument(b))) => {
                        assert!(a.contains(op.name()) && b.contains(op.name()), "{a} / {b}")
                    }
                    (size, out) => panic!("{} on {w}x{h}: {size:?} vs {:?}", op.name(), out.err()),
                }
            }
        }
    }
}

#[test]
fn every_frame_of_an_animation_is_transformed_alike() {
    let Some(dir) = corpus_dir() else { return };
    let img = decode(&read(&dir, "animated_42frames.gif"), &Limits::default()).unwrap();
    assert_eq!(img.frames.len(), 42);
    let ops: Vec<Box<dyn Transform>> = vec![
        Box::new(Blur::new(3, 2.0)),
        Box::new(Sharpen::new(70)),
        Box::new(Bright::new(10)),
        Box::new(Contrast::new(-10)),
        Box::new(Grayscale::new(true)),
        Box::new(IRadius::new(100)),
        Box::new(RRadius::new(30)),
        Box::new(Scrop::new(100, 200)),
    ];
    for op in ops {
        let size = op.output_size(Size::new(img.width, img.height)).unwrap();
        for f in &img.frames {
            let out = op.apply_frame(&f.image).unwrap();
            assert_eq!(Size::new(out.width(), out.height()), size, "{}", op.name());
        }
    }
}
