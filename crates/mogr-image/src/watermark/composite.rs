//! Source-over compositing of a straight-alpha RGBA mark onto a frame.
//!
//! Opaque frames (RGB) stay opaque: each channel moves from the frame's value towards the
//! mark's by the mark's alpha. Frames with alpha get the full Porter-Duff "over", so a mark
//! on a transparent area keeps its own opacity rather than becoming opaque or vanishing.
//! Grey and 16-bit frames are drawn on as 8-bit RGB(A): the mark has a colour, and the
//! encoders write 8 bits anyway.

use image::{DynamicImage, RgbImage, RgbaImage};

/// `src` over `dst`, both with straight alpha.
pub(crate) fn over(src: [u8; 4], dst: [u8; 4]) -> [u8; 4] {
    let sa = u32::from(src[3]);
    if sa == 255 {
        return src;
    }
    if sa == 0 {
        return dst;
    }
    let da = u32::from(dst[3]);
    // All in units of 255 * 255: out_a = sa + da (1 - sa).
    let out_a = sa * 255 + da * (255 - sa);
    if out_a == 0 {
        return [0, 0, 0, 0];
    }
    let mut out = [0u8; 4];
    for c in 0..3 {
        let num = u32::from(src[c]) * sa * 255 + u32::from(dst[c]) * da * (255 - sa);
        out[c] = ((num + out_a / 2) / out_a).min(255) as u8;
    }
    out[3] = ((out_a + 127) / 255).min(255) as u8;
    out
}

/// `src` channel over an opaque `dst` channel at alpha `a`.
fn mix(src: u8, dst: u8, a: u32) -> u8 {
    ((u32::from(src) * a + u32::from(dst) * (255 - a) + 127) / 255) as u8
}

/// A frame in a layout the mark can be drawn on.
pub(crate) enum Canvas {
    /// No alpha channel.
    Opaque(RgbImage),
    /// With alpha.
    Alpha(RgbaImage),
}

impl Canvas {
    /// The frame's pixels as 8-bit RGB or RGBA.
    pub(crate) fn of(frame: &DynamicImage) -> Canvas {
        match frame {
            DynamicImage::ImageRgb8(img) => Canvas::Opaque(img.clone()),
            DynamicImage::ImageRgba8(img) => Canvas::Alpha(img.clone()),
            other if other.color().has_alpha() => Canvas::Alpha(other.to_rgba8()),
            other => Canvas::Opaque(other.to_rgb8()),
        }
    }

    /// Back to a frame.
    pub(crate) fn into_frame(self) -> DynamicImage {
        match self {
            Canvas::Opaque(img) => DynamicImage::ImageRgb8(img),
            Canvas::Alpha(img) => DynamicImage::ImageRgba8(img),
        }
    }

    /// Draws `mark` with its top-left corner at (`x`, `y`), clipped to the frame.
    pub(crate) fn draw(&mut self, mark: &RgbaImage, x: i64, y: i64) {
        let (fw, fh) = match self {
            Canvas::Opaque(img) => img.dimensions(),
            Canvas::Alpha(img) => img.dimensions(),
        };
        let (mw, mh) = mark.dimensions();
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = (x + i64::from(mw)).min(i64::from(fw));
        let y1 = (y + i64::from(mh)).min(i64::from(fh));
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        for fy in y0..y1 {
            let my = (fy - y) as u32;
            for fx in x0..x1 {
                let src = mark.get_pixel((fx - x) as u32, my).0;
                if src[3] == 0 {
                    continue;
                }
                let (fx, fy) = (fx as u32, fy as u32);
                match self {
                    Canvas::Opaque(img) => {
                        let a = u32::from(src[3]);
                        let p = img.get_pixel_mut(fx, fy);
                        for (dst, &s) in p.0.iter_mut().zip(&src[..3]) {
                            *dst = mix(s, *dst, a);
                        }
                    }
                    Canvas::Alpha(img) => {
                        let p = img.get_pixel_mut(fx, fy);
                        p.0 = over(src, p.0);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, Rgba};

    #[test]
    fn over_matches_porter_duff() {
        // Opaque source replaces; transparent source keeps; half over opaque mixes.
        assert_eq!(over([10, 20, 30, 255], [1, 2, 3, 255]), [10, 20, 30, 255]);
        assert_eq!(over([10, 20, 30, 0], [1, 2, 3, 77]), [1, 2, 3, 77]);
        assert_eq!(over([255, 0, 0, 128], [0, 0, 255, 255]), [128, 0, 127, 255]);
        // Half over nothing stays half, with the source's colour.
        assert_eq!(over([200, 100, 50, 128], [0, 0, 0, 0]), [200, 100, 50, 128]);
        // Half over half: alpha 0.75.
        assert_eq!(over([255, 255, 255, 128], [0, 0, 0, 128])[3], 192);
    }

    #[test]
    fn drawing_is_clipped_to_the_frame() {
        let mut canvas = Canvas::of(&DynamicImage::ImageRgb8(RgbImage::from_pixel(
            4,
            4,
            Rgb([0, 0, 0]),
        )));
        let mark = RgbaImage::from_pixel(3, 3, Rgba([255, 255, 255, 255]));
        canvas.draw(&mark, -2, 2);
        canvas.draw(&mark, 100, 100);
        let DynamicImage::ImageRgb8(out) = canvas.into_frame() else {
            panic!("not RGB")
        };
        let white: Vec<(u32, u32)> = out
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0 == [255, 255, 255])
            .map(|(x, y, _)| (x, y))
            .collect();
        assert_eq!(white, vec![(0, 2), (0, 3)]);
    }
}
