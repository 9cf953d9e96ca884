//! The parser is total: arbitrary input yields `Ok` or `Err`, never a panic, and every `Ok`
//! respects the grammar's limits.

use mogr_rule::{
    parse, Op, Pipeline, QualitySpec, Stage, ThumbSize, MAX_AREA, MAX_PERCENT, MAX_PIXELS,
    MAX_STAGES, MIN_PERCENT,
};

/// Deterministic xorshift64* so failures reproduce without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FRAGMENTS: &[&str] = &[
    "imageMogr2",
    "imageInfo",
    "imageAve",
    "exif",
    "imageView2",
    "watermark",
    "style",
    "/",
    "/",
    "/",
    "|",
    "|",
    "format",
    "png",
    "JPG",
    "webp",
    "tpg",
    "quality",
    "rquality",
    "lquality",
    "cgif",
    "interlace",
    "strip",
    "auto-orient",
    "ignore-error",
    "thumbnail",
    "crop",
    "cut",
    "gravity",
    "center",
    "NorthEast",
    "dx",
    "dy",
    "pad",
    "color",
    "IzNEM0QzRA",
    "I0ZGRkZGRg==",
    "rotate",
    "flip",
    "vertical",
    "blur",
    "sharpen",
    "bright",
    "contrast",
    "grayscale",
    "scrop",
    "iradius",
    "rradius",
    "size-limit",
    "15k",
    "2m!",
    "w",
    "h",
    "q",
    "rq",
    "lq",
    "x",
    "x",
    "p",
    "px",
    "r",
    "@",
    ">",
    "<",
    "0",
    "1",
    "80",
    "100",
    "101",
    "255",
    "256",
    "99999999999999999999",
    "!",
    "=",
    "==",
    "+",
    "-",
    "%",
    "%2F",
    "%7C",
    "%21",
    "%3E",
    "%FF",
    "%C3",
    "%E2%82",
    "%zz",
    "é",
    "\u{0}",
    "\u{10FFFF}",
    " ",
    "",
];

const VALID: &[&str] = &[
    "imageMogr2/format/png",
    "imageMogr2/quality/80!/strip/auto-orient",
    "imageMogr2/cgif/10/interlace/1/ignore-error/1|imageInfo",
    "imageMogr2%2Fformat%2Fwebp%7CimageMogr2%2Frquality%2F60%2F",
    "imageMogr2/lquality/40/format/YJPEG/",
    "exif",
    "imageAve/",
    "imageMogr2/thumbnail/!50p/gravity/center/crop/20x20/rotate/90/flip/vertical",
    "imageMogr2/thumbnail/300x200/pad/1/color/IzNEM0QzRA/blur/3x9/sharpen/70",
    "imageMogr2/crop/300x400/gravity/south/dx/3/dy/4/cut/5x5x0x0/size-limit/15k!",
    "imageMogr2/bright/-10/contrast/20/grayscale/1/iradius/5/rradius/6/scrop/7x8",
    "imageView2/1/w/200/h/100/format/webp/q/75!/ignore-error/1",
    "imageView2/5/w/100/h/300/lq/60",
    "imageView2/format/png",
];

/// Whether a pixel size is within the grammar's guarantees.
fn size_ok(n: u32) -> bool {
    (1..=MAX_PIXELS).contains(&n)
}

/// Whether a thumbnail size is within the grammar's guarantees.
fn thumb_ok(size: ThumbSize) -> bool {
    use ThumbSize::*;
    let percent = |p: u32| (MIN_PERCENT..=MAX_PERCENT).contains(&p);
    match size {
        Percent(p) | PercentWidth(p) | PercentHeight(p) => percent(p),
        Width(n) | Height(n) => size_ok(n),
        Fit { width, height }
        | Shrink { width, height }
        | Enlarge { width, height }
        | Cover { width, height }
        | Exact { width, height } => size_ok(width) && size_ok(height),
        Area(a) => (1..=MAX_AREA).contains(&a),
        EdgeCover { long, short } | EdgeFill { long, short } => {
            size_ok(long) && size_ok(short) && long > short
        }
    }
}

