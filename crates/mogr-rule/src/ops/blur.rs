//! `blur/<radius>x<sigma>`: Gaussian blur.
//!
//! The radius range 1..=50 is CI's. CI only says sigma must be positive; it is capped at 50 here
//! too, so the work a rule can ask for stays bounded.

use std::fmt;

use crate::args::{invalid, u32_in};
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// Largest radius and sigma.
const MAX: u32 = 50;

/// `blur/<1..=50>x<1..=50>`; errors name the whole token.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let arg = tokens.arg(name)?;
    let (radius, sigma) = arg.split_once('x').ok_or_else(|| invalid(name, arg))?;
    let radius = u32_in(name, radius, 1, MAX).map_err(|_| invalid(name, arg))?;
    let sigma = u32_in(name, sigma, 1, MAX).map_err(|_| invalid(name, arg))?;
    stage.ops.push(Op::Blur { radius, sigma });
    Ok(())
}

/// `blur/<radius>x<sigma>`.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, radius: u32, sigma: u32) -> fmt::Result {
    write!(f, "blur/{radius}x{sigma}")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Op;

    #[test]
    fn radius_and_sigma() {
        assert_eq!(
            op("blur/3x9"),
            Ok(Op::Blur {
                radius: 3,
                sigma: 9
            })
        );
        assert_eq!(
            op("blur/1x1"),
            Ok(Op::Blur {
                radius: 1,
                sigma: 1
            })
        );
        assert_eq!(
            op("blur/50x50"),
            Ok(Op::Blur {
                radius: 50,
                sigma: 50
            })
        );
        assert_eq!(canonical("blur/03x09"), "imageMogr2/blur/3x9");
        for bad in [
            "0x5", "51x5", "5x0", "5x51", "5", "5x", "x5", "5x5x5", "-5x5", "5X5", "",
        ] {
            assert_eq!(
                ops(&format!("blur/{bad}/strip")),
                Err(invalid("blur", bad)),
                "{bad}"
            );
        }
    }
}
