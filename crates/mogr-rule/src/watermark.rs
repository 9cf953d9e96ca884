//! `watermark/1/image/<b64 url>/...` (image watermark) and `watermark/2/text/<b64>/...` (text
//! watermark): the typed stage, its parser and its canonical printer.
//!
//! After the mode and its subject (`image/<b64>` or `text/<b64>`, wherever it stands), the
//! parameters come as `name/value` pairs in any order, each at most once. A parameter of the
//! other mode (`font` on an image watermark) or an unknown one is refused, as is a stage
//! without its subject. Values are normalised so that two spellings of one watermark compare
//! equal and print the same: Base64 arguments print as unpadded URL-safe Base64, defaults
//! print nothing, font names are lower-cased (they are Windows file names), offsets that the
//! gravity ignores are 0 and `degree` is 0 unless the watermark is tiled (it only turns tiles).
//! At most [`crate::MAX_STAGES`] watermarks fit in one rule, one per stage.

use std::fmt;

use crate::args::{invalid, number_in, offset, switch, u32_in, u8_in};
use crate::ops::crop;
use crate::tokens::Tokens;
use crate::{b64, colour, Gravity, Rgb, RuleError};

/// Longest watermark image URL, in bytes once decoded.
pub const MAX_URL_BYTES: usize = 1024;

/// Longest watermark text, in UTF-8 bytes once decoded (about 170 Chinese characters).
pub const MAX_TEXT_BYTES: usize = 512;

/// Longest font file name, in bytes once decoded.
pub const MAX_FONT_NAME_BYTES: usize = 128;

/// Largest `fontsize`.
pub const MAX_FONT_SIZE: u32 = 1000;

/// The font of a text watermark that names none.
pub const DEFAULT_FONT: &str = "tahoma.ttf";

/// The size of a text watermark that names none.
pub const DEFAULT_FONT_SIZE: u32 = 13;

/// The colour of a text watermark that names none (`#3D3D3D`).
pub const DEFAULT_FILL: Rgb = Rgb {
    r: 0x3D,
    g: 0x3D,
    b: 0x3D,
};

/// The opacity (percent) of a watermark that names none.
pub const DEFAULT_DISSOLVE: u8 = 90;

/// One `watermark/<mode>/...` stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    /// What is drawn: an image or a text.
    pub mark: Mark,
    /// Where the watermark is anchored (`southeast` by default).
    pub gravity: Gravity,
    /// Horizontal distance from the anchored edge, 0 when the gravity centres horizontally.
    pub dx: u32,
    /// Vertical distance from the anchored edge, 0 when the gravity centres vertically.
    pub dy: u32,
    /// Opacity in percent, 1..=100 (`dissolve`, 90 by default).
    pub dissolve: u8,
    /// `batch/1`: tile the watermark over the whole image.
    pub batch: bool,
    /// Clockwise rotation of each tile, 0..=360; always 0 unless `batch` is on.
    pub degree: u32,
}

/// The subject of a watermark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// `watermark/1`: an image stored in the same bucket.
    Image(ImageMark),
    /// `watermark/2`: a line of text.
    Text(TextMark),
}

/// The parameters only an image watermark has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageMark {
    /// The decoded `image` URL, as the client wrote it (resolved to a key by the server).
    pub url: String,
    /// `blogo`: what to do with a watermark larger than the image.
    pub fit: Option<Fit>,
    /// `scatype` + `spcent`: size the watermark relative to the image.
    pub scale: Option<Scale>,
}

/// `blogo/1` or `blogo/2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fit {
    /// `blogo/1`: shrink a larger watermark, keeping its aspect ratio, until it fits.
    Shrink,
    /// `blogo/2`: cut a larger watermark to the image's size.
    Crop,
}

/// `scatype/<1|2|3>/spcent/<per mille>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scale {
    /// Which measure of the image the watermark follows.
    pub basis: ScaleBasis,
    /// The watermark's measure as a fraction of the image's, in per mille (1..=1000).
    pub per_mille: u32,
}

/// The measure `scatype` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScaleBasis {
    /// `scatype/1`: the watermark's width is `spcent` ‰ of the image's width.
    Width,
    /// `scatype/2`: the watermark's height is `spcent` ‰ of the image's height.
    Height,
    /// `scatype/3`: the watermark's area is `spcent` ‰ of the image's area.
    Area,
}

