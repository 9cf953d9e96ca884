//! `crop/<W>x<H>` (or `<W>x`, `x<H>`) and its anchor modifiers `gravity/<g>`, `dx/<x>`, `dy/<y>`.
//!
//! The anchor is a run of `gravity`, `dx` and `dy` (any order, each at most once) written either
//! directly before the crop (`gravity/center/crop/256x256`) or directly after its size
//! (`crop/300x400/gravity/center`), not both: CI's own examples use both orders. A run that stands between two crops anchors the one that FOLLOWS it. A run next to no
//! crop (for example before `cut`, which has its own offsets) is refused.
//!
//! Without `gravity` the crop keeps the top-left corner (`northwest`). `dx`/`dy` move the crop
//! inward from the anchored edge; as CI documents, `center` ignores both, `north`/`south` ignore
//! `dx` and `west`/`east` ignore `dy`, so those are stored as 0. Gravity names are
//! case-insensitive (`NorthWest` is Qiniu's spelling). Sizes are non-zero and offsets may be 0;
//! both clamp to 10000. Whether the crop fits the image is the engine's check.

use std::fmt;

use crate::args::{invalid, offset, pixels};
use crate::tokens::Tokens;
use crate::{Gravity, MogrStage, Op, RuleError};

/// Where an anchor run is accepted, for the error of one found elsewhere.
const PLACEMENT: &str = "stand directly before or after one crop, each modifier once";

/// The gravity names, in the order of [`Gravity`]'s variants.
const GRAVITIES: [(&str, Gravity); 9] = [
    ("northwest", Gravity::NorthWest),
    ("north", Gravity::North),
    ("northeast", Gravity::NorthEast),
    ("west", Gravity::West),
    ("center", Gravity::Center),
    ("east", Gravity::East),
    ("southwest", Gravity::SouthWest),
    ("south", Gravity::South),
    ("southeast", Gravity::SouthEast),
];

/// A parsed anchor run; fields stay `None` when not given.
#[derive(Debug, Default, Clone, Copy)]
struct Anchor {
    gravity: Option<Gravity>,
    dx: Option<u32>,
    dy: Option<u32>,
}

/// `crop/<size>`, possibly followed by its anchor run.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    crop(name, tokens, stage, None)
}

/// The registry entry for `gravity`, `dx` and `dy`: an anchor run that must be followed by a crop.
pub(crate) fn parse_leading(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let anchor = anchor_run(name, tokens)?;
    match tokens.next() {
        Some(crop_name @ "crop") => crop(crop_name, tokens, stage, Some(anchor)),
        _ => Err(orphan(name)),
    }
}

/// Parse the crop size, settle its anchor and push the operation.
fn crop(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
    leading: Option<Anchor>,
) -> Result<(), RuleError> {
    let arg = tokens.arg(name)?;
    let (width, height) = match arg.split_once('x') {
        Some(("", "")) | None => return Err(invalid(name, arg)),
        Some(("", h)) => (None, Some(pixels(name, arg, h)?)),
        Some((w, "")) => (Some(pixels(name, arg, w)?), None),
        Some((w, h)) => (Some(pixels(name, arg, w)?), Some(pixels(name, arg, h)?)),
    };
    let trailing = trailing_run(tokens)?;
    let anchor = match (leading, trailing) {
        (Some(_), Some((first, _))) => return Err(orphan(first)),
        (Some(anchor), None) | (None, Some((_, anchor))) => anchor,
        (None, None) => Anchor::default(),
    };
    let gravity = anchor.gravity.unwrap_or_default();
    let (uses_dx, uses_dy) = uses_offsets(gravity);
    stage.ops.push(Op::Crop {
        width,
        height,
        gravity,
        dx: if uses_dx { anchor.dx.unwrap_or(0) } else { 0 },
        dy: if uses_dy { anchor.dy.unwrap_or(0) } else { 0 },
    });
    Ok(())
}

/// An anchor run right after a crop's size, unless a crop follows it (then it is that crop's).
/// Returns the run's first modifier name too, for errors.
fn trailing_run<'a>(tokens: &mut Tokens<'a>) -> Result<Option<(&'a str, Anchor)>, RuleError> {
    let mark = tokens.mark();
    let Some(first @ ("gravity" | "dx" | "dy")) = tokens.next() else {
        tokens.rewind(mark);
        return Ok(None);
    };
    let anchor = anchor_run(first, tokens)?;
    if tokens.peek() == Some("crop") {
        tokens.rewind(mark);
        return Ok(None);
    }
    Ok(Some((first, anchor)))
}

