//! `auto-orient`: apply the EXIF orientation (a flag, no argument).

use std::fmt;

use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// Record an auto-orient step at its place in the stage.
pub(crate) fn parse(_: &str, _: &mut Tokens<'_>, stage: &mut MogrStage) -> Result<(), RuleError> {
    stage.ops.push(Op::AutoOrient);
    Ok(())
}

/// `auto-orient`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("auto-orient")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{Op, RuleError};

    #[test]
    fn is_a_flag() {
        assert_eq!(op("auto-orient"), Ok(Op::AutoOrient));
        assert_eq!(canonical("auto-orient/"), "imageMogr2/auto-orient");
        // A value after a flag is read as the next operation, and it is not one.
        assert_eq!(
            ops("auto-orient/1"),
            Err(RuleError::UnknownOperation("1".into()))
        );
    }
}
