//! The imageMogr2 image engine: bytes and a rule in, bytes and an info record out.
//! Knows nothing of HTTP or storage.

pub mod animation;
pub mod budget;
pub mod decode;
pub mod encode;
pub mod engine;
pub mod error;
pub mod info;
pub mod limits;
pub mod memory;
pub mod model;
pub mod ops;
pub mod quality;
pub mod sniff;
pub mod text;
pub mod watermark;

pub use budget::{Budget, SourceShape};
pub use decode::decode;
pub use engine::{Engine, EngineConfig, Output};
pub use error::{ImageError, Result};
pub use info::{exif_json, header_info, image_ave_json, image_info, ImageInfo};
pub use limits::Limits;
pub use model::{Frame, Image, ImageFormat, Metadata, Probe, SourceInfo};
pub use mogr_rule::{OutputFormat, Pipeline};
pub use sniff::{probe, sniff};
pub use text::FontBook;
pub use watermark::Assets;
