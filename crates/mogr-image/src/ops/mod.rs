//! imageMogr2 operations, one file per operation.

pub mod cgif;
pub mod crop;
pub mod cut;
pub mod flip;
pub mod geometry;
pub mod orient;
pub mod pad;
pub mod registry;
pub mod resize;
pub mod rotate;
pub mod strip;
pub mod thumbnail;
pub mod transform;

pub use transform::{Size, Transform};
