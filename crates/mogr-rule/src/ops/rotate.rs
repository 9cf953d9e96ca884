//! `rotate/<deg>`: clockwise rotation by a whole number of degrees, 0..=360.

use std::fmt;

use crate::args::u32_in;
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// `rotate/<0..=360>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let degrees = u32_in(name, tokens.arg(name)?, 0, 360)?;
    stage.ops.push(Op::Rotate(degrees));
    Ok(())
}

/// `rotate/<deg>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, degrees: u32) -> fmt::Result {
    write!(f, "rotate/{degrees}")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Op;

    #[test]
    fn zero_to_360() {
        assert_eq!(op("rotate/0"), Ok(Op::Rotate(0)));
        assert_eq!(op("rotate/45"), Ok(Op::Rotate(45)));
        assert_eq!(op("rotate/360"), Ok(Op::Rotate(360)));
        assert_eq!(canonical("rotate/090"), "imageMogr2/rotate/90");
        for bad in ["361", "-90", "45.5", "", "90deg", "99999999999"] {
            assert_eq!(
                ops(&format!("rotate/{bad}/strip")),
                Err(invalid("rotate", bad))
            );
        }
    }
}
