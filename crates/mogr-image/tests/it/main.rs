//! The integration tests of this crate, in one binary so codecs are linked once.

mod corpus_support;
mod decode_bombs;
mod decode_corpus;
mod decode_formats;
mod decode_jpeg_corpus;
mod decode_trust;
mod encode_animation;
mod encode_corpus;
mod encode_png_level;
mod encode_quality_defaults;
mod encode_still;
mod encode_support;
mod engine_corpus;
mod engine_rules;
mod memory;
mod ops_effects;
mod ops_geometry;
mod robustness;
mod watermark;
