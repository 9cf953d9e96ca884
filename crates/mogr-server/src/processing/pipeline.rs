//! Facts about a parsed rule that the HTTP layer needs.

use mogr_rule::{Pipeline, Stage};

/// Whether any stage asked for `ignore-error/1`: over-limit sources then come back as the
/// original bytes instead of an error (spec §5.3).
pub fn ignores_limit_errors(pipeline: &Pipeline) -> bool {
    pipeline
        .stages
        .iter()
        .any(|s| matches!(s, Stage::Mogr(m) if m.ignore_error))
}

#[cfg(test)]
mod tests {
    use super::*;

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
