//! The engine on corpus photos: orientation, HEIF/AVIF input, animations, JSON stages.

use crate::corpus_support::{corpus_dir, read};
use mogr_image::{decode, Engine, ImageFormat, Limits};

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn auto_orient_rotates_and_resets_orientation() {
    let Some(dir) = corpus_dir() else { return };
    let engine = Engine::default();
    for (file, w, h) in [
        ("photo_dog_4032x3024_exif-orient6.jpg", 3024, 4032),
        ("paris_exif-orient5.jpg", 302, 403),
    ] {
        let out = engine
            .process_rule(&read(&dir, file), "imageMogr2/auto-orient")
            .unwrap();
        assert_eq!((out.format, out.width, out.height), ("jpg", w, h), "{file}");
        let img = decode(&out.bytes, &Limits::default()).unwrap();
        assert_eq!((img.width, img.height), (w, h), "{file}");
        assert_eq!(img.metadata.orientation, 1, "{file}: EXIF says upright now");
    }
}

#[test]
fn heif_and_avif_inputs_convert() {
    let Some(dir) = corpus_dir() else { return };
    let engine = Engine::default();
    let out = engine
        .process_rule(&read(&dir, "example.heic"), "imageMogr2/format/jpg")
        .unwrap();
    assert_eq!((out.width, out.height, out.mime), (1280, 854, "image/jpeg"));
    let out = engine
        .process_rule(&read(&dir, "example.avif"), "imageMogr2/format/png")
        .unwrap();
    assert_eq!((out.width, out.height, out.mime), (800, 533, "image/png"));
}

#[test]
fn animations_convert_between_gif_and_webp() {
    let Some(dir) = corpus_dir() else { return };
    let engine = Engine::default();
    let out = engine
        .process_rule(
            &read(&dir, "animated_42frames.gif"),
            "imageMogr2/format/webp",
        )
        .unwrap();
    assert_eq!((out.format, out.frame_count), ("webp", 42));
    let img = decode(&out.bytes, &Limits::default()).unwrap();
    assert_eq!(
        (img.source.format, img.frames.len()),
        (ImageFormat::Webp, 42)
    );

    let out = engine
        .process_rule(
            &read(&dir, "animated_42frames.webp"),
            "imageMogr2/format/gif/cgif/1",
        )
        .unwrap();
    assert_eq!(
        (out.format, out.frame_count),
        ("gif", 30),
        "cgif/1 keeps the first 30"
    );
}

#[test]
fn image_info_of_a_phone_photo() {
    let Some(dir) = corpus_dir() else { return };
    let bytes = read(&dir, "photo_dog_4032x3024_exif-orient6.jpg");
    let v = json(
        &Engine::default()
            .process_rule(&bytes, "imageInfo")
            .unwrap()
            .bytes,
    );
    assert_eq!(v["format"], "jpeg");
    assert_eq!(v["width"], "4032");
    assert_eq!(v["height"], "3024");
    assert_eq!(v["orientation"], "6");
    // `identify -format %Q` says 95; `identify -format %x` says 72.
    assert_eq!(v["quality"], "95");
    assert_eq!(v["horizontal_dpi"], "72");
    assert_eq!(v["size"], bytes.len().to_string());
}

#[test]
fn image_ave_matches_a_box_average() {
    let Some(dir) = corpus_dir() else { return };
    let out = Engine::default()
        .process_rule(&read(&dir, "astronaut_rgb.png"), "imageAve")
        .unwrap();
    // `convert astronaut_rgb.png -scale 1x1 txt:` -> (141.56, 105.76, 96.47) = 0x8E6A60.
    assert_eq!(
        String::from_utf8(out.bytes).unwrap(),
        r#"{"RGB":"0x8E6A60"}"#
    );
}

#[test]
fn exif_json_lists_tags_with_types() {
    let Some(dir) = corpus_dir() else { return };
    let out = Engine::default()
        .process_rule(&read(&dir, "photo_dog_4032x3024_exif-orient6.jpg"), "exif")
        .unwrap();
    let v = json(&out.bytes);
    let orientation = &v["Orientation"];
    assert_eq!(orientation["type"], 3, "SHORT: {v}");
    assert!(orientation["val"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v.as_object().unwrap().len() > 3);
}
