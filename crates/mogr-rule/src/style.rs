//! Named styles: `style/<name>` as a typed reference in a rule, and the expansion of such a
//! rule into the pipeline that actually runs.
//!
//! Parsing stays pure: [`parse_styled`] only records which stages name a style. Where the
//! styles live (a bucket's settings) is the caller's business; [`expand`] takes a lookup and
//! substitutes each reference by its style's own rule, recursively, refusing unknown names,
//! loops, nesting deeper than [`MAX_STYLE_DEPTH`] and results over [`MAX_STAGES`] stages.

use std::fmt;

use crate::parse::{map_stages, parse_stage};
use crate::{Pipeline, RuleError, Stage, MAX_STAGES};

/// Longest style name, in bytes.
pub const MAX_STYLE_NAME_LEN: usize = 64;

/// How many styles may be nested inside one another (`a` uses `b` uses `c` ...): enough for
/// real templates, and it bounds the work of an expansion however the styles were written.
pub const MAX_STYLE_DEPTH: usize = 8;

/// A valid style name: 1 to [`MAX_STYLE_NAME_LEN`] ASCII letters, digits, `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StyleName(String);

impl StyleName {
    /// Checks `name` and wraps it.
    pub fn parse(name: &str) -> Result<StyleName, StyleNameError> {
        if name.is_empty() {
            return Err(StyleNameError::Empty);
        }
        if name.len() > MAX_STYLE_NAME_LEN {
            return Err(StyleNameError::TooLong(name.len()));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(StyleNameError::BadChar(c));
        }
        Ok(StyleName(name.to_string()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StyleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a text is not a style name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StyleNameError {
    /// Nothing after `style/`, or an empty `StyleName`.
    #[error("the style name is empty")]
    Empty,
    /// Longer than [`MAX_STYLE_NAME_LEN`].
    #[error("the style name is {0} bytes long (at most 64)")]
    TooLong(usize),
    /// A character outside letters, digits, `-`, `_` and `.`.
    #[error("the style name contains {0:?} (only letters, digits, '-', '_' and '.' are allowed)")]
    BadChar(char),
}

/// One `|`-separated stage of a rule as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulePart {
    /// An ordinary stage.
    Stage(Stage),
    /// `style/<name>`: the stages of a named style.
    Style(StyleName),
}

/// A rule as written, before its style references are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StyledRule {
    /// Between 1 and [`MAX_STAGES`] parts.
    pub parts: Vec<RulePart>,
}

impl StyledRule {
    /// Whether any part names a style.
    pub fn uses_styles(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, RulePart::Style(_)))
    }
}

/// Parse a rule whose stages may be `style/<name>` references; otherwise exactly
/// [`crate::parse`].
pub fn parse_styled(rule: &str) -> Result<StyledRule, StyleError> {
    let parts = map_stages(rule, |stage| {
        let trimmed = stage.trim_end_matches('/');
        match trimmed.strip_prefix("style/") {
            Some(name) => StyleName::parse(name)
                .map(RulePart::Style)
                .map_err(|_| invalid_reference(name)),
            None if trimmed == "style" => Err(RuleError::MissingArgument("style".into())),
            None => parse_stage(stage).map(RulePart::Stage),
        }
    })
    .map_err(StyleError::Rule)?;
    Ok(StyledRule { parts })
}

fn invalid_reference(name: &str) -> RuleError {
    RuleError::InvalidArgument {
        op: "style".into(),
        arg: name.into(),
    }
}

/// Why a rule with style references cannot be expanded, or a style cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StyleError {
    /// The rule itself does not parse.
    #[error("{0}")]
    Rule(RuleError),
    /// A style's own rule does not parse.
    #[error("style `{style}`: {error}")]
    InStyle {
        /// The style whose rule is malformed.
        style: String,
        /// What is wrong with it.
        error: RuleError,
    },
    /// The named style does not exist.
    #[error("style `{0}` does not exist")]
    Unknown(String),
    /// The styles name each other in a circle (`a -> b -> a`).
    #[error("styles form a loop: {0}")]
    Loop(String),
    /// Styles nested deeper than [`MAX_STYLE_DEPTH`].
    #[error("styles are nested more than 8 deep: {0}")]
    TooDeep(String),
    /// The expanded rule has more than [`MAX_STAGES`] stages.
    #[error("the rule expands to more than 10 pipeline stages")]
    TooManyStages,
}

