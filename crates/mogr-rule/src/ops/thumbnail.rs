//! `thumbnail/<size>[/pad/<0|1>][/color/<b64>]`: resize, in ImageMagick's geometry grammar.
//!
//! | token          | size                         |
//! |----------------|------------------------------|
//! | `!<S>p`        | [`ThumbSize::Percent`]       |
//! | `!<S>px`       | [`ThumbSize::PercentWidth`]  |
//! | `!x<S>p`       | [`ThumbSize::PercentHeight`] |
//! | `<W>x`         | [`ThumbSize::Width`]         |
//! | `x<H>`         | [`ThumbSize::Height`]        |
//! | `<W>x<H>`      | [`ThumbSize::Fit`]           |
//! | `<W>x<H>>`     | [`ThumbSize::Shrink`]        |
//! | `<W>x<H><`     | [`ThumbSize::Enlarge`]       |
//! | `!<W>x<H>r`    | [`ThumbSize::Cover`]         |
//! | `<W>x<H>!`     | [`ThumbSize::Exact`]         |
//! | `<Area>@`      | [`ThumbSize::Area`]          |
//!
//! Percents lie in 1..=1000; pixel sizes are non-zero and clamp to 10000; areas clamp to 10000².
//! `>` and `<` may arrive as `%3E` / `%3C`: the whole rule is percent-decoded before splitting,
//! and neither character has another meaning in the grammar, so decoding cannot create ambiguity.
//!
//! The modifiers `pad` and `color` belong to the thumbnail they directly follow (in either order,
//! each at most once). `pad/1` needs a `<W>x<H>` box to pad to; `color` is the pad colour (white
//! by default) and so needs `pad/1`. Anywhere else they qualify nothing and are refused.

use std::fmt;

use crate::args::{clamp, invalid, pixel_pair, pixels, switch, u32_in};
use crate::tokens::Tokens;
use crate::{colour, MogrStage, Op, Rgb, RuleError, ThumbSize, MAX_AREA, MAX_PERCENT, MIN_PERCENT};

/// Where `pad` and `color` are accepted, for the error of one found elsewhere.
const PLACEMENT: &str = "directly follow thumbnail/<W>x<H>, with color only beside pad/1";

/// `thumbnail/<size>` and the `pad`/`color` modifiers that follow it.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let size = size(name, tokens.arg(name)?)?;
    let mut pad = None;
    let mut colour = None;
    while let Some(modifier @ ("pad" | "color")) = tokens.peek() {
        tokens.next();
        let arg = tokens.arg(modifier)?;
        let duplicate = if modifier == "pad" {
            pad.replace(switch(modifier, arg)?).is_some()
        } else {
            colour.replace(colour::parse(modifier, arg)?).is_some()
        };
        if duplicate {
            return Err(orphan(modifier));
        }
    }
    let pad = match (pad, colour) {
        (Some(true), colour) if matches!(size, ThumbSize::Fit { .. }) => {
            Some(colour.unwrap_or(Rgb::WHITE))
        }
        (Some(true), _) => return Err(orphan("pad")),
        (_, Some(_)) => return Err(orphan("color")),
        _ => None,
    };
    stage.ops.push(Op::Thumbnail { size, pad });
    Ok(())
}

/// The registry entry for `pad` and `color` met with no thumbnail before them.
pub(crate) fn misplaced(
    modifier: &str,
    _: &mut Tokens<'_>,
    _: &mut MogrStage,
) -> Result<(), RuleError> {
    Err(orphan(modifier))
}

/// The error for a misplaced `pad` or `color`.
fn orphan(modifier: &str) -> RuleError {
    RuleError::OrphanModifier {
        modifier: modifier.to_owned(),
        placement: PLACEMENT,
    }
}

/// One of the documented size forms; any other token is invalid, named whole.
fn size(op: &str, arg: &str) -> Result<ThumbSize, RuleError> {
    let bad = || invalid(op, arg);
    let percent = |digits: &str| u32_in(op, digits, MIN_PERCENT, MAX_PERCENT).map_err(|_| bad());
    if let Some(rest) = arg.strip_prefix('!') {
        if let Some(digits) = rest.strip_suffix("px") {
            return Ok(ThumbSize::PercentWidth(percent(digits)?));
        }
        if let Some(body) = rest.strip_suffix('p') {
            return Ok(match body.strip_prefix('x') {
                Some(digits) => ThumbSize::PercentHeight(percent(digits)?),
                None => ThumbSize::Percent(percent(body)?),
            });
        }
        if let Some(pair) = rest.strip_suffix('r') {
            let (width, height) = pixel_pair(op, pair).map_err(|_| bad())?;
            return Ok(ThumbSize::Cover { width, height });
        }
        return Err(bad());
    }
    if let Some(digits) = arg.strip_suffix('@') {
        let area = crate::args::number_in(op, digits, 1, u64::MAX).map_err(|_| bad())?;
        return Ok(ThumbSize::Area(clamp(area, MAX_AREA)));
    }
    let boxed = |pair: &str| pixel_pair(op, pair).map_err(|_| bad());
    if let Some(pair) = arg.strip_suffix('>') {
        let (width, height) = boxed(pair)?;
        return Ok(ThumbSize::Shrink { width, height });
    }
    if let Some(pair) = arg.strip_suffix('<') {
        let (width, height) = boxed(pair)?;
        return Ok(ThumbSize::Enlarge { width, height });
    }
    if let Some(pair) = arg.strip_suffix('!') {
        let (width, height) = boxed(pair)?;
        return Ok(ThumbSize::Exact { width, height });
    }
    match arg.split_once('x') {
        Some(("", h)) => Ok(ThumbSize::Height(pixels(op, arg, h)?)),
        Some((w, "")) => Ok(ThumbSize::Width(pixels(op, arg, w)?)),
        Some(_) => {
            let (width, height) = boxed(arg)?;
            Ok(ThumbSize::Fit { width, height })
        }
        None => Err(bad()),
    }
}

