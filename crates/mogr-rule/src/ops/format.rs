//! `format/<fmt>`: the output format (an output setting; the value is case-insensitive).

use std::fmt;

use crate::args::invalid;
use crate::tokens::Tokens;
use crate::{MogrStage, OutputFormat, RuleError};

/// `format/<fmt>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    stage.output.format = Some(value(name, tokens.arg(name)?)?);
    Ok(())
}

/// A format name as `op`'s argument (imageView2 reuses it).
pub(crate) fn value(op: &str, arg: &str) -> Result<OutputFormat, RuleError> {
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
        _ => return Err(invalid(op, arg)),
    };
    Ok(format)
}

/// `format/<canonical name>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, format: OutputFormat) -> fmt::Result {
    write!(f, "format/{}", format.name())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::OutputFormat;

    #[test]
    fn names_case_insensitively_last_wins() {
        let format = |rule: &str| stage(rule).map(|s| s.output.format);
        assert_eq!(format("format/png"), Ok(Some(OutputFormat::Png)));
        assert_eq!(format("format/JPEG"), Ok(Some(OutputFormat::Jpeg)));
        assert_eq!(
            format("format/png/format/WebP"),
            Ok(Some(OutputFormat::Webp))
        );
        assert_eq!(format("strip"), Ok(None));
        assert!(
            ops("format/png").unwrap().is_empty(),
            "an output setting, not an op"
        );
        assert_eq!(canonical("format/JPEG"), "imageMogr2/format/jpg");
        for bad in ["jxl", "tiff", "pn", "png ", ""] {
            assert_eq!(
                ops(&format!("format/{bad}/strip")),
                Err(invalid("format", bad))
            );
        }
    }
}
