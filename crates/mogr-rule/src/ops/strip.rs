//! `strip`: drop metadata from the output (an output setting, a flag).

use crate::tokens::Tokens;
use crate::{MogrStage, RuleError};

/// `strip`.
pub(crate) fn parse(_: &str, _: &mut Tokens<'_>, stage: &mut MogrStage) -> Result<(), RuleError> {
    stage.output.strip = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;

    #[test]
    fn a_flag_anywhere() {
        assert!(stage("strip").unwrap().output.strip);
        assert!(stage("rotate/90/strip/rotate/90").unwrap().output.strip);
        assert!(!stage("rotate/90").unwrap().output.strip);
        assert_eq!(canonical("strip/strip"), "imageMogr2/strip");
    }
}