/// The parameters only a text watermark has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMark {
    /// The decoded text (UTF-8, one line, no control characters).
    pub text: String,
    /// The decoded, lower-cased font file name (`tahoma.ttf` by default).
    pub font: String,
    /// Font size in points (1 pt = 1 px), 1..=[`MAX_FONT_SIZE`], 13 by default.
    pub size: u32,
    /// Text colour (`#3D3D3D` by default).
    pub fill: Rgb,
    /// Opacity of the drop shadow in percent, 0..=100; 0 (the default) draws none.
    pub shadow: u8,
}

/// Which `watermark/<mode>` a stage is, for error messages.
const IMAGE: &str = "watermark/1";
const TEXT: &str = "watermark/2";

/// Parse the tokens after `watermark`.
pub(crate) fn parse(mut tokens: Tokens<'_>) -> Result<Watermark, RuleError> {
    let mode = tokens.arg("watermark")?;
    let text_mode = match mode {
        "1" => false,
        "2" => true,
        // Blind (3) and other watermarks exist in CI but are not drawn here.
        m if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(RuleError::Unsupported(format!("watermark/{m}")))
        }
        m => return Err(invalid("watermark", m)),
    };
    let op = if text_mode { TEXT } else { IMAGE };
    let mut p = Params::default();
    while let Some(name) = tokens.next() {
        let arg = tokens.arg(name)?;
        let fresh = match (name, text_mode) {
            ("gravity", _) => p.gravity.replace(crop::gravity(name, arg)?).is_none(),
            ("dx", _) => p.dx.replace(offset(name, arg, arg)?).is_none(),
            ("dy", _) => p.dy.replace(offset(name, arg, arg)?).is_none(),
            ("dissolve", _) => p.dissolve.replace(u8_in(name, arg, 1, 100)?).is_none(),
            ("batch", _) => p.batch.replace(switch(name, arg)?).is_none(),
            ("degree", _) => p.degree.replace(u32_in(name, arg, 0, 360)?).is_none(),
            ("image", false) => p
                .subject
                .replace(b64::text(name, arg, MAX_URL_BYTES)?)
                .is_none(),
            ("blogo", false) => p.fit.replace(fit(name, arg)?).is_none(),
            ("scatype", false) => p.basis.replace(basis(name, arg)?).is_none(),
            ("spcent", false) => p.per_mille.replace(u32_in(name, arg, 1, 1000)?).is_none(),
            ("text", true) => p
                .subject
                .replace(b64::text(name, arg, MAX_TEXT_BYTES)?)
                .is_none(),
            ("font", true) => p.font.replace(font(name, arg)?).is_none(),
            ("fontsize", true) => p
                .size
                .replace(u32_in(name, arg, 1, MAX_FONT_SIZE)?)
                .is_none(),
            ("fill", true) => p.fill.replace(colour::parse(name, arg)?).is_none(),
            ("shadow", true) => p.shadow.replace(u8_in(name, arg, 0, 100)?).is_none(),
            _ => return Err(RuleError::UnknownOperation(format!("{op}/{name}"))),
        };
        if !fresh {
            return Err(invalid(op, name));
        }
    }
    p.finish(op, text_mode)
}

/// Parameters as they are read, before defaults and normalisation.
#[derive(Debug, Default)]
struct Params {
    subject: Option<String>,
    gravity: Option<Gravity>,
    dx: Option<u32>,
    dy: Option<u32>,
    dissolve: Option<u8>,
    batch: Option<bool>,
    degree: Option<u32>,
    fit: Option<Fit>,
    basis: Option<ScaleBasis>,
    per_mille: Option<u32>,
    font: Option<String>,
    size: Option<u32>,
    fill: Option<Rgb>,
    shadow: Option<u8>,
}

