//! The integration tests of this crate, in one binary so codecs are linked once.

mod auth;
mod common;
mod empty_headers;
mod hostile_images;
mod keys;
mod large;
mod multipart;
mod objects;
mod processing_cache;
mod processing_cloud;
mod processing_common;
mod processing_download;
mod processing_load;
mod processing_ops;
mod processing_upload;
mod processing_watermark;
mod refused_bodies;
mod signed_scope;
mod store_scale;
mod styles;
mod wire;
mod work_bounds;
