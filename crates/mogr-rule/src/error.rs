//! Typed parse errors; each names the offending token.

/// Why a rule string is not a valid pipeline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The rule (or a stage between pipes) is empty.
    #[error("empty rule or stage")]
    Empty,
    /// The rule is not valid percent-encoded UTF-8.
    #[error("rule is not valid percent-encoded UTF-8")]
    InvalidEncoding,
    /// More than [`crate::MAX_STAGES`] stages.
    #[error("too many pipeline stages: {0} (at most 10)")]
    TooManyStages(usize),
    /// The stage does not start with a known processor (`imageMogr2`, `imageInfo`, ...).
    #[error("unknown processor `{0}`")]
    UnknownProcessor(String),
    /// A processor or operation the grammar knows but this engine does not execute yet.
    #[error("unsupported operation `{0}`")]
    Unsupported(String),
    /// A token that is not an imageMogr2 operation at all.
    #[error("unknown operation `{0}`")]
    UnknownOperation(String),
    /// An operation that needs an argument came last.
    #[error("operation `{0}` needs an argument")]
    MissingArgument(String),
    /// A modifier (`gravity`, `dx`, `dy`, `pad`, `color`) with no operation to qualify where it
    /// stands.
    #[error("modifier `{modifier}` qualifies nothing here: it must {placement}")]
    OrphanModifier {
        /// The modifier name.
        modifier: String,
        /// Where it would have been accepted.
        placement: &'static str,
    },
    /// An argument out of range or of the wrong form.
    #[error("invalid argument `{arg}` for `{op}`")]
    InvalidArgument {
        /// The operation name.
        op: String,
        /// The offending argument.
        arg: String,
    },
}
