//! imageMogr2 operations, one file per operation.

pub mod blur;
pub mod bright;
pub mod cgif;
mod channels;
pub mod contrast;
pub mod crop;
pub mod cut;
pub mod flip;
pub mod geometry;
pub mod grayscale;
pub mod iradius;
pub mod orient;
pub mod pad;
pub mod registry;
pub mod resize;
pub mod rotate;
pub mod rradius;
pub mod scrop;
pub mod sharpen;
pub mod size_limit;
pub mod strip;
pub mod thumbnail;
pub mod transform;

pub use transform::{Size, Transform};
