//! Animated GIF and WebP output, and `cgif` frame reduction.

use crate::encode_support::*;
use image::{DynamicImage, Rgba, RgbaImage};
use mogr_image::ops::cgif;
use mogr_image::{ImageFormat, OutputFormat};

const DELAYS: [u32; 7] = [100, 40, 250, 70, 70, 500, 30];

/// 7 frames, varied delays, loop 3.
fn squares() -> mogr_image::Image {
    let frames = DELAYS
        .iter()
        .enumerate()
        .map(|(i, &d)| (DynamicImage::ImageRgba8(moving_square(64, 40, i as u32)), d))
        .collect();
    image(frames, 3, source(ImageFormat::Gif, true, true))
}

/// A true-colour animation (photo content sliding), as after a WebP or JPEG source.
fn photo_frames(n: u32) -> mogr_image::Image {
    let base = photo_like(160, 100);
    let frames = (0..n)
        .map(|i| {
            let f = RgbaImage::from_fn(120, 80, |x, y| {
                let p = base.get_pixel(x + i * 4, y + i * 2).0;
                Rgba([p[0], p[1], p[2], 255])
            });
            (DynamicImage::ImageRgba8(f), 80)
        })
        .collect();
    image(frames, 0, source(ImageFormat::Webp, false, false))
}

#[test]
fn gif_keeps_frames_delays_loop_count_and_exact_colours() {
    let img = squares();
    let bytes = encode(&img, settings(OutputFormat::Gif, 85)).unwrap();
    assert_eq!(&bytes[..6], b"GIF89a");
    // Three plays are the first play plus two NETSCAPE repeats.
    assert_eq!(gif_loop_count(&bytes), Some(2));
    let frames = decode_gif(&bytes);
    assert_eq!(frames.len(), DELAYS.len());
    for (i, (f, d)) in frames.iter().enumerate() {
        assert_eq!(*d, DELAYS[i], "delay of frame {i}");
        // Few colours per frame: exact palettes, and the change-only frames composite back.
        assert_eq!(
            diff(f, &moving_square(64, 40, i as u32)),
            (0, 0),
            "frame {i}"
        );
    }
}

#[test]
fn gif_animation_loops_forever_when_loop_count_is_zero() {
    let mut img = squares();
    img.loop_count = 0;
    let bytes = encode(&img, settings(OutputFormat::Gif, 85)).unwrap();
    assert_eq!(gif_loop_count(&bytes), Some(0));
}

#[test]
fn gif_of_true_colour_frames_is_quantised_per_frame() {
    let img = photo_frames(5);
    let bytes = encode(&img, settings(OutputFormat::Gif, 85)).unwrap();
    let frames = decode_gif(&bytes);
    assert_eq!(frames.len(), 5);
    for (i, (f, d)) in frames.iter().enumerate() {
        assert_eq!(*d, 80);
        let src = DynamicImage::ImageRgba8(img.frames[i].image.to_rgba8()).to_rgb8();
        let p = psnr(&src, &DynamicImage::ImageRgba8(f.clone()).to_rgb8());
        assert!(p > 30.0, "frame {i} PSNR {p:.1}");
    }
}

#[test]
fn gif_transparency_survives() {
    let frames = (0..4)
        .map(|i| {
            let mut f = moving_square(32, 32, i);
            for x in 0..32 {
                f.put_pixel(x, 0, Rgba([0, 0, 0, 0]));
            }
            (DynamicImage::ImageRgba8(f), 50)
        })
        .collect();
    let img = image(frames, 0, source(ImageFormat::Gif, true, true));
    let bytes = encode(&img, settings(OutputFormat::Gif, 85)).unwrap();
    let out = decode_gif(&bytes);
    assert_eq!(out.len(), 4);
    for (f, _) in &out {
        assert_eq!(f.get_pixel(5, 0).0[3], 0);
        assert_eq!(f.get_pixel(5, 5).0[3], 255);
    }
}

