//! `<UploadResult>`: the answer to PUT with `Pic-Operations` and to `POST ?image_process` (docs/cos-protocol.md, "the three modes").
//!
//! JAVA parses every number with `Integer.parseInt`, so numbers are plain integers and an
//! unknown value is left out rather than sent empty.

use super::writer::XmlWriter;

/// `OriginalInfo/ImageInfo`, sent only when `is_pic_info=1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfoXml {
    /// Source format as CI spells it (e.g. `JPEG`, `PNG`).
    pub format: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Estimated JPEG/WebP quality, if known.
    pub quality: Option<u32>,
    /// Average colour `0xRRGGBB`; left out when empty.
    pub ave: String,
    /// EXIF orientation 1-8, 0 when absent.
    pub orientation: u32,
    /// Frame count for animated images.
    pub frame_count: Option<u32>,
}

/// `OriginalInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalInfo {
    /// Key of the original, no leading `/`.
    pub key: String,
    /// `<host>/<key>`, no scheme.
    pub location: String,
    /// ETag without quotes.
    pub etag: String,
    /// Image facts, when asked for.
    pub image_info: Option<ImageInfoXml>,
}

/// One `ProcessResults/Object`, one per rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessResultObject {
    /// Resolved output key, no leading `/`.
    pub key: String,
    /// `<host>/<key>`, no scheme.
    pub location: String,
    /// Output format (e.g. `png`).
    pub format: String,
    /// Output width in pixels.
    pub width: u32,
    /// Output height in pixels.
    pub height: u32,
    /// Output size in bytes.
    pub size: u64,
    /// Output quality, for JPEG/WebP.
    pub quality: Option<u32>,
    /// ETag of the stored output, without quotes.
    pub etag: String,
    /// Frame count for animated output.
    pub frame_count: Option<u32>,
}

/// The whole `<UploadResult>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadResult {
    /// The original object.
    pub original: OriginalInfo,
    /// Outputs, in rule order.
    pub objects: Vec<ProcessResultObject>,
}

impl UploadResult {
    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("UploadResult");
        write_original(&mut w, &self.original);
        if self.objects.is_empty() {
            w.text("ProcessResults", "");
        } else {
            w.open("ProcessResults");
            for o in &self.objects {
                write_object(&mut w, o);
            }
            w.close("ProcessResults");
        }
        w.close("UploadResult");
        w.finish()
    }
}

fn write_original(w: &mut XmlWriter, o: &OriginalInfo) {
    w.open("OriginalInfo");
    w.text_nonempty("Key", Some(&o.key));
    w.text_nonempty("Location", Some(&o.location));
    if !o.etag.is_empty() {
        w.etag("ETag", &o.etag);
    }
    if let Some(info) = &o.image_info {
        w.open("ImageInfo");
        w.text_nonempty("Format", Some(&info.format));
        w.value("Width", info.width);
        w.value("Height", info.height);
        if let Some(q) = info.quality {
            w.value("Quality", q);
        }
        w.text_nonempty("Ave", Some(&info.ave));
        w.value("Orientation", info.orientation);
        if let Some(n) = info.frame_count {
            w.value("FrameCount", n);
        }
        w.close("ImageInfo");
    }
    w.close("OriginalInfo");
}