/// A run of anchor modifiers whose first name (`first`) has just been consumed.
fn anchor_run(first: &str, tokens: &mut Tokens<'_>) -> Result<Anchor, RuleError> {
    let mut anchor = Anchor::default();
    let mut name = first;
    loop {
        let arg = tokens.arg(name)?;
        let duplicate = match name {
            "gravity" => anchor.gravity.replace(gravity(name, arg)?).is_some(),
            "dx" => anchor.dx.replace(offset(name, arg, arg)?).is_some(),
            _ => anchor.dy.replace(offset(name, arg, arg)?).is_some(),
        };
        if duplicate {
            return Err(orphan(name));
        }
        match tokens.peek() {
            Some(next @ ("gravity" | "dx" | "dy")) => {
                tokens.next();
                name = next;
            }
            _ => return Ok(anchor),
        }
    }
}

/// A gravity name, case-insensitive.
pub(crate) fn gravity(op: &str, arg: &str) -> Result<Gravity, RuleError> {
    GRAVITIES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(arg))
        .map(|(_, g)| *g)
        .ok_or_else(|| invalid(op, arg))
}

/// Whether `gravity` takes (`dx`, `dy`) into account.
pub(crate) fn uses_offsets(gravity: Gravity) -> (bool, bool) {
    use Gravity::*;
    let dx = !matches!(gravity, North | Center | South);
    let dy = !matches!(gravity, West | Center | East);
    (dx, dy)
}

/// The error for a misplaced anchor modifier.
fn orphan(modifier: &str) -> RuleError {
    RuleError::OrphanModifier {
        modifier: modifier.to_owned(),
        placement: PLACEMENT,
    }
}

/// The canonical (lower-case) name of `gravity`.
pub(crate) fn gravity_name(gravity: Gravity) -> &'static str {
    GRAVITIES
        .iter()
        .find(|(_, g)| *g == gravity)
        .map_or("northwest", |(name, _)| name)
}

