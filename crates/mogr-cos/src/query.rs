//! Raw query-string parsing that keeps what the signature and rule detection need.

use crate::encode::form_decode;

/// One `&`-separated component of the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParam {
    /// Form-decoded key (the part before the first `=`).
    pub key: String,
    /// Form-decoded value; empty when there was no `=`.
    pub value: String,
    /// The key exactly as it appeared on the wire.
    pub raw_key: String,
    /// The value as on the wire; `None` when the component had no `=`.
    pub raw_value: Option<String>,
}

impl QueryParam {
    /// Parses one non-empty component.
    fn parse(component: &str) -> Self {
        let (raw_key, raw_value) = match component.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (component, None),
        };
        QueryParam {
            key: form_decode(raw_key),
            value: raw_value.map(form_decode).unwrap_or_default(),
            raw_key: raw_key.to_owned(),
            raw_value: raw_value.map(str::to_owned),
        }
    }

    /// Whether this is a signature, token, response-override or version parameter.
    fn is_reserved(&self) -> bool {
        let k = self.key.as_str();
        k.starts_with("q-")
            || k == "sign"
            || k.starts_with("response-")
            || k == "versionId"
            || k == "x-cos-security-token"
            || k == "x-ci-security-token"
    }

    /// The processing rule this component carries, if its key names a processor.
    pub fn rule(&self) -> Option<String> {
        if self.is_reserved() || !mogr_rule::is_processing_key(&self.key) {
            return None;
        }
        match self.raw_value.as_deref() {
            // `rule` or an encoder's `rule=`: the single literal `=` is the separator.
            None | Some("") => Some(self.key.clone()),
            // A literal `=` inside the component belongs to the rule (Base64 padding `==`).
            Some(_) => Some(format!("{}={}", self.key, self.value)),
        }
    }
}

/// A parsed query string, in wire order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    params: Vec<QueryParam>,
}

impl Query {
    /// Splits the raw query on `&` (empty components are dropped) and form-decodes each half.
    pub fn parse(raw: Option<&str>) -> Query {
        let params = raw
            .unwrap_or("")
            .split('&')
            .filter(|c| !c.is_empty())
            .map(QueryParam::parse)
            .collect();
        Query { params }
    }

    /// The decoded value of the first parameter whose decoded key is exactly `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.key == name)
            .map(|p| p.value.as_str())
    }

    /// Whether a parameter with decoded key `name` is present (with or without a value).
    pub fn has(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.key == name)
    }

    /// All parameters in wire order.
    pub fn iter(&self) -> std::slice::Iter<'_, QueryParam> {
        self.params.iter()
    }

    /// All parameters in wire order, as a slice.
    pub fn params(&self) -> &[QueryParam] {
        &self.params
    }

    /// Whether the query has no parameters at all.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The processing rule (first component whose decoded key names a processor), decoded.
    ///
    /// `rule` and `rule=` both give `rule`; a component with a literal `=` inside keeps it,
    /// so hand-written Base64 padding (`fill/I0ZGRkZGRg==`) survives as well as the encoded
    /// form (`fill%2FI0ZGRkZGRg%3D%3D=`).
    pub fn rule(&self) -> Option<String> {
        self.params.iter().find_map(QueryParam::rule)
    }

    /// The component [`Self::rule`] comes from (e.g. to check it is covered by the signature).
    pub fn rule_param(&self) -> Option<&QueryParam> {
        self.params.iter().find(|p| p.rule().is_some())
    }
}

impl<'a> IntoIterator for &'a Query {
    type Item = &'a QueryParam;
    type IntoIter = std::slice::Iter<'a, QueryParam>;

