//! The `Pic-Operations` header (docs/cos-protocol.md): parsing and `fileid` resolution.

use serde_json::Value;

use crate::error::{CosError, ErrorCode};

/// CI processes at most this many rules per request.
pub const MAX_RULES: usize = 5;

/// One output to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PicRule {
    /// Output key as given (resolve with [`resolve_fileid`]).
    pub fileid: String,
    /// Processing rule, e.g. `imageMogr2/format/png` or `style/<name>`.
    pub rule: String,
    /// Destination bucket; `None` means the request's bucket.
    pub bucket: Option<String>,
}

/// The parsed header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PicOperations {
    /// Return `OriginalInfo/ImageInfo`.
    pub is_pic_info: bool,
    /// Rules in request order (0 to [`MAX_RULES`]).
    pub rules: Vec<PicRule>,
}

fn invalid(message: impl Into<String>) -> CosError {
    CosError::with_message(ErrorCode::InvalidPicOperations, message)
}

/// `is_pic_info` as int 0/1, string "0"/"1", or bool (clients differ).
fn parse_flag(v: &Value) -> Result<bool, CosError> {
    match v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => match n.as_u64() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(invalid(format!("is_pic_info must be 0 or 1, got {n}"))),
        },
        Value::String(s) => match s.trim() {
            "" | "0" => Ok(false),
            "1" => Ok(true),
            other => Err(invalid(format!(
                "is_pic_info must be 0 or 1, got `{other}`"
            ))),
        },
        _ => Err(invalid("is_pic_info must be 0 or 1")),
    }
}

/// A required, non-empty string field of one rule.
fn required_str(
    rule: &serde_json::Map<String, Value>,
    field: &str,
    index: usize,
) -> Result<String, CosError> {
    match rule.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(invalid(format!(
            "rules[{index}].{field} is missing or empty"
        ))),
    }
}

fn parse_rule(index: usize, v: &Value) -> Result<PicRule, CosError> {
    let obj = v
        .as_object()
        .ok_or_else(|| invalid(format!("rules[{index}] is not an object")))?;
    let bucket = match obj.get("bucket") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(_) => return Err(invalid(format!("rules[{index}].bucket is not a string"))),
    };
    Ok(PicRule {
        fileid: required_str(obj, "fileid", index)?,
        rule: required_str(obj, "rule", index)?,
        bucket,
    })
}

/// Parses the header's JSON; any problem is 400 `InvalidPicOperations`.
pub fn parse_pic_operations(header: &str) -> Result<PicOperations, CosError> {
    let root: Value = serde_json::from_str(header)
        .map_err(|e| invalid(format!("Pic-Operations is not valid JSON: {e}")))?;
    let obj = root
        .as_object()
        .ok_or_else(|| invalid("Pic-Operations must be a JSON object"))?;
    let is_pic_info = parse_flag(obj.get("is_pic_info").unwrap_or(&Value::Null))?;
    let rules = match obj.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            if items.len() > MAX_RULES {
                return Err(invalid(format!(
                    "at most {MAX_RULES} rules are allowed, got {}",
                    items.len()
                )));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, v)| parse_rule(i, v))
                .collect::<Result<_, _>>()?
        }
        Some(_) => return Err(invalid("rules must be an array")),
    };
    Ok(PicOperations { is_pic_info, rules })
}

