//! Image and text watermarks end to end: the mark is located in the decoded output.

use std::io::Cursor;
use std::sync::Arc;

use base64::Engine as _;
use image::{DynamicImage, ImageFormat as Fmt, Rgba, RgbaImage};
use mogr_image::{decode, Assets, Budget, Engine, FontBook, ImageError, Limits};

const URL: &str = "http://wm-1250000000.cos.ap-guangzhou.myqcloud.com/logo.png";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn png(img: RgbaImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(img)
        .write_to(&mut out, Fmt::Png)
        .unwrap();
    out.into_inner()
}

fn solid(w: u32, h: u32, c: [u8; 4]) -> RgbaImage {
    RgbaImage::from_pixel(w, h, Rgba(c))
}

/// An opaque grey source as PNG (lossless, so pixels can be compared exactly).
fn grey(w: u32, h: u32) -> Vec<u8> {
    png(solid(w, h, [100, 100, 100, 255]))
}

fn fonts() -> Arc<FontBook> {
    let read = |path: &str| {
        std::fs::read(path)
            .unwrap_or_else(|e| panic!("{path}: {e} (run scripts/setup.sh to install the fonts)"))
    };
    let mut book = FontBook::new();
    let latin = book
        .add_face(
            "DejaVuSans.ttf",
            read("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
            0,
        )
        .unwrap();
    let cjk = book
        .add_face(
            "wqy-microhei.ttc",
            read("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
            0,
        )
        .unwrap();
    book.map_name("tahoma.ttf", latin);
    book.map_name("simhei.ttf", cjk);
    book.set_fallback(cjk);
    Arc::new(book)
}

fn assets(mark: Vec<u8>) -> Assets {
    let mut a = Assets::new();
    a.insert_image(URL, Arc::new(mark));
    a.set_fonts(fonts());
    a
}

fn run(source: &[u8], rule: &str, assets: &Assets) -> Result<mogr_image::Output, ImageError> {
    let pipeline = mogr_rule::parse(rule).map_err(ImageError::from)?;
    Engine::default().process_with(source, &pipeline, &Budget::unlimited(), assets)
}

fn pixels(bytes: &[u8]) -> RgbaImage {
    let img = decode(bytes, &Limits::default()).unwrap();
    img.frames[0].image.to_rgba8()
}

/// The bounding box (x0, y0, x1, y1 exclusive) of pixels for which `hit` holds.
fn bbox(img: &RgbaImage, hit: impl Fn(&Rgba<u8>) -> bool) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in img.enumerate_pixels() {
        if hit(p) {
            b = Some(match b {
                None => (x, y, x + 1, y + 1),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
            });
        }
    }
    b
}

fn red(p: &Rgba<u8>) -> bool {
    p.0[0] > 200 && p.0[1] < 60 && p.0[2] < 60
}

fn image_rule(params: &str) -> String {
    format!("watermark/1/image/{}{params}", b64(URL))
}

#[test]
fn the_mark_lands_at_the_gravity_and_offsets() {
    let mark = assets(png(solid(20, 10, [255, 0, 0, 255])));
    let cases = [
        ("/dissolve/100", (200 - 20, 100 - 10)), // southeast by default
        ("/dx/7/dy/5/dissolve/100", (200 - 7 - 20, 100 - 5 - 10)),
        ("/gravity/northwest/dx/7/dy/5/dissolve/100", (7, 5)),
        ("/gravity/center/dx/7/dy/5/dissolve/100", (90, 45)), // centre ignores offsets
        ("/gravity/north/dx/7/dy/5/dissolve/100", (90, 5)),
        ("/gravity/east/dx/7/dy/5/dissolve/100", (173, 45)),
    ];
    for (params, (x, y)) in cases {
        let out = run(&grey(200, 100), &image_rule(params), &mark).unwrap();
        assert_eq!((out.format, out.width, out.height), ("png", 200, 100));
        let found = bbox(&pixels(&out.bytes), red);
        assert_eq!(found, Some((x, y, x + 20, y + 10)), "{params}");
    }
}

#[test]
fn dissolve_blends_the_mark_with_the_image() {
    let mark = assets(png(solid(20, 10, [255, 0, 0, 255])));
    let out = run(&grey(100, 50), &image_rule("/dissolve/50"), &mark).unwrap();
    let img = pixels(&out.bytes);
    // Half of (255, 0, 0) over (100, 100, 100).
    let p = img.get_pixel(95, 45).0;
    assert!(p[0].abs_diff(178) <= 1 && p[1].abs_diff(50) <= 1, "{p:?}");
    assert_eq!(img.get_pixel(5, 5).0, [100, 100, 100, 255]);
    // The default dissolve is 90.
    let out = run(&grey(100, 50), &image_rule(""), &mark).unwrap();
    let p = pixels(&out.bytes).get_pixel(95, 45).0;
    assert!(p[0].abs_diff(240) <= 1 && p[1].abs_diff(10) <= 1, "{p:?}");
}

#[test]
fn transparency_of_mark_and_image_is_kept() {
    // A half-transparent mark on a fully transparent image stays half transparent.
    let mark = assets(png(solid(10, 10, [0, 0, 255, 128])));
    let source = png(solid(40, 40, [0, 0, 0, 0]));
    let out = run(&source, &image_rule("/dissolve/100"), &mark).unwrap();
    let img = pixels(&out.bytes);
    assert_eq!(img.get_pixel(35, 35).0, [0, 0, 255, 128]);
    assert_eq!(img.get_pixel(5, 5).0[3], 0);
}

#[test]
fn tiling_covers_the_image() {
    let mark = assets(png(solid(10, 10, [255, 0, 0, 255])));
    let out = run(&grey(300, 200), &image_rule("/batch/1/dissolve/100"), &mark).unwrap();
    let img = pixels(&out.bytes);
    // Every 50x50 cell of the image holds part of a tile.
    for cy in 0..4 {
        for cx in 0..6 {
            let any =
                (0..50).any(|dy| (0..50).any(|dx| red(img.get_pixel(cx * 50 + dx, cy * 50 + dy))));
            assert!(any, "cell ({cx}, {cy}) has no tile");
        }
    }
    // Tiles with gaps: some of the image is untouched.
    let covered = img.pixels().filter(|p| red(p)).count();
    assert!(covered < 300 * 200 / 2, "{covered}");
}

/// The longest horizontal and vertical runs of pixels for which `hit` holds.
fn longest_runs(img: &RgbaImage, hit: impl Fn(&Rgba<u8>) -> bool) -> (u32, u32) {
    let (w, h) = img.dimensions();
    let mut best = (0, 0);
    for y in 0..h {
        let mut run = 0;
        for x in 0..w {
            run = if hit(img.get_pixel(x, y)) { run + 1 } else { 0 };
            best.0 = best.0.max(run);
        }
    }
    for x in 0..w {
        let mut run = 0;
        for y in 0..h {
            run = if hit(img.get_pixel(x, y)) { run + 1 } else { 0 };
            best.1 = best.1.max(run);
        }
    }
    best
}

#[test]
fn tiles_turn_by_degree() {
    let bar = assets(png(solid(40, 4, [255, 0, 0, 255])));
    let flat = run(&grey(200, 200), &image_rule("/batch/1/dissolve/100"), &bar).unwrap();
    let (across, down) = longest_runs(&pixels(&flat.bytes), red);
    assert_eq!((across, down), (40, 4));
    let turned = run(
        &grey(200, 200),
        &image_rule("/batch/1/degree/90/dissolve/100"),
        &bar,
    )
    .unwrap();
    let (across, down) = longest_runs(&pixels(&turned.bytes), red);
    assert!(across <= 5 && down >= 38, "{across} x {down}");
    // 45 degrees: neither long runs across nor down.
    let slanted = run(
        &grey(200, 200),
        &image_rule("/batch/1/degree/45/dissolve/100"),
        &bar,
    )
    .unwrap();
    let (across, down) = longest_runs(&pixels(&slanted.bytes), red);
    assert!(across < 20 && down < 20, "{across} x {down}");
}

#[test]
fn scatype_and_blogo_size_the_mark() {
    let mark = assets(png(solid(20, 10, [255, 0, 0, 255])));
    let out = run(
        &grey(200, 100),
        &image_rule("/gravity/northwest/scatype/1/spcent/500/dissolve/100"),
        &mark,
    )
    .unwrap();
    assert_eq!(bbox(&pixels(&out.bytes), red), Some((0, 0, 100, 50)));
    let wide = assets(png(solid(400, 20, [255, 0, 0, 255])));
    let shrunk = run(
        &grey(200, 100),
        &image_rule("/gravity/northwest/blogo/1/dissolve/100"),
        &wide,
    )
    .unwrap();
    assert_eq!(bbox(&pixels(&shrunk.bytes), red), Some((0, 0, 200, 10)));
    let cut = run(
        &grey(200, 100),
        &image_rule("/gravity/northwest/blogo/2/dissolve/100"),
        &wide,
    )
    .unwrap();
    assert_eq!(bbox(&pixels(&cut.bytes), red), Some((0, 0, 200, 20)));
}

#[test]
fn every_frame_of_an_animation_gets_the_mark() {
    let frames: Vec<RgbaImage> = (0..3u8)
        .map(|i| solid(60, 40, [0, 80 * i, 255 - 80 * i, 255]))
        .collect();
    let mut gif_bytes = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut gif_bytes);
        for f in frames {
            enc.encode_frame(image::Frame::new(f)).unwrap();
        }
    }
    let mark = assets(png(solid(10, 10, [255, 0, 0, 255])));
    let out = run(
        &gif_bytes,
        &image_rule("/gravity/northwest/dissolve/100"),
        &mark,
    )
    .unwrap();
    assert_eq!((out.format, out.frame_count), ("gif", 3));
    let img = decode(&out.bytes, &Limits::default()).unwrap();
    assert_eq!(img.frames.len(), 3);
    for (i, f) in img.frames.iter().enumerate() {
        let f = f.image.to_rgba8();
        assert_eq!(bbox(&f, red), Some((0, 0, 10, 10)), "frame {i}");
    }
}

