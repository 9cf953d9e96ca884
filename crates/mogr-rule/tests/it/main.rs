//! The integration tests of this crate, in one binary so codecs are linked once.

mod canonical;
mod grammar;
mod totality;
