//! imageMogr2 / imageView2 rule grammar: a pure, total parser from a rule string to a typed
//! [`Pipeline`], and its canonical printer (`Display`).

mod args;
mod ast;
mod colour;
mod display;
mod error;
mod key;
mod ops;
mod parse;
mod style;
mod tokens;
mod view2;

pub use ast::{
    Axis, Gravity, MogrStage, Op, OutputFormat, OutputSpec, Pipeline, QualitySpec, Rgb, SizeLimit,
    Stage, ThumbSize, MAX_AREA, MAX_PERCENT, MAX_PIXELS, MAX_STAGES, MIN_PERCENT,
};
pub use error::RuleError;
pub use key::is_processing_key;
pub use parse::parse;
pub use style::{
    check_style, expand, parse_styled, RulePart, StyleError, StyleName, StyleNameError, StyledRule,
    MAX_STYLE_DEPTH, MAX_STYLE_NAME_LEN,
};