/// The canonical spelling: the anchor before the crop, defaults (`northwest`, 0) left out.
pub(crate) fn fmt(
    f: &mut fmt::Formatter<'_>,
    width: Option<u32>,
    height: Option<u32>,
    gravity: Gravity,
    dx: u32,
    dy: u32,
) -> fmt::Result {
    if gravity != Gravity::NorthWest {
        write!(f, "gravity/{}/", gravity_name(gravity))?;
    }
    if dx != 0 {
        write!(f, "dx/{dx}/")?;
    }
    if dy != 0 {
        write!(f, "dy/{dy}/")?;
    }
    f.write_str("crop/")?;
    if let Some(w) = width {
        write!(f, "{w}")?;
    }
    f.write_str("x")?;
    if let Some(h) = height {
        write!(f, "{h}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::PLACEMENT;
    use crate::{Gravity, Op, RuleError};

    fn crop(width: Option<u32>, height: Option<u32>, gravity: Gravity, dx: u32, dy: u32) -> Op {
        Op::Crop {
            width,
            height,
            gravity,
            dx,
            dy,
        }
    }

    fn orphan(m: &str) -> RuleError {
        RuleError::OrphanModifier {
            modifier: m.to_owned(),
            placement: PLACEMENT,
        }
    }

    #[test]
    fn the_three_sizes() {
        use Gravity::NorthWest;
        assert_eq!(
            op("crop/300x400"),
            Ok(crop(Some(300), Some(400), NorthWest, 0, 0))
        );
        assert_eq!(op("crop/300x"), Ok(crop(Some(300), None, NorthWest, 0, 0)));
        assert_eq!(op("crop/x400"), Ok(crop(None, Some(400), NorthWest, 0, 0)));
        assert_eq!(
            op("crop/20000x"),
            Ok(crop(Some(10_000), None, NorthWest, 0, 0))
        );
        for bad in [
            "x", "300", "0x400", "300x0", "x0", "0x", "-3x4", "3x4x5", "3X4", "", "3x4!",
        ] {
            assert_eq!(
                ops(&format!("crop/{bad}/strip")),
                Err(invalid("crop", bad)),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_gravity_any_case() {
        for (name, gravity) in super::GRAVITIES {
            let want = Ok(crop(Some(5), Some(5), gravity, 0, 0));
            assert_eq!(op(&format!("gravity/{name}/crop/5x5")), want);
            assert_eq!(op(&format!("crop/5x5/gravity/{name}")), want);
            assert_eq!(
                op(&format!("gravity/{}/crop/5x5", name.to_uppercase())),
                want
            );
        }
        assert_eq!(
            op("gravity/NorthWest/crop/5x5"),
            Ok(crop(Some(5), Some(5), Gravity::NorthWest, 0, 0))
        );
        for bad in ["middle", "centre", "north-west", "", "1"] {
            assert_eq!(
                ops(&format!("gravity/{bad}/crop/5x5")),
                Err(invalid("gravity", bad))
            );
        }
    }

    #[test]
    fn offsets_follow_the_gravity() {
        use Gravity::*;
        let cases = [
            ("northwest", NorthWest, 3, 4),
            ("north", North, 0, 4),
            ("northeast", NorthEast, 3, 4),
            ("west", West, 3, 0),
            ("center", Center, 0, 0),
            ("east", East, 3, 0),
            ("southwest", SouthWest, 3, 4),
            ("south", South, 0, 4),
            ("southeast", SouthEast, 3, 4),
        ];
        for (name, gravity, dx, dy) in cases {
            let want = Ok(crop(Some(5), Some(6), gravity, dx, dy));
            assert_eq!(
                op(&format!("gravity/{name}/dx/3/dy/4/crop/5x6")),
                want,
                "{name}"
            );
            assert_eq!(
                op(&format!("dy/4/crop/5x6/dx/3/gravity/{name}")),
                Err(orphan("dx"))
            );
            assert_eq!(
                op(&format!("crop/5x6/dy/4/dx/3/gravity/{name}")),
                want,
                "{name}"
            );
        }
        // Without gravity, offsets are from the top-left corner.
        assert_eq!(
            op("dx/7/crop/5x6"),
            Ok(crop(Some(5), Some(6), NorthWest, 7, 0))
        );
        assert_eq!(
            op("crop/5x6/dy/0"),
            Ok(crop(Some(5), Some(6), NorthWest, 0, 0))
        );
        assert_eq!(
            op("crop/5x6/dy/20000"),
            Ok(crop(Some(5), Some(6), NorthWest, 0, 10_000))
        );
        for bad in ["-1", "", "1.5", "+2"] {
            assert_eq!(ops(&format!("dx/{bad}/crop/5x5")), Err(invalid("dx", bad)));
            assert_eq!(
                ops(&format!("crop/5x5/dy/{bad}/strip")),
                Err(invalid("dy", bad))
            );
        }
    }

    #[test]
    fn a_run_between_two_crops_anchors_the_next() {
        use Gravity::*;
        assert_eq!(
            ops("crop/10x10/gravity/south/crop/5x5"),
            Ok(vec![
                crop(Some(10), Some(10), NorthWest, 0, 0),
                crop(Some(5), Some(5), South, 0, 0),
            ])
        );
        assert_eq!(
            ops("crop/10x10/gravity/south/strip/crop/5x5"),
            Ok(vec![
                crop(Some(10), Some(10), South, 0, 0),
                crop(Some(5), Some(5), NorthWest, 0, 0),
            ])
        );
        assert_eq!(
            ops("thumbnail/!256x256r/gravity/center/crop/256x256/blur/3x9").map(|o| o[1]),
            Ok(crop(Some(256), Some(256), Center, 0, 0))
        );
    }

    #[test]
    fn misplaced_anchors() {
        assert_eq!(ops("gravity/center"), Err(orphan("gravity")));
        assert_eq!(ops("dx/5"), Err(orphan("dx")));
        assert_eq!(ops("gravity/center/strip/crop/5x5"), Err(orphan("gravity")));
        assert_eq!(ops("gravity/center/cut/5x5x0x0"), Err(orphan("gravity")));
        assert_eq!(ops("thumbnail/5x5/gravity/center"), Err(orphan("gravity")));
        assert_eq!(
            ops("gravity/north/crop/5x5/gravity/south"),
            Err(orphan("gravity"))
        );
        assert_eq!(ops("gravity/north/crop/5x5/dx/1"), Err(orphan("dx")));
        assert_eq!(
            ops("gravity/north/gravity/south/crop/5x5"),
            Err(orphan("gravity"))
        );
        assert_eq!(ops("crop/5x5/dx/1/dx/2"), Err(orphan("dx")));
        assert_eq!(
            ops("gravity/north/crop"),
            Err(RuleError::MissingArgument("crop".into()))
        );
        assert_eq!(
            ops("crop/5x5/gravity"),
            Err(RuleError::MissingArgument("gravity".into()))
        );
        let message = ops("dx/5").unwrap_err().to_string();
        assert!(message.contains("`dx`"), "{message}");
    }

    #[test]
    fn canonical_spelling_puts_the_anchor_first() {
        assert_eq!(
            canonical("crop/300x400/gravity/center"),
            "imageMogr2/gravity/center/crop/300x400"
        );
        assert_eq!(
            canonical("crop/300x400/gravity/CENTER/dx/5"),
            "imageMogr2/gravity/center/crop/300x400"
        );
        assert_eq!(
            canonical("crop/300x/dy/3/gravity/northwest"),
            "imageMogr2/dy/3/crop/300x"
        );
        assert_eq!(
            canonical("gravity/east/dx/2/dy/9/crop/x40"),
            "imageMogr2/gravity/east/dx/2/crop/x40"
        );
        assert_eq!(
            canonical("crop/10x10/gravity/south/crop/5x5"),
            "imageMogr2/crop/10x10/gravity/south/crop/5x5"
        );
    }
}
