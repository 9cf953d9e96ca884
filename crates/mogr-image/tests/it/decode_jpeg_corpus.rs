//! JPEG specifics on corpus photos: CMYK conversion, orientation, quality, metadata.
//!
//! Reference numbers come from ImageMagick 6 on this machine (commands in each comment); JPEG
//! decoders differ by a few levels per pixel, hence the tolerances.

use crate::corpus_support::{corpus_dir, read};
use image::RgbImage;
use mogr_image::ops::orient::auto_orient;
use mogr_image::{decode, header_info, Limits};

/// Mean colour of the (2r+1)² block around (x, y).
fn block_mean(img: &RgbImage, x: u32, y: u32, r: u32) -> [f64; 3] {
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for yy in y - r..=y + r {
        for xx in x - r..=x + r {
            let p = img.get_pixel(xx, yy).0;
            for c in 0..3 {
                sum[c] += f64::from(p[c]);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

fn assert_close(name: &str, got: [f64; 3], want: [f64; 3], tol: f64) {
    let ok = got.iter().zip(want).all(|(g, w)| (g - w).abs() <= tol);
    assert!(ok, "{name}: got {got:?}, want {want:?} ± {tol}");
}

#[test]
fn cmyk_jpeg_converts_to_srgb() {
    let Some(dir) = corpus_dir() else { return };
    let img = decode(&read(&dir, "cmyk.jpg"), &Limits::default()).unwrap();
    let rgb = img.frames[0].image.to_rgb8();
    // `convert cmyk.jpg -colorspace sRGB -scale 1x1 txt:` -> (30.47, 5.56, 7.04): red text on
    // black. An inverted or raw-CMYK decode would be light/cyan.
    let n = f64::from(rgb.width() * rgb.height());
    let mut mean = [0f64; 3];
    for p in rgb.pixels() {
        for c in 0..3 {
            mean[c] += f64::from(p[c]) / n;
        }
    }
    assert_close("cmyk mean", mean, [30.47, 5.56, 7.04], 4.0);
    // `convert cmyk.jpg -colorspace sRGB -crop 3x3+0+0 txt:` -> (255, 13, 25).
    assert_close(
        "cmyk corner",
        block_mean(&rgb, 1, 1, 1),
        [255.0, 13.0, 25.0],
        8.0,
    );
    assert_eq!(
        img.metadata.icc, None,
        "no CMYK profile survives on sRGB pixels"
    );
}

#[test]
fn quality_matches_imagemagick() {
    let Some(dir) = corpus_dir() else { return };
    // `identify -format %Q <file>` for each corpus JPEG.
    for (file, q) in [
        ("photo_dog_4032x3024_exif-orient6.jpg", 95),
        ("photo_rocket.jpg", 96),
        ("photo_path_2560x1600.jpg", 75),
        ("photo_autumn_progressive_2560x1600.jpg", 80),
        ("cmyk.jpg", 99),
        ("grayscale_2560x1600.jpg", 75),
        ("paris_exif-orient5.jpg", 40),
    ] {
        let info = header_info(&read(&dir, file), &Limits::default()).unwrap();
        assert_eq!(info.quality, Some(q), "{file}");
    }
}

#[test]
fn orientation_5_is_a_transpose() {
    let Some(dir) = corpus_dir() else { return };
    let mut img = decode(&read(&dir, "paris_exif-orient5.jpg"), &Limits::default()).unwrap();
    assert_eq!(img.metadata.orientation, 5);
    auto_orient(&mut img);
    assert_eq!((img.width, img.height), (302, 403));
    assert_eq!(img.metadata.orientation, 1);
    let rgb = img.frames[0].image.to_rgb8();
    // `convert paris_exif-orient5.jpg -auto-orient o.png;
    //  convert o.png -crop 5x5+(x-2)+(y-2) -scale 1x1 txt:`
    for (x, y, want) in [
        (280, 50, [63.9, 63.2, 47.0]),
        (150, 380, [206.6, 180.5, 152.6]),
        (250, 300, [38.1, 46.1, 33.1]),
    ] {
        assert_close(
            &format!("paris ({x},{y})"),
            block_mean(&rgb, x, y, 2),
            want,
            8.0,
        );
    }
}

#[test]
fn orientation_6_photo_with_metadata() {
    let Some(dir) = corpus_dir() else { return };
    let mut img = decode(
        &read(&dir, "photo_dog_4032x3024_exif-orient6.jpg"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(img.metadata.orientation, 6);
    assert!(
        img.metadata.icc.as_ref().is_some_and(|icc| icc.len() > 128),
        "ICC kept"
    );
    assert!(img.metadata.xmp.is_some(), "XMP kept");
    assert!(img
        .metadata
        .exif
        .as_ref()
        .is_some_and(|e| e.starts_with(b"II") || e.starts_with(b"MM")));
    auto_orient(&mut img);
    assert_eq!((img.width, img.height), (3024, 4032));
    let rgb = img.frames[0].image.to_rgb8();
    // `convert dog.jpg -auto-orient o.png; convert o.png -crop 9x9+(x-4)+(y-4) -scale 1x1 txt:`
    for (x, y, want) in [
        (500, 700, [103.7, 135.7, 67.3]),
        (2500, 1000, [196.9, 193.9, 186.9]),
        (1500, 3500, [180.5, 174.3, 162.3]),
    ] {
        assert_close(
            &format!("dog ({x},{y})"),
            block_mean(&rgb, x, y, 4),
            want,
            8.0,
        );
    }
    // The EXIF now says 1 as well, so viewers will not rotate again.
    let exif = img.metadata.exif.unwrap();
    let parsed = exif::Reader::new().read_raw(exif).unwrap();
    let o = parsed
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .unwrap();
    assert_eq!(o.value.get_uint(0), Some(1));
}

#[test]
fn progressive_and_gray_decode() {
    let Some(dir) = corpus_dir() else { return };
    let img = decode(
        &read(&dir, "photo_autumn_progressive_2560x1600.jpg"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!((img.width, img.height), (2560, 1600));
    let img = decode(&read(&dir, "grayscale_2560x1600.jpg"), &Limits::default()).unwrap();
    assert!(matches!(
        img.frames[0].image,
        image::DynamicImage::ImageLuma8(_)
    ));
}
