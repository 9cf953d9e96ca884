//! The parser is total: arbitrary input yields `Ok` or `Err`, never a panic, and every `Ok`
//! respects the grammar's limits.

use mogr_rule::{parse, Op, Pipeline, QualitySpec, Stage, MAX_STAGES};

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
];

/// Check the invariants every successful parse must hold.
fn assert_well_formed(input: &str, pipeline: &Pipeline) {
    let n = pipeline.stages.len();
    assert!((1..=MAX_STAGES).contains(&n), "{input:?}: {n} stages");
    for stage in &pipeline.stages {
        let Stage::Mogr(mogr) = stage else { continue };
        for op in &mogr.ops {
            let in_range = match *op {
                Op::Cgif(n) => (1..=100).contains(&n),
                Op::Quality(QualitySpec::Absolute { value, .. }) => value <= 100,
                Op::Quality(QualitySpec::Relative(q)) => (1..=100).contains(&q),
                Op::Quality(QualitySpec::Floor(q)) => q <= 100,
                _ => true,
            };
            assert!(in_range, "{input:?}: {op:?} out of range");
        }
    }
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
