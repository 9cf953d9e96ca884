//! `ignore-error/<0|1>`: return the original when the stage fails on a limit. Any `ignore-error/1`
//! in the stage turns it on; a later `/0` does not undo it.

use crate::args::switch;
use crate::tokens::Tokens;
use crate::{MogrStage, RuleError};

/// `ignore-error/<0|1>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    stage.ignore_error |= switch(name, tokens.arg(name)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;

    #[test]
    fn anywhere_and_sticky() {
        assert!(stage("ignore-error/1").unwrap().ignore_error);
        assert!(
            stage("format/png/ignore-error/1/quality/80")
                .unwrap()
                .ignore_error
        );
        assert!(stage("ignore-error/1/ignore-error/0").unwrap().ignore_error);
        assert!(!stage("ignore-error/0").unwrap().ignore_error);
        assert!(ops("ignore-error/1").unwrap().is_empty());
        assert_eq!(ops("ignore-error/2"), Err(invalid("ignore-error", "2")));
        assert_eq!(canonical("ignore-error/0"), "imageMogr2");
    }
}
