//! The canonical rule string (`Display`): equivalent spellings print identically, and every
//! parsed pipeline prints as a rule that parses back to itself.

use mogr_rule::{parse, Pipeline};

/// Deterministic xorshift64* so failures reproduce without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A number in `lo..=hi`, sometimes with leading zeros.
    fn num(&mut self, lo: u64, hi: u64) -> String {
        let n = lo + self.below(hi - lo + 1);
        if self.below(8) == 0 {
            format!("00{n}")
        } else {
            n.to_string()
        }
    }

    /// A pixel size, sometimes over the 10000 clamp.
    fn px(&mut self) -> String {
        match self.below(10) {
            0 => self.num(10_001, 99_999_999),
            1 => self.num(1, 10),
            _ => self.num(1, 4000),
        }
    }
}

const GRAVITIES: &[&str] = &[
    "northwest",
    "north",
    "northeast",
    "west",
    "center",
    "east",
    "southwest",
    "south",
    "southeast",
    "NorthWest",
    "CENTER",
];

const COLOURS: &[&str] = &["IzNEM0QzRA", "IzNEM0QzRA==", "I0ZGRkZGRg==", "I2ZmMDAxMg"];

/// One valid imageMogr2 operation, in one of its spellings.
fn mogr_op(rng: &mut Rng) -> String {
    match rng.below(22) {
        0 => {
            let size = match rng.below(11) {
                0 => format!("!{}p", rng.num(1, 1000)),
                1 => format!("!{}px", rng.num(1, 1000)),
                2 => format!("!x{}p", rng.num(1, 1000)),
                3 => format!("{}x", rng.px()),
                4 => format!("x{}", rng.px()),
                5 => format!("{}x{}>", rng.px(), rng.px()),
                6 => format!("{}x{}%3C", rng.px(), rng.px()),
                7 => format!("!{}x{}r", rng.px(), rng.px()),
                8 => format!("{}x{}!", rng.px(), rng.px()),
                9 => format!("{}@", rng.num(1, 200_000_000)),
                _ => {
                    let fit = format!("{}x{}", rng.px(), rng.px());
                    match rng.below(4) {
                        0 => format!("{fit}/pad/1"),
                        1 => format!("{fit}/pad/1/color/{}", rng.pick(COLOURS)),
                        2 => format!("{fit}/color/{}/pad/1", rng.pick(COLOURS)),
                        _ => fit,
                    }
                }
            };
            format!("thumbnail/{size}")
        }
        1 => {
            let size = match rng.below(3) {
                0 => format!("{}x", rng.px()),
                1 => format!("x{}", rng.px()),
                _ => format!("{}x{}", rng.px(), rng.px()),
            };
            let mut anchor = Vec::new();
            if rng.below(2) == 0 {
                anchor.push(format!("gravity/{}", rng.pick(GRAVITIES)));
            }
            if rng.below(3) == 0 {
                anchor.push(format!("dx/{}", rng.num(0, 20_000)));
            }
            if rng.below(3) == 0 {
                anchor.push(format!("dy/{}", rng.num(0, 20_000)));
            }
            let anchor = anchor.join("/");
            match (anchor.is_empty(), rng.below(2)) {
                (true, _) => format!("crop/{size}"),
                (false, 0) => format!("{anchor}/crop/{size}"),
                (false, _) => format!("crop/{size}/{anchor}"),
            }
        }
        2 => format!(
            "cut/{}x{}x{}x{}",
            rng.px(),
            rng.px(),
            rng.num(0, 20_000),
            rng.num(0, 20_000)
        ),
        3 => format!("iradius/{}", rng.px()),
        4 => format!("rradius/{}", rng.px()),
        5 => format!("scrop/{}x{}", rng.px(), rng.px()),
        6 => format!("rotate/{}", rng.num(0, 360)),
        7 => format!("flip/{}", rng.pick(&["vertical", "horizontal", "Vertical"])),
        8 => format!("blur/{}x{}", rng.num(1, 50), rng.num(1, 50)),
        9 => format!("sharpen/{}", rng.num(10, 300)),
        10 => format!("bright/{}{}", rng.pick(&["", "-"]), rng.num(0, 100)),
        11 => format!("contrast/{}{}", rng.pick(&["", "-"]), rng.num(0, 100)),
        12 => format!("grayscale/{}", rng.below(2)),
        13 => "auto-orient".to_owned(),
        14 => format!("cgif/{}", rng.num(1, 100)),
        15 => format!(
            "format/{}",
            rng.pick(&["jpg", "JPEG", "png", "webp", "gif", "avif", "yjpeg", "bmp"])
        ),
        16 => match rng.below(3) {
            0 => format!(
                "quality/{}{}",
                rng.num(0, 100),
                if rng.below(2) == 0 { "!" } else { "" }
            ),
            1 => format!("rquality/{}", rng.num(1, 100)),
            _ => format!("lquality/{}", rng.num(0, 100)),
        },
        17 => format!("interlace/{}", rng.below(2)),
        18 => "strip".to_owned(),
        19 => format!(
            "size-limit/{}{}{}",
            rng.num(1, 5000),
            rng.pick(&["k", "m"]),
            rng.pick(&["", "!"])
        ),
        20 => format!("ignore-error/{}", rng.below(2)),
        _ => format!(
            "gravity/{}/crop/{}x{}",
            rng.pick(GRAVITIES),
            rng.px(),
            rng.px()
        ),
    }
}