/// Substitute every style reference of `rule` by its style's rule, recursively, using
/// `lookup` to find a style's rule text by name.
pub fn expand(
    rule: &StyledRule,
    lookup: impl Fn(&StyleName) -> Option<String>,
) -> Result<Pipeline, StyleError> {
    let mut stages = Vec::new();
    expand_into(&rule.parts, &lookup, &mut Vec::new(), &mut stages)?;
    Ok(Pipeline { stages })
}

/// Check that `body` may be saved as style `name` among the styles `existing` finds: it
/// parses, every style it names exists, it does not lead back to itself, and it expands to
/// at most [`MAX_STAGES`] stages.
pub fn check_style(
    name: &StyleName,
    body: &str,
    existing: impl Fn(&StyleName) -> Option<String>,
) -> Result<Pipeline, StyleError> {
    let lookup = |n: &StyleName| {
        if n == name {
            Some(body.to_string())
        } else {
            existing(n)
        }
    };
    let root = StyledRule {
        parts: vec![RulePart::Style(name.clone())],
    };
    expand(&root, lookup)
}

fn expand_into(
    parts: &[RulePart],
    lookup: &impl Fn(&StyleName) -> Option<String>,
    path: &mut Vec<StyleName>,
    out: &mut Vec<Stage>,
) -> Result<(), StyleError> {
    for part in parts {
        match part {
            RulePart::Stage(stage) => {
                if out.len() == MAX_STAGES {
                    return Err(StyleError::TooManyStages);
                }
                out.push(stage.clone());
            }
            RulePart::Style(name) => {
                if path.contains(name) {
                    return Err(StyleError::Loop(chain(path, name)));
                }
                if path.len() == MAX_STYLE_DEPTH {
                    return Err(StyleError::TooDeep(chain(path, name)));
                }
                let body = lookup(name).ok_or_else(|| StyleError::Unknown(name.to_string()))?;
                let inner = match parse_styled(&body) {
                    Ok(inner) => inner,
                    Err(StyleError::Rule(error)) => {
                        return Err(StyleError::InStyle {
                            style: name.to_string(),
                            error,
                        })
                    }
                    Err(other) => return Err(other),
                };
                path.push(name.clone());
                expand_into(&inner.parts, lookup, path, out)?;
                path.pop();
            }
        }
    }
    Ok(())
}

