//! The geometry operations over HTTP: thumbnail, crop, rotate and imageView2 on download and on
//! upload, animations, bad arguments and limits.

use std::io::Cursor;

use image::codecs::gif::GifDecoder;
use image::{AnimationDecoder, DynamicImage, ImageFormat, Rgb, RgbImage};

use crate::common::*;
use crate::processing_common::*;

const BUCKET: &str = "ops-1250000000";

/// A 64x48 PNG: a gradient with a red top-left pixel and a green bottom-right one.
fn marked_png() -> Vec<u8> {
    let mut img = gradient(64, 48);
    img.put_pixel(0, 0, Rgb([255, 0, 0]));
    img.put_pixel(63, 47, Rgb([0, 255, 0]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn rgb(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).unwrap().to_rgb8()
}

fn server() -> TestServer {
    let srv = TestServer::start();
    srv.create_bucket(BUCKET);
    srv.put(BUCKET, "photo.jpg", &jpeg(64, 48));
    srv.put(BUCKET, "marked.png", &marked_png());
    srv
}

fn get(srv: &TestServer, key: &str, rule: &str) -> Resp {
    let r = get_rule_unsigned(srv, "GET", BUCKET, key, rule);
    assert_eq!(r.status, 200, "{rule}: {}", r.text());
    r
}

#[test]
fn thumbnail_crop_rotate_and_image_view2_answer_the_planned_sizes() {
    let srv = server();
    for (rule, size) in [
        ("imageMogr2/thumbnail/32x", (32, 24)),
        ("imageMogr2/thumbnail/!50p", (32, 24)),
        ("imageMogr2/thumbnail/x12", (16, 12)),
        ("imageMogr2/thumbnail/100x100%3E", (64, 48)),
        ("imageMogr2/thumbnail/!20x20r", (27, 20)),
        ("imageMogr2/thumbnail/30x30!", (30, 30)),
        (
            "imageMogr2/thumbnail/40x40/pad/1/color/IzNEM0QzRA",
            (40, 40),
        ),
        ("imageMogr2/crop/20x", (20, 48)),
        ("imageMogr2/gravity/center/crop/20x10", (20, 10)),
        ("imageMogr2/cut/10x20x5x5", (10, 20)),
        ("imageMogr2/rotate/90", (48, 64)),
        ("imageMogr2/flip/vertical", (64, 48)),
        ("imageView2/1/w/30/h/30", (30, 30)),
        ("imageView2/2/w/32/h/32", (32, 24)),
    ] {
        let r = get(&srv, "photo.jpg", rule);
        assert_eq!(r.exact("Content-Type"), Some("image/jpeg"), "{rule}");
        assert_eq!(dims(&r.body), size, "{rule}");
    }
    // The SDK samples' mode-less imageView2.
    let r = get(&srv, "photo.jpg", "imageView2/format/png");
    assert_eq!(format_of(&r.body), ImageFormat::Png);
    assert_eq!(dims(&r.body), (64, 48));
    // As ci_get_object sends it: the rule as a signed, encoded parameter.
    let r = get_rule_signed(&srv, BUCKET, "photo.jpg", "imageMogr2/thumbnail/16x");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(dims(&r.body), (16, 12));
}

#[test]
fn crop_gravity_rotation_and_flip_move_the_pixels_where_they_belong() {
    let srv = server();
    let red = [255, 0, 0];
    let green = [0, 255, 0];
    let r = get(
        &srv,
        "marked.png",
        "imageMogr2/gravity/southeast/crop/20x10",
    );
    let img = rgb(&r.body);
    assert_eq!(img.dimensions(), (20, 10));
    assert_eq!(img.get_pixel(19, 9).0, green);
    let r = get(
        &srv,
        "marked.png",
        "imageMogr2/gravity/northwest/crop/20x10",
    );
    assert_eq!(rgb(&r.body).get_pixel(0, 0).0, red);
    // Clockwise: the top-left corner goes to the top-right.
    let img = rgb(&get(&srv, "marked.png", "imageMogr2/rotate/90").body);
    assert_eq!(img.dimensions(), (48, 64));
    assert_eq!(img.get_pixel(47, 0).0, red);
    assert_eq!(img.get_pixel(0, 63).0, green);
    let img = rgb(&get(&srv, "marked.png", "imageMogr2/flip/vertical").body);
    assert_eq!(img.get_pixel(0, 47).0, red);
    let img = rgb(&get(&srv, "marked.png", "imageMogr2/flip/horizontal").body);
    assert_eq!(img.get_pixel(63, 0).0, red);
    // A free angle: corners transparent in PNG, white in JPEG.
    let r = get(&srv, "marked.png", "imageMogr2/rotate/30");
    let img = image::load_from_memory(&r.body).unwrap().to_rgba8();
    assert_eq!(img.get_pixel(0, 0).0[3], 0);
    let r = get(&srv, "marked.png", "imageMogr2/rotate/30/format/jpg");
    let corner = rgb(&r.body).get_pixel(0, 0).0;
    assert!(corner.iter().all(|&c| c >= 250), "{corner:?}");
    // Pad colour around a fitted picture.
    let r = get(
        &srv,
        "marked.png",
        "imageMogr2/thumbnail/64x64/pad/1/color/IzNEM0QzRA",
    );
    let img = rgb(&r.body);
    assert_eq!(img.dimensions(), (64, 64));
    assert_eq!(img.get_pixel(32, 2).0, [0x3d, 0x3d, 0x3d]);
    assert_eq!(img.get_pixel(0, 8).0, red);
}

#[test]
fn pic_operations_upload_stores_the_thumbnail() {
    let srv = server();
    let photo = jpeg(80, 60);
    let ops = pic_ops(
        false,
        &[
            ("thumb.jpg", "imageMogr2/thumbnail/40x", None),
            ("square.png", "imageView2/1/w/25/h/25/format/png", None),
        ],
    );
    let r = put_pic(&srv, BUCKET, "up/photo.jpg", &photo, &ops);
    assert_eq!(r.status, 200, "{}", r.text());
    let objects = process_objects(&r);
    assert_eq!(
        (objects[0]["Width"].as_str(), objects[0]["Height"].as_str()),
        ("40", "30")
    );
    assert_eq!(
        (objects[1]["Width"].as_str(), objects[1]["Height"].as_str()),
        ("25", "25")
    );
    let stored = get_object(&srv, BUCKET, "up/thumb.jpg");
    assert_eq!(dims(&stored.body), (40, 30));
    let stored = get_object(&srv, BUCKET, "up/square.png");
    assert_eq!(format_of(&stored.body), ImageFormat::Png);
    assert_eq!(dims(&stored.body), (25, 25));
}

/// Frame count and total delay in milliseconds of a GIF.
fn gif_timing(bytes: &[u8]) -> (usize, u32) {
    let frames = GifDecoder::new(Cursor::new(bytes))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    let total = frames
        .iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            n / d.max(1)
        })
        .sum();
    (frames.len(), total)
}