/// One valid imageView2 stage.
fn view2_stage(rng: &mut Rng) -> String {
    let mut parts = Vec::new();
    let mode = rng.below(6);
    if mode > 0 {
        parts.push(mode.to_string());
        if rng.below(4) != 0 {
            parts.push(format!("w/{}", rng.px()));
        }
        if rng.below(4) != 0 {
            parts.push(format!("h/{}", rng.px()));
        }
    }
    if rng.below(2) == 0 {
        parts.push(format!("format/{}", rng.pick(&["png", "webp", "JPG"])));
    }
    match rng.below(5) {
        0 => parts.push(format!("q/{}", rng.num(0, 100))),
        1 => parts.push(format!("q/{}!", rng.num(0, 100))),
        2 => parts.push(format!("rq/{}", rng.num(1, 100))),
        3 => parts.push(format!("lq/{}", rng.num(0, 100))),
        _ => {}
    }
    if rng.below(3) == 0 {
        parts.push(format!("ignore-error/{}", rng.below(2)));
    }
    let mut stage = "imageView2".to_owned();
    for part in parts {
        stage.push('/');
        stage.push_str(&part);
    }
    stage
}

fn is_anchor(token: &str) -> bool {
    matches!(token, "gravity" | "dx" | "dy")
}

/// A valid rule of 1..=4 stages.
fn rule(rng: &mut Rng) -> String {
    let stages: Vec<String> = (0..=rng.below(4))
        .map(|_| match rng.below(8) {
            0 => view2_stage(rng),
            1 => rng.pick(&["imageInfo", "imageAve", "exif"]).to_owned(),
            _ => {
                let mut stage = "imageMogr2".to_owned();
                let mut ends_with_anchor = false;
                for _ in 0..rng.below(7) {
                    let op = mogr_op(rng);
                    // A run between two crops anchors the one that follows, and two adjacent
                    // runs merge into one: something between them keeps each with its crop.
                    let first = op.split('/').next().unwrap_or_default();
                    if ends_with_anchor && (is_anchor(first) || first == "crop") {
                        stage.push_str("/strip");
                    }
                    let tokens: Vec<&str> = op.split('/').collect();
                    ends_with_anchor = tokens.len() >= 2 && is_anchor(tokens[tokens.len() - 2]);
                    stage.push('/');
                    stage.push_str(&op);
                }
                stage
            }
        })
        .collect();
    stages.join("|")
}

fn canonical(rule: &str) -> String {
    parse(rule)
        .unwrap_or_else(|e| panic!("{rule}: {e}"))
        .to_string()
}

#[test]
fn generated_rules_print_as_rules_that_parse_back_to_themselves() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for _ in 0..20_000 {
        let rule = rule(&mut rng);
        let pipeline: Pipeline = parse(&rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
        let printed = pipeline.to_string();
        assert_eq!(parse(&printed), Ok(pipeline), "{rule} printed as {printed}");
        // Printing is idempotent: the canonical form is its own canonical form.
        assert_eq!(canonical(&printed), printed, "{rule}");
    }
}