/// `a -> b -> c` for the styles on `path` followed by `next`.
fn chain(path: &[StyleName], next: &StyleName) -> String {
    path.iter()
        .chain(std::iter::once(next))
        .map(StyleName::as_str)
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn styles(pairs: &[(&str, &str)]) -> impl Fn(&StyleName) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |n: &StyleName| map.get(n.as_str()).cloned()
    }

    fn name(s: &str) -> StyleName {
        StyleName::parse(s).unwrap()
    }

    #[test]
    fn names_are_checked() {
        assert!(StyleName::parse("thumb_v2.small-1").is_ok());
        assert_eq!(StyleName::parse(""), Err(StyleNameError::Empty));
        assert_eq!(StyleName::parse("a/b"), Err(StyleNameError::BadChar('/')));
        assert_eq!(StyleName::parse("大"), Err(StyleNameError::BadChar('大')));
        assert_eq!(
            StyleName::parse(&"a".repeat(65)),
            Err(StyleNameError::TooLong(65))
        );
        assert!(StyleName::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn a_style_reference_parses_into_a_typed_part() {
        let r = parse_styled("style/thumb").unwrap();
        assert_eq!(r.parts, vec![RulePart::Style(name("thumb"))]);
        assert!(r.uses_styles());
        let r = parse_styled("style%2Fthumb/|imageInfo").unwrap();
        assert_eq!(
            r.parts,
            vec![
                RulePart::Style(name("thumb")),
                RulePart::Stage(Stage::ImageInfo)
            ]
        );
        assert!(!parse_styled("imageInfo").unwrap().uses_styles());
        assert!(matches!(
            parse_styled("style/a b"),
            Err(StyleError::Rule(RuleError::InvalidArgument { .. }))
        ));
        assert!(matches!(
            parse_styled("style"),
            Err(StyleError::Rule(RuleError::MissingArgument(_)))
        ));
        assert!(matches!(
            parse_styled("style/"),
            Err(StyleError::Rule(RuleError::MissingArgument(_)))
        ));
    }

    #[test]
    fn expansion_substitutes_the_styles_rule() {
        let lookup = styles(&[
            ("small", "imageMogr2/thumbnail/100x"),
            ("webp", "style/small|imageMogr2/format/webp"),
        ]);
        let p = expand(&parse_styled("style/webp").unwrap(), &lookup).unwrap();
        assert_eq!(
            p,
            crate::parse("imageMogr2/thumbnail/100x|imageMogr2/format/webp").unwrap()
        );
        assert_eq!(
            p.to_string(),
            "imageMogr2/thumbnail/100x|imageMogr2/format/webp"
        );
        let plain = expand(&parse_styled("imageInfo").unwrap(), &lookup).unwrap();
        assert_eq!(plain, crate::parse("imageInfo").unwrap());
    }

    #[test]
    fn unknown_styles_loops_and_depth_are_refused() {
        let lookup = styles(&[("a", "style/b"), ("b", "style/a"), ("self", "style/self")]);
        assert_eq!(
            expand(&parse_styled("style/nope").unwrap(), &lookup),
            Err(StyleError::Unknown("nope".into()))
        );
        assert_eq!(
            expand(&parse_styled("style/a").unwrap(), &lookup),
            Err(StyleError::Loop("a -> b -> a".into()))
        );
        assert_eq!(
            expand(&parse_styled("style/self").unwrap(), &lookup),
            Err(StyleError::Loop("self -> self".into()))
        );
        let chain: Vec<(String, String)> = (0..20)
            .map(|i| (format!("s{i}"), format!("style/s{}", i + 1)))
            .chain([("s20".to_string(), "imageInfo".to_string())])
            .collect();
        let pairs: Vec<(&str, &str)> = chain
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert!(matches!(
            expand(&parse_styled("style/s0").unwrap(), styles(&pairs)),
            Err(StyleError::TooDeep(_))
        ));
    }

    #[test]
    fn expansion_is_bounded_by_the_stage_limit() {
        let lookup = styles(&[
            ("five", "imageInfo|imageInfo|imageInfo|imageInfo|imageInfo"),
            ("ten", "style/five|style/five"),
            ("eleven", "style/ten|imageInfo"),
            // Doubling at every level would be exponential without the stage bound.
            ("d1", "style/ten|style/ten"),
            ("d2", "style/d1|style/d1"),
        ]);
        assert_eq!(
            expand(&parse_styled("style/ten").unwrap(), &lookup)
                .unwrap()
                .stages
                .len(),
            10
        );
        for rule in ["style/eleven", "style/d2", "style/ten|imageInfo"] {
            assert_eq!(
                expand(&parse_styled(rule).unwrap(), &lookup),
                Err(StyleError::TooManyStages),
                "{rule}"
            );
        }
    }

    #[test]
    fn a_malformed_style_body_names_the_style() {
        let lookup = styles(&[("bad", "imageMogr2/thumbnail/zz")]);
        assert!(matches!(
            expand(&parse_styled("style/bad").unwrap(), &lookup),
            Err(StyleError::InStyle { style, .. }) if style == "bad"
        ));
    }

    #[test]
    fn saving_checks_self_reference_loops_and_unknown_names() {
        let existing = styles(&[("a", "style/b"), ("c", "imageInfo")]);
        assert_eq!(
            check_style(&name("b"), "style/a", &existing),
            Err(StyleError::Loop("b -> a -> b".into()))
        );
        assert_eq!(
            check_style(&name("x"), "style/x", &existing),
            Err(StyleError::Loop("x -> x".into()))
        );
        assert_eq!(
            check_style(&name("x"), "style/zz", &existing),
            Err(StyleError::Unknown("zz".into()))
        );
        assert!(check_style(&name("b"), "style/c|imageAve", &existing).is_ok());
        assert!(matches!(
            check_style(&name("x"), "nonsense/1", &existing),
            Err(StyleError::InStyle { .. })
        ));
    }
}