impl Params {
    fn finish(self, op: &str, text_mode: bool) -> Result<Watermark, RuleError> {
        let subject = self.subject.ok_or_else(|| {
            RuleError::MissingArgument(format!("{op}/{}", if text_mode { "text" } else { "image" }))
        })?;
        let mark = if text_mode {
            Mark::Text(TextMark {
                text: subject,
                font: self.font.unwrap_or_else(|| DEFAULT_FONT.to_owned()),
                size: self.size.unwrap_or(DEFAULT_FONT_SIZE),
                fill: self.fill.unwrap_or(DEFAULT_FILL),
                shadow: self.shadow.unwrap_or(0),
            })
        } else {
            let scale = match (self.basis, self.per_mille) {
                (Some(basis), Some(per_mille)) => Some(Scale { basis, per_mille }),
                (None, None) => None,
                (Some(_), None) => return Err(RuleError::MissingArgument("spcent".into())),
                (None, Some(_)) => {
                    return Err(RuleError::OrphanModifier {
                        modifier: "spcent".into(),
                        placement: "come with scatype/<1|2|3>",
                    })
                }
            };
            Mark::Image(ImageMark {
                url: subject,
                fit: self.fit,
                scale,
            })
        };
        let gravity = self.gravity.unwrap_or(Gravity::SouthEast);
        let (uses_dx, uses_dy) = crop::uses_offsets(gravity);
        let batch = self.batch.unwrap_or(false);
        Ok(Watermark {
            mark,
            gravity,
            dx: if uses_dx { self.dx.unwrap_or(0) } else { 0 },
            dy: if uses_dy { self.dy.unwrap_or(0) } else { 0 },
            dissolve: self.dissolve.unwrap_or(DEFAULT_DISSOLVE),
            batch,
            // 360 is a full turn: the same tile as 0.
            degree: if batch {
                self.degree.unwrap_or(0) % 360
            } else {
                0
            },
        })
    }
}

fn fit(op: &str, arg: &str) -> Result<Fit, RuleError> {
    match number_in(op, arg, 1, 2)? {
        1 => Ok(Fit::Shrink),
        _ => Ok(Fit::Crop),
    }
}

fn basis(op: &str, arg: &str) -> Result<ScaleBasis, RuleError> {
    match number_in(op, arg, 1, 3)? {
        1 => Ok(ScaleBasis::Width),
        2 => Ok(ScaleBasis::Height),
        _ => Ok(ScaleBasis::Area),
    }
}

/// A font file name: no path separators, lower-cased.
fn font(op: &str, arg: &str) -> Result<String, RuleError> {
    let name = b64::text(op, arg, MAX_FONT_NAME_BYTES)?;
    if name.contains(['/', '\\']) || name.trim() != name {
        return Err(invalid(op, arg));
    }
    Ok(name.to_lowercase())
}

impl fmt::Display for Watermark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.mark {
            Mark::Image(mark) => {
                write!(f, "watermark/1/image/{}", b64::encode(&mark.url))?;
                self.fmt_placement(f)?;
                if let Some(fit) = mark.fit {
                    let n = match fit {
                        Fit::Shrink => 1,
                        Fit::Crop => 2,
                    };
                    write!(f, "/blogo/{n}")?;
                }
                if let Some(Scale { basis, per_mille }) = mark.scale {
                    let n = match basis {
                        ScaleBasis::Width => 1,
                        ScaleBasis::Height => 2,
                        ScaleBasis::Area => 3,
                    };
                    write!(f, "/scatype/{n}/spcent/{per_mille}")?;
                }
                self.fmt_blend(f)
            }
            Mark::Text(mark) => {
                write!(f, "watermark/2/text/{}", b64::encode(&mark.text))?;
                if mark.font != DEFAULT_FONT {
                    write!(f, "/font/{}", b64::encode(&mark.font))?;
                }
                if mark.size != DEFAULT_FONT_SIZE {
                    write!(f, "/fontsize/{}", mark.size)?;
                }
                if mark.fill != DEFAULT_FILL {
                    write!(f, "/fill/{}", colour::encode(mark.fill))?;
                }
                self.fmt_placement(f)?;
                self.fmt_blend(f)?;
                if mark.shadow != 0 {
                    write!(f, "/shadow/{}", mark.shadow)?;
                }
                Ok(())
            }
        }
    }
}

impl Watermark {
    /// `/gravity/../dx/../dy/..`, defaults left out.
    fn fmt_placement(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.gravity != Gravity::SouthEast {
            write!(f, "/gravity/{}", crop::gravity_name(self.gravity))?;
        }
        if self.dx != 0 {
            write!(f, "/dx/{}", self.dx)?;
        }
        if self.dy != 0 {
            write!(f, "/dy/{}", self.dy)?;
        }
        Ok(())
    }

