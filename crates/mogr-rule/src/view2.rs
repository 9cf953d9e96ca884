//! `imageView2/<mode>/w/<W>/h/<H>/format/<f>/q/<q>[!]/rq/<q>/lq/<q>/ignore-error/<0|1>`, rewritten
//! into the [`MogrStage`] of the equivalent imageMogr2 operations.
//!
//! | mode | both sides                                  | one side S               |
//! |------|---------------------------------------------|--------------------------|
//! | 1    | cover W×H, then centre crop W×H             | the same with W = H = S  |
//! | 2    | fit inside W×H                              | width W / height H only  |
//! | 3    | cover W×H, no crop                          | cover S×S                |
//! | 4    | long edge ≥ W and short edge ≥ H, no crop   | cover S×S                |
//! | 5    | mode 4, then centre crop to W×H oriented like the image | mode 1 with S×S |
//!
//! In modes 4 and 5 `w` is the long edge and `h` the short one; if `w < h` they are swapped, and
//! equal edges make the mode-3 / mode-1 square. Mode 5 crops, so it keeps the minimums of mode
//! 4, as mode 1 keeps those of mode 3: a maximum box would leave nothing to crop.
//!
//! The mode may be left out (`imageView2/format/png`, as the SDK samples do); `w`/`h` then have
//! no meaning and are refused. A mode with neither `w` nor `h` resizes nothing. The keys may come
//! in any order, the last of a repeated key wins, and `ignore-error/1` anywhere turns it on.

use crate::args::{pixels, switch, u8_in};
use crate::ops::{format, quality};
use crate::tokens::Tokens;
use crate::{Gravity, MogrStage, Op, RuleError, ThumbSize};

/// The processor name, as it appears in errors.
const NAME: &str = "imageView2";

/// Parse the tokens after `imageView2`.
pub(crate) fn parse(mut tokens: Tokens<'_>) -> Result<MogrStage, RuleError> {
    let mut stage = MogrStage::default();
    let mode = match tokens.peek() {
        Some(token) if token.bytes().all(|b| b.is_ascii_digit()) => {
            tokens.next();
            Some(u8_in(NAME, token, 1, 5)?)
        }
        _ => None,
    };
    let (mut width, mut height) = (None, None);
    while let Some(key) = tokens.next() {
        let arg = tokens.arg(key)?;
        match key {
            "w" | "h" if mode.is_none() => {
                return Err(RuleError::OrphanModifier {
                    modifier: key.to_owned(),
                    placement: "follow an imageView2 mode (imageView2/<1..5>/w/<W>/h/<H>)",
                })
            }
            "w" => width = Some(pixels(key, arg, arg)?),
            "h" => height = Some(pixels(key, arg, arg)?),
            "format" => stage.output.format = Some(format::value(key, arg)?),
            "q" => stage.output.quality = Some(quality::absolute(key, arg)?),
            "rq" => stage.output.quality = Some(quality::relative(key, arg)?),
            "lq" => stage.output.quality = Some(quality::floor(key, arg)?),
            "ignore-error" => stage.ignore_error |= switch(key, arg)?,
            _ => return Err(RuleError::UnknownOperation(key.to_owned())),
        }
    }
    if let Some(mode) = mode {
        stage.ops = resize(mode, width, height);
    }
    Ok(stage)
}

/// The operations of `mode` for the given sides.
fn resize(mode: u8, width: Option<u32>, height: Option<u32>) -> Vec<Op> {
    let thumbnail = |size| Op::Thumbnail { size, pad: None };
    let (w, h) = match (width, height) {
        (None, None) => return Vec::new(),
        (Some(w), None) if mode == 2 => return vec![thumbnail(ThumbSize::Width(w))],
        (None, Some(h)) if mode == 2 => return vec![thumbnail(ThumbSize::Height(h))],
        (Some(w), Some(h)) => (w, h),
        (Some(side), None) | (None, Some(side)) => (side, side),
    };
    let centre_crop = |w, h| Op::Crop {
        width: Some(w),
        height: Some(h),
        gravity: Gravity::Center,
        dx: 0,
        dy: 0,
    };
    let cover = |width, height| thumbnail(ThumbSize::Cover { width, height });
    let (long, short) = (w.max(h), w.min(h));
    match mode {
        1 => vec![cover(w, h), centre_crop(w, h)],
        2 => vec![thumbnail(ThumbSize::Fit {
            width: w,
            height: h,
        })],
        3 => vec![cover(w, h)],
        4 if long == short => vec![cover(long, long)],
        4 => vec![thumbnail(ThumbSize::EdgeCover { long, short })],
        _ if long == short => vec![cover(long, long), centre_crop(long, long)],
        _ => vec![thumbnail(ThumbSize::EdgeFill { long, short })],
    }
}