#[test]
fn chained_after_imagemogr2_and_with_a_second_watermark() {
    let mark = assets(png(solid(10, 10, [255, 0, 0, 255])));
    let rule = format!(
        "imageMogr2/thumbnail/100x|{}|watermark/2/text/{}/fill/{}/gravity/northwest/fontsize/20",
        image_rule("/dissolve/100"),
        b64("Hi"),
        b64("#00FF00")
    );
    let out = run(&grey(400, 200), &rule, &mark).unwrap();
    assert_eq!((out.width, out.height), (100, 50));
    let img = pixels(&out.bytes);
    assert_eq!(bbox(&img, red), Some((90, 40, 100, 50)));
    let green = bbox(&img, |p| p.0[1] > 150 && p.0[0] < 120).expect("text drawn");
    assert!(green.2 <= 40 && green.3 <= 30, "{green:?}");
}

#[test]
fn text_renders_inside_its_box() {
    let a = assets(Vec::new());
    let rule = format!(
        "watermark/2/text/{}/fontsize/40/fill/{}/gravity/northwest/dx/10/dy/10/dissolve/100",
        b64("Hello"),
        b64("#FFFFFF")
    );
    let out = run(&png(solid(400, 100, [0, 0, 0, 255])), &rule, &a).unwrap();
    let img = pixels(&out.bytes);
    let ink = bbox(&img, |p| p.0[0] > 60).expect("text drawn");
    // "Hello" at 40 px in DejaVu Sans is about 110 px wide and 30 px tall above the baseline.
    assert!(ink.0 >= 10 && ink.1 >= 10, "{ink:?}");
    assert!(ink.2 <= 10 + 130 && ink.3 <= 10 + 50, "{ink:?}");
    assert!(ink.2 - ink.0 >= 80 && ink.3 - ink.1 >= 25, "{ink:?}");
    let lit = img.pixels().filter(|p| p.0[0] > 127).count();
    assert!(lit > 300, "{lit}");
}