#[test]
fn still_gif_has_no_loop_extension() {
    let img = still(
        DynamicImage::ImageRgba8(gradient_rgba(20, 20)),
        source(ImageFormat::Png, true, false),
    );
    let bytes = encode(&img, settings(OutputFormat::Gif, 85)).unwrap();
    assert_eq!(gif_loop_count(&bytes), None);
    assert_eq!(decode_gif(&bytes).len(), 1);
}

#[test]
fn webp_animation_keeps_frames_delays_and_loop_count() {
    let img = squares();
    let bytes = encode(&img, settings(OutputFormat::Webp, 85)).unwrap();
    let chunks = riff_chunks(&bytes);
    let anim = chunks.iter().find(|c| &c.0 == b"ANIM").expect("ANIM chunk");
    assert_eq!(u16::from_le_bytes([anim.1[4], anim.1[5]]), 3, "loop count");
    let frames = decode_webp_anim(&bytes);
    assert_eq!(frames.len(), DELAYS.len());
    for (i, (f, d)) in frames.iter().enumerate() {
        assert_eq!(*d, DELAYS[i], "delay of frame {i}");
        // GIF source: lossless WebP. image-webp's alpha blending of sub-frames rounds by one
        // level; libwebp's own decoder composites the frames exactly.
        let (_, worst) = diff(f, &moving_square(64, 40, i as u32));
        assert!(worst <= 1, "frame {i} off by {worst}");
    }
    for (i, f) in decode_webp_anim_libwebp(&bytes).iter().enumerate() {
        assert_eq!(
            diff(f, &moving_square(64, 40, i as u32)),
            (0, 0),
            "frame {i}"
        );
    }
}

#[test]
fn lossy_webp_animation_is_close_to_its_source() {
    let mut img = photo_frames(6);
    img.loop_count = 2;
    let bytes = encode(&img, settings(OutputFormat::Webp, 80)).unwrap();
    let frames = decode_webp_anim(&bytes);
    assert_eq!(frames.len(), 6);
    let total: u32 = frames.iter().map(|f| f.1).sum();
    assert_eq!(total, 6 * 80);
    let first = DynamicImage::ImageRgba8(frames[0].0.clone()).to_rgb8();
    let src = img.frames[0].image.to_rgb8();
    assert!(psnr(&src, &first) > 28.0);
}

#[test]
fn animation_to_jpeg_uses_the_first_frame() {
    let img = squares();
    let bytes = encode(&img, settings(OutputFormat::Jpeg, 95)).unwrap();
    let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
    let src = DynamicImage::ImageRgba8(moving_square(64, 40, 0)).to_rgb8();
    assert!(psnr(&src, &back) > 30.0);
}

/// 42 frames with uneven delays, as in the corpus clip.
fn forty_two() -> mogr_image::Image {
    let frames = (0..42u32)
        .map(|i| {
            (
                DynamicImage::ImageRgba8(moving_square(64, 40, i % 12)),
                if i % 3 == 0 { 120 } else { 60 },
            )
        })
        .collect();
    image(frames, 0, source(ImageFormat::Gif, true, true))
}

#[test]
fn cgif_n_spreads_frames_and_keeps_the_duration() {
    let mut img = forty_two();
    let total: u32 = img.frames.iter().map(|f| f.delay_ms).sum();
    cgif::apply(&mut img, 20);
    assert_eq!(img.frames.len(), 20);
    assert_eq!(img.frames.iter().map(|f| f.delay_ms).sum::<u32>(), total);
    assert!(img.frames.iter().all(|f| f.delay_ms > 0));

    // Through GIF's 10 ms units the duration stays within one unit.
    let mut s = settings(OutputFormat::Gif, 85);
    s.cgif = Some(20);
    let bytes = encode(&img, s).unwrap();
    let out = decode_gif(&bytes);
    assert_eq!(out.len(), 20);
    let written: u32 = out.iter().map(|f| f.1).sum();
    assert!(written.abs_diff(total) <= 10, "{written} vs {total}");
}

#[test]
fn cgif_one_keeps_the_first_thirty_frames() {
    let mut img = forty_two();
    let first_delays: Vec<u32> = img.frames.iter().take(30).map(|f| f.delay_ms).collect();
    cgif::apply(&mut img, 1);
    assert_eq!(img.frames.len(), 30);
    let delays: Vec<u32> = img.frames.iter().map(|f| f.delay_ms).collect();
    assert_eq!(delays, first_delays);
}

