//! The contract every pixel operation of an `imageMogr2` stage implements.
//!
//! An operation first says what canvas it will produce from the canvas it gets, without
//! touching pixels, so the engine can check the limits of every step before anything is
//! allocated; then it transforms frames, one at a time and all the same way, so animations
//! keep every frame, its delay and the loop count.

use image::DynamicImage;

use crate::error::Result;

/// Width and height of a canvas, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Size {
    /// A size from its two sides.
    pub const fn new(width: u32, height: u32) -> Size {
        Size { width, height }
    }

    /// Pixels on the canvas.
    pub fn area(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// One pixel operation of an `imageMogr2` stage (thumbnail, crop, rotate, blur, ...).
pub trait Transform: std::fmt::Debug + Send + Sync {
    /// The rule token this operation came from (`thumbnail`, `crop`, ...), for error messages.
    fn name(&self) -> &'static str;

    /// The canvas this operation produces from an `input` canvas, computed from sizes alone.
    /// Arguments that cannot apply to this input (a crop offset outside the image, a radius
    /// over half the side) are `ImageError::InvalidArgument` naming the token.
    fn output_size(&self, input: Size) -> Result<Size>;

    /// Transforms one full-canvas frame of `input` size into a frame of `output_size(input)`.
    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage>;
}
