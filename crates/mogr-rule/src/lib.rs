//! imageMogr2 rule grammar: a pure, total parser from a rule string to a typed [`Pipeline`].

mod ast;
mod error;
mod key;
mod parse;

pub use ast::{MogrStage, Op, OutputFormat, Pipeline, QualitySpec, Stage, MAX_STAGES};
pub use error::RuleError;
pub use key::is_processing_key;
pub use parse::parse;