#[test]
fn an_animated_gif_thumbnail_keeps_every_frame_and_the_duration() {
    let srv = server();
    let anim = gif_anim(40, 30, 4);
    srv.put(BUCKET, "anim.gif", &anim);
    let before = gif_timing(&anim);
    assert_eq!(before.0, 4);
    let r = get(&srv, "anim.gif", "imageMogr2/thumbnail/!50p");
    assert_eq!(r.exact("Content-Type"), Some("image/gif"));
    assert_eq!(dims(&r.body), (20, 15));
    assert_eq!(gif_timing(&r.body), before);
    let r = get(&srv, "anim.gif", "imageMogr2/rotate/90/thumbnail/x20");
    assert_eq!(dims(&r.body), (15, 20));
    assert_eq!(gif_timing(&r.body), before);
}

#[test]
fn bad_geometry_arguments_are_invalid_argument_naming_the_token() {
    let srv = server();
    for (rule, token) in [
        ("imageMogr2/thumbnail/0x0", "thumbnail"),
        ("imageMogr2/thumbnail/!0p", "thumbnail"),
        ("imageMogr2/gravity/nowhere/crop/10x10", "gravity"),
        (
            "imageMogr2/thumbnail/10x10/pad/1/color/bm90LWEtY29sb3I",
            "color",
        ),
        ("imageMogr2/crop/0x10", "crop"),
        ("imageMogr2/rotate/400", "rotate"),
        ("imageMogr2/flip/diagonal", "flip"),
        // Valid rules whose offsets miss this 64x48 image.
        ("imageMogr2/gravity/northwest/dx/500/crop/10x10", "crop"),
        ("imageMogr2/cut/10x10x64x0", "cut"),
    ] {
        let r = get_rule_unsigned(&srv, "GET", BUCKET, "photo.jpg", rule);
        let message = assert_error(&r, 400, "InvalidArgument");
        assert!(message.contains(token), "{rule}: {message}");
    }
}

