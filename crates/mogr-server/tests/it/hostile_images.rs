//! Images whose headers lie, through real HTTP: refused with a COS 4xx before any pixel buffer
//! is allocated, never reported or decoded at a size the limits were not checked on.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageFormat, RgbImage};

use crate::common::*;
use crate::processing_common::*;

const BUCKET: &str = "hostile-1250000000";

/// Codes a refused image may get: over a limit, or not a readable image.
const REFUSALS: [&str; 3] = [
    "ImageResolutionExceed",
    "ImageTooLarge",
    "InvalidImageFormat",
];

fn encode(img: DynamicImage, fmt: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).unwrap();
    out.into_inner()
}

/// Position of the first `FF <marker>` after SOI.
fn marker_at(jpg: &[u8], marker: u8) -> usize {
    (2..jpg.len() - 1)
        .find(|&i| jpg[i] == 0xFF && jpg[i + 1] == marker)
        .expect("marker present")
}

/// Length of the segment (marker included) starting at `pos`.
fn segment_len(jpg: &[u8], pos: usize) -> usize {
    2 + usize::from(u16::from_be_bytes([jpg[pos + 2], jpg[pos + 3]]))
}

/// Set the height and width of the SOF segment starting at `pos`.
fn set_sof_size(jpg: &mut [u8], pos: usize, w: u16, h: u16) {
    jpg[pos + 5..pos + 7].copy_from_slice(&h.to_be_bytes());
    jpg[pos + 7..pos + 9].copy_from_slice(&w.to_be_bytes());
}

/// The crafted JPEG from the security review (about 650 bytes): a restart marker `FF D0` with
/// a length hides a 16x16 frame header right after SOI, then an 8x8 JPEG whose real frame
/// header says 20000x20000. A header walk treating `FF D0` as length-less sees 16x16 while
/// zune-jpeg decodes 20000x20000 (gigabytes of pixels).
fn hidden_frame_jpeg() -> Vec<u8> {
    let mut real = jpeg(8, 8);
    let sof = marker_at(&real, 0xC0);
    let mut fake = real[sof..sof + segment_len(&real, sof)].to_vec();
    set_sof_size(&mut fake, 0, 16, 16);
    set_sof_size(&mut real, sof, 20_000, 20_000);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xD0];
    out.extend_from_slice(&(fake.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&fake);
    out.extend_from_slice(&real[2..]);
    out
}

fn assert_refused(what: &str, r: &Resp) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: expected a 4xx, got {} {}",
        r.status,
        r.text()
    );
    let code = r.xml("Code").unwrap_or_default();
    assert!(
        REFUSALS.contains(&code.as_str()),
        "{what}: unexpected code {code}: {}",
        r.text()
    );
}

#[test]
fn jpeg_with_a_hidden_frame_header_is_refused_by_info_and_processing() {
    let srv = TestServer::start();
    srv.create_bucket(BUCKET);
    let jpg = hidden_frame_jpeg();
    srv.put(BUCKET, "crafted.jpg", &jpg);

    let info = get_rule_signed(&srv, BUCKET, "crafted.jpg", "imageInfo");
    assert_refused("imageInfo", &info);
    for rule in [
        "imageMogr2/format/png",
        "imageMogr2/format/webp",
        "imageAve",
    ] {
        let r = get_rule_signed(&srv, BUCKET, "crafted.jpg", rule);
        assert_refused(rule, &r);
    }
    // The object itself is untouched.
    assert_eq!(get_object(&srv, BUCKET, "crafted.jpg").body, jpg);
}

/// An 8-bit grayscale JPEG that zune-jpeg refuses ("Number of components cannot be zero") and
/// libjpeg reads: a length-less `TEM` marker before the frame header, then two stray bytes.
fn stray_marker_gray_jpeg() -> Vec<u8> {
    let gray = GrayImage::from_fn(16, 8, |x, y| image::Luma([(x * 15 + y * 3) as u8]));
    let jpg = encode(DynamicImage::ImageLuma8(gray), ImageFormat::Jpeg);
    let sof = marker_at(&jpg, 0xC0);
    let mut out = jpg[..sof].to_vec();
    out.extend_from_slice(&[0xFF, 0x01]);
    out.extend_from_slice(&(segment_len(&jpg, sof) as u16 + 2).to_be_bytes());
    out.extend_from_slice(&jpg[sof..]);
    out
}

#[test]
fn jpeg_only_libjpeg_reads_is_served() {
    let srv = TestServer::start();
    srv.create_bucket(BUCKET);
    srv.put(BUCKET, "gray.jpg", &stray_marker_gray_jpeg());

    let info = get_rule_signed(&srv, BUCKET, "gray.jpg", "imageInfo");
    assert_eq!(info.status, 200, "{}", info.text());
    let v: serde_json::Value = serde_json::from_slice(&info.body).unwrap();
    assert_eq!(
        (v["width"].as_str(), v["height"].as_str()),
        (Some("16"), Some("8"))
    );

    let r = get_rule_signed(&srv, BUCKET, "gray.jpg", "imageMogr2/format/png");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(format_of(&r.body), ImageFormat::Png);
    assert_eq!(dims(&r.body), (16, 8));
    let decoded = image::load_from_memory(&r.body).unwrap().to_luma8();
    // The gradient survives: left column dark, right column light.
    assert!(
        decoded.get_pixel(0, 4)[0] < 40,
        "{:?}",
        decoded.get_pixel(0, 4)
    );
    assert!(
        decoded.get_pixel(15, 4)[0] > 200,
        "{:?}",
        decoded.get_pixel(15, 4)
    );
}

#[test]
fn ordinary_jpeg_still_decodes() {
    // The stricter header checks leave a plain JPEG alone.
    let srv = TestServer::start();
    srv.create_bucket(BUCKET);
    let img = RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 50]));
    srv.put(BUCKET, "plain.jpg", &jpeg_of(&img));
    let r = get_rule_signed(&srv, BUCKET, "plain.jpg", "imageMogr2/format/png");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(dims(&r.body), (40, 30));
}
