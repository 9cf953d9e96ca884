//! The integration tests of this crate, in one binary so codecs are linked once.

mod cli;
mod crash;
mod disk_full;
mod live_server;
mod ops;
mod serve;
mod style_cli;
