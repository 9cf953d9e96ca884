//! `?style` bodies of the CI image-style API (`<AddStyle>`, `<GetStyle>`, `<DeleteStyle>`,
//! `<StyleList>`), and mogr's own `?mogr-style-separators` body (`<StyleSeparators>`).

use serde::Deserialize;

use super::from_body;
use super::writer::XmlWriter;
use crate::error::{CosError, ErrorCode};

/// A parsed `<AddStyle>` body: the texts as sent, not yet validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddStyle {
    /// `StyleName`.
    pub name: String,
    /// `StyleBody`: the rule the style stands for.
    pub body: String,
}

impl AddStyle {
    /// The request body (for clients such as `mogr style put`).
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("AddStyle");
        w.text("StyleName", &self.name);
        w.text("StyleBody", &self.body);
        w.close("AddStyle");
        w.finish()
    }
}

/// A `<GetStyle>` or `<DeleteStyle>` request body naming one style (`root` is the element).
pub fn style_name_xml(root: &str, name: &str) -> String {
    let mut w = XmlWriter::new();
    w.open(root);
    w.text("StyleName", name);
    w.close(root);
    w.finish()
}

#[derive(Deserialize)]
struct AddStyleXml {
    #[serde(rename = "StyleName", default)]
    name: Option<String>,
    #[serde(rename = "StyleBody", default)]
    body: Option<String>,
}

#[derive(Deserialize)]
struct StyleNameXml {
    #[serde(rename = "StyleName", default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct SeparatorsXml {
    #[serde(rename = "Separators", default)]
    separators: Option<String>,
}

fn malformed(message: &str) -> CosError {
    CosError::with_message(ErrorCode::MalformedXML, message)
}

/// The root element's name, so that a `<DeleteStyle>` sent to PUT is not read as an
/// `<AddStyle>` with a missing body.
fn root_name(body: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                return std::str::from_utf8(e.name().as_ref())
                    .ok()
                    .map(str::to_string)
            }
            quick_xml::events::Event::Eof => return None,
            _ => buf.clear(),
        }
    }
}

fn expect_root(body: &[u8], root: &str) -> Result<(), CosError> {
    match root_name(body) {
        Some(name) if name == root => Ok(()),
        Some(name) => Err(malformed(&format!("expected <{root}>, got <{name}>"))),
        None => Err(malformed(&format!("expected an <{root}> document"))),
    }
}

/// Parses `<AddStyle><StyleName/><StyleBody/></AddStyle>`; `MalformedXML` when either is
/// missing or empty.
pub fn parse_add_style(body: &[u8]) -> Result<AddStyle, CosError> {
    expect_root(body, "AddStyle")?;
    let parsed: AddStyleXml = from_body(body)?;
    let name = parsed.name.unwrap_or_default();
    let body = parsed.body.unwrap_or_default();
    if name.trim().is_empty() || body.trim().is_empty() {
        return Err(malformed("AddStyle needs a StyleName and a StyleBody"));
    }
    Ok(AddStyle {
        name: name.trim().to_string(),
        body: body.trim().to_string(),
    })
}

/// Parses the optional `<GetStyle><StyleName/></GetStyle>` of a style query: `None` for no
/// body or no (or an empty) name, which asks for every style.
pub fn parse_get_style(body: &[u8]) -> Result<Option<String>, CosError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    expect_root(body, "GetStyle")?;
    let parsed: StyleNameXml = from_body(body)?;
    Ok(parsed
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty()))
}

/// Parses `<DeleteStyle><StyleName/></DeleteStyle>`; `MalformedXML` without a name.
pub fn parse_delete_style(body: &[u8]) -> Result<String, CosError> {
    expect_root(body, "DeleteStyle")?;
    let parsed: StyleNameXml = from_body(body)?;
    match parsed.name.map(|n| n.trim().to_string()) {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(malformed("DeleteStyle needs a StyleName")),
    }
}

/// The `<StyleList>` answer to a style query, styles in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StyleList {
    /// `(name, body)` pairs.
    pub styles: Vec<(String, String)>,
}

impl StyleList {
    /// The response body (`<StyleList/>` when there are none).
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("StyleList");
        for (name, body) in &self.styles {
            w.open("StyleRule");
            w.text("StyleName", name);
            w.text("StyleBody", body);
            w.close("StyleRule");
        }
        w.close("StyleList");
        w.finish()
    }
}

#[derive(Deserialize)]
struct StyleListXml {
    #[serde(rename = "StyleRule", default)]
    rules: Vec<StyleRuleXml>,
}

#[derive(Deserialize)]
struct StyleRuleXml {
    #[serde(rename = "StyleName", default)]
    name: String,
    #[serde(rename = "StyleBody", default)]
    body: String,
}

