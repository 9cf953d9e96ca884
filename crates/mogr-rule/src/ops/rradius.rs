//! `rradius/<r>`: rounded corners of radius r.
//!
//! The parser only checks that r is a non-zero pixel size (clamped to 10000); that r is below
//! half the shorter side depends on the image and is the engine's check.

use std::fmt;

use crate::args::pixels;
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// `rradius/<r>`.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let arg = tokens.arg(name)?;
    stage.ops.push(Op::RRadius(pixels(name, arg, arg)?));
    Ok(())
}

/// `rradius/<r>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, radius: u32) -> fmt::Result {
    write!(f, "rradius/{radius}")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Op;

    #[test]
    fn a_positive_radius() {
        assert_eq!(op("rradius/1"), Ok(Op::RRadius(1)));
        assert_eq!(op("rradius/200"), Ok(Op::RRadius(200)));
        assert_eq!(op("rradius/20000"), Ok(Op::RRadius(10_000)));
        assert_eq!(
            canonical("rradius/99999999999999999999"),
            "imageMogr2/rradius/10000"
        );
        for bad in ["0", "-5", "5px", "", "1.5"] {
            assert_eq!(
                ops(&format!("rradius/{bad}/strip")),
                Err(invalid("rradius", bad))
            );
        }
    }
}
