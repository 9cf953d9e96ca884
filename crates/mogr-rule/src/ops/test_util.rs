//! Helpers for the unit tests beside each operation.

use crate::{parse, MogrStage, Op, Pipeline, RuleError, Stage};

/// The single imageMogr2 stage of `imageMogr2/<rule>`, or its error.
pub(crate) fn stage(rule: &str) -> Result<MogrStage, RuleError> {
    let Pipeline { mut stages } = parse(&format!("imageMogr2/{rule}"))?;
    match stages.remove(0) {
        Stage::Mogr(stage) => Ok(stage),
        other => panic!("{rule}: not an imageMogr2 stage: {other:?}"),
    }
}

/// The transforms of `imageMogr2/<rule>`, or its error.
pub(crate) fn ops(rule: &str) -> Result<Vec<Op>, RuleError> {
    stage(rule).map(|s| s.ops)
}

/// The single transform of `imageMogr2/<rule>`, or its error.
pub(crate) fn op(rule: &str) -> Result<Op, RuleError> {
    let ops = ops(rule)?;
    assert_eq!(ops.len(), 1, "{rule}: {ops:?}");
    Ok(ops[0])
}

/// The canonical rule string of `imageMogr2/<rule>`; panics if it does not parse.
pub(crate) fn canonical(rule: &str) -> String {
    let pipeline = parse(&format!("imageMogr2/{rule}")).unwrap_or_else(|e| panic!("{rule}: {e}"));
    pipeline.to_string()
}

/// Shorthand for [`RuleError::InvalidArgument`].
pub(crate) fn invalid(op: &str, arg: &str) -> RuleError {
    crate::args::invalid(op, arg)
}
