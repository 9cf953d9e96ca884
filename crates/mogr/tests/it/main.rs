//! The integration tests of this crate, in one binary so codecs are linked once.

mod cli;
mod ops;
mod crash;
mod disk_full;
mod live_server;
mod serve;
mod style_cli;
