//! `interlace/<0|1>`: progressive JPEG output (an output setting; the last one wins).

use crate::args::switch;
use crate::tokens::Tokens;
use crate::{MogrStage, RuleError};

/// `interlace/<0|1>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    stage.output.interlace = switch(name, tokens.arg(name)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;

    #[test]
    fn zero_or_one_last_wins() {
        assert!(stage("interlace/1").unwrap().output.interlace);
        assert!(!stage("interlace/0").unwrap().output.interlace);
        assert!(!stage("interlace/1/interlace/0").unwrap().output.interlace);
        assert_eq!(ops("interlace/2"), Err(invalid("interlace", "2")));
        assert_eq!(ops("interlace/true"), Err(invalid("interlace", "true")));
        // `interlace/0` is the default, so it has the default's spelling: none.
        assert_eq!(canonical("interlace/0"), "imageMogr2");
        assert_eq!(canonical("interlace/1"), "imageMogr2/interlace/1");
    }
}
