//! imageMogr2 operations, one file per operation.

pub mod blur;
pub mod bright;
pub mod cgif;
mod channels;
pub mod contrast;
pub mod grayscale;
pub mod iradius;
pub mod orient;
pub mod rradius;
pub mod scrop;
pub mod sharpen;
pub mod size_limit;
pub mod strip;
pub mod transform;

pub use transform::{Size, Transform};
