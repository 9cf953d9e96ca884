//! imageMogr2 rule grammar: a pure, total parser from a rule string to a typed [`Pipeline`].

mod ast;
mod error;
mod key;
mod parse;

pub use ast::{
    Axis, Gravity, MogrStage, Op, OutputFormat, OutputSpec, Pipeline, QualitySpec, Rgb, SizeLimit,
    Stage, ThumbSize, MAX_AREA, MAX_PERCENT, MAX_PIXELS, MAX_STAGES, MIN_PERCENT,
};
pub use error::RuleError;
pub use key::is_processing_key;
pub use parse::parse;
