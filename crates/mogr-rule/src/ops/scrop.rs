//! `scrop/<W>x<H>`: a content-aware crop to W×H (CI looks for faces; mogr ships no face model
//! and keeps the most interesting region instead, which is the engine's business).

use std::fmt;

use crate::args::pixel_pair;
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// `scrop/<W>x<H>`, both non-zero, clamped to 10000.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let (width, height) = pixel_pair(name, tokens.arg(name)?)?;
    stage.ops.push(Op::Scrop { width, height });
    Ok(())
}

/// `scrop/<W>x<H>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, width: u32, height: u32) -> fmt::Result {
    write!(f, "scrop/{width}x{height}")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Op;

    #[test]
    fn width_and_height() {
        assert_eq!(
            op("scrop/100x200"),
            Ok(Op::Scrop {
                width: 100,
                height: 200
            })
        );
        assert_eq!(
            op("scrop/100x20000"),
            Ok(Op::Scrop {
                width: 100,
                height: 10_000
            })
        );
        for bad in ["100x", "x100", "100", "0x100", "100x0", "100x100x1", ""] {
            assert_eq!(
                ops(&format!("scrop/{bad}/strip")),
                Err(invalid("scrop", bad)),
                "{bad}"
            );
        }
    }
}