fn write_object(w: &mut XmlWriter, o: &ProcessResultObject) {
    w.open("Object");
    w.text_nonempty("Key", Some(&o.key));
    w.text_nonempty("Location", Some(&o.location));
    w.text_nonempty("Format", Some(&o.format));
    w.value("Width", o.width);
    w.value("Height", o.height);
    w.value("Size", o.size);
    if let Some(q) = o.quality {
        w.value("Quality", q);
    }
    if !o.etag.is_empty() {
        w.etag("ETag", &o.etag);
    }
    if let Some(n) = o.frame_count {
        w.value("FrameCount", n);
    }
    w.close("Object");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct Parsed {
        original_info: POriginal,
        process_results: Option<PResults>,
    }
    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct POriginal {
        key: String,
        location: String,
        e_tag: String,
        image_info: Option<PInfo>,
    }
    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct PInfo {
        format: String,
        width: u32,
        height: u32,
        quality: Option<u32>,
        ave: Option<String>,
        orientation: u32,
        frame_count: Option<u32>,
    }
    #[derive(Deserialize, Debug)]
    struct PResults {
        #[serde(rename = "Object", default)]
        objects: Vec<PObject>,
    }
    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct PObject {
        key: String,
        location: String,
        format: String,
        width: u32,
        height: u32,
        size: u64,
        quality: Option<u32>,
        e_tag: String,
        frame_count: Option<u32>,
    }

    fn object(key: &str, quality: Option<u32>, frames: Option<u32>) -> ProcessResultObject {
        ProcessResultObject {
            key: key.into(),
            location: format!("examplebucket-1250000000.cos.ap-chengdu.myqcloud.com/{key}"),
            format: "png".into(),
            width: 640,
            height: 427,
            size: 463_092,
            quality,
            etag: "eaa4e3d8fd498bbc63be3b71c46b9c61".into(),
            frame_count: frames,
        }
    }

    #[test]
    fn full_result_matches_the_doc_layout() {
        let r = UploadResult {
            original: OriginalInfo {
                key: "filename.jpg".into(),
                location: "examplebucket-1250000000.cos.ap-chengdu.myqcloud.com/filename.jpg"
                    .into(),
                etag: "580cd6930444576523c25f86ce2af9b1".into(),
                image_info: Some(ImageInfoXml {
                    format: "JPEG".into(),
                    width: 640,
                    height: 427,
                    quality: Some(100),
                    ave: "0xa18454".into(),
                    orientation: 1,
                    frame_count: None,
                }),
            },
            objects: vec![
                object("test.jpg", Some(90), None),
                object("dir/anim.gif", None, Some(12)),
            ],
        };
        let xml = r.to_xml();
        assert!(xml
            .starts_with("<?xml version='1.0' encoding='utf-8' ?>\n<UploadResult><OriginalInfo>"));
        assert!(xml.contains("<ETag>&quot;580cd6930444576523c25f86ce2af9b1&quot;</ETag>"));
        assert!(!xml.contains("/>"), "no empty elements: {xml}");
        let p: Parsed = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(p.original_info.key, "filename.jpg");
        assert!(p
            .original_info
            .location
            .ends_with(".myqcloud.com/filename.jpg"));
        assert_eq!(
            p.original_info.e_tag,
            "\"580cd6930444576523c25f86ce2af9b1\""
        );
        let info = p.original_info.image_info.unwrap();
        assert_eq!(
            (info.format.as_str(), info.width, info.height),
            ("JPEG", 640, 427)
        );
        assert_eq!(info.quality, Some(100));
        assert_eq!(info.ave.as_deref(), Some("0xa18454"));
        assert_eq!(info.orientation, 1);
        assert_eq!(info.frame_count, None);
        let objs = p.process_results.unwrap().objects;
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].key, "test.jpg");
        assert!(objs[0].location.ends_with("/test.jpg"));
        assert_eq!(objs[0].format, "png");
        assert_eq!(
            (objs[0].width, objs[0].height, objs[0].size),
            (640, 427, 463_092)
        );
        assert_eq!(objs[0].quality, Some(90));
        assert_eq!(objs[0].e_tag, "\"eaa4e3d8fd498bbc63be3b71c46b9c61\"");
        assert_eq!(objs[1].key, "dir/anim.gif");
        assert_eq!(objs[1].quality, None);
        assert_eq!(objs[1].frame_count, Some(12));
    }

    #[test]
    fn unknown_values_are_omitted_not_empty() {
        let r = UploadResult {
            original: OriginalInfo {
                key: "a.png".into(),
                location: "h/a.png".into(),
                etag: "x".into(),
                image_info: Some(ImageInfoXml {
                    format: "PNG".into(),
                    width: 1,
                    height: 2,
                    quality: None,
                    ave: String::new(),
                    orientation: 0,
                    frame_count: None,
                }),
            },
            objects: vec![],
        };
        let xml = r.to_xml();
        assert!(!xml.contains("<Quality"));
        assert!(!xml.contains("<Ave"));
        assert!(xml.contains("<Orientation>0</Orientation>"));
        assert!(xml.ends_with("</OriginalInfo><ProcessResults/></UploadResult>"));
        let p: Parsed = quick_xml::de::from_str(&xml).unwrap();
        assert!(p.process_results.is_none_or(|r| r.objects.is_empty()));
    }

    #[test]
    fn image_info_is_left_out_when_not_requested() {
        let r = UploadResult {
            original: OriginalInfo {
                key: "a.png".into(),
                location: "h/a.png".into(),
                etag: "x".into(),
                image_info: None,
            },
            objects: vec![object("b.png", None, None)],
        };
        let xml = r.to_xml();
        assert!(!xml.contains("ImageInfo"));
        let p: Parsed = quick_xml::de::from_str(&xml).unwrap();
        assert!(p.original_info.image_info.is_none());
        assert_eq!(p.process_results.unwrap().objects.len(), 1);
    }
}