/// Check the invariants every successful parse must hold, including the canonical round trip.
fn assert_well_formed(input: &str, pipeline: &Pipeline) {
    let n = pipeline.stages.len();
    assert!((1..=MAX_STAGES).contains(&n), "{input:?}: {n} stages");
    for stage in &pipeline.stages {
        let Stage::Mogr(mogr) = stage else { continue };
        let quality_ok = match mogr.output.quality {
            Some(QualitySpec::Absolute { value, .. }) => value <= 100,
            Some(QualitySpec::Relative(q)) => (1..=100).contains(&q),
            Some(QualitySpec::Floor(q)) => q <= 100,
            None => true,
        };
        assert!(quality_ok, "{input:?}: {:?}", mogr.output);
        assert!(
            mogr.output.size_limit.is_none_or(|l| l.bytes > 0),
            "{input:?}"
        );
        for op in &mogr.ops {
            let in_range = match *op {
                Op::Cgif(n) => (1..=100).contains(&n),
                Op::Thumbnail { size, pad } => {
                    thumb_ok(size) && (pad.is_none() || matches!(size, ThumbSize::Fit { .. }))
                }
                Op::Crop {
                    width,
                    height,
                    dx,
                    dy,
                    ..
                } => {
                    (width.is_some() || height.is_some())
                        && width.is_none_or(size_ok)
                        && height.is_none_or(size_ok)
                        && dx <= MAX_PIXELS
                        && dy <= MAX_PIXELS
                }
                Op::Cut {
                    width,
                    height,
                    dx,
                    dy,
                } => size_ok(width) && size_ok(height) && dx <= MAX_PIXELS && dy <= MAX_PIXELS,
                Op::IRadius(r) | Op::RRadius(r) => size_ok(r),
                Op::Scrop { width, height } => size_ok(width) && size_ok(height),
                Op::Rotate(d) => d <= 360,
                Op::Blur { radius, sigma } => {
                    (1..=50).contains(&radius) && (1..=50).contains(&sigma)
                }
                Op::Sharpen(v) => (10..=300).contains(&v),
                Op::Bright(v) | Op::Contrast(v) => (-100..=100).contains(&v),
                Op::Flip(_) | Op::Grayscale(_) | Op::AutoOrient => true,
            };
            assert!(in_range, "{input:?}: {op:?} out of range");
        }
    }
    let canonical = pipeline.to_string();
    assert_eq!(
        parse(&canonical).as_ref(),
        Ok(pipeline),
        "{input:?} printed as {canonical:?}"
    );
}

/// Parse one input, check it, and tally the outcome as (ok, err).
fn check(input: &str, tally: &mut (usize, usize)) {
    match parse(input) {
        Ok(pipeline) => {
            assert_well_formed(input, &pipeline);
            tally.0 += 1;
        }
        Err(_) => tally.1 += 1,
    }
}

/// Cut `s` at two random char boundaries.
fn random_slice<'a>(rng: &mut Rng, s: &'a str) -> &'a str {
    let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
    let a = bounds[rng.below(bounds.len())];
    let b = bounds[rng.below(bounds.len())];
    &s[a.min(b)..a.max(b)]
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut tally = (0, 0);
    // The only failure mode here is a panic (or a malformed `Ok`) inside `check`.
    for _ in 0..5_000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        check(&text, &mut tally);
        check(random_slice(&mut rng, &text), &mut tally);
    }
}

#[test]
fn grammar_soup_never_panics_and_reaches_both_outcomes() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut tally = (0, 0);
    for _ in 0..10_000 {
        let mut rule = String::new();
        if rng.below(2) == 0 {
            rule.push_str("imageMogr2/");
        }
        for _ in 0..rng.below(24) {
            rule.push_str(rng.pick(FRAGMENTS));
        }
        check(&rule, &mut tally);
        check(random_slice(&mut rng, &rule), &mut tally);
    }
    assert!(tally.0 > 0, "the generator never produced a valid rule");
    assert!(tally.1 > 0, "the generator never produced an invalid rule");
}

#[test]
fn mutated_valid_rules_never_panic() {
    for rule in VALID {
        assert!(parse(rule).is_ok(), "seed rule {rule} must parse");
    }
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    let mut tally = (0, 0);
    for _ in 0..10_000 {
        let mut rule: String = rng.pick(VALID).to_owned();
        for _ in 0..=rng.below(4) {
            let bounds: Vec<usize> = rule
                .char_indices()
                .map(|(i, _)| i)
                .chain([rule.len()])
                .collect();
            let at = bounds[rng.below(bounds.len())];
            match rng.below(4) {
                0 => rule.insert_str(at, rng.pick(FRAGMENTS)),
                1 if at < rule.len() => {
                    rule.remove(at);
                }
                2 => {
                    let piece = random_slice(&mut rng, &rule).to_owned();
                    rule.insert_str(at, &piece);
                }
                _ => rule.truncate(at),
            }
        }
        check(&rule, &mut tally);
    }
    assert!(
        tally.0 > 0 && tally.1 > 0,
        "mutations hit only one outcome: {tally:?}"
    );
}
