//! The integration tests of this crate, in one binary so codecs are linked once.

mod common;
mod processing_common;
mod auth;
mod large;
mod multipart;
mod objects;
mod processing_cloud;
mod processing_download;
mod processing_load;
mod processing_upload;
mod hostile_images;
mod wire;
