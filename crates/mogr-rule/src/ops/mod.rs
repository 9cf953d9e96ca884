//! One module per imageMogr2 operation, and the registry that maps an operation name to its
//! parser. Adding an operation is one module plus one registry line (and its [`crate::Op`]
//! variant with its `Display` arm).
//!
//! A parser receives the operation name and the tokens after it, consumes its argument and the
//! modifiers it owns, and records the result in the stage: a transform is pushed onto
//! `stage.ops`, an output setting overwrites its field of `stage.output` (so the last one wins).

use crate::tokens::Tokens;
use crate::{MogrStage, RuleError};

pub(crate) mod auto_orient;
pub(crate) mod blur;
pub(crate) mod bright;
pub(crate) mod cgif;
pub(crate) mod contrast;
pub(crate) mod crop;
pub(crate) mod cut;
pub(crate) mod flip;
pub(crate) mod format;
pub(crate) mod grayscale;
pub(crate) mod ignore_error;
pub(crate) mod interlace;
pub(crate) mod iradius;
pub(crate) mod quality;
pub(crate) mod rotate;
pub(crate) mod rradius;
pub(crate) mod scrop;
pub(crate) mod sharpen;
pub(crate) mod size_limit;
pub(crate) mod strip;
pub(crate) mod thumbnail;

#[cfg(test)]
mod test_util;

/// Parses one operation (named by the first argument) from the tokens after its name.
pub(crate) type ParseFn = fn(&str, &mut Tokens<'_>, &mut MogrStage) -> Result<(), RuleError>;

/// Operation (or modifier) name -> parser.
const REGISTRY: &[(&str, ParseFn)] = &[
    ("thumbnail", thumbnail::parse),
    ("pad", thumbnail::misplaced),
    ("color", thumbnail::misplaced),
    ("crop", crop::parse),
    ("gravity", crop::parse_leading),
    ("dx", crop::parse_leading),
    ("dy", crop::parse_leading),
    ("cut", cut::parse),
    ("iradius", iradius::parse),
    ("rradius", rradius::parse),
    ("scrop", scrop::parse),
    ("rotate", rotate::parse),
    ("flip", flip::parse),
    ("blur", blur::parse),
    ("sharpen", sharpen::parse),
    ("bright", bright::parse),
    ("contrast", contrast::parse),
    ("grayscale", grayscale::parse),
    ("auto-orient", auto_orient::parse),
    ("cgif", cgif::parse),
    ("format", format::parse),
    ("quality", quality::parse),
    ("rquality", quality::parse),
    ("lquality", quality::parse),
    ("interlace", interlace::parse),
    ("strip", strip::parse),
    ("size-limit", size_limit::parse),
    ("ignore-error", ignore_error::parse),
];

/// Documented imageMogr2 operations this engine does not execute: refused by name, never
/// skipped, so a client never receives an image that silently ignored part of its rule.
const UNSUPPORTED: &[&str] = &["rcrop", "minisize", "egif", "tint"];

/// The parser registered for `name`, or the error for a name that has none.
pub(crate) fn lookup(name: &str) -> Result<ParseFn, RuleError> {
    if let Some((_, parse)) = REGISTRY.iter().find(|(n, _)| *n == name) {
        return Ok(*parse);
    }
    if UNSUPPORTED.contains(&name) {
        return Err(RuleError::Unsupported(name.to_owned()));
    }
    Err(RuleError::UnknownOperation(name.to_owned()))
}

/// Parse the tokens of an `imageMogr2` stage, operation by operation, in URL order.
pub(crate) fn parse_stage(mut tokens: Tokens<'_>) -> Result<MogrStage, RuleError> {
    let mut stage = MogrStage::default();
    while let Some(name) = tokens.next() {
        lookup(name)?(name, &mut tokens, &mut stage)?;
    }
    Ok(stage)
}
