//! The integration tests of this crate, in one binary so codecs are linked once.

mod local_contract;
mod local_crash;
mod local_disk;
mod local_index;
mod local_settings;
mod local_stream;
mod s3_contract;
