//! `grayscale/<0|1>`.

use std::fmt;

use crate::args::switch;
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// `grayscale/<0|1>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let on = switch(name, tokens.arg(name)?)?;
    stage.ops.push(Op::Grayscale(on));
    Ok(())
}

/// `grayscale/<0|1>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, on: bool) -> fmt::Result {
    write!(f, "grayscale/{}", u8::from(on))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Op;

    #[test]
    fn zero_or_one() {
        assert_eq!(op("grayscale/1"), Ok(Op::Grayscale(true)));
        assert_eq!(op("grayscale/0"), Ok(Op::Grayscale(false)));
        assert_eq!(canonical("grayscale/1"), "imageMogr2/grayscale/1");
        for bad in ["2", "true", "", "01"] {
            assert_eq!(
                ops(&format!("grayscale/{bad}/strip")),
                Err(invalid("grayscale", bad))
            );
        }
    }
}
