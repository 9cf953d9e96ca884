//! Rule string -> [`Pipeline`]: percent-decode, split on `|` into stages, split each stage on `/`.
//!
//! Spelling is matched exactly, as CI does: processor names (`imageMogr2`, `imageView2`,
//! `imageInfo`, ...) and operation names (`format`, `auto-orient`, ...) are case-sensitive; only
//! keyword *values* (`format/PNG`, `gravity/NorthWest`, `flip/Vertical`) are case-insensitive.
//! Anything the grammar knows but this engine does not execute is refused with
//! [`RuleError::Unsupported`] rather than skipped, so a client never receives an image that
//! silently ignored part of its rule.

use percent_encoding::percent_decode_str;

use crate::args::invalid;
use crate::tokens::Tokens;
use crate::{ops, view2, Pipeline, RuleError, Stage, MAX_STAGES};

/// CI processors other than the ones executed here; a stage starting with one is `Unsupported`.
const UNSUPPORTED_PROCESSORS: &[&str] = &["watermark", "style", "ci-process", "imageSlim"];

/// Parse a (possibly percent-encoded) rule string into a pipeline.
///
/// The whole rule is percent-decoded once before any splitting, so `%2F` acts as `/`, `%7C` as
/// `|` and `%3E` as `>`; `+` is left alone because the HTTP layer has already form-decoded the
/// query key. Trailing `/` in a stage are ignored, and a bare `imageMogr2` is a valid stage with
/// no operations. Errors report the first problem in rule order.
pub fn parse(rule: &str) -> Result<Pipeline, RuleError> {
    let stages = map_stages(rule, parse_stage)?;
    Ok(Pipeline { stages })
}

/// Percent-decode a rule once, split it into its `|`-separated stages (at most
/// [`MAX_STAGES`]) and map each with `f`, stopping at the first error.
pub(crate) fn map_stages<T>(
    rule: &str,
    f: impl FnMut(&str) -> Result<T, RuleError>,
) -> Result<Vec<T>, RuleError> {
    let decoded = percent_decode_str(rule)
        .decode_utf8()
        .map_err(|_| RuleError::InvalidEncoding)?;
    if decoded.is_empty() {
        return Err(RuleError::Empty);
    }
    let stage_count = decoded.split('|').count();
    if stage_count > MAX_STAGES {
        return Err(RuleError::TooManyStages(stage_count));
    }
    decoded.split('|').map(f).collect()
}

/// Parse one `|`-separated stage.
pub(crate) fn parse_stage(stage: &str) -> Result<Stage, RuleError> {
    let stage = stage.trim_end_matches('/');
    if stage.is_empty() {
        return Err(RuleError::Empty);
    }
    let mut split = stage.split('/');
    let processor = split.next().unwrap_or_default();
    let mut tokens = Tokens::new(split.collect());
    match processor {
        "imageMogr2" => ops::parse_stage(tokens).map(Stage::Mogr),
        "imageView2" => view2::parse(tokens).map(Stage::Mogr),
        "imageInfo" => no_arguments(processor, &mut tokens, Stage::ImageInfo),
        "imageAve" => no_arguments(processor, &mut tokens, Stage::ImageAve),
        "exif" => no_arguments(processor, &mut tokens, Stage::Exif),
        p if UNSUPPORTED_PROCESSORS.contains(&p) => Err(RuleError::Unsupported(p.to_owned())),
        p => Err(RuleError::UnknownProcessor(p.to_owned())),
    }
}

/// Accept an argument-less processor, refusing the first stray token after it.
fn no_arguments(processor: &str, rest: &mut Tokens<'_>, stage: Stage) -> Result<Stage, RuleError> {
    match rest.next() {
        None => Ok(stage),
        Some(arg) => Err(invalid(processor, arg)),
    }
}