#[test]
fn an_output_over_the_limits_is_resolution_exceed_unless_ignore_error() {
    let srv = TestServer::start_with(|cfg| cfg.engine.limits.max_side = 500);
    srv.create_bucket(BUCKET);
    let photo = jpeg(64, 48);
    srv.put(BUCKET, "photo.jpg", &photo);
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "photo.jpg",
        "imageMogr2/thumbnail/!1000p",
    );
    assert_error(&r, 400, "ImageResolutionExceed");
    let r = get_rule_unsigned(
        &srv,
        "GET",
        BUCKET,
        "photo.jpg",
        "imageMogr2/thumbnail/!1000p/ignore-error/1",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, photo);
}

#[test]
fn effect_operations_run_in_url_order_with_the_geometry_ones() {
    let srv = server();
    for (rule, size) in [
        ("imageMogr2/blur/3x2", (64, 48)),
        ("imageMogr2/sharpen/70", (64, 48)),
        ("imageMogr2/bright/20/contrast/-20", (64, 48)),
        ("imageMogr2/thumbnail/32x/grayscale/1", (32, 24)),
        ("imageMogr2/iradius/20/format/png", (40, 40)),
        ("imageMogr2/rradius/10/format/png", (64, 48)),
        ("imageMogr2/scrop/20x20", (20, 20)),
    ] {
        let r = get(&srv, "photo.jpg", rule);
        assert_eq!(dims(&r.body), size, "{rule}");
    }
    let img = rgb(&get(&srv, "marked.png", "imageMogr2/grayscale/1").body);
    assert!(img.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]));
}

#[test]
fn size_limit_finds_a_quality_under_the_budget_and_bang_keeps_a_smaller_original() {
    let srv = server();
    let photo = jpeg_of(&noise(256, 256));
    srv.put(BUCKET, "noise.jpg", &photo);
    assert!(photo.len() > 60 * 1024, "{}", photo.len());
    let r = get(&srv, "noise.jpg", "imageMogr2/size-limit/40k");
    assert!(r.body.len() <= 40 * 1024, "{}", r.body.len());
    assert_eq!(dims(&r.body), (256, 256));
    // With `!`, an original already smaller than the processed image comes back unchanged.
    let small = jpeg_of(&noise(64, 64));
    srv.put(BUCKET, "small.jpg", &small);
    let r = get(
        &srv,
        "small.jpg",
        "imageMogr2/thumbnail/!300p/size-limit/500k",
    );
    assert!(
        r.body.len() > small.len(),
        "{} vs {}",
        r.body.len(),
        small.len()
    );
    assert_eq!(dims(&r.body), (192, 192));
    let r = get(
        &srv,
        "small.jpg",
        "imageMogr2/thumbnail/!300p/size-limit/500k!",
    );
    assert_eq!(r.body, small);
}
