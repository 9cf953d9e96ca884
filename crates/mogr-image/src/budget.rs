//! Bounding the work of one job: a deadline and a cancellation flag checked between steps,
//! and the cost model that predicts what a step will take.
//!
//! Codec calls (one libheif/libaom encode, one libwebp encode, one decode) cannot be stopped
//! once started; the engine checks the budget before and after each of them, between
//! pipeline stages and between the frames of an animation. A step predicted to overrun the
//! time left is refused before it starts, so a single heavy encode cannot run far past the
//! deadline.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mogr_rule::{MogrStage, OutputFormat, Pipeline, Stage};

use crate::engine::{default_output, EngineConfig};
use crate::error::{ImageError, Result};
use crate::model::{ImageFormat, Probe};
use crate::ops::registry;
use crate::ops::Size;

/// How long a job may run and whether its requester still wants the result.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    deadline: Option<Instant>,
    cancelled: Option<Arc<AtomicBool>>,
    /// Set once a check refused to go on because of `cancelled` (not because of time).
    stopped: Arc<AtomicBool>,
}

impl Budget {
    /// No deadline and nobody to cancel: the CLI's budget.
    pub fn unlimited() -> Budget {
        Budget::default()
    }

    /// A budget of `limit` from now (`None`: no deadline), cancelled when `flag` becomes true.
    pub fn new(limit: Option<Duration>, flag: Option<Arc<AtomicBool>>) -> Budget {
        Budget {
            deadline: limit.map(|l| Instant::now() + l),
            cancelled: flag,
            stopped: Arc::default(),
        }
    }

