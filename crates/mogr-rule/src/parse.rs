//! Rule string -> [`Pipeline`]: percent-decode, split on `|` into stages, split each stage on `/`.
//!
//! Spelling is matched exactly, as CI does: processor names (`imageMogr2`, `imageInfo`,
//! `imageAve`, `exif`) and operation names (`format`, `auto-orient`, ...) are case-sensitive;
//! only the *value* of `format/<fmt>` is case-insensitive (`format/PNG`). Anything the grammar
//! knows but this engine does not execute is refused with [`RuleError::Unsupported`] rather than
//! skipped, so a client never receives an image that silently ignored part of its rule.

use percent_encoding::percent_decode_str;

use crate::{MogrStage, Op, OutputFormat, Pipeline, QualitySpec, RuleError, Stage, MAX_STAGES};

/// CI processors other than the ones executed here; a stage starting with one is `Unsupported`.
const UNSUPPORTED_PROCESSORS: &[&str] = &[
    "imageView2",
    "watermark",
    "style",
    "ci-process",
    "imageSlim",
];

/// Documented imageMogr2 operations this engine does not execute (spec §2.2).
const UNSUPPORTED_OPS: &[&str] = &[
    "thumbnail",
    "crop",
    "cut",
    "gravity",
    "iradius",
    "rradius",
    "scrop",
    "rcrop",
    "rotate",
    "flip",
    "blur",
    "bright",
    "contrast",
    "sharpen",
    "grayscale",
    "size-limit",
    "pad",
    "color",
    "minisize",
    "egif",
    "dx",
    "dy",
    "tint",
];

/// Parse a (possibly percent-encoded) rule string into a pipeline.
///
/// The whole rule is percent-decoded once before any splitting, so `%2F` acts as `/` and `%7C`
/// as `|`; `+` is left alone because the HTTP layer has already form-decoded the query key.
/// Trailing `/` in a stage are ignored, and a bare `imageMogr2` is a valid stage with no ops.
/// Errors report the first problem in rule order.
pub fn parse(rule: &str) -> Result<Pipeline, RuleError> {
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
    let stages = decoded
        .split('|')
        .map(parse_stage)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Pipeline { stages })
}

/// Parse one `|`-separated stage.
fn parse_stage(stage: &str) -> Result<Stage, RuleError> {
    let stage = stage.trim_end_matches('/');
    if stage.is_empty() {
        return Err(RuleError::Empty);
    }
    let mut tokens = stage.split('/');
    let processor = tokens.next().unwrap_or_default();
    match processor {
        "imageMogr2" => parse_mogr(tokens).map(Stage::Mogr),
        "imageInfo" => no_arguments(processor, tokens, Stage::ImageInfo),
        "imageAve" => no_arguments(processor, tokens, Stage::ImageAve),
        "exif" => no_arguments(processor, tokens, Stage::Exif),
        p if UNSUPPORTED_PROCESSORS.contains(&p) => Err(RuleError::Unsupported(p.to_owned())),
        p => Err(RuleError::UnknownProcessor(p.to_owned())),
    }
}

/// Accept an argument-less processor, refusing the first stray token after it.
fn no_arguments<'a>(
    processor: &str,
    mut rest: impl Iterator<Item = &'a str>,
    stage: Stage,
) -> Result<Stage, RuleError> {
    match rest.next() {
        None => Ok(stage),
        Some(arg) => Err(invalid(processor, arg)),
    }
}

/// Parse the `op[/arg]` tokens that follow `imageMogr2`.
fn parse_mogr<'a>(mut tokens: impl Iterator<Item = &'a str>) -> Result<MogrStage, RuleError> {
    let mut stage = MogrStage::default();
    while let Some(name) = tokens.next() {
        let mut arg = || {
            tokens
                .next()
                .ok_or_else(|| RuleError::MissingArgument(name.to_owned()))
        };
        let op = match name {
            "strip" => {
                stage.output.strip = true;
                continue;
            }
            "auto-orient" => Op::AutoOrient,
            "format" => {
                stage.output.format = Some(parse_format(arg()?)?);
                continue;
            }
            "cgif" => Op::Cgif(number_in(name, arg()?, 1, 100)?),
            "interlace" => {
                stage.output.interlace = parse_bool(name, arg()?)?;
                continue;
            }
            "quality" => {
                stage.output.quality = Some(parse_absolute_quality(arg()?)?);
                continue;
            }
            "rquality" => {
                let q = number_in(name, arg()?, 1, 100)?;
                stage.output.quality = Some(QualitySpec::Relative(q));
                continue;
            }
            "lquality" => {
                let q = number_in(name, arg()?, 0, 100)?;
                stage.output.quality = Some(QualitySpec::Floor(q));
                continue;
            }
            "ignore-error" => {
                // Any `ignore-error/1` in the stage turns it on; a later `/0` does not undo it.
                stage.ignore_error |= parse_bool(name, arg()?)?;
                continue;
            }
            n if UNSUPPORTED_OPS.contains(&n) => return Err(RuleError::Unsupported(n.to_owned())),
            n => return Err(RuleError::UnknownOperation(n.to_owned())),
        };
        stage.ops.push(op);
    }
    Ok(stage)
}

/// `format/<fmt>`, case-insensitive.
fn parse_format(arg: &str) -> Result<OutputFormat, RuleError> {
    let format = match arg.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => OutputFormat::Jpeg,
        "yjpeg" => OutputFormat::Yjpeg,
        "png" => OutputFormat::Png,
        "bmp" => OutputFormat::Bmp,
        "gif" => OutputFormat::Gif,
        "webp" => OutputFormat::Webp,
        "heif" => OutputFormat::Heif,
        "heic" => OutputFormat::Heic,
        "avif" => OutputFormat::Avif,
        "tpg" => OutputFormat::Tpg,
        _ => return Err(invalid("format", arg)),
    };
    Ok(format)
}

/// `quality/<0..100>[!]`.
fn parse_absolute_quality(arg: &str) -> Result<QualitySpec, RuleError> {
    let (digits, force) = match arg.strip_suffix('!') {
        Some(digits) => (digits, true),
        None => (arg, false),
    };
    let value = number_in("quality", digits, 0, 100).map_err(|_| invalid("quality", arg))?;
    Ok(QualitySpec::Absolute { value, force })
}

/// A `0` or `1` switch.
fn parse_bool(op: &str, arg: &str) -> Result<bool, RuleError> {
    match arg {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(invalid(op, arg)),
    }
}

/// A plain decimal (digits only: no sign, no spaces) within `min..=max`.
fn number_in(op: &str, arg: &str, min: u8, max: u8) -> Result<u8, RuleError> {
    if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(op, arg));
    }
    // Overflowing digit strings fail to parse and are out of range anyway.
    match arg.parse::<u8>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(op, arg)),
    }
}

/// Build an [`RuleError::InvalidArgument`].
fn invalid(op: &str, arg: &str) -> RuleError {
    RuleError::InvalidArgument {
        op: op.to_owned(),
        arg: arg.to_owned(),
    }
}