#[test]
fn output_settings_print_the_same_wherever_they_appear() {
    let want = "imageMogr2/thumbnail/200x/rotate/90/format/webp/quality/85/strip";
    for rule in [
        "imageMogr2/quality/85/thumbnail/200x/rotate/90/format/webp/strip",
        "imageMogr2/thumbnail/200x/quality/85/strip/rotate/90/format/webp",
        "imageMogr2/strip/format/png/thumbnail/200x/rotate/90/quality/85/format/WEBP",
        "imageMogr2/thumbnail/200x/rotate/90/format/webp/quality/85/strip/interlace/0",
        "imageMogr2/thumbnail/200x/rotate/90/format/webp/quality/85/strip/ignore-error/0",
    ] {
        assert_eq!(canonical(rule), want, "{rule}");
    }
}

#[test]
fn equivalent_spellings_print_identically() {
    let classes: &[&[&str]] = &[
        &[
            "imageView2/1/w/200/h/100",
            "imageMogr2/thumbnail/!200x100r/gravity/center/crop/200x100",
            "imageMogr2/thumbnail/!200x100r/crop/200x100/gravity/CENTER/dx/5/dy/5",
        ],
        &[
            "imageView2/2/w/300/h/300/format/png",
            "imageMogr2/format/png/thumbnail/300x300",
        ],
        &["imageView2/format/png", "imageMogr2/format/png"],
        &[
            "imageView2/3/w/64",
            "imageView2/4/h/64",
            "imageMogr2/thumbnail/!64x64r",
        ],
        &[
            "imageView2/4/w/300/h/200",
            "imageView2/4/w/200/h/300",
            "imageView2/4/h/300/w/200",
        ],
        &[
            "imageMogr2/thumbnail/20000x",
            "imageMogr2/thumbnail/10000x",
            "imageMogr2/thumbnail/0010000x",
        ],
        &[
            "imageMogr2/thumbnail/300x200/pad/1",
            "imageMogr2/thumbnail/300x200/color/I0ZGRkZGRg==/pad/1",
            "imageMogr2/thumbnail/300x200/pad/1/color/I0ZGRkZGRg",
        ],
        &[
            "imageMogr2/thumbnail/200x200>",
            "imageMogr2/thumbnail/200x200%3E",
        ],
        &["imageMogr2/size-limit/1024k", "imageMogr2/size-limit/1m"],
        &[
            "imageMogr2/crop/5x5",
            "imageMogr2/gravity/northwest/crop/5x5",
            "imageMogr2/crop/5x5/dx/0/dy/0",
        ],
        &[
            "imageMogr2/gravity/north/dx/9/crop/5x5",
            "imageMogr2/crop/5x5/gravity/north",
        ],
        &["imageMogr2/flip/Vertical", "imageMogr2/flip/vertical"],
        &["imageMogr2/bright/-0", "imageMogr2/bright/0"],
        &[
            "imageMogr2/ignore-error/1/strip",
            "imageMogr2/strip/ignore-error/1/ignore-error/0",
        ],
        &[
            "imageMogr2%2Fthumbnail%2F!50p%7CimageInfo",
            "imageMogr2/thumbnail/!50p/|imageInfo/",
        ],
    ];
    for class in classes {
        let first = canonical(class[0]);
        for rule in &class[1..] {
            assert_eq!(canonical(rule), first, "{rule} vs {}", class[0]);
        }
    }
}

#[test]
fn different_rules_print_differently() {
    let rules = [
        "imageMogr2/thumbnail/200x",
        "imageMogr2/thumbnail/x200",
        "imageMogr2/thumbnail/200x200",
        "imageMogr2/thumbnail/200x200>",
        "imageMogr2/thumbnail/200x200<",
        "imageMogr2/thumbnail/200x200!",
        "imageMogr2/thumbnail/!200x200r",
        "imageMogr2/thumbnail/200x200/pad/1",
        "imageMogr2/rotate/90/flip/vertical",
        "imageMogr2/flip/vertical/rotate/90",
        "imageMogr2/crop/10x10/gravity/south/crop/5x5",
        "imageMogr2/crop/10x10/gravity/south/strip/crop/5x5",
        "imageView2/4/w/300/h/200",
        "imageView2/5/w/300/h/200",
        "imageMogr2/size-limit/15k",
        "imageMogr2/size-limit/15k!",
        "imageMogr2/quality/80",
        "imageMogr2/quality/80!",
    ];
    let printed: std::collections::HashSet<String> = rules.iter().map(|r| canonical(r)).collect();
    assert_eq!(printed.len(), rules.len());
}
