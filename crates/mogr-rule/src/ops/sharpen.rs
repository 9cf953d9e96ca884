//! `sharpen/<v>`: sharpen with strength 10..=300 (CI recommends 70).

use std::fmt;

use crate::args::u32_in;
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// `sharpen/<10..=300>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let amount = u32_in(name, tokens.arg(name)?, 10, 300)?;
    stage.ops.push(Op::Sharpen(amount));
    Ok(())
}

/// `sharpen/<v>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, amount: u32) -> fmt::Result {
    write!(f, "sharpen/{amount}")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Op;

    #[test]
    fn ten_to_300() {
        assert_eq!(op("sharpen/10"), Ok(Op::Sharpen(10)));
        assert_eq!(op("sharpen/70"), Ok(Op::Sharpen(70)));
        assert_eq!(op("sharpen/300"), Ok(Op::Sharpen(300)));
        for bad in ["9", "0", "301", "-70", "", "7O"] {
            assert_eq!(
                ops(&format!("sharpen/{bad}/strip")),
                Err(invalid("sharpen", bad))
            );
        }
    }
}
