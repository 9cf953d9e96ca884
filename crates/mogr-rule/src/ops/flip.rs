//! `flip/vertical|horizontal`: mirror the image (keyword case-insensitive).

use std::fmt;

use crate::args::invalid;
use crate::tokens::Tokens;
use crate::{Axis, MogrStage, Op, RuleError};

/// `flip/<axis>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let arg = tokens.arg(name)?;
    let axis = if arg.eq_ignore_ascii_case("vertical") {
        Axis::Vertical
    } else if arg.eq_ignore_ascii_case("horizontal") {
        Axis::Horizontal
    } else {
        return Err(invalid(name, arg));
    };
    stage.ops.push(Op::Flip(axis));
    Ok(())
}

/// `flip/vertical` or `flip/horizontal`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, axis: Axis) -> fmt::Result {
    match axis {
        Axis::Vertical => f.write_str("flip/vertical"),
        Axis::Horizontal => f.write_str("flip/horizontal"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{Axis, Op};

    #[test]
    fn both_axes() {
        assert_eq!(op("flip/vertical"), Ok(Op::Flip(Axis::Vertical)));
        assert_eq!(op("flip/horizontal"), Ok(Op::Flip(Axis::Horizontal)));
        assert_eq!(op("flip/Vertical"), Ok(Op::Flip(Axis::Vertical)));
        assert_eq!(canonical("flip/HORIZONTAL"), "imageMogr2/flip/horizontal");
        for bad in ["x", "v", "both", "", "1"] {
            assert_eq!(ops(&format!("flip/{bad}/strip")), Err(invalid("flip", bad)));
        }
    }
}
