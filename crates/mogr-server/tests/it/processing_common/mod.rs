//! Helpers for the processing tests: generated images, decoding checks, presigned URLs with
//! the rule in any position, Pic-Operations requests and `<UploadResult>` reading.
//! Builds on the server helper's `common` harness (declared by each test file).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, Delay, DynamicImage, Frame, ImageFormat, Rgb, RgbImage, RgbaImage};
use mogr_cos::encode::{url_encode, url_encode_path};

use crate::common::{now, Auth, Req, Resp, TestServer, SECRET_ID, SECRET_KEY};

/// A smooth colour gradient (compresses like a photo, unlike noise).
pub fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            ((x + y) * 127 / (w + h).max(1)) as u8,
        ])
    })
}

/// Deterministic noise: slow to encode well, for load tests.
pub fn noise(w: u32, h: u32) -> RgbImage {
    let mut state: u32 = 0x1234_5678;
    RgbImage::from_fn(w, h, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        Rgb([a, b, c])
    })
}

/// A baseline JPEG at quality 90.
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    jpeg_of(&gradient(w, h))
}

/// `img` as a baseline JPEG at quality 90.
pub fn jpeg_of(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(img)
        .unwrap();
    out
}

/// A PNG of the gradient.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(gradient(w, h))
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// An animated, looping GIF with `frames` distinct frames.
pub fn gif_anim(w: u32, h: u32, frames: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut out, 10);
        enc.set_repeat(Repeat::Infinite).unwrap();
        let frames = (0..frames).map(|i| {
            let img = RgbaImage::from_fn(w, h, |x, y| {
                let on = ((x / 4 + y / 4 + i) % 2) == 0;
                if on {
                    image::Rgba([255, (i * 40) as u8, 0, 255])
                } else {
                    image::Rgba([0, 0, 255, 255])
                }
            });
            Frame::from_parts(img, 0, 0, Delay::from_numer_denom_ms(100, 1))
        });
        enc.encode_frames(frames).unwrap();
    }
    out
}

/// The format the `image` crate recognises in `bytes`.
pub fn format_of(bytes: &[u8]) -> ImageFormat {
    image::guess_format(bytes)
        .unwrap_or_else(|e| panic!("not an image ({e}): {:?}", &bytes[..bytes.len().min(16)]))
}

/// Decoded dimensions.
pub fn dims(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).unwrap();
    (img.width(), img.height())
}

/// Frames of a GIF or WebP animation (1 for stills).
pub fn frame_count(bytes: &[u8]) -> usize {
    match format_of(bytes) {
        ImageFormat::Gif => GifDecoder::new(Cursor::new(bytes))
            .unwrap()
            .into_frames()
            .count(),
        ImageFormat::WebP => {
            let dec = WebPDecoder::new(Cursor::new(bytes)).unwrap();
            if dec.has_animation() {
                dec.into_frames().count()
            } else {
                1
            }
        }
        _ => 1,
    }
}

/// Whether a JPEG's frame header is SOF2 (progressive), read from the markers before SOS.
pub fn is_progressive_jpeg(bytes: &[u8]) -> bool {
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut i = 2;
    while i + 4 <= bytes.len() {
        assert_eq!(bytes[i], 0xFF, "lost marker sync at {i}");
        let marker = bytes[i + 1];
        match marker {
            0xC2 => return true,
            0xC0 | 0xC1 | 0xC3 | 0xDA => return false,
            _ => {}
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        i += 2 + len;
    }
    panic!("no SOF marker found");
}

/// The ISOBMFF major brand (`avif`, `heic`, `mif1` ...), for outputs `image` cannot decode.
pub fn isobmff_brand(bytes: &[u8]) -> Option<String> {
    (bytes.get(4..8)? == b"ftyp").then(|| String::from_utf8_lossy(&bytes[8..12]).into_owned())
}

/// Every ISOBMFF brand (major + compatible) of the `ftyp` box.
pub fn isobmff_brands(bytes: &[u8]) -> Vec<String> {
    if bytes.get(4..8) != Some(b"ftyp".as_slice()) {
        return Vec::new();
    }
    let len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let mut brands = vec![String::from_utf8_lossy(&bytes[8..12]).into_owned()];
    brands.extend(
        bytes[16..len.min(bytes.len())]
            .chunks_exact(4)
            .map(|b| String::from_utf8_lossy(b).into_owned()),
    );
    brands
}

/// A presigned request: `signed_params` are listed in the signature, but only `before` and
/// `after` (raw query text) are sent around the `q-*` fields, so a test can place, alter or
/// leave out the signed rule itself.
pub fn presigned(
    srv: &TestServer,
    method: &str,
    bucket: &str,
    key: &str,
    signed_params: &[(&str, &str)],
    before: &str,
    after: &str,
) -> Resp {
    let host = TestServer::vhost(bucket);
    let params: Vec<(String, String)> = signed_params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let t = now();
    let authz = mogr_cos::auth::sign(
        &method.to_ascii_lowercase(),
        &format!("/{key}"),
        &params,
        &[("host".to_string(), host)],
        SECRET_ID,
        SECRET_KEY,
        t - 60,
        t + 3600,
    );
    let q_fields: Vec<String> = authz
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    let mut parts: Vec<String> = Vec::new();
    if !before.is_empty() {
        parts.push(before.to_string());
    }
    parts.extend(q_fields);
    if !after.is_empty() {
        parts.push(after.to_string());
    }
    raw(srv, method, bucket, key, &parts.join("&"))
}

/// An anonymous request whose query string goes on the wire exactly as given.
pub fn raw(srv: &TestServer, method: &str, bucket: &str, key: &str, query: &str) -> Resp {
    let mut req = srv.req(method, bucket, key).auth(Auth::Anonymous);
    req.raw_path = Some(url_encode_path(&format!("/{key}")));
    req.raw_query = Some(query.to_string());
    req.send()
}

/// A header-signed GET/HEAD with `rule` appended unsigned, raw (`/` and all).
pub fn get_rule_unsigned(
    srv: &TestServer,
    method: &str,
    bucket: &str,
    key: &str,
    rule: &str,
) -> Resp {
    let mut req = srv.req(method, bucket, key);
    req.raw_query = Some(rule.to_string());
    req.send()
}

/// A header-signed GET with `rule` as a signed, encoded parameter (`?<enc(rule)>=`), as
/// `ci_get_object` sends it.
pub fn get_rule_signed(srv: &TestServer, bucket: &str, key: &str, rule: &str) -> Resp {
    srv.req("GET", bucket, key).param(rule, "").send()
}

/// `rule` percent-encoded as the SDKs put it on the wire.
pub fn encoded(rule: &str) -> String {
    url_encode(rule)
}

/// `PUT /<key>` with a signed `Pic-Operations` header.
pub fn put_pic(srv: &TestServer, bucket: &str, key: &str, body: &[u8], pic_ops: &str) -> Resp {
    srv.req("PUT", bucket, key)
        .header("Pic-Operations", pic_ops)
        .body(body.to_vec())
        .send()
}

/// `POST /<key>?image_process=` with a signed `Pic-Operations` header.
pub fn image_process(srv: &TestServer, bucket: &str, key: &str, pic_ops: &str) -> Req {
    srv.req("POST", bucket, key)
        .param("image_process", "")
        .header("Pic-Operations", pic_ops)
}

/// `{"is_pic_info":<info>,"rules":[...]}` from `(fileid, rule, bucket)` triples.
pub fn pic_ops(info: bool, rules: &[(&str, &str, Option<&str>)]) -> String {
    let rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|(fileid, rule, bucket)| {
            let mut v = serde_json::json!({ "fileid": fileid, "rule": rule });
            if let Some(b) = bucket {
                v["bucket"] = serde_json::Value::String(b.to_string());
            }
            v
        })
        .collect();
    serde_json::json!({ "is_pic_info": u8::from(info), "rules": rules }).to_string()
}