#[test]
fn cgif_leaves_short_animations_and_stills_alone() {
    let mut img = squares();
    cgif::apply(&mut img, 10);
    assert_eq!(img.frames.len(), DELAYS.len());
    let mut one = still(
        DynamicImage::ImageRgba8(gradient_rgba(8, 8)),
        source(ImageFormat::Png, true, false),
    );
    cgif::apply(&mut one, 1);
    assert_eq!(one.frames.len(), 1);
}

#[test]
fn cgif_output_shares_one_small_palette() {
    let img = photo_frames(8);
    let plain = encode(&img, settings(OutputFormat::Gif, 85)).unwrap();
    let mut s = settings(OutputFormat::Gif, 85);
    s.cgif = Some(8);
    let reduced = encode(&img, s).unwrap();
    // Global colour table flag set, table of 128 entries (size field 6 => 2^(6+1)).
    let flags = reduced[10];
    assert_eq!(flags & 0x80, 0x80, "global table");
    assert_eq!(1usize << ((flags & 0x07) + 1), 128);
    assert!(
        reduced.len() < plain.len(),
        "{} vs {}",
        reduced.len(),
        plain.len()
    );
    let out = decode_gif(&reduced);
    assert_eq!(out.len(), 8);
    let src = img.frames[3].image.to_rgb8();
    let p = psnr(&src, &DynamicImage::ImageRgba8(out[3].0.clone()).to_rgb8());
    assert!(p > 26.0, "PSNR {p:.1}");
}

#[test]
fn loop_count_survives_a_round_trip_through_decode() {
    for plays in [0u16, 1, 2, 5] {
        for format in [OutputFormat::Gif, OutputFormat::Webp] {
            let mut img = squares();
            img.loop_count = plays;
            let bytes = encode(&img, settings(format, 85)).unwrap();
            let back = mogr_image::decode::decode(&bytes, &mogr_image::Limits::default()).unwrap();
            assert_eq!(back.loop_count, plays, "{format:?} with {plays} plays");
            assert_eq!(back.frames.len(), img.frames.len());
        }
    }
}

#[test]
fn single_play_gif_has_no_loop_extension() {
    let mut img = squares();
    img.loop_count = 1;
    let bytes = encode(&img, settings(OutputFormat::Gif, 85)).unwrap();
    assert_eq!(gif_loop_count(&bytes), None);
}

/// Transparent pixels carry no colour: compare them as transparent black.
fn visible(img: &RgbaImage) -> RgbaImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        if p.0[3] == 0 {
            *p = Rgba([0, 0, 0, 0]);
        }
    }
    out
}

