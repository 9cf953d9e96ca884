//! Text for text watermarks: the fonts the caller hands in, and one line of shaped,
//! antialiased text rendered to a coverage mask.

mod fonts;
mod render;

pub use fonts::{FaceId, FontBook};
pub use render::{render_text, MAX_TEXT_PIXELS, MAX_TEXT_SIDE};

#[cfg(test)]
mod tests;