/// The canonical `thumbnail/...` spelling.
///
/// The imageView2-only edge forms have none: a stage holding one prints as imageView2 (see
/// `display`), and the operation alone prints as the imageView2 mode it comes from.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, size: ThumbSize, pad: Option<Rgb>) -> fmt::Result {
    match size {
        ThumbSize::Percent(s) => write!(f, "thumbnail/!{s}p")?,
        ThumbSize::PercentWidth(s) => write!(f, "thumbnail/!{s}px")?,
        ThumbSize::PercentHeight(s) => write!(f, "thumbnail/!x{s}p")?,
        ThumbSize::Width(w) => write!(f, "thumbnail/{w}x")?,
        ThumbSize::Height(h) => write!(f, "thumbnail/x{h}")?,
        ThumbSize::Fit { width, height } => write!(f, "thumbnail/{width}x{height}")?,
        ThumbSize::Shrink { width, height } => write!(f, "thumbnail/{width}x{height}>")?,
        ThumbSize::Enlarge { width, height } => write!(f, "thumbnail/{width}x{height}<")?,
        ThumbSize::Cover { width, height } => write!(f, "thumbnail/!{width}x{height}r")?,
        ThumbSize::Exact { width, height } => write!(f, "thumbnail/{width}x{height}!")?,
        ThumbSize::Area(area) => write!(f, "thumbnail/{area}@")?,
        ThumbSize::EdgeCover { long, short } => write!(f, "imageView2/4/w/{long}/h/{short}")?,
        ThumbSize::EdgeFill { long, short } => write!(f, "imageView2/5/w/{long}/h/{short}")?,
    }
    match pad {
        Some(Rgb::WHITE) => f.write_str("/pad/1"),
        Some(colour) => write!(f, "/pad/1/color/{}", colour::encode(colour)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{Op, Rgb, RuleError, ThumbSize};

    fn size(rule: &str) -> Result<ThumbSize, RuleError> {
        match op(rule)? {
            Op::Thumbnail { size, pad: None } => Ok(size),
            other => panic!("{rule}: {other:?}"),
        }
    }

    #[test]
    fn every_documented_form() {
        use ThumbSize::*;
        let cases = [
            ("!50p", Percent(50)),
            ("!50px", PercentWidth(50)),
            ("!x50p", PercentHeight(50)),
            ("200x", Width(200)),
            ("x100", Height(100)),
            (
                "200x100",
                Fit {
                    width: 200,
                    height: 100,
                },
            ),
            (
                "200x100>",
                Shrink {
                    width: 200,
                    height: 100,
                },
            ),
            (
                "200x100<",
                Enlarge {
                    width: 200,
                    height: 100,
                },
            ),
            (
                "!200x100r",
                Cover {
                    width: 200,
                    height: 100,
                },
            ),
            (
                "200x100!",
                Exact {
                    width: 200,
                    height: 100,
                },
            ),
            ("40000@", Area(40_000)),
        ];
        for (token, want) in cases {
            assert_eq!(size(&format!("thumbnail/{token}")), Ok(want), "{token}");
            // The canonical spelling is the documented one.
            assert_eq!(
                canonical(&format!("thumbnail/{token}")),
                format!("imageMogr2/thumbnail/{token}")
            );
        }
    }

    #[test]
    fn encoded_angle_brackets() {
        assert_eq!(
            size("thumbnail/200x100%3E"),
            Ok(ThumbSize::Shrink {
                width: 200,
                height: 100
            })
        );
        assert_eq!(
            size("thumbnail/200x100%3c"),
            Ok(ThumbSize::Enlarge {
                width: 200,
                height: 100
            })
        );
    }

    #[test]
    fn ranges_and_clamping() {
        assert_eq!(size("thumbnail/!1p"), Ok(ThumbSize::Percent(1)));
        assert_eq!(size("thumbnail/!1000p"), Ok(ThumbSize::Percent(1000)));
        assert_eq!(size("thumbnail/20000x"), Ok(ThumbSize::Width(10_000)));
        assert_eq!(
            size("thumbnail/20000x99999999999999999999!"),
            Ok(ThumbSize::Exact {
                width: 10_000,
                height: 10_000
            })
        );
        assert_eq!(
            size("thumbnail/999999999999@"),
            Ok(ThumbSize::Area(100_000_000))
        );
        assert_eq!(size("thumbnail/1@"), Ok(ThumbSize::Area(1)));
        assert_eq!(
            canonical("thumbnail/0200x0100"),
            "imageMogr2/thumbnail/200x100"
        );
    }

    #[test]
    fn malformed_sizes_name_the_token() {
        for bad in [
            "",
            "x",
            "!",
            "200",
            "0x100",
            "200x0",
            "x0",
            "0x",
            "!0p",
            "!1001p",
            "!0px",
            "!x0p",
            "!50",
            "!50pp",
            "!x50px",
            "!xp",
            "!p",
            "50p",
            "50px",
            "200x100r",
            "!200x100",
            "!200xr",
            "0@",
            "@",
            "-5x5",
            "5x-5",
            "200x100>>",
            "200x100<>",
            "200x100!!",
            ">200x100",
            "200X100",
            "200x100x5",
            "200 x100",
            "1.5x2",
            "!50%",
            "50%",
        ] {
            assert_eq!(
                ops(&format!("thumbnail/{bad}/strip")),
                Err(invalid("thumbnail", bad)),
                "{bad:?}"
            );
        }
        assert_eq!(
            ops("thumbnail"),
            Err(RuleError::MissingArgument("thumbnail".into()))
        );
    }

    #[test]
    fn pad_and_colour() {
        let grey = Rgb {
            r: 0x3D,
            g: 0x3D,
            b: 0x3D,
        };
        let fit = ThumbSize::Fit {
            width: 300,
            height: 200,
        };
        let padded = |pad| Ok(Op::Thumbnail { size: fit, pad });
        assert_eq!(op("thumbnail/300x200/pad/1"), padded(Some(Rgb::WHITE)));
        assert_eq!(
            op("thumbnail/300x200/pad/1/color/IzNEM0QzRA"),
            padded(Some(grey))
        );
        assert_eq!(
            op("thumbnail/300x200/color/IzNEM0QzRA==/pad/1"),
            padded(Some(grey))
        );
        assert_eq!(op("thumbnail/300x200/pad/0"), padded(None));
        assert_eq!(
            canonical("thumbnail/300x200/color/IzNEM0QzRA==/pad/1"),
            "imageMogr2/thumbnail/300x200/pad/1/color/IzNEM0QzRA"
        );
        assert_eq!(
            canonical("thumbnail/300x200/pad/1/color/I0ZGRkZGRg=="),
            "imageMogr2/thumbnail/300x200/pad/1"
        );
        assert_eq!(
            canonical("thumbnail/300x200/pad/0"),
            "imageMogr2/thumbnail/300x200"
        );
        assert_eq!(ops("thumbnail/300x200/pad/2"), Err(invalid("pad", "2")));
        assert_eq!(
            ops("thumbnail/300x200/pad/1/color/Zm9v"),
            Err(invalid("color", "Zm9v"))
        );
        assert_eq!(
            ops("thumbnail/300x200/pad"),
            Err(RuleError::MissingArgument("pad".into()))
        );
    }

    #[test]
    fn misplaced_pad_and_colour() {
        let orphan = |m: &str| -> Result<Vec<Op>, RuleError> {
            Err(RuleError::OrphanModifier {
                modifier: m.to_owned(),
                placement: super::PLACEMENT,
            })
        };
        assert_eq!(ops("pad/1"), orphan("pad"));
        assert_eq!(ops("color/IzNEM0QzRA"), orphan("color"));
        assert_eq!(ops("thumbnail/300x200/strip/pad/1"), orphan("pad"));
        assert_eq!(ops("crop/300x200/pad/1"), orphan("pad"));
        assert_eq!(ops("thumbnail/!50p/pad/1"), orphan("pad"));
        assert_eq!(ops("thumbnail/300x200!/pad/1"), orphan("pad"));
        assert_eq!(ops("thumbnail/300x200>/pad/1"), orphan("pad"));
        assert_eq!(ops("thumbnail/300x200/color/IzNEM0QzRA"), orphan("color"));
        assert_eq!(
            ops("thumbnail/300x200/pad/0/color/IzNEM0QzRA"),
            orphan("color")
        );
        assert_eq!(ops("thumbnail/300x200/pad/1/pad/1"), orphan("pad"));
        assert_eq!(
            ops("thumbnail/300x200/pad/1/color/IzNEM0QzRA/color/IzNEM0QzRA"),
            orphan("color")
        );
        let message = ops("pad/1").unwrap_err().to_string();
        assert!(message.contains("`pad`"), "{message}");
    }
}