/// A 96x64 frame: transparent above and below an opaque textured band (128 colours), and a
/// 12x12 opaque square at `square_x`, rows `square_y..square_y + 12`.
fn stage_frame(square_x: u32, square_y: u32) -> RgbaImage {
    RgbaImage::from_fn(96, 64, |x, y| {
        if (square_x..square_x + 12).contains(&x) && (square_y..square_y + 12).contains(&y) {
            Rgba([250, 20, 40, 255])
        } else if (16..48).contains(&y) {
            Rgba([(x % 16) as u8 * 16, (y % 8) as u8 * 32, 90, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
}

fn stage_animation(frames: &[RgbaImage]) -> mogr_image::Image {
    let frames = frames
        .iter()
        .map(|f| (DynamicImage::ImageRgba8(f.clone()), 50))
        .collect();
    image(frames, 0, source(ImageFormat::Webp, true, false))
}

fn assert_round_trip(bytes: &[u8], frames: &[RgbaImage]) {
    let out = decode_gif(bytes);
    assert_eq!(out.len(), frames.len());
    for (i, ((got, _), want)) in out.iter().zip(frames).enumerate() {
        assert_eq!(
            diff(&visible(got), &visible(want)),
            (0, 0),
            "frame {i} after compositing"
        );
    }
}

#[test]
fn gif_with_transparency_stores_only_changes_and_composites_exactly() {
    // The square slides inside the opaque band: transparency never has to come back.
    let frames: Vec<RgbaImage> = (0..10).map(|i| stage_frame(4 + i * 8, 20)).collect();
    let bytes = encode(&stage_animation(&frames), settings(OutputFormat::Gif, 85)).unwrap();
    assert_round_trip(&bytes, &frames);

    // Writing every frame whole costs about as much as each frame as its own GIF.
    let whole: usize = frames
        .iter()
        .map(|f| {
            let one = still(
                DynamicImage::ImageRgba8(f.clone()),
                source(ImageFormat::Png, true, false),
            );
            encode(&one, settings(OutputFormat::Gif, 85)).unwrap().len()
        })
        .sum();
    assert!(
        (bytes.len() as f64) < 0.6 * whole as f64,
        "{} bytes vs {whole} for whole frames",
        bytes.len()
    );
}

#[test]
fn gif_clears_pixels_that_turn_transparent() {
    // The square moves through the transparent area above the band, then leaves the canvas
    // entirely: pixels it covered must turn transparent again. Then the band, unchanged for
    // frames, vanishes while only the square moved just before.
    let mut frames: Vec<RgbaImage> = (0..8).map(|i| stage_frame(i * 10, 2 + i)).collect();
    frames.push(stage_frame(200, 200));
    frames.push(stage_frame(30, 40));
    frames.push(stage_frame(200, 200));
    frames.push(stage_frame(50, 30));
    frames.push(RgbaImage::new(96, 64));
    frames.push(stage_frame(60, 0));
    let bytes = encode(&stage_animation(&frames), settings(OutputFormat::Gif, 85)).unwrap();
    assert_round_trip(&bytes, &frames);

    // The same with one palette shared by all frames (`cgif`).
    let mut s = settings(OutputFormat::Gif, 85);
    s.cgif = Some(frames.len() as u8);
    let shared = encode(&stage_animation(&frames), s).unwrap();
    let out = decode_gif(&shared);
    assert_eq!(out.len(), frames.len());
    for (i, ((got, _), want)) in out.iter().zip(&frames).enumerate() {
        let alpha = |img: &RgbaImage| img.pixels().map(|p| p.0[3]).collect::<Vec<_>>();
        assert_eq!(alpha(got), alpha(want), "transparency of frame {i}");
    }
}

#[test]
fn quantised_gif_frames_store_only_what_changed_in_the_source() {
    // True-colour still background with a small moving square: every frame is quantised with
    // its own palette, yet the background must not be stored again each frame.
    let base = photo_like(120, 80);
    let frames: Vec<RgbaImage> = (0..8u32)
        .map(|i| {
            RgbaImage::from_fn(120, 80, |x, y| {
                if (i * 10..i * 10 + 10).contains(&x) && (30..40).contains(&y) {
                    Rgba([240, 240, 20, 255])
                } else {
                    let p = base.get_pixel(x, y).0;
                    Rgba([p[0], p[1], p[2], 255])
                }
            })
        })
        .collect();
    let bytes = encode(&stage_animation(&frames), settings(OutputFormat::Gif, 85)).unwrap();
    let out = decode_gif(&bytes);
    assert_eq!(out.len(), frames.len());
    for (i, ((got, _), want)) in out.iter().zip(&frames).enumerate() {
        let p = psnr(
            &DynamicImage::ImageRgba8(want.clone()).to_rgb8(),
            &DynamicImage::ImageRgba8(got.clone()).to_rgb8(),
        );
        assert!(p > 30.0, "frame {i} PSNR {p:.1}");
    }
    let whole: usize = frames
        .iter()
        .map(|f| {
            let one = still(
                DynamicImage::ImageRgba8(f.clone()),
                source(ImageFormat::Png, false, false),
            );
            encode(&one, settings(OutputFormat::Gif, 85)).unwrap().len()
        })
        .sum();
    // The first frame is an eighth of the whole-frame cost; the other seven change about 3%
    // of the canvas each.
    assert!(
        (bytes.len() as f64) < 0.35 * whole as f64,
        "{} bytes vs {whole} for whole frames",
        bytes.len()
    );
}