#[test]
fn chinese_text_is_drawn_with_real_glyphs() {
    let a = assets(Vec::new());
    let draw = |text: &str| {
        let rule = format!(
            "watermark/2/text/{}/fontsize/48/fill/{}/gravity/northwest/dissolve/100",
            b64(text),
            b64("#FFFFFF")
        );
        pixels(
            &run(&png(solid(200, 80, [0, 0, 0, 255])), &rule, &a)
                .unwrap()
                .bytes,
        )
    };
    let chinese = draw("数据万象");
    let missing = draw("\u{10FFFD}\u{10FFFD}\u{10FFFD}\u{10FFFD}");
    let lit = |img: &RgbaImage, x: u32, y: u32| img.get_pixel(x, y).0[0] > 127;
    let ink = chinese
        .enumerate_pixels()
        .filter(|(x, y, _)| lit(&chinese, *x, *y))
        .count();
    let differ = chinese
        .enumerate_pixels()
        .filter(|(x, y, _)| lit(&chinese, *x, *y) != lit(&missing, *x, *y))
        .count();
    assert!(ink > 500, "{ink}");
    assert!(
        differ * 4 > ink,
        "Chinese looks like missing-glyph boxes: {differ} of {ink}"
    );
}

#[test]
fn bad_watermarks_are_refused_cleanly() {
    let a = assets(png(solid(10, 10, [255, 0, 0, 255])));
    // An unknown font names itself.
    let rule = format!("watermark/2/text/{}/font/{}", b64("a"), b64("Comic.ttf"));
    match run(&grey(50, 50), &rule, &a) {
        Err(ImageError::InvalidArgument(m)) => assert!(m.contains("comic.ttf"), "{m}"),
        other => panic!("{other:?}"),
    }
    // A watermark nobody handed in.
    let other = format!("watermark/1/image/{}", b64("http://elsewhere/x.png"));
    assert!(matches!(
        run(&grey(50, 50), &other, &a),
        Err(ImageError::InvalidArgument(_))
    ));
    // An animated watermark.
    let mut gif_bytes = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut gif_bytes);
        for i in 0..2u8 {
            enc.encode_frame(image::Frame::new(solid(8, 8, [i * 100, 0, 0, 255])))
                .unwrap();
        }
    }
    match run(&grey(50, 50), &image_rule(""), &assets(gif_bytes)) {
        Err(ImageError::InvalidArgument(m)) => assert!(m.contains("animated"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Not an image at all.
    assert!(run(&grey(50, 50), &image_rule(""), &assets(b"hello".to_vec())).is_err());
    // A 1x2000 mark scaled to the width of a 2000 px image would be 2000x4000000: refused
    // before anything that size is allocated.
    let tall = assets(png(solid(1, 2000, [255, 0, 0, 255])));
    let out = run(
        &grey(2000, 10),
        &image_rule("/scatype/1/spcent/1000"),
        &tall,
    );
    assert!(
        matches!(out, Err(ImageError::ResolutionExceed(_))),
        "{out:?}"
    );
    // A text far larger than any watermark.
    let huge = format!("watermark/2/text/{}/fontsize/1000", b64(&"水".repeat(100)));
    let out = run(&grey(50, 50), &huge, &a);
    assert!(
        matches!(out, Err(ImageError::ResolutionExceed(_))),
        "{out:?}"
    );
}
