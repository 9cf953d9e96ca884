//! `cgif/<n>`: reduce an animation's frames (1 = keep the first 30; 2..=100 = n frames).

use std::fmt;

use crate::args::u8_in;
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// `cgif/<1..=100>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let frames = u8_in(name, tokens.arg(name)?, 1, 100)?;
    stage.ops.push(Op::Cgif(frames));
    Ok(())
}

/// `cgif/<n>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, frames: u8) -> fmt::Result {
    write!(f, "cgif/{frames}")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{Op, RuleError};

    #[test]
    fn accepts_1_to_100() {
        assert_eq!(op("cgif/1"), Ok(Op::Cgif(1)));
        assert_eq!(op("cgif/100"), Ok(Op::Cgif(100)));
        assert_eq!(op("cgif/007"), Ok(Op::Cgif(7)));
        assert_eq!(canonical("cgif/007"), "imageMogr2/cgif/7");
        for bad in ["0", "101", "256", "-1", "+5", "5x", "99999999999999999999"] {
            assert_eq!(ops(&format!("cgif/{bad}")), Err(invalid("cgif", bad)));
        }
        assert_eq!(ops("cgif"), Err(RuleError::MissingArgument("cgif".into())));
    }

    #[test]
    fn the_last_cgif_is_the_stage_setting() {
        assert_eq!(stage("cgif/3/strip/cgif/9").unwrap().cgif(), Some(9));
        assert_eq!(stage("strip").unwrap().cgif(), None);
    }
}