    /// `/dissolve/../batch/1/degree/..`, defaults left out.
    fn fmt_blend(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dissolve != DEFAULT_DISSOLVE {
            write!(f, "/dissolve/{}", self.dissolve)?;
        }
        if self.batch {
            f.write_str("/batch/1")?;
            if self.degree != 0 {
                write!(f, "/degree/{}", self.degree)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, Stage};

    fn enc(s: &str) -> String {
        b64::encode(s)
    }

    fn watermark(rule: &str) -> Result<Watermark, RuleError> {
        let mut p = parse(rule)?;
        match p.stages.remove(0) {
            Stage::Watermark(w) => Ok(w),
            other => panic!("{rule}: {other:?}"),
        }
    }

    fn canonical(rule: &str) -> String {
        parse(rule)
            .unwrap_or_else(|e| panic!("{rule}: {e}"))
            .to_string()
    }

    const URL: &str = "http://examplebucket-1250000000.cos.ap-shanghai.myqcloud.com/shuiyin_2.png";

    #[test]
    fn image_watermark_with_every_parameter() {
        let rule = format!(
            "watermark/1/image/{}/gravity/NorthWest/dx/10/dy/20/blogo/2/scatype/3/spcent/250\
             /dissolve/50/batch/1/degree/45",
            enc(URL)
        );
        let w = watermark(&rule).unwrap();
        assert_eq!(
            w,
            Watermark {
                mark: Mark::Image(ImageMark {
                    url: URL.into(),
                    fit: Some(Fit::Crop),
                    scale: Some(Scale {
                        basis: ScaleBasis::Area,
                        per_mille: 250
                    }),
                }),
                gravity: Gravity::NorthWest,
                dx: 10,
                dy: 20,
                dissolve: 50,
                batch: true,
                degree: 45,
            }
        );
        assert_eq!(canonical(&rule), rule.replace("NorthWest", "northwest"));
    }

    #[test]
    fn defaults_follow_ci() {
        let w = watermark(&format!("watermark/1/image/{}", enc(URL))).unwrap();
        assert_eq!(w.gravity, Gravity::SouthEast);
        assert_eq!(
            (w.dx, w.dy, w.dissolve, w.batch, w.degree),
            (0, 0, 90, false, 0)
        );
        let t = watermark(&format!("watermark/2/text/{}", enc("水印"))).unwrap();
        let Mark::Text(text) = t.mark else { panic!() };
        assert_eq!(
            text,
            TextMark {
                text: "水印".into(),
                font: "tahoma.ttf".into(),
                size: 13,
                fill: DEFAULT_FILL,
                shadow: 0
            }
        );
    }

    #[test]
    fn documented_text_example() {
        // The pipe example of the CI docs: white 30-pt text 20 px from the south-east corner.
        let rule = "imageMogr2/thumbnail/!50p|watermark/2/text/5pWw5o2u5LiH6LGh/fill/I0ZGRkZGRg==\
                    /fontsize/30/dx/20/dy/20";
        let p = parse(rule).unwrap();
        let Stage::Watermark(w) = &p.stages[1] else {
            panic!("{p:?}")
        };
        let Mark::Text(t) = &w.mark else { panic!() };
        assert_eq!(t.text, "数据万象");
        assert_eq!(t.fill, Rgb::WHITE);
        assert_eq!((t.size, w.dx, w.dy), (30, 20, 20));
        assert_eq!(
            p.to_string(),
            "imageMogr2/thumbnail/!50p|watermark/2/text/5pWw5o2u5LiH6LGh/fontsize/30\
             /fill/I0ZGRkZGRg/dx/20/dy/20"
        );
    }

    #[test]
    fn spellings_of_one_watermark_print_the_same() {
        let font = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE, "SimHei.ttf");
        let a = format!(
            "watermark/2/fontsize/13/text/{}/gravity/center/dx/5/font/{font}/degree/30/dissolve/90/",
            enc("水印")
        );
        let b = format!(
            "watermark/2/text/{}/font/{}/gravity/CENTER",
            enc("水印"),
            enc("simhei.ttf")
        );
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(
            canonical(&b),
            format!(
                "watermark/2/text/{}/font/{}/gravity/center",
                enc("水印"),
                enc("simhei.ttf")
            )
        );
        // Printing is a fixed point of parsing.
        for rule in [a, b] {
            let p = parse(&rule).unwrap();
            assert_eq!(parse(&p.to_string()).unwrap(), p);
        }
    }

    #[test]
    fn mixes_with_imagemogr2_stages() {
        let rule = format!(
            "imageMogr2/thumbnail/200x|watermark/1/image/{}/batch/1|watermark/2/text/{}",
            enc(URL),
            enc("a")
        );
        let p = parse(&rule).unwrap();
        assert_eq!(p.stages.len(), 3);
        assert!(matches!(p.stages[0], Stage::Mogr(_)));
        assert!(matches!(p.stages[2], Stage::Watermark(_)));
        assert_eq!(p.to_string(), rule);
    }

    #[test]
    fn at_most_ten_watermarks() {
        let one = format!("watermark/2/text/{}", enc("a"));
        assert!(parse(&[one.as_str(); 10].join("|")).is_ok());
        assert_eq!(
            parse(&[one.as_str(); 11].join("|")),
            Err(RuleError::TooManyStages(11))
        );
    }

    #[test]
    fn typed_errors() {
        let img = enc(URL);
        let cases: Vec<(String, RuleError)> = vec![
            (
                "watermark".into(),
                RuleError::MissingArgument("watermark".into()),
            ),
            (
                "watermark/3/image/x".into(),
                RuleError::Unsupported("watermark/3".into()),
            ),
            ("watermark/x".into(), invalid("watermark", "x")),
            (
                "watermark/1/dx/3".into(),
                RuleError::MissingArgument("watermark/1/image".into()),
            ),
            (
                "watermark/2/gravity/north".into(),
                RuleError::MissingArgument("watermark/2/text".into()),
            ),
            (
                format!("watermark/1/image/{img}/font/{}", enc("a")),
                RuleError::UnknownOperation("watermark/1/font".into()),
            ),
            (
                format!("watermark/2/text/{img}/blogo/1"),
                RuleError::UnknownOperation("watermark/2/blogo".into()),
            ),
            (
                format!("watermark/1/image/{img}/dissolve/0"),
                invalid("dissolve", "0"),
            ),
            (
                format!("watermark/1/image/{img}/dissolve/101"),
                invalid("dissolve", "101"),
            ),
            (
                format!("watermark/1/image/{img}/blogo/3"),
                invalid("blogo", "3"),
            ),
            (
                format!("watermark/1/image/{img}/scatype/4/spcent/5"),
                invalid("scatype", "4"),
            ),
            (
                format!("watermark/1/image/{img}/scatype/1/spcent/1001"),
                invalid("spcent", "1001"),
            ),
            (
                format!("watermark/1/image/{img}/scatype/1"),
                RuleError::MissingArgument("spcent".into()),
            ),
            (
                format!("watermark/1/image/{img}/batch/2"),
                invalid("batch", "2"),
            ),
            (
                format!("watermark/1/image/{img}/batch/1/degree/361"),
                invalid("degree", "361"),
            ),
            (
                format!("watermark/1/image/{img}/gravity/up"),
                invalid("gravity", "up"),
            ),
            (
                format!("watermark/1/image/{img}/dx/-1"),
                invalid("dx", "-1"),
            ),
            (
                format!("watermark/1/image/{img}/dx/1/dx/2"),
                invalid("watermark/1", "dx"),
            ),
            (
                format!("watermark/1/image/{img}/dy"),
                RuleError::MissingArgument("dy".into()),
            ),
            ("watermark/1/image/!!".into(), invalid("image", "!!")),
            (
                format!("watermark/2/text/{}", enc(&"x".repeat(513))),
                invalid("text", &enc(&"x".repeat(513))),
            ),
            (
                format!("watermark/2/text/{}/fontsize/0", enc("a")),
                invalid("fontsize", "0"),
            ),
            (
                format!("watermark/2/text/{}/fontsize/1001", enc("a")),
                invalid("fontsize", "1001"),
            ),
            (
                format!("watermark/2/text/{}/fill/{}", enc("a"), enc("red")),
                invalid("fill", &enc("red")),
            ),
            (
                format!("watermark/2/text/{}/shadow/101", enc("a")),
                invalid("shadow", "101"),
            ),
            (
                format!("watermark/2/text/{}/font/{}", enc("a"), enc("../x.ttf")),
                invalid("font", &enc("../x.ttf")),
            ),
        ];
        for (rule, want) in cases {
            assert_eq!(parse(&rule), Err(want), "{rule}");
        }
        let p = parse(&format!("watermark/1/image/{img}/spcent/5"));
        assert!(
            matches!(p, Err(RuleError::OrphanModifier { ref modifier, .. }) if modifier == "spcent"),
            "{p:?}"
        );
    }

    #[test]
    fn degree_turns_tiles_only() {
        let img = enc(URL);
        let single = watermark(&format!("watermark/1/image/{img}/degree/45")).unwrap();
        assert_eq!(single.degree, 0);
        let tiled = watermark(&format!("watermark/1/image/{img}/batch/1/degree/360")).unwrap();
        assert_eq!(tiled.degree, 0);
        let tiled = watermark(&format!("watermark/1/image/{img}/batch/1/degree/90")).unwrap();
        assert_eq!(tiled.degree, 90);
    }
}
