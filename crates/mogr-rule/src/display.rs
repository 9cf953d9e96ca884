//! The canonical rule string of a pipeline, the key of the future variant cache.
//!
//! One stage prints its transforms in order, then its output settings in a fixed order (`format`,
//! quality, `interlace/1`, `strip`, `size-limit`), then `ignore-error/1`; defaults print nothing.
//! So two spellings of the same rule print identically, and `parse(&p.to_string()) == Ok(p)` for
//! every parsed pipeline. imageView2 stages print as their imageMogr2 equivalent, except modes 4
//! and 5, which only imageView2 can spell.

use std::fmt;

use crate::ops::{self, quality};
use crate::{view2, MogrStage, Op, OutputSpec, Pipeline, QualitySpec, Stage};

impl fmt::Display for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, stage) in self.stages.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            write!(f, "{stage}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Mogr(stage) => write!(f, "{stage}"),
            Stage::ImageInfo => f.write_str("imageInfo"),
            Stage::ImageAve => f.write_str("imageAve"),
            Stage::Exif => f.write_str("exif"),
            Stage::Watermark(watermark) => write!(f, "{watermark}"),
        }
    }
}

impl fmt::Display for MogrStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((mode, long, short)) = view2::edge_mode(self) {
            return view2_form(f, mode, long, short, self);
        }
        f.write_str("imageMogr2")?;
        for op in &self.ops {
            write!(f, "/{op}")?;
        }
        write!(f, "{}", self.output)?;
        if self.ignore_error {
            f.write_str("/ignore-error/1")?;
        }
        Ok(())
    }
}

/// The output settings, each with a leading `/`; nothing for the defaults.
impl fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(format) = self.format {
            f.write_str("/")?;
            ops::format::fmt(f, format)?;
        }
        if let Some(q) = self.quality {
            f.write_str("/")?;
            quality::fmt(f, q)?;
        }
        if self.interlace {
            f.write_str("/interlace/1")?;
        }
        if self.strip {
            f.write_str("/strip")?;
        }
        if let Some(limit) = self.size_limit {
            f.write_str("/")?;
            ops::size_limit::fmt(f, limit)?;
        }
        Ok(())
    }
}

/// `imageView2/<mode>/w/<long>/h/<short>` and the keys imageView2 has.
fn view2_form(
    f: &mut fmt::Formatter<'_>,
    mode: u8,
    long: u32,
    short: u32,
    stage: &MogrStage,
) -> fmt::Result {
    write!(f, "imageView2/{mode}/w/{long}/h/{short}")?;
    if let Some(format) = stage.output.format {
        write!(f, "/format/{}", format.name())?;
    }
    match stage.output.quality {
        Some(QualitySpec::Absolute { value, force }) => {
            write!(f, "/q/{value}{}", if force { "!" } else { "" })?
        }
        Some(QualitySpec::Relative(q)) => write!(f, "/rq/{q}")?,
        Some(QualitySpec::Floor(q)) => write!(f, "/lq/{q}")?,
        None => {}
    }
    if stage.ignore_error {
        f.write_str("/ignore-error/1")?;
    }
    Ok(())
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ops::*;
        match *self {
            Op::Thumbnail { size, pad } => thumbnail::fmt(f, size, pad),
            Op::Crop {
                width,
                height,
                gravity,
                dx,
                dy,
            } => crop::fmt(f, width, height, gravity, dx, dy),
            Op::Cut {
                width,
                height,
                dx,
                dy,
            } => cut::fmt(f, width, height, dx, dy),
            Op::IRadius(r) => iradius::fmt(f, r),
            Op::RRadius(r) => rradius::fmt(f, r),
            Op::Rotate(degrees) => rotate::fmt(f, degrees),
            Op::Flip(axis) => flip::fmt(f, axis),
            Op::Blur { radius, sigma } => blur::fmt(f, radius, sigma),
            Op::Sharpen(amount) => sharpen::fmt(f, amount),
            Op::Bright(value) => bright::fmt(f, value),
            Op::Contrast(value) => contrast::fmt(f, value),
            Op::Grayscale(on) => grayscale::fmt(f, on),
            Op::Scrop { width, height } => scrop::fmt(f, width, height),
            Op::AutoOrient => auto_orient::fmt(f),
            Op::Cgif(frames) => cgif::fmt(f, frames),
        }
    }
}
