//! A cursor over the `/`-separated tokens of one stage, with one-step lookahead and rewind so an
//! operation can claim the modifiers that follow it.

use crate::RuleError;

/// The tokens of a stage after its processor name.
#[derive(Debug, Clone)]
pub(crate) struct Tokens<'a> {
    items: Vec<&'a str>,
    pos: usize,
}

impl<'a> Tokens<'a> {
    /// A cursor at the first of `items`.
    pub(crate) fn new(items: Vec<&'a str>) -> Self {
        Tokens { items, pos: 0 }
    }

    /// The next token, consuming it.
    pub(crate) fn next(&mut self) -> Option<&'a str> {
        let token = self.items.get(self.pos).copied();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    /// The next token, left in place.
    pub(crate) fn peek(&self) -> Option<&'a str> {
        self.items.get(self.pos).copied()
    }

    /// The argument of operation `op`: the next token, which must exist.
    pub(crate) fn arg(&mut self, op: &str) -> Result<&'a str, RuleError> {
        self.next()
            .ok_or_else(|| RuleError::MissingArgument(op.to_owned()))
    }

    /// The current position, for [`Tokens::rewind`].
    pub(crate) fn mark(&self) -> usize {
        self.pos
    }

    /// Go back to a position returned by [`Tokens::mark`].
    pub(crate) fn rewind(&mut self, mark: usize) {
        self.pos = mark.min(self.items.len());
    }
}
