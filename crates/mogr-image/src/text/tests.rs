//! Rendering checks against the fonts the setup script installs.

use super::*;
use crate::error::ImageError;

/// DejaVu Sans as `tahoma.ttf` and WenQuanYi Micro Hei as `simhei.ttf` and the fallback.
fn book() -> FontBook {
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
    book.map_name("SimHei.ttf", cjk);
    book.set_fallback(cjk);
    book
}

fn ink(mask: &image::GrayImage) -> usize {
    mask.pixels().filter(|p| p.0[0] > 127).count()
}

#[test]
fn latin_text_has_ink_and_grows_with_its_length() {
    let book = book();
    let one = render_text(&book, "tahoma.ttf", "Hi", 40).unwrap();
    let two = render_text(&book, "TAHOMA.TTF", "Hi Hi", 40).unwrap();
    assert!(ink(&one) > 100, "{}", ink(&one));
    assert!(
        two.width() > one.width() * 2,
        "{} vs {}",
        two.width(),
        one.width()
    );
    assert_eq!(one.height(), two.height());
    // About one line of a 40 px font: ascent + descent of DejaVu is 1.16 em.
    assert!((44..=52).contains(&one.height()), "{}", one.height());
}

#[test]
fn chinese_renders_real_glyphs_not_missing_glyph_boxes() {
    let book = book();
    // Through the Latin font (the fallback draws it) and through the CJK font directly.
    for font in ["tahoma.ttf", "simhei.ttf"] {
        let chinese = render_text(&book, font, "水印", 48).unwrap();
        let missing = render_text(&book, font, "\u{10FFFD}\u{10FFFD}", 48).unwrap();
        assert!(ink(&chinese) > 200, "{font}: {}", ink(&chinese));
        let (w, h) = (
            chinese.width().min(missing.width()),
            chinese.height().min(missing.height()),
        );
        let differ = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                (chinese.get_pixel(x, y).0[0] > 127) != (missing.get_pixel(x, y).0[0] > 127)
            })
            .count();
        assert!(
            differ * 4 > ink(&chinese),
            "{font}: the glyphs look like missing-glyph boxes ({differ} differing pixels)"
        );
        // Two different characters draw differently.
        let a = render_text(&book, font, "水", 48).unwrap();
        let b = render_text(&book, font, "印", 48).unwrap();
        assert_ne!(a.as_raw(), b.as_raw(), "{font}");
    }
}

#[test]
fn unknown_fonts_and_huge_texts_are_refused() {
    let book = book();
    match render_text(&book, "comic.ttf", "a", 13) {
        Err(ImageError::InvalidArgument(m)) => assert!(m.contains("comic.ttf"), "{m}"),
        other => panic!("{other:?}"),
    }
    let long = "水".repeat(170);
    assert!(matches!(
        render_text(&book, "simhei.ttf", &long, 1000),
        Err(ImageError::ResolutionExceed(_))
    ));
    assert!(FontBook::new()
        .add_face("x.ttf", b"not a font".to_vec(), 0)
        .is_err());
}
