//! Size limits, checked from headers before any pixels are allocated (docs/cos-protocol.md, "Limits").

use crate::error::{ImageError, Result};
use crate::model::Probe;

/// Configurable processing limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input in bytes (default 32 MiB).
    pub max_input_bytes: u64,
    /// Largest width or height (default 50000).
    pub max_side: u32,
    /// Largest width or height of WebP output (16383, libwebp's own bound).
    pub max_webp_side: u32,
    /// Largest width × height of one frame (default 250 MP).
    pub max_pixels: u64,
    /// Most frames (default 300).
    pub max_frames: u32,
    /// Largest width × height × frames (default 250 MP).
    pub max_total_pixels: u64,
    /// Memory budget for image work in bytes (default half of the machine's memory, or of
    /// its cgroup limit): a job whose predicted peak is over it is refused as too large, and
    /// the server admits concurrent jobs only while their predictions fit in it together.
    pub max_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 32 << 20,
            max_side: 50_000,
            max_webp_side: 16_383,
            max_pixels: 250_000_000,
            max_frames: 300,
            max_total_pixels: 250_000_000,
            max_memory: crate::memory::default_max_memory(),
        }
    }
}

impl Limits {
    /// Refuse input whose byte length is over the limit.
    pub fn check_bytes(&self, len: usize) -> Result<()> {
        if len as u64 > self.max_input_bytes {
            return Err(ImageError::TooLarge(format!(
                "{len} bytes is over the {} byte limit",
                self.max_input_bytes
            )));
        }
        Ok(())
    }

    /// Refuse a canvas or frame count over the limits, from header facts alone.
    pub fn check_probe(&self, p: &Probe) -> Result<()> {
        self.check_canvas(p.width, p.height)?;
        self.check_frames(p.width, p.height, p.frames)
    }

    /// Refuse a canvas whose side or area is over the limits.
    pub fn check_canvas(&self, width: u32, height: u32) -> Result<()> {
        if width == 0 || height == 0 {
            return Err(ImageError::InvalidArgument(format!(
                "image has an empty canvas ({width}x{height})"
            )));
        }
        if width > self.max_side || height > self.max_side {
            return Err(ImageError::ResolutionExceed(format!(
                "{width}x{height} has a side over {} px",
                self.max_side
            )));
        }
        let px = width as u64 * height as u64;
        if px > self.max_pixels {
            return Err(ImageError::ResolutionExceed(format!(
                "{width}x{height} is {px} pixels, over {}",
                self.max_pixels
            )));
        }
        Ok(())
    }

    /// Refuse too many frames, or too many pixels over all frames.
    pub fn check_frames(&self, width: u32, height: u32, frames: u32) -> Result<()> {
        if frames > self.max_frames {
            return Err(ImageError::ResolutionExceed(format!(
                "{frames} frames is over the {} frame limit",
                self.max_frames
            )));
        }
        let total = width as u64 * height as u64 * frames.max(1) as u64;
        if total > self.max_total_pixels {
            return Err(ImageError::ResolutionExceed(format!(
                "{width}x{height}x{frames} frames is {total} pixels, over {}",
                self.max_total_pixels
            )));
        }
        Ok(())
    }
}
