//! imageMogr2 operations, one file per operation.

pub mod blur;
pub mod cgif;
mod channels;
pub mod orient;
pub mod strip;
pub mod transform;

pub use transform::{Size, Transform};
