//! `cut/<w>x<h>x<dx>x<dy>`: keep the w×h rectangle whose top-left corner is (dx, dy).
//!
//! Sizes are non-zero, offsets may be zero; all clamp to 10000. Whether the rectangle lies inside
//! the image is the engine's check.

use std::fmt;

use crate::args::{invalid, offset, pixels};
use crate::tokens::Tokens;
use crate::{MogrStage, Op, RuleError};

/// `cut/<w>x<h>x<dx>x<dy>`; errors name the whole token.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let arg = tokens.arg(name)?;
    let mut parts = arg.split('x');
    let mut next = || parts.next().ok_or_else(|| invalid(name, arg));
    let width = pixels(name, arg, next()?)?;
    let height = pixels(name, arg, next()?)?;
    let dx = offset(name, arg, next()?)?;
    let dy = offset(name, arg, next()?)?;
    if parts.next().is_some() {
        return Err(invalid(name, arg));
    }
    stage.ops.push(Op::Cut {
        width,
        height,
        dx,
        dy,
    });
    Ok(())
}

/// `cut/<w>x<h>x<dx>x<dy>`.
pub(crate) fn fmt(
    f: &mut fmt::Formatter<'_>,
    width: u32,
    height: u32,
    dx: u32,
    dy: u32,
) -> fmt::Result {
    write!(f, "cut/{width}x{height}x{dx}x{dy}")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{Op, RuleError};

    #[test]
    fn size_and_offset() {
        let cut = |width, height, dx, dy| Op::Cut {
            width,
            height,
            dx,
            dy,
        };
        assert_eq!(op("cut/600x600x100x10"), Ok(cut(600, 600, 100, 10)));
        assert_eq!(op("cut/1x1x0x0"), Ok(cut(1, 1, 0, 0)));
        assert_eq!(op("cut/20000x5x20000x0"), Ok(cut(10_000, 5, 10_000, 0)));
        assert_eq!(canonical("cut/06x6x00x0"), "imageMogr2/cut/6x6x0x0");
        for bad in [
            "0x5x0x0",
            "5x0x0x0",
            "5x5x-1x0",
            "5x5x0",
            "5x5x0x0x0",
            "5x5",
            "",
            "5x5x0x",
            "x5x0x0",
            "5X5X0X0",
        ] {
            assert_eq!(
                ops(&format!("cut/{bad}/strip")),
                Err(invalid("cut", bad)),
                "{bad}"
            );
        }
    }

    #[test]
    fn gravity_does_not_qualify_cut() {
        assert!(matches!(
            ops("gravity/center/cut/5x5x0x0"),
            Err(RuleError::OrphanModifier { .. })
        ));
    }
}
