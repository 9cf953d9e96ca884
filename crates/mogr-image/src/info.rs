//! imageInfo, imageAve and exif: facts about an image as CI's JSON APIs report them (docs/cos-protocol.md).

use image::DynamicImage;
use md5::{Digest, Md5};

use crate::decode::{self, read_header};
use crate::error::Result;
use crate::limits::Limits;
use crate::model::Image;

/// What imageInfo (and Pic-Operations' `ImageInfo`) reports about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// `jpeg`, `png`, `gif`, `webp`, `bmp`, `heif`, `avif`.
    pub format: &'static str,
    /// Width in pixels (as stored; EXIF orientation not applied).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the object in bytes.
    pub size: u64,
    /// Lower-case hex MD5 of the object bytes.
    pub md5: String,
    /// Frames (1 for stills).
    pub frame_count: u32,
    /// Bits per channel.
    pub bit_depth: u8,
    /// Estimated quality (JPEG, lossy WebP).
    pub quality: Option<u8>,
    /// EXIF orientation 1..=8 (1 when absent).
    pub orientation: u8,
    /// The image has an alpha channel or transparency.
    pub has_alpha: bool,
    /// Horizontal resolution in DPI, when the file says.
    pub horizontal_dpi: Option<u32>,
    /// Vertical resolution in DPI, when the file says.
    pub vertical_dpi: Option<u32>,
    /// Average colour `0xRRGGBB`; `None` when pixels were not decoded ([`header_info`]).
    pub ave: Option<String>,
}

impl ImageInfo {
    /// CI imageInfo JSON: every value a string, keys in CI's order, unknown ones omitted.
    pub fn to_json(&self) -> String {
        let mut fields: Vec<(&str, String)> = vec![
            ("format", self.format.to_string()),
            ("width", self.width.to_string()),
            ("height", self.height.to_string()),
            ("size", self.size.to_string()),
            ("md5", self.md5.clone()),
            ("frame_count", self.frame_count.to_string()),
            ("bit_depth", self.bit_depth.to_string()),
        ];
        if let Some(v) = self.vertical_dpi {
            fields.push(("vertical_dpi", v.to_string()));
        }
        if let Some(h) = self.horizontal_dpi {
            fields.push(("horizontal_dpi", h.to_string()));
        }
        fields.push(("orientation", self.orientation.to_string()));
        if let Some(q) = self.quality {
            fields.push(("quality", q.to_string()));
        }
        json_object(&fields)
    }
}

/// A JSON object with string values, keys in the given order.
fn json_object(fields: &[(&str, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v)))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Facts from the headers alone (no pixel decoding; `ave` is `None`).
pub fn header_info(bytes: &[u8], limits: &Limits) -> Result<ImageInfo> {
    limits.check_bytes(bytes.len())?;
    let h = read_header(bytes)?;
    Ok(ImageInfo {
        format: h.format.name(),
        width: h.width,
        height: h.height,
        size: bytes.len() as u64,
        md5: hex::encode(Md5::digest(bytes)),
        frame_count: h.frames,
        bit_depth: h.bit_depth,
        quality: h.quality,
        orientation: h.metadata.orientation,
        has_alpha: h.has_alpha,
        horizontal_dpi: h.dpi.map(|d| d.0),
        vertical_dpi: h.dpi.map(|d| d.1),
        ave: None,
    })
}

/// Header facts plus the average colour (decodes the pixels, under `limits`).
pub fn image_info(bytes: &[u8], limits: &Limits) -> Result<ImageInfo> {
    let mut info = header_info(bytes, limits)?;
    let img = decode::decode(bytes, limits)?;
    info.frame_count = img.frames.len() as u32;
    info.has_alpha = img.source.has_alpha;
    info.ave = Some(ave_hex(average_colour(&img)));
    Ok(info)
}

/// imageAve JSON: `{"RGB":"0xRRGGBB"}`.
pub fn image_ave_json(bytes: &[u8], limits: &Limits) -> Result<String> {
    let img = decode::decode(bytes, limits)?;
    Ok(json_object(&[("RGB", ave_hex(average_colour(&img)))]))
}

/// `0xRRGGBB` in upper-case hex.
fn ave_hex([r, g, b]: [u8; 3]) -> String {
    format!("0x{r:02X}{g:02X}{b:02X}")
}