    fn into_iter(self) -> Self::IntoIter {
        self.params.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_of(raw: &str) -> Option<String> {
        Query::parse(Some(raw)).rule()
    }

    #[test]
    fn splits_and_form_decodes_keys_and_values() {
        let q = Query::parse(Some(
            "prefix=a+b%2Fc&delimiter=%2F&acl&marker=&&max-keys=10",
        ));
        assert_eq!(q.params().len(), 5);
        assert_eq!(q.get("prefix"), Some("a b/c"));
        assert_eq!(q.get("delimiter"), Some("/"));
        assert!(q.has("acl"));
        assert_eq!(q.get("acl"), Some(""));
        assert_eq!(q.params()[2].raw_value, None);
        assert_eq!(q.params()[3].raw_value.as_deref(), Some(""));
        assert_eq!(q.get("max-keys"), Some("10"));
        assert_eq!(q.get("Max-Keys"), None);
        assert!(!q.has("uploads"));
    }

    #[test]
    fn value_keeps_everything_after_the_first_equals() {
        let q = Query::parse(Some("a=b=c"));
        assert_eq!(q.params()[0].key, "a");
        assert_eq!(q.params()[0].value, "b=c");
        assert_eq!(q.params()[0].raw_value.as_deref(), Some("b=c"));
    }

    #[test]
    fn empty_or_missing_query_has_no_params() {
        assert!(Query::parse(None).is_empty());
        assert!(Query::parse(Some("")).is_empty());
        assert!(Query::parse(Some("&&")).is_empty());
        assert_eq!(Query::parse(None).rule(), None);
    }

    #[test]
    fn rule_forms_all_decode_to_the_same_rule() {
        for raw in [
            "imageMogr2/format/png",
            "imageMogr2%2Fformat%2Fpng=",
            "imageMogr2%2Fformat%2Fpng",
            "imageMogr2/format/png=",
        ] {
            assert_eq!(
                rule_of(raw).as_deref(),
                Some("imageMogr2/format/png"),
                "{raw}"
            );
        }
    }

    #[test]
    fn base64_padding_survives_in_both_wire_forms() {
        let want = "watermark/2/text/5pWw/fill/I0ZGRkZGRg==";
        assert_eq!(
            rule_of("watermark/2/text/5pWw/fill/I0ZGRkZGRg==").as_deref(),
            Some(want)
        );
        assert_eq!(
            rule_of("watermark%2F2%2Ftext%2F5pWw%2Ffill%2FI0ZGRkZGRg%3D%3D=").as_deref(),
            Some(want)
        );
        assert_eq!(
            rule_of("watermark%2F2%2Ftext%2F5pWw%2Ffill%2FI0ZGRkZGRg%3D%3D").as_deref(),
            Some(want)
        );
    }

    #[test]
    fn piped_rule_with_encoded_pipe_and_bang() {
        assert_eq!(
            rule_of("imageMogr2%2Fthumbnail%2F%2150p%7Cwatermark%2F2%2Ftext%2F5pWw=").as_deref(),
            Some("imageMogr2/thumbnail/!50p|watermark/2/text/5pWw")
        );
    }

    #[test]
    fn rule_is_found_before_or_after_signature_params() {
        let sig = "q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1%3B2&q-key-time=1%3B2\
                   &q-header-list=host&q-url-param-list=imagemogr2%252fformat%252fpng&q-signature=ab";
        let after = format!("{sig}&imageMogr2%2Fformat%2Fpng=");
        let before = format!("imageMogr2/format/png&{sig}");
        assert_eq!(rule_of(&after).as_deref(), Some("imageMogr2/format/png"));
        assert_eq!(rule_of(&before).as_deref(), Some("imageMogr2/format/png"));
        assert_eq!(
            Query::parse(Some(&after)).get("q-url-param-list"),
            Some("imagemogr2%2fformat%2fpng")
        );
    }

    #[test]
    fn other_processors_are_rules_and_plain_params_are_not() {
        assert_eq!(rule_of("imageInfo=").as_deref(), Some("imageInfo"));
        assert_eq!(rule_of("exif").as_deref(), Some("exif"));
        assert_eq!(rule_of("imageAve").as_deref(), Some("imageAve"));
        assert_eq!(rule_of("style/thumb").as_deref(), Some("style/thumb"));
        assert_eq!(
            rule_of("ci-process=originImage").as_deref(),
            Some("ci-process=originImage")
        );
        assert_eq!(
            rule_of("imageView2/2/w/100").as_deref(),
            Some("imageView2/2/w/100")
        );
        assert_eq!(rule_of("acl"), None);
        assert_eq!(rule_of("image_process="), None);
        assert_eq!(rule_of("response-content-type=imageMogr2"), None);
        assert_eq!(rule_of("sign=imageMogr2%2Fx"), None);
        assert_eq!(rule_of("versionId=1&uploads"), None);
    }

    #[test]
    fn first_rule_wins() {
        assert_eq!(
            rule_of("imageInfo&imageMogr2/format/png").as_deref(),
            Some("imageInfo")
        );
        let q = Query::parse(Some("acl&imageMogr2%2Fstrip=&imageInfo"));
        assert_eq!(
            q.rule_param().map(|p| p.raw_key.as_str()),
            Some("imageMogr2%2Fstrip")
        );
    }
}
