//! `POST /?delete` (Delete Multiple Objects) request and response.

use serde::Deserialize;

use super::from_body;
use super::writer::XmlWriter;
use crate::error::{CosError, ErrorCode};

/// COS and S3 accept at most this many keys per request.
pub const MAX_DELETE_KEYS: usize = 1000;

/// The parsed `<Delete>` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    /// `<Quiet>true</Quiet>`: report only failures.
    pub quiet: bool,
    /// Keys to delete, in request order.
    pub keys: Vec<String>,
}

#[derive(Deserialize)]
struct DeleteXml {
    #[serde(rename = "Quiet", default)]
    quiet: Option<String>,
    #[serde(rename = "Object", default)]
    objects: Vec<ObjectXml>,
}

#[derive(Deserialize)]
struct ObjectXml {
    #[serde(rename = "Key", default)]
    key: String,
}

/// Parses `<Delete><Quiet/><Object><Key/></Object>…</Delete>`; `MalformedXML` when it is not
/// that shape, has no objects, more than [`MAX_DELETE_KEYS`], or an empty key.
pub fn parse_delete(body: &[u8]) -> Result<DeleteRequest, CosError> {
    let parsed: DeleteXml = from_body(body)?;
    let quiet = match parsed.quiet.as_deref().map(str::trim) {
        None | Some("") => false,
        Some(q) if q.eq_ignore_ascii_case("true") => true,
        Some(q) if q.eq_ignore_ascii_case("false") => false,
        Some(q) => {
            return Err(CosError::with_message(
                ErrorCode::MalformedXML,
                format!("Quiet must be true or false, got `{q}`"),
            ))
        }
    };
    if parsed.objects.is_empty() || parsed.objects.len() > MAX_DELETE_KEYS {
        return Err(CosError::with_message(
            ErrorCode::MalformedXML,
            format!(
                "Delete needs 1 to {MAX_DELETE_KEYS} objects, got {}",
                parsed.objects.len()
            ),
        ));
    }
    if parsed.objects.iter().any(|o| o.key.is_empty()) {
        return Err(CosError::with_message(
            ErrorCode::MalformedXML,
            "empty Key in Delete",
        ));
    }
    Ok(DeleteRequest {
        quiet,
        keys: parsed.objects.into_iter().map(|o| o.key).collect(),
    })
}

/// `<DeleteResult>` response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteResult {
    /// Keys deleted (leave empty in quiet mode).
    pub deleted: Vec<String>,
    /// Failures as `(key, code, message)`.
    pub errors: Vec<(String, String, String)>,
}

impl DeleteResult {
    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("DeleteResult");
        for key in &self.deleted {
            w.open("Deleted");
            w.text("Key", key);
            w.close("Deleted");
        }
        for (key, code, message) in &self.errors {
            w.open("Error");
            w.text("Key", key);
            w.text("Code", code);
            w.text("Message", message);
            w.close("Error");
        }
        w.close("DeleteResult");
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_python_sdk_body() {
        let body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><Delete><Quiet>false</Quiet>\
            <Object><Key>a.jpg</Key></Object><Object><Key>dir/b&amp;c.png</Key></Object></Delete>";
        let d = parse_delete(body).unwrap();
        assert!(!d.quiet);
        assert_eq!(d.keys, vec!["a.jpg".to_string(), "dir/b&c.png".to_string()]);
    }

    #[test]
    fn quiet_and_namespaced_bodies_parse() {
        let body = br#"<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
            <Quiet>TRUE</Quiet>
            <Object><Key>x</Key><VersionId>1</VersionId></Object>
        </Delete>"#;
        let d = parse_delete(body).unwrap();
        assert!(d.quiet);
        assert_eq!(d.keys, vec!["x".to_string()]);
    }

    #[test]
    fn keys_keep_surrounding_spaces() {
        let d = parse_delete(b"<Delete><Object><Key> a b </Key></Object></Delete>").unwrap();
        assert_eq!(d.keys, vec![" a b ".to_string()]);
    }

    #[test]
    fn bad_bodies_are_malformed_xml() {
        let too_many = format!(
            "<Delete>{}</Delete>",
            "<Object><Key>k</Key></Object>".repeat(MAX_DELETE_KEYS + 1)
        );
        for body in [
            &b"<Delete><Object><Key>a</Key></Object>"[..],
            b"not xml",
            b"<Delete></Delete>",
            b"<Delete><Object><Key></Key></Object></Delete>",
            b"<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>",
            b"\xff\xfe",
            too_many.as_bytes(),
        ] {
            let err = parse_delete(body).unwrap_err();
            assert_eq!(
                err.code,
                ErrorCode::MalformedXML,
                "{:?}",
                String::from_utf8_lossy(body)
            );
            assert_eq!(err.status().as_u16(), 400);
        }
    }

    #[derive(serde::Deserialize)]
    struct Parsed {
        #[serde(rename = "Deleted", default)]
        deleted: Vec<Deleted>,
        #[serde(rename = "Error", default)]
        errors: Vec<Failed>,
    }
    #[derive(serde::Deserialize)]
    struct Deleted {
        #[serde(rename = "Key")]
        key: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Failed {
        key: String,
        code: String,
        message: String,
    }

    #[test]
    fn result_lists_deleted_then_errors() {
        let r = DeleteResult {
            deleted: vec!["a".into(), "b<c".into()],
            errors: vec![("d".into(), "AccessDenied".into(), "Access Denied.".into())],
        };
        let p: Parsed = quick_xml::de::from_str(&r.to_xml()).unwrap();
        assert_eq!(
            p.deleted.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
            ["a", "b<c"]
        );
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].key, "d");
        assert_eq!(p.errors[0].code, "AccessDenied");
        assert_eq!(p.errors[0].message, "Access Denied.");
    }
}
