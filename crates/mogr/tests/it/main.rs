//! The integration tests of this crate, in one binary so codecs are linked once.

mod cli;
mod crash;
mod disk_full;
mod idle_memory;
mod live_server;
mod ops;
mod serve;
mod style_cli;