/// Whether a stage came from an imageView2 edge mode (4 or 5), which only imageView2 can spell.
pub(crate) fn edge_mode(stage: &MogrStage) -> Option<(u8, u32, u32)> {
    stage.ops.iter().find_map(|op| match op {
        Op::Thumbnail {
            size: ThumbSize::EdgeCover { long, short },
            ..
        } => Some((4, *long, *short)),
        Op::Thumbnail {
            size: ThumbSize::EdgeFill { long, short },
            ..
        } => Some((5, *long, *short)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use crate::args::invalid;
    use crate::{
        parse, MogrStage, Op, OutputFormat, Pipeline, QualitySpec, RuleError, Stage, ThumbSize,
    };

    fn view(rule: &str) -> Result<MogrStage, RuleError> {
        let Pipeline { mut stages } = parse(&format!("imageView2/{rule}"))?;
        match stages.remove(0) {
            Stage::Mogr(stage) => Ok(stage),
            other => panic!("{rule}: {other:?}"),
        }
    }

    fn mogr(rule: &str) -> MogrStage {
        match parse(&format!("imageMogr2/{rule}"))
            .unwrap()
            .stages
            .remove(0)
        {
            Stage::Mogr(stage) => stage,
            other => panic!("{rule}: {other:?}"),
        }
    }

    #[test]
    fn modes_1_to_3_are_their_imagemogr2_equivalents() {
        let same = [
            (
                "1/w/200/h/100",
                "thumbnail/!200x100r/gravity/center/crop/200x100",
            ),
            ("1/w/200", "thumbnail/!200x200r/gravity/center/crop/200x200"),
            ("1/h/100", "thumbnail/!100x100r/gravity/center/crop/100x100"),
            ("2/w/200/h/100", "thumbnail/200x100"),
            ("2/w/200", "thumbnail/200x"),
            ("2/h/100", "thumbnail/x100"),
            ("3/w/200/h/100", "thumbnail/!200x100r"),
            ("3/h/100", "thumbnail/!100x100r"),
            ("4/w/100/h/100", "thumbnail/!100x100r"),
            ("4/w/100", "thumbnail/!100x100r"),
            ("5/h/100", "thumbnail/!100x100r/gravity/center/crop/100x100"),
        ];
        for (view_rule, mogr_rule) in same {
            let v = view(view_rule).unwrap();
            assert_eq!(v, mogr(mogr_rule), "{view_rule}");
            assert_eq!(
                Pipeline {
                    stages: vec![Stage::Mogr(v)]
                }
                .to_string(),
                format!("imageMogr2/{mogr_rule}")
            );
        }
    }

    #[test]
    fn edge_modes() {
        let edge = |size| Ok(vec![Op::Thumbnail { size, pad: None }]);
        let ops = |rule: &str| view(rule).map(|s| s.ops);
        assert_eq!(
            ops("4/w/300/h/200"),
            edge(ThumbSize::EdgeCover {
                long: 300,
                short: 200
            })
        );
        assert_eq!(
            ops("4/w/200/h/300"),
            edge(ThumbSize::EdgeCover {
                long: 300,
                short: 200
            })
        );
        assert_eq!(
            ops("5/w/300/h/200"),
            edge(ThumbSize::EdgeFill {
                long: 300,
                short: 200
            })
        );
        assert_eq!(
            ops("5/h/300/w/200"),
            edge(ThumbSize::EdgeFill {
                long: 300,
                short: 200
            })
        );
        assert_eq!(
            ops("4/w/20000/h/200"),
            edge(ThumbSize::EdgeCover {
                long: 10_000,
                short: 200
            })
        );
    }

    #[test]
    fn output_keys() {
        let stage = view("2/w/10/format/PNG/q/80!/ignore-error/1").unwrap();
        assert_eq!(stage.output.format, Some(OutputFormat::Png));
        assert_eq!(
            stage.output.quality,
            Some(QualitySpec::Absolute {
                value: 80,
                force: true
            })
        );
        assert!(stage.ignore_error);
        assert_eq!(
            view("1/w/5/rq/60").unwrap().output.quality,
            Some(QualitySpec::Relative(60))
        );
        assert_eq!(
            view("1/w/5/lq/60").unwrap().output.quality,
            Some(QualitySpec::Floor(60))
        );
        assert_eq!(
            view("1/w/5/q/10/lq/60").unwrap().output.quality,
            Some(QualitySpec::Floor(60))
        );
        assert_eq!(view("1/w/5/w/7").unwrap(), view("1/w/7").unwrap());
        assert!(!view("1/w/5/ignore-error/0").unwrap().ignore_error);
    }

    #[test]
    fn without_a_mode() {
        let stage = view("format/png").unwrap();
        assert_eq!(stage, mogr("format/png"));
        assert_eq!(
            view("q/50/format/webp").unwrap(),
            mogr("format/webp/quality/50")
        );
        assert_eq!(
            parse("imageView2").unwrap().stages,
            [Stage::Mogr(MogrStage::default())]
        );
        assert_eq!(view("2/format/jpg").unwrap(), mogr("format/jpg"));
        for key in ["w", "h"] {
            assert!(matches!(
                view(&format!("{key}/100/format/png")),
                Err(RuleError::OrphanModifier { modifier, .. }) if modifier == key
            ));
        }
    }

    #[test]
    fn bad_arguments_name_the_token() {
        assert_eq!(view("0/w/5"), Err(invalid("imageView2", "0")));
        assert_eq!(view("6/w/5"), Err(invalid("imageView2", "6")));
        assert_eq!(
            view("99999999999999999999/w/5"),
            Err(invalid("imageView2", "99999999999999999999"))
        );
        assert_eq!(view("1/w/0"), Err(invalid("w", "0")));
        assert_eq!(view("1/h/-5"), Err(invalid("h", "-5")));
        assert_eq!(view("1/w/5/format/jxl"), Err(invalid("format", "jxl")));
        assert_eq!(view("1/w/5/q/101"), Err(invalid("q", "101")));
        assert_eq!(view("1/w/5/rq/0"), Err(invalid("rq", "0")));
        assert_eq!(view("1/w/5/lq/x"), Err(invalid("lq", "x")));
        assert_eq!(
            view("1/w/5/ignore-error/2"),
            Err(invalid("ignore-error", "2"))
        );
        assert_eq!(view("1/w"), Err(RuleError::MissingArgument("w".into())));
        assert_eq!(view("1/x/5"), Err(RuleError::UnknownOperation("x".into())));
        assert_eq!(
            view("1/2/w/5"),
            Err(RuleError::UnknownOperation("2".into()))
        );
        assert_eq!(
            view("1/w/5/quality/80"),
            Err(RuleError::UnknownOperation("quality".into()))
        );
    }

    #[test]
    fn edge_modes_print_as_imageview2_and_round_trip() {
        for rule in [
            "imageView2/4/w/300/h/200",
            "imageView2/5/w/300/h/200/format/webp/q/70!/ignore-error/1",
            "imageView2/5/w/300/h/200/rq/70",
            "imageView2/4/w/300/h/200/lq/70",
        ] {
            let pipeline = parse(rule).unwrap();
            assert_eq!(pipeline.to_string(), rule);
        }
        assert_eq!(
            parse("imageView2/4/h/300/w/200/format/PNG")
                .unwrap()
                .to_string(),
            "imageView2/4/w/300/h/200/format/png"
        );
    }
}
