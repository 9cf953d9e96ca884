//! `quality/<q>[!]`, `rquality/<q>`, `lquality/<q>`: the output quality (an output setting; the
//! last of the three wins).

use std::fmt;

use crate::args::{invalid, u8_in};
use crate::tokens::Tokens;
use crate::{MogrStage, QualitySpec, RuleError};

/// Any of the three quality operations, told apart by `name`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let arg = tokens.arg(name)?;
    let quality = match name {
        "rquality" => relative(name, arg)?,
        "lquality" => floor(name, arg)?,
        _ => absolute(name, arg)?,
    };
    stage.output.quality = Some(quality);
    Ok(())
}

/// `<0..=100>[!]` (`quality`, imageView2 `q`).
pub(crate) fn absolute(op: &str, arg: &str) -> Result<QualitySpec, RuleError> {
    let (digits, force) = match arg.strip_suffix('!') {
        Some(digits) => (digits, true),
        None => (arg, false),
    };
    let value = u8_in(op, digits, 0, 100).map_err(|_| invalid(op, arg))?;
    Ok(QualitySpec::Absolute { value, force })
}

/// `<1..=100>` (`rquality`, imageView2 `rq`).
pub(crate) fn relative(op: &str, arg: &str) -> Result<QualitySpec, RuleError> {
    Ok(QualitySpec::Relative(u8_in(op, arg, 1, 100)?))
}

/// `<0..=100>` (`lquality`, imageView2 `lq`).
pub(crate) fn floor(op: &str, arg: &str) -> Result<QualitySpec, RuleError> {
    Ok(QualitySpec::Floor(u8_in(op, arg, 0, 100)?))
}

/// The imageMogr2 spelling of `quality`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, quality: QualitySpec) -> fmt::Result {
    match quality {
        QualitySpec::Absolute { value, force } => {
            write!(f, "quality/{value}{}", if force { "!" } else { "" })
        }
        QualitySpec::Relative(q) => write!(f, "rquality/{q}"),
        QualitySpec::Floor(q) => write!(f, "lquality/{q}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::QualitySpec;

    fn quality(rule: &str) -> Option<QualitySpec> {
        stage(rule).unwrap().output.quality
    }

    #[test]
    fn the_three_forms() {
        let abs = |value, force| Some(QualitySpec::Absolute { value, force });
        assert_eq!(quality("quality/80"), abs(80, false));
        assert_eq!(quality("quality/80!"), abs(80, true));
        assert_eq!(quality("quality/0"), abs(0, false));
        assert_eq!(quality("quality/100!"), abs(100, true));
        assert_eq!(quality("rquality/1"), Some(QualitySpec::Relative(1)));
        assert_eq!(quality("rquality/100"), Some(QualitySpec::Relative(100)));
        assert_eq!(quality("lquality/0"), Some(QualitySpec::Floor(0)));
        assert_eq!(quality("lquality/100"), Some(QualitySpec::Floor(100)));
        assert_eq!(
            quality("quality/50/lquality/60"),
            Some(QualitySpec::Floor(60))
        );
        assert_eq!(quality("strip"), None);
    }

    #[test]
    fn out_of_range_or_malformed() {
        for bad in [
            "101", "101!", "!", "80!!", "!80", "-1", " 80", "8.5", "x", "",
        ] {
            assert_eq!(
                ops(&format!("quality/{bad}/strip")),
                Err(invalid("quality", bad))
            );
        }
        assert_eq!(ops("rquality/0"), Err(invalid("rquality", "0")));
        assert_eq!(ops("rquality/80!"), Err(invalid("rquality", "80!")));
        assert_eq!(ops("lquality/101"), Err(invalid("lquality", "101")));
    }

    #[test]
    fn canonical_spelling() {
        assert_eq!(canonical("quality/080!"), "imageMogr2/quality/80!");
        assert_eq!(canonical("rquality/60"), "imageMogr2/rquality/60");
        assert_eq!(canonical("lquality/60"), "imageMogr2/lquality/60");
    }
}
