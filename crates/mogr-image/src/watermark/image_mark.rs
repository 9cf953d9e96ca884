//! The mark of an image watermark: decode it (stills only), scale it relative to the image
//! (`scatype`/`spcent`), and make it fit (`blogo`).

use image::{DynamicImage, RgbaImage};
use mogr_rule::{Fit, ImageMark, Scale, ScaleBasis};

use crate::decode;
use crate::error::{ImageError, Result};
use crate::limits::Limits;
use crate::ops::resize::resize;
use crate::ops::Size;
use crate::sniff;

/// The watermark's pixels, ready to place on a `canvas`-sized image.
pub(super) fn prepare(
    mark: &ImageMark,
    bytes: &[u8],
    canvas: Size,
    limits: &Limits,
) -> Result<RgbaImage> {
    limits.check_bytes(bytes.len())?;
    let probe = sniff::probe(bytes)?;
    limits.check_probe(&probe)?;
    if probe.frames > 1 {
        return Err(animated());
    }
    let decoded = decode::decode(bytes, limits)?;
    if decoded.is_animated() {
        return Err(animated());
    }
    let Some(frame) = decoded.frames.into_iter().next() else {
        return Err(ImageError::InvalidArgument(
            "the watermark image has no frame".into(),
        ));
    };
    let mut pixels = frame.image;
    let own = Size::new(pixels.width(), pixels.height());
    if let Some(scale) = mark.scale {
        let to = scaled(own, canvas, scale);
        limits.check_canvas(to.width, to.height)?;
        pixels = resize(&pixels, to)?;
    }
    let pixels = match mark.fit {
        Some(fit) => fitted(pixels, canvas, fit, limits)?,
        None => pixels,
    };
    Ok(pixels.into_rgba8())
}

fn animated() -> ImageError {
    ImageError::InvalidArgument("an animated image cannot be a watermark".into())
}

/// The watermark's size under `scatype`/`spcent`, keeping its aspect ratio; at least 1×1.
pub(super) fn scaled(own: Size, canvas: Size, scale: Scale) -> Size {
    let ratio = f64::from(scale.per_mille) / 1000.0;
    let (w, h) = (f64::from(own.width), f64::from(own.height));
    let factor = match scale.basis {
        ScaleBasis::Width => f64::from(canvas.width) * ratio / w,
        ScaleBasis::Height => f64::from(canvas.height) * ratio / h,
        ScaleBasis::Area => (canvas.area() as f64 * ratio / (w * h)).sqrt(),
    };
    let side = |v: f64| (v * factor).round().clamp(1.0, f64::from(u32::MAX)) as u32;
    Size::new(side(w), side(h))
}

/// `blogo`: a watermark larger than the canvas on either side shrinks (keeping its aspect
/// ratio) or is cut (keeping its top-left part) to fit; a smaller one is left alone.
fn fitted(pixels: DynamicImage, canvas: Size, fit: Fit, limits: &Limits) -> Result<DynamicImage> {
    let (w, h) = (pixels.width(), pixels.height());
    if w <= canvas.width && h <= canvas.height {
        return Ok(pixels);
    }
    match fit {
        Fit::Crop => Ok(pixels.crop_imm(0, 0, w.min(canvas.width), h.min(canvas.height))),
        Fit::Shrink => {
            let factor = (f64::from(canvas.width) / f64::from(w))
                .min(f64::from(canvas.height) / f64::from(h));
            let side = |v: u32| ((f64::from(v) * factor).round() as u32).max(1);
            let to = Size::new(side(w).min(canvas.width), side(h).min(canvas.height));
            limits.check_canvas(to.width, to.height)?;
            resize(&pixels, to)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_follows_the_named_measure() {
        let canvas = Size::new(1000, 500);
        let own = Size::new(200, 100);
        let by = |basis, per_mille| scaled(own, canvas, Scale { basis, per_mille });
        assert_eq!(by(ScaleBasis::Width, 500), Size::new(500, 250));
        assert_eq!(by(ScaleBasis::Height, 100), Size::new(100, 50));
        // A quarter of the area: half of each side of a same-shaped image.
        let area = by(ScaleBasis::Area, 250);
        assert_eq!(area.area(), 125_000);
        assert_eq!(by(ScaleBasis::Width, 1), Size::new(1, 1));
    }

    #[test]
    fn blogo_shrinks_or_cuts_only_what_is_too_big() {
        let limits = Limits::default();
        let big = DynamicImage::new_rgba8(400, 100);
        let canvas = Size::new(200, 200);
        let shrunk = fitted(big.clone(), canvas, Fit::Shrink, &limits).unwrap();
        assert_eq!((shrunk.width(), shrunk.height()), (200, 50));
        let cut = fitted(big, canvas, Fit::Crop, &limits).unwrap();
        assert_eq!((cut.width(), cut.height()), (200, 100));
        let small = DynamicImage::new_rgba8(10, 10);
        let kept = fitted(small, canvas, Fit::Shrink, &limits).unwrap();
        assert_eq!((kept.width(), kept.height()), (10, 10));
    }
}
