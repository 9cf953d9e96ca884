//! `bright/<v>`: brightness change, an integer -100..=100 (0 = none).

use std::fmt;

use crate::args::signed_in;
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// `bright/<-100..=100>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let value = signed_in(name, tokens.arg(name)?, -100, 100)?;
    stage.ops.push(Op::Bright(value));
    Ok(())
}

/// `bright/<v>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, value: i32) -> fmt::Result {
    write!(f, "bright/{value}")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Op;

    #[test]
    fn minus_100_to_100() {
        assert_eq!(op("bright/-100"), Ok(Op::Bright(-100)));
        assert_eq!(op("bright/0"), Ok(Op::Bright(0)));
        assert_eq!(op("bright/100"), Ok(Op::Bright(100)));
        assert_eq!(canonical("bright/-0"), "imageMogr2/bright/0");
        assert_eq!(canonical("bright/-020"), "imageMogr2/bright/-20");
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
                ops(&format!("bright/{bad}/strip")),
                Err(invalid("bright", bad)),
                "{bad}"
            );
        }
    }
}