/// Resolves a `fileid` against the original's key: a leading `/` is bucket-absolute,
/// otherwise relative to the original's folder. `.` and `..` are applied and repeated
/// slashes collapse; escaping above the root, a trailing `/` or an empty result is
/// `InvalidPicOperations`. The result has no leading `/`.
pub fn resolve_fileid(original_key: &str, fileid: &str) -> Result<String, CosError> {
    if fileid.is_empty() || fileid.ends_with('/') {
        return Err(invalid(format!("fileid `{fileid}` must name a file")));
    }
    let mut segments: Vec<&str> = if fileid.starts_with('/') {
        Vec::new()
    } else {
        let original = original_key.trim_start_matches('/');
        match original.rsplit_once('/') {
            Some((folder, _)) => folder.split('/').filter(|s| !s.is_empty()).collect(),
            None => Vec::new(),
        }
    };
    for segment in fileid.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(invalid(format!(
                        "fileid `{fileid}` escapes the bucket root"
                    )));
                }
            }
            s => segments.push(s),
        }
    }
    // `a/..` style fileids end on a folder, which would be an empty file name.
    let last = fileid.rsplit('/').next().unwrap_or_default();
    if segments.is_empty() || last == "." || last == ".." {
        return Err(invalid(format!("fileid `{fileid}` must name a file")));
    }
    Ok(segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_doc_and_sdk_headers() {
        let p = parse_pic_operations(
            r#"{"is_pic_info":1,"rules":[{"fileid":"test.jpg","rule":"imageView2/format/png"}]}"#,
        )
        .unwrap();
        assert!(p.is_pic_info);
        assert_eq!(
            p.rules,
            vec![PicRule {
                fileid: "test.jpg".into(),
                rule: "imageView2/format/png".into(),
                bucket: None
            }]
        );
        // PY json.dumps spacing, string flag, explicit bucket.
        let p = parse_pic_operations(
            r#"{"is_pic_info": "0", "rules": [{"fileid": "a.png", "rule": "imageMogr2/format/png", "bucket": "dst-1250000000"}, {"fileid": "/b.webp", "rule": "style/s1", "bucket": ""}]}"#,
        )
        .unwrap();
        assert!(!p.is_pic_info);
        assert_eq!(p.rules.len(), 2);
        assert_eq!(p.rules[0].bucket.as_deref(), Some("dst-1250000000"));
        assert_eq!(p.rules[1].bucket, None);
        assert_eq!(p.rules[1].fileid, "/b.webp");
    }

    #[test]
    fn missing_flag_and_rules_mean_nothing_to_do() {
        let p = parse_pic_operations("{}").unwrap();
        assert!(!p.is_pic_info);
        assert!(p.rules.is_empty());
        let p = parse_pic_operations(r#"{"is_pic_info":true,"rules":[]}"#).unwrap();
        assert!(p.is_pic_info);
        assert!(p.rules.is_empty());
    }

    #[test]
    fn rejects_bad_headers_with_invalid_pic_operations() {
        let six = format!(
            r#"{{"rules":[{}]}}"#,
            [r#"{"fileid":"a","rule":"imageMogr2/strip"}"#; 6].join(",")
        );
        for header in [
            "not json",
            "[1]",
            r#"{"is_pic_info":2}"#,
            r#"{"is_pic_info":"yes"}"#,
            r#"{"rules":{}}"#,
            r#"{"rules":[1]}"#,
            r#"{"rules":[{"rule":"imageMogr2/strip"}]}"#,
            r#"{"rules":[{"fileid":"","rule":"imageMogr2/strip"}]}"#,
            r#"{"rules":[{"fileid":"a.jpg"}]}"#,
            r#"{"rules":[{"fileid":"a.jpg","rule":" "}]}"#,
            r#"{"rules":[{"fileid":"a.jpg","rule":"x","bucket":5}]}"#,
            six.as_str(),
        ] {
            let err = parse_pic_operations(header).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidPicOperations, "{header}");
            assert_eq!(err.status().as_u16(), 400);
        }
    }

    #[test]
    fn five_rules_are_allowed() {
        let five = format!(
            r#"{{"rules":[{}]}}"#,
            [r#"{"fileid":"a","rule":"imageMogr2/strip"}"#; 5].join(",")
        );
        assert_eq!(parse_pic_operations(&five).unwrap().rules.len(), 5);
    }

    #[test]
    fn fileid_resolution_follows_the_doc_examples() {
        assert_eq!(
            resolve_fileid("p1/test1.jpg", "/p2/test2.jpg").unwrap(),
            "p2/test2.jpg"
        );
        assert_eq!(
            resolve_fileid("/p1/test1.jpg", "p2/test2.jpg").unwrap(),
            "p1/p2/test2.jpg"
        );
        assert_eq!(
            resolve_fileid("test1.jpg", "test2.jpg").unwrap(),
            "test2.jpg"
        );
        assert_eq!(resolve_fileid("a/b/c.jpg", "../d.png").unwrap(), "a/d.png");
        assert_eq!(
            resolve_fileid("a/b/c.jpg", "./x/./y.png").unwrap(),
            "a/b/x/y.png"
        );
        assert_eq!(resolve_fileid("a/b/c.jpg", "/x//y.png").unwrap(), "x/y.png");
        assert_eq!(resolve_fileid("a/c.jpg", "c.jpg").unwrap(), "a/c.jpg");
    }

    #[test]
    fn fileids_that_escape_or_name_a_folder_are_rejected() {
        for (orig, fileid) in [
            ("a/c.jpg", "../../x.png"),
            ("c.jpg", "../x.png"),
            ("a/c.jpg", "/../x.png"),
            ("a/c.jpg", "out/"),
            ("a/c.jpg", "/"),
            ("a/c.jpg", ""),
            ("a/c.jpg", "x/.."),
            ("a/c.jpg", "."),
        ] {
            let err = resolve_fileid(orig, fileid).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidPicOperations, "{orig} {fileid}");
        }
    }
}
