//! Facts about a parsed rule that the HTTP layer needs.

use mogr_image::{Engine, SourceShape};
use mogr_rule::{Pipeline, Stage};

use super::pool::Cost;

/// Whether any stage asked for `ignore-error/1`: over-limit sources then come back as the
/// original bytes instead of an error.
pub fn ignores_limit_errors(pipeline: &Pipeline) -> bool {
    pipeline
        .stages
        .iter()
        .any(|s| matches!(s, Stage::Mogr(m) if m.ignore_error))
}

/// What running `pipelines` on a source shaped like `source` costs the pool; `describe` adds
/// a full decode for the original's `ImageInfo` (its average colour needs the pixels).
pub fn cost<'a>(
    engine: &Engine,
    pipelines: impl IntoIterator<Item = &'a Pipeline>,
    describe: bool,
    source: SourceShape,
) -> Cost {
    let mut predicted = pipelines
        .into_iter()
        .map(|p| engine.estimate(p, source))
        .sum();
    if describe {
        let decode = Pipeline {
            stages: vec![Stage::ImageAve],
        };
        predicted += engine.estimate(&decode, source);
    }
    Cost::from_predicted(predicted)
}

/// The memory running `pipelines` one after the other on a source shaped like `source` needs
/// at its peak (the largest of them; `describe` adds a full decode for `ImageInfo`).
pub fn memory_peak<'a>(
    engine: &Engine,
    pipelines: impl IntoIterator<Item = &'a Pipeline>,
    describe: bool,
    source: SourceShape,
) -> u64 {
    let cfg = &engine.config;
    let mut peak = pipelines
        .into_iter()
        .map(|p| mogr_image::memory::estimate(p, source, cfg))
        .max()
        .unwrap_or(source.bytes);
    if describe {
        let decode = Pipeline {
            stages: vec![Stage::ImageAve],
        };
        peak = peak.max(mogr_image::memory::estimate(&decode, source, cfg));
    }
    peak
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processing::pool::Lane;
    use mogr_image::{ImageFormat, Probe};

    #[test]
    fn header_reads_are_cheap_and_heavy_encodes_of_big_images_are_not() {
        let engine = Engine::default();
        let photo = SourceShape {
            probe: Some(Probe::new(ImageFormat::Jpeg, 4000, 3000, 1)),
            bytes: 4 << 20,
        };
        let info = mogr_rule::parse("imageInfo").unwrap();
        assert_eq!(cost(&engine, [&info], false, photo).lane, Lane::Cheap);
        let avif = mogr_rule::parse("imageMogr2/format/avif").unwrap();
        let heavy = cost(&engine, [&avif], false, photo);
        assert_eq!(heavy.lane, Lane::Heavy);
        assert!(heavy.weight > 4, "{heavy:?}");
        assert!(cost(&engine, [&avif, &avif], true, photo).weight > heavy.weight);
    }

    #[test]
    fn ignore_error_in_any_stage_counts() {
        let yes =
            mogr_rule::parse("imageMogr2/format/png|imageMogr2/ignore-error/1/strip").unwrap();
        let no = mogr_rule::parse("imageMogr2/ignore-error/0/format/png").unwrap();
        assert!(ignores_limit_errors(&yes));
        assert!(!ignores_limit_errors(&no));
        assert!(!ignores_limit_errors(
            &mogr_rule::parse("imageInfo").unwrap()
        ));
    }
}
