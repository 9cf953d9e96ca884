//! `contrast/<v>`: contrast change, an integer -100..=100 (0 = none).

use std::fmt;

use crate::args::signed_in;
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// `contrast/<-100..=100>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let value = signed_in(name, tokens.arg(name)?, -100, 100)?;
    stage.ops.push(Op::Contrast(value));
    Ok(())
}

/// `contrast/<v>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, value: i32) -> fmt::Result {
    write!(f, "contrast/{value}")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Op;

    #[test]
    fn minus_100_to_100() {
        assert_eq!(op("contrast/-100"), Ok(Op::Contrast(-100)));
        assert_eq!(op("contrast/0"), Ok(Op::Contrast(0)));
        assert_eq!(op("contrast/100"), Ok(Op::Contrast(100)));
        assert_eq!(canonical("contrast/-0"), "imageMogr2/contrast/0");
        assert_eq!(canonical("contrast/-020"), "imageMogr2/contrast/-20");
        for bad in [
            "101",
            "-101",
            "+10",
            "--10",
            "-",
            "",
            "1.5",
            "99999999999999999999",
        ] {
            assert_eq!(
                ops(&format!("contrast/{bad}/strip")),
                Err(invalid("contrast", bad)),
                "{bad}"
            );
        }
    }
}