/// Mean colour of the first frame, weighted by alpha so transparent pixels do not count.
pub fn average_colour(img: &Image) -> [u8; 3] {
    let Some(frame) = img.frames.first() else {
        return [0, 0, 0];
    };
    let rgba = match &frame.image {
        DynamicImage::ImageRgba8(b) => std::borrow::Cow::Borrowed(b),
        other => std::borrow::Cow::Owned(other.to_rgba8()),
    };
    let mut sum = [0u64; 3];
    let mut weight = 0u64;
    let mut plain = [0u64; 3];
    for p in rgba.pixels() {
        let a = u64::from(p[3]);
        for c in 0..3 {
            sum[c] += u64::from(p[c]) * a;
            plain[c] += u64::from(p[c]);
        }
        weight += a;
    }
    let count = u64::from(rgba.width()) * u64::from(rgba.height());
    let (sum, div) = if weight > 0 {
        (sum, weight)
    } else {
        // Fully transparent: fall back to the plain mean.
        (plain, count.max(1))
    };
    sum.map(|s| ((s + div / 2) / div).min(255) as u8)
}

/// exif JSON: `{"<Tag>":{"val":"…","type":N},…}`, or `{"error" : "no exif data"}`.
pub fn exif_json(bytes: &[u8], limits: &Limits) -> Result<String> {
    limits.check_bytes(bytes.len())?;
    let h = read_header(bytes)?;
    let parsed = h
        .metadata
        .exif
        .and_then(|raw| exif::Reader::new().read_raw(raw).ok());
    let Some(parsed) = parsed else {
        return Ok(NO_EXIF.to_string());
    };
    let mut seen = std::collections::HashSet::new();
    let mut body = Vec::new();
    for field in parsed.fields() {
        // The thumbnail's IFD repeats tag names with the thumbnail's values.
        if field.ifd_num != exif::In::PRIMARY {
            continue;
        }
        let name = field.tag.to_string();
        if !seen.insert(name.clone()) {
            continue;
        }
        let val = match &field.value {
            exif::Value::Ascii(parts) => parts
                .iter()
                .map(|p| String::from_utf8_lossy(p).trim_end().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            _ => field.display_value().to_string(),
        };
        body.push(format!(
            "{}:{{\"val\":{},\"type\":{}}}",
            json_string(&name),
            json_string(&val),
            tiff_type(&field.value)
        ));
    }
    if body.is_empty() {
        return Ok(NO_EXIF.to_string());
    }
    Ok(format!("{{{}}}", body.join(",")))
}

/// CI's body when the image has no EXIF.
const NO_EXIF: &str = r#"{"error" : "no exif data"}"#;

/// The TIFF field type number of a value.
fn tiff_type(v: &exif::Value) -> u16 {
    match v {
        exif::Value::Byte(_) => 1,
        exif::Value::Ascii(_) => 2,
        exif::Value::Short(_) => 3,
        exif::Value::Long(_) => 4,
        exif::Value::Rational(_) => 5,
        exif::Value::SByte(_) => 6,
        exif::Value::Undefined(..) => 7,
        exif::Value::SShort(_) => 8,
        exif::Value::SLong(_) => 9,
        exif::Value::SRational(_) => 10,
        exif::Value::Float(_) => 11,
        exif::Value::Double(_) => 12,
        exif::Value::Unknown(t, ..) => *t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_json_has_string_values_in_ci_order() {
        let info = ImageInfo {
            format: "jpeg",
            width: 960,
            height: 540,
            size: 158421,
            md5: "77a16fa70e2eba652fb42e8a639c52f2".into(),
            frame_count: 1,
            bit_depth: 8,
            quality: Some(90),
            orientation: 1,
            has_alpha: false,
            horizontal_dpi: Some(118),
            vertical_dpi: Some(118),
            ave: None,
        };
        assert_eq!(
            info.to_json(),
            r#"{"format":"jpeg","width":"960","height":"540","size":"158421","md5":"77a16fa70e2eba652fb42e8a639c52f2","frame_count":"1","bit_depth":"8","vertical_dpi":"118","horizontal_dpi":"118","orientation":"1","quality":"90"}"#
        );
    }

    #[test]
    fn ave_is_upper_case_hex() {
        assert_eq!(ave_hex([0x73, 0x62, 0x46]), "0x736246");
        assert_eq!(ave_hex([0xAB, 0x0C, 0xFF]), "0xAB0CFF");
    }
}