    /// Whether the requester has gone.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Whether a check has stopped the job because the requester went away.
    pub fn was_stopped_by_cancel(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Time left before the deadline (`None`: no deadline).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// `Cancelled` when the requester has gone, `TimeBudgetExceeded` past the deadline.
    pub fn check(&self) -> Result<()> {
        self.ensure(Duration::ZERO, "processing")
    }

    /// As [`check`](Self::check), and also refuses a step predicted to take `predicted`
    /// when even half of that is more than the time left: the prediction comes from a fixed
    /// table, so only steps that clearly cannot finish in time are refused early.
    pub fn ensure(&self, predicted: Duration, step: &str) -> Result<()> {
        if self.is_cancelled() {
            self.stopped.store(true, Ordering::Relaxed);
            return Err(ImageError::Cancelled);
        }
        let Some(deadline) = self.deadline else {
            return Ok(());
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(ImageError::TimeBudgetExceeded(format!(
                "{step} was stopped at the processing time limit"
            )));
        }
        if predicted / 2 > deadline - now {
            return Err(ImageError::TimeBudgetExceeded(format!(
                "{step} would need about {} ms, more than the {} ms left of the processing time limit",
                predicted.as_millis(),
                (deadline - now).as_millis()
            )));
        }
        Ok(())
    }
}

/// What a source looks like before it is decoded, for predicting the cost of a pipeline.
#[derive(Debug, Clone, Copy)]
pub struct SourceShape {
    /// Format, canvas and frame count from the headers, when they could be read.
    pub probe: Option<Probe>,
    /// Size of the encoded source in bytes.
    pub bytes: u64,
}

/// Canvas pixels assumed per encoded byte when the headers could not be read: a JPEG photo
/// carries three to four pixels per byte, so this errs towards the larger (costlier) image.
const PIXELS_PER_BYTE_UNKNOWN: u64 = 8;

/// Predicted milliseconds of one core to decode one megapixel of `format`.
fn decode_ms_per_mp(format: ImageFormat) -> f64 {
    match format {
        ImageFormat::Jpeg => 8.0,
        ImageFormat::Bmp => 4.0,
        ImageFormat::Png | ImageFormat::Gif => 15.0,
        ImageFormat::Webp => 25.0,
        ImageFormat::Heif | ImageFormat::Avif => 80.0,
    }
}

/// Predicted milliseconds of one core to encode one megapixel as `format`, from timings of
/// 12 MP photos on a 2-core machine (HEIF/AVIF at the default speeds are 50-80x JPEG).
pub fn encode_ms_per_mp(format: OutputFormat, cfg: &EngineConfig) -> f64 {
    match format {
        OutputFormat::Jpeg => 12.0,
        OutputFormat::Bmp => 4.0,
        OutputFormat::Png => 30.0,
        OutputFormat::Gif => 40.0,
        OutputFormat::Yjpeg | OutputFormat::Webp => 110.0,
        // libaom speeds 8-9 are several times faster than the default 6.
        OutputFormat::Avif if cfg.avif_speed >= 8 => 250.0,
        OutputFormat::Heif | OutputFormat::Heic | OutputFormat::Avif => 750.0,
        OutputFormat::Tpg => 0.0,
    }
}

/// Milliseconds predicted for `ms_per_mp` over `pixels`.
pub fn predict(ms_per_mp: f64, pixels: u64) -> Duration {
    Duration::from_secs_f64(ms_per_mp * pixels as f64 / 1e9)
}

/// Predicted single-core time of `pipeline` on a source shaped like `source`.
///
/// Header-only stages (`imageInfo`, `exif`) cost nothing; a stage after one that produced
/// JSON fails at once. The prediction is rough (a fixed table, not this machine's speed) and
/// serves to rank jobs against each other, not to promise a duration.
pub fn estimate(pipeline: &Pipeline, source: SourceShape, cfg: &EngineConfig) -> Duration {
    let (mut format, mut pixels, mut frames) = match source.probe {
        Some(p) => (p.format, u64::from(p.width) * u64::from(p.height), p.frames),
        None => (
            ImageFormat::Png,
            source.bytes.saturating_mul(PIXELS_PER_BYTE_UNKNOWN),
            1,
        ),
    };
    let mut canvas = source.probe.map(|p| Size::new(p.width, p.height));
    let limits = &cfg.limits;
    pixels = pixels.min(limits.max_pixels);
    frames = frames.clamp(1, limits.max_frames.max(1));
    let mut total = Duration::ZERO;
    for stage in &pipeline.stages {
        let all_frames = pixels
            .saturating_mul(u64::from(frames))
            .min(limits.max_total_pixels.max(pixels));
        match stage {
            Stage::ImageInfo | Stage::Exif => return total,
            Stage::ImageAve => return total + predict(decode_ms_per_mp(format), all_frames),
            Stage::Mogr(m) => {
                let out = m.output.format.unwrap_or_else(|| default_output(format));
                let out_frames = if matches!(out, OutputFormat::Gif | OutputFormat::Webp) {
                    frames
                } else {
                    1
                };
                total += predict(decode_ms_per_mp(format), all_frames);
                // The encoder sees the canvas the operations leave (a thumbnail's, not the
                // source's), and so does the next stage's decoder.
                canvas = canvas.map(|c| planned_canvas(m, c));
                if let Some(c) = canvas {
                    pixels = c.area().min(limits.max_pixels);
                }
                total += predict(
                    encode_ms_per_mp(out, cfg),
                    pixels.saturating_mul(u64::from(out_frames)),
                );
                format = as_source(out);
                frames = out_frames;
            }
            Stage::Watermark(w) => {
                // Decode, draw (a tiled mark touches about half the canvas, a single one
                // little of it), and encode again in the same format.
                let out = default_output(format);
                let out_frames = if matches!(out, OutputFormat::Gif | OutputFormat::Webp) {
                    frames
                } else {
                    1
                };
                let draw_ms_per_mp = if w.batch { 6.0 } else { 1.0 };
                total += predict(decode_ms_per_mp(format) + draw_ms_per_mp, all_frames);
                total += predict(
                    encode_ms_per_mp(out, cfg),
                    pixels.saturating_mul(u64::from(out_frames)),
                );
                format = as_source(out);
                frames = out_frames;
            }
        }
    }
    total
}

/// The canvas `stage`'s pixel operations produce from `input`, from sizes alone; an operation
/// that will fail leaves the size where it was (the run reports the error).
fn planned_canvas(stage: &MogrStage, input: Size) -> Size {
    let mut size = input;
    for op in &stage.ops {
        if let Some(Ok(next)) = registry::transform_for(op).map(|t| t.output_size(size)) {
            size = next;
        }
    }
    size
}

/// The format the next stage decodes after an encode to `out`.
fn as_source(out: OutputFormat) -> ImageFormat {
    match out {
        OutputFormat::Jpeg | OutputFormat::Yjpeg | OutputFormat::Tpg => ImageFormat::Jpeg,
        OutputFormat::Png => ImageFormat::Png,
        OutputFormat::Bmp => ImageFormat::Bmp,
        OutputFormat::Gif => ImageFormat::Gif,
        OutputFormat::Webp => ImageFormat::Webp,
        OutputFormat::Heif | OutputFormat::Heic => ImageFormat::Heif,
        OutputFormat::Avif => ImageFormat::Avif,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(format: ImageFormat, w: u32, h: u32) -> SourceShape {
        SourceShape {
            probe: Some(Probe::new(format, w, h, 1)),
            bytes: 1000,
        }
    }

    #[test]
    fn heavy_encodes_and_stages_add_up() {
        let cfg = EngineConfig::default();
        let photo = shape(ImageFormat::Jpeg, 4000, 3000);
        let jpg = estimate(
            &mogr_rule::parse("imageMogr2/format/jpg").unwrap(),
            photo,
            &cfg,
        );
        let avif = estimate(
            &mogr_rule::parse("imageMogr2/format/avif").unwrap(),
            photo,
            &cfg,
        );
        let twice = estimate(
            &mogr_rule::parse("imageMogr2/format/avif|imageMogr2/format/heif").unwrap(),
            photo,
            &cfg,
        );
        assert!(avif > jpg * 20, "{avif:?} vs {jpg:?}");
        assert!(twice > avif * 2 - jpg, "{twice:?} vs {avif:?}");
        let info = estimate(&mogr_rule::parse("imageInfo").unwrap(), photo, &cfg);
        assert_eq!(info, Duration::ZERO);
    }

    #[test]
    fn a_thumbnail_makes_the_encode_cheaper() {
        let cfg = EngineConfig::default();
        let photo = shape(ImageFormat::Jpeg, 4000, 3000);
        let full = estimate(
            &mogr_rule::parse("imageMogr2/format/avif").unwrap(),
            photo,
            &cfg,
        );
        let thumb = estimate(
            &mogr_rule::parse("imageMogr2/thumbnail/400x/format/avif").unwrap(),
            photo,
            &cfg,
        );
        assert!(thumb * 10 < full, "{thumb:?} vs {full:?}");
    }

    #[test]
    fn a_cancelled_budget_stops_and_remembers_why() {
        let flag = Arc::new(AtomicBool::new(false));
        let b = Budget::new(None, Some(Arc::clone(&flag)));
        assert!(b.check().is_ok());
        flag.store(true, Ordering::Relaxed);
        assert!(matches!(b.check(), Err(ImageError::Cancelled)));
        assert!(b.was_stopped_by_cancel());
    }

    #[test]
    fn a_step_that_cannot_fit_is_refused_before_it_starts() {
        let b = Budget::new(Some(Duration::from_secs(10)), None);
        assert!(b.ensure(Duration::from_secs(1), "x").is_ok());
        assert!(matches!(
            b.ensure(Duration::from_secs(60), "x"),
            Err(ImageError::TimeBudgetExceeded(_))
        ));
        let spent = Budget::new(Some(Duration::ZERO), None);
        assert!(matches!(
            spent.check(),
            Err(ImageError::TimeBudgetExceeded(_))
        ));
        assert!(!spent.was_stopped_by_cancel());
        assert!(Budget::unlimited()
            .ensure(Duration::from_secs(3600), "x")
            .is_ok());
    }
}
