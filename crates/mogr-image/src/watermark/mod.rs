//! `watermark/1` (image) and `watermark/2` (text): build the mark once per image, then draw it
//! on every frame.
//!
//! The engine reads nothing itself: the caller hands in the watermark images (by the URL the
//! rule names) and the fonts as [`Assets`]. Every size is known and checked against the
//! limits before the mark's pixels are allocated.

mod composite;
mod image_mark;
mod overlay;
mod text_mark;

use std::collections::HashMap;
use std::sync::Arc;

use mogr_rule::{Mark, Watermark};

use crate::error::{ImageError, Result};
use crate::limits::Limits;
use crate::ops::Size;
use crate::text::FontBook;

pub use overlay::Overlay;

/// What a pipeline may need besides its source: watermark images and fonts.
#[derive(Clone, Default)]
pub struct Assets {
    images: HashMap<String, Arc<Vec<u8>>>,
    fonts: Option<Arc<FontBook>>,
}

impl std::fmt::Debug for Assets {
    // Image bytes would flood a log line: their URLs and sizes say enough.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let images: HashMap<&str, usize> = self
            .images
            .iter()
            .map(|(url, bytes)| (url.as_str(), bytes.len()))
            .collect();
        f.debug_struct("Assets")
            .field("images", &images)
            .field("fonts", &self.fonts.is_some())
            .finish()
    }
}

impl Assets {
    /// No watermark images and no fonts.
    pub fn new() -> Assets {
        Assets::default()
    }

    /// Adds the encoded image a `watermark/1/image/<b64 url>` stage names by `url`.
    pub fn insert_image(&mut self, url: &str, bytes: Arc<Vec<u8>>) {
        self.images.insert(url.to_owned(), bytes);
    }

    /// Sets the fonts text watermarks draw with.
    pub fn set_fonts(&mut self, fonts: Arc<FontBook>) {
        self.fonts = Some(fonts);
    }

    /// The encoded image handed in for `url`.
    pub fn image(&self, url: &str) -> Option<&[u8]> {
        self.images.get(url).map(|b| b.as_slice())
    }
}

/// The image watermark URLs of a pipeline, in rule order, each once: what a caller must put
/// into [`Assets`] before running it.
pub fn image_urls(pipeline: &mogr_rule::Pipeline) -> Vec<&str> {
    let mut urls: Vec<&str> = Vec::new();
    for stage in &pipeline.stages {
        if let mogr_rule::Stage::Watermark(Watermark {
            mark: Mark::Image(m),
            ..
        }) = stage
        {
            if !urls.contains(&m.url.as_str()) {
                urls.push(&m.url);
            }
        }
    }
    urls
}

/// Whether a pipeline draws text (and so needs fonts).
pub fn needs_fonts(pipeline: &mogr_rule::Pipeline) -> bool {
    pipeline.stages.iter().any(|s| {
        matches!(
            s,
            mogr_rule::Stage::Watermark(Watermark {
                mark: Mark::Text(_),
                ..
            })
        )
    })
}

/// The transform that draws `watermark` on frames of `canvas` size.
pub fn overlay(
    watermark: &Watermark,
    canvas: Size,
    assets: &Assets,
    limits: &Limits,
) -> Result<Overlay> {
    let mark = match &watermark.mark {
        Mark::Image(m) => {
            let bytes = assets.image(&m.url).ok_or_else(|| {
                ImageError::InvalidArgument(format!("watermark image {} was not provided", m.url))
            })?;
            image_mark::prepare(m, bytes, canvas, limits)?
        }
        Mark::Text(t) => {
            let fonts = assets.fonts.as_deref().ok_or_else(|| {
                ImageError::InvalidArgument(format!("unknown font {} (no fonts loaded)", t.font))
            })?;
            text_mark::prepare(t, fonts)?
        }
    };
    Overlay::new(mark, watermark, canvas, limits)
}