/// The fields of one XML element's direct text children, by tag.
pub type Fields = HashMap<String, String>;

/// `OriginalInfo` (without its `ImageInfo`) and `ImageInfo`, when present.
pub fn original_info(resp: &Resp) -> (Fields, Option<Fields>) {
    let text = resp.text();
    let original =
        section(&text, "OriginalInfo").unwrap_or_else(|| panic!("no OriginalInfo in {text}"));
    let info = section(&original, "ImageInfo").map(|s| fields(&s));
    let without_info = match (original.find("<ImageInfo>"), original.find("</ImageInfo>")) {
        (Some(a), Some(b)) => format!(
            "{}{}",
            &original[..a],
            &original[b + "</ImageInfo>".len()..]
        ),
        _ => original.clone(),
    };
    (fields(&without_info), info)
}

/// Every `ProcessResults/Object`, in document order.
pub fn process_objects(resp: &Resp) -> Vec<Fields> {
    let text = resp.text();
    let Some(results) = section(&text, "ProcessResults") else {
        return Vec::new();
    };
    results
        .split("<Object>")
        .skip(1)
        .map(|chunk| fields(chunk.split("</Object>").next().unwrap()))
        .collect()
}

/// The inner text of the first `<tag>…</tag>`.
pub fn section(text: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&close)? + start;
    Some(text[start..end].to_string())
}

/// `<Tag>text</Tag>` leaves of a fragment (elements with children are skipped into).
pub fn fields(fragment: &str) -> Fields {
    let mut out = HashMap::new();
    let mut rest = fragment;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with('/') || tag.ends_with('/') {
            continue;
        }
        let close = format!("</{tag}>");
        if let Some(end) = rest.find(&close) {
            let text = &rest[..end];
            if !text.contains('<') {
                out.insert(tag.to_string(), unescape(text));
                rest = &rest[end + close.len()..];
            }
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Keys in a bucket (one ListObjects page).
pub fn list_keys(srv: &TestServer, bucket: &str) -> Vec<String> {
    let r = srv.req("GET", bucket, "").send();
    assert_eq!(r.status, 200, "{}", r.text());
    r.xml_all("Key")
}

/// The stored object's body, asserting 200.
pub fn get_object(srv: &TestServer, bucket: &str, key: &str) -> Resp {
    let r = srv.req("GET", bucket, key).send();
    assert_eq!(r.status, 200, "GET {key}: {}", r.text());
    r
}

/// The status of HEAD on an object.
pub fn head_status(srv: &TestServer, bucket: &str, key: &str) -> u16 {
    srv.req("HEAD", bucket, key).send().status
}

/// Asserts a COS error body with `code` and returns its message.
pub fn assert_error(resp: &Resp, status: u16, code: &str) -> String {
    assert_eq!(resp.status, status, "{}", resp.text());
    assert_eq!(resp.xml("Code").as_deref(), Some(code), "{}", resp.text());
    assert!(resp.xml("RequestId").is_some(), "{}", resp.text());
    resp.xml("Message").unwrap_or_default()
}