/// Parses a `<StyleList>` answer (for clients such as `mogr style list`).
pub fn parse_style_list(body: &[u8]) -> Result<StyleList, CosError> {
    expect_root(body, "StyleList")?;
    let parsed: StyleListXml = from_body(body)?;
    Ok(StyleList {
        styles: parsed.rules.into_iter().map(|r| (r.name, r.body)).collect(),
    })
}

/// Parses mogr's `<StyleSeparators><Separators>!-</Separators></StyleSeparators>`; an empty
/// or missing `Separators` turns the separator form off.
pub fn parse_style_separators(body: &[u8]) -> Result<String, CosError> {
    expect_root(body, "StyleSeparators")?;
    let parsed: SeparatorsXml = from_body(body)?;
    Ok(parsed.separators.unwrap_or_default().trim().to_string())
}

/// mogr's `<StyleSeparators>` answer.
pub fn style_separators_xml(separators: &str) -> String {
    let mut w = XmlWriter::new();
    w.open("StyleSeparators");
    w.text("Separators", separators);
    w.close("StyleSeparators");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the Python SDK's `format_xml` sends (xmltodict `unparse`).
    const PY_ADD: &[u8] = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<AddStyle><StyleName>thumb</StyleName><StyleBody>imageMogr2/thumbnail/!50p</StyleBody></AddStyle>";

    #[test]
    fn add_style_reads_the_sdk_body() {
        let add = parse_add_style(PY_ADD).unwrap();
        assert_eq!(add.name, "thumb");
        assert_eq!(add.body, "imageMogr2/thumbnail/!50p");
        // Entities are decoded.
        let amp = b"<AddStyle><StyleName>a</StyleName><StyleBody>imageMogr2/format/png&amp;x</StyleBody></AddStyle>";
        assert_eq!(
            parse_add_style(amp).unwrap().body,
            "imageMogr2/format/png&x"
        );
    }

    #[test]
    fn client_bodies_parse_back() {
        let add = AddStyle {
            name: "t".into(),
            body: "imageMogr2/thumbnail/10x10>".into(),
        };
        assert_eq!(parse_add_style(add.to_xml().as_bytes()).unwrap(), add);
        let del = style_name_xml("DeleteStyle", "t");
        assert_eq!(parse_delete_style(del.as_bytes()).unwrap(), "t");
        let get = style_name_xml("GetStyle", "t");
        assert_eq!(
            parse_get_style(get.as_bytes()).unwrap().as_deref(),
            Some("t")
        );
    }

    #[test]
    fn malformed_style_bodies_are_refused() {
        for body in [
            &b""[..],
            b"<AddStyle><StyleName>a</StyleName></AddStyle>",
            b"<AddStyle><StyleBody>imageInfo</StyleBody></AddStyle>",
            b"<DeleteStyle><StyleName>a</StyleName></DeleteStyle>",
            b"<AddStyle><StyleName>a",
            b"\xff\xfe",
        ] {
            let err = parse_add_style(body).unwrap_err();
            assert_eq!(err.code, ErrorCode::MalformedXML, "{body:?}");
        }
        assert!(parse_delete_style(b"<DeleteStyle/>").is_err());
        assert!(
            parse_delete_style(b"<DeleteStyle><StyleName> </StyleName></DeleteStyle>").is_err()
        );
    }

    #[test]
    fn get_style_with_and_without_a_name() {
        assert_eq!(parse_get_style(b"").unwrap(), None);
        assert_eq!(
            parse_get_style(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<GetStyle></GetStyle>")
                .unwrap(),
            None
        );
        assert_eq!(
            parse_get_style(b"<GetStyle><StyleName>t</StyleName></GetStyle>").unwrap(),
            Some("t".to_string())
        );
        assert_eq!(
            parse_delete_style(b"<DeleteStyle><StyleName>t</StyleName></DeleteStyle>").unwrap(),
            "t"
        );
    }

    #[test]
    fn style_list_renders_escaped_rules() {
        let list = StyleList {
            styles: vec![
                ("a".into(), "imageMogr2/thumbnail/100x100>".into()),
                ("b".into(), "imageInfo".into()),
            ],
        };
        let xml = list.to_xml();
        assert!(xml.contains(
            "<StyleRule><StyleName>a</StyleName><StyleBody>imageMogr2/thumbnail/100x100&gt;</StyleBody></StyleRule>"
        ), "{xml}");
        assert_eq!(parse_style_list(xml.as_bytes()).unwrap(), list);
        let empty = StyleList::default().to_xml();
        assert_eq!(
            parse_style_list(empty.as_bytes()).unwrap(),
            StyleList::default()
        );
    }

    #[test]
    fn separators_round_trip() {
        let xml = style_separators_xml("!-");
        assert_eq!(parse_style_separators(xml.as_bytes()).unwrap(), "!-");
        assert_eq!(parse_style_separators(b"<StyleSeparators/>").unwrap(), "");
    }
}
