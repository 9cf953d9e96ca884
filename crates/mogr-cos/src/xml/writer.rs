//! A tiny compact XML writer: COS bodies are flat and small, so a `String` is enough.

use std::fmt::Display;

use quick_xml::escape::escape;

/// The declaration every COS body starts with (single quotes, as COS sends it).
pub const XML_DECLARATION: &str = "<?xml version='1.0' encoding='utf-8' ?>";

/// Builds one XML document; text is always escaped.
pub(crate) struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    /// Starts a document with the COS declaration.
    pub(crate) fn new() -> Self {
        let mut buf = String::with_capacity(512);
        buf.push_str(XML_DECLARATION);
        buf.push('\n');
        XmlWriter { buf }
    }

    /// `<tag>`.
    pub(crate) fn open(&mut self, tag: &str) {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
    }

    /// `<tag attrs>`; `attrs` is written verbatim and must already be valid.
    pub(crate) fn open_with(&mut self, tag: &str, attrs: &str) {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push(' ');
        self.buf.push_str(attrs);
        self.buf.push('>');
    }

    /// `</tag>`.
    pub(crate) fn close(&mut self, tag: &str) {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
    }

    /// `<tag>escaped text</tag>`, or `<tag/>` when empty.
    pub(crate) fn text(&mut self, tag: &str, text: &str) {
        if text.is_empty() {
            self.buf.push('<');
            self.buf.push_str(tag);
            self.buf.push_str("/>");
            return;
        }
        self.open(tag);
        self.buf.push_str(&escape(text));
        self.close(tag);
    }

    /// Like [`Self::text`] but leaves the element out when `text` is `None` or empty.
    pub(crate) fn text_nonempty(&mut self, tag: &str, text: Option<&str>) {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            self.text(tag, t);
        }
    }

    /// `<tag>value</tag>` for numbers and booleans.
    pub(crate) fn value(&mut self, tag: &str, value: impl Display) {
        self.text(tag, &value.to_string());
    }

    /// `<tag>&quot;etag&quot;</tag>`: ETags travel quoted, as in the `ETag` header.
    pub(crate) fn etag(&mut self, tag: &str, unquoted: &str) {
        self.text(tag, &format!("\"{}\"", unquoted.trim_matches('"')));
    }

    /// `<Owner><ID>id</ID><DisplayName>id</DisplayName></Owner>` under `tag`.
    pub(crate) fn owner(&mut self, tag: &str, id: &str) {
        self.open(tag);
        self.text("ID", id);
        self.text("DisplayName", id);
        self.close(tag);
    }

    /// The finished document.
    pub(crate) fn finish(self) -> String {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_collapses_empty_elements() {
        let mut w = XmlWriter::new();
        w.open("A");
        w.text("B", "x<y&\"z\"");
        w.text("C", "");
        w.text_nonempty("D", Some(""));
        w.text_nonempty("E", None);
        w.etag("ETag", "abc");
        w.value("N", 7u32);
        w.close("A");
        assert_eq!(
            w.finish(),
            "<?xml version='1.0' encoding='utf-8' ?>\n<A><B>x&lt;y&amp;&quot;z&quot;</B><C/>\
             <ETag>&quot;abc&quot;</ETag><N>7</N></A>"
        );
    }
}
