//! `rotate/<deg>`: clockwise rotation by any angle.
//!
//! Quarter turns move pixels exactly. Other angles resample bilinearly onto the rotated
//! bounding box, sized as ImageMagick's `-rotate` sizes it, with the uncovered corners
//! transparent: the frame gains an alpha channel, and encoders of formats without alpha
//! (JPEG) composite it onto white, so the corners are transparent where the output can be and
//! white elsewhere.

use image::{DynamicImage, ImageBuffer, LumaA, Pixel, Rgba};
use rayon::prelude::*;

use crate::error::Result;
use crate::ops::transform::{Size, Transform};

/// Rotate clockwise by `degrees` (any value; taken modulo 360).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotate {
    /// The angle in degrees, clockwise.
    pub degrees: f64,
}

/// How a rotation treats one canvas size.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    /// A lossless rotation by this many quarter turns clockwise (0..=3).
    Quarter(u8),
    /// A resampled rotation onto a `size` canvas whose top-left pixel edge is at `origin` in
    /// the source's coordinates (before rotation about the source centre).
    Free {
        sin: f64,
        cos: f64,
        origin: (f64, f64),
        size: Size,
    },
}

/// Angles closer than this to a multiple of 90 degrees are quarter turns.
const QUARTER_EPSILON: f64 = 1e-9;

impl Rotate {
    fn plan(&self, input: Size) -> Plan {
        let angle = self.degrees.rem_euclid(360.0);
        let quarters = angle / 90.0;
        if (quarters - quarters.round()).abs() < QUARTER_EPSILON {
            return Plan::Quarter((quarters.round() as u8) % 4);
        }
        let (sin, cos) = angle.to_radians().sin_cos();
        let (w, h) = (f64::from(input.width), f64::from(input.height));
        let (cx, cy) = (w / 2.0, h / 2.0);
        // Where the four corners land, rotating about the centre (y points down, so this turns
        // clockwise on screen).
        let corners = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)].map(|(x, y)| {
            let (dx, dy) = (x - cx, y - cy);
            (cos * dx - sin * dy + cx, sin * dx + cos * dy + cy)
        });
        let min_x = corners.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
        let max_x = corners
            .iter()
            .map(|c| c.0)
            .fold(f64::NEG_INFINITY, f64::max);
        let min_y = corners.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
        let max_y = corners
            .iter()
            .map(|c| c.1)
            .fold(f64::NEG_INFINITY, f64::max);
        // ImageMagick's "best fit" viewport: half a pixel of margin on each side, so the
        // antialiased edge is not cut.
        let gx = (min_x - 0.5).floor();
        let gy = (min_y - 0.5).floor();
        let size = Size::new(
            ((max_x - gx + 0.5).ceil() as u32).max(1),
            ((max_y - gy + 0.5).ceil() as u32).max(1),
        );
        Plan::Free {
            sin,
            cos,
            origin: (gx, gy),
            size,
        }
    }
}

impl Transform for Rotate {
    fn name(&self) -> &'static str {
        "rotate"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        Ok(match self.plan(input) {
            Plan::Quarter(q) if q % 2 == 1 => Size::new(input.height, input.width),
            Plan::Quarter(_) => input,
            Plan::Free { size, .. } => size,
        })
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        let input = Size::new(frame.width(), frame.height());
        Ok(match self.plan(input) {
            Plan::Quarter(0) => frame.clone(),
            Plan::Quarter(1) => frame.rotate90(),
            Plan::Quarter(2) => frame.rotate180(),
            Plan::Quarter(_) => frame.rotate270(),
            Plan::Free {
                sin,
                cos,
                origin,
                size,
            } => {
                let geo = Geometry {
                    sin,
                    cos,
                    origin,
                    input,
                    output: size,
                };
                rotate_free(frame, &geo)
            }
        })
    }
}

/// Everything the resampler needs to map an output pixel back into the source.
struct Geometry {
    sin: f64,
    cos: f64,
    origin: (f64, f64),
    input: Size,
    output: Size,
}

/// A channel value the resampler reads and writes as a fraction of full scale.
trait Sample: Copy + Send + Sync + 'static {
    const MAX: f32;
    fn to_f32(self) -> f32;
    fn from_f32(v: f32) -> Self;
}

impl Sample for u8 {
    const MAX: f32 = 255.0;
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
    fn from_f32(v: f32) -> Self {
        v.round().clamp(0.0, 255.0) as u8
    }
}

impl Sample for u16 {
    const MAX: f32 = 65535.0;
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
    fn from_f32(v: f32) -> Self {
        v.round().clamp(0.0, 65535.0) as u16
    }
}

impl Sample for f32 {
    const MAX: f32 = 1.0;
    fn to_f32(self) -> f32 {
        self
    }
    fn from_f32(v: f32) -> Self {
        v
    }
}

/// Rotate into the same depth with an alpha channel added (grey stays grey).
fn rotate_free(frame: &DynamicImage, geo: &Geometry) -> DynamicImage {
    let (w, h) = (geo.output.width, geo.output.height);
    match frame {
        DynamicImage::ImageLuma8(b) => DynamicImage::ImageLumaA8(buffer::<LumaA<u8>>(
            w,
            h,
            resample(b.as_raw(), 1, false, geo),
        )),
        DynamicImage::ImageLumaA8(b) => DynamicImage::ImageLumaA8(buffer::<LumaA<u8>>(
            w,
            h,
            resample(b.as_raw(), 2, true, geo),
        )),
        DynamicImage::ImageRgb8(b) => DynamicImage::ImageRgba8(buffer::<Rgba<u8>>(
            w,
            h,
            resample(b.as_raw(), 3, false, geo),
        )),
        DynamicImage::ImageRgba8(b) => {
            DynamicImage::ImageRgba8(buffer::<Rgba<u8>>(w, h, resample(b.as_raw(), 4, true, geo)))
        }
        DynamicImage::ImageLuma16(b) => DynamicImage::ImageLumaA16(buffer::<LumaA<u16>>(
            w,
            h,
            resample(b.as_raw(), 1, false, geo),
        )),
        DynamicImage::ImageLumaA16(b) => DynamicImage::ImageLumaA16(buffer::<LumaA<u16>>(
            w,
            h,
            resample(b.as_raw(), 2, true, geo),
        )),
        DynamicImage::ImageRgb16(b) => DynamicImage::ImageRgba16(buffer::<Rgba<u16>>(
            w,
            h,
            resample(b.as_raw(), 3, false, geo),
        )),
        DynamicImage::ImageRgba16(b) => DynamicImage::ImageRgba16(buffer::<Rgba<u16>>(
            w,
            h,
            resample(b.as_raw(), 4, true, geo),
        )),
        DynamicImage::ImageRgb32F(b) => DynamicImage::ImageRgba32F(buffer::<Rgba<f32>>(
            w,
            h,
            resample(b.as_raw(), 3, false, geo),
        )),
        DynamicImage::ImageRgba32F(b) => DynamicImage::ImageRgba32F(buffer::<Rgba<f32>>(
            w,
            h,
            resample(b.as_raw(), 4, true, geo),
        )),
        // Layouts added to `image` later: go through 8-bit RGBA.
        other => {
            let rgba = other.to_rgba8();
            DynamicImage::ImageRgba8(buffer::<Rgba<u8>>(
                w,
                h,
                resample(rgba.as_raw(), 4, true, geo),
            ))
        }
    }
}

/// Wrap samples the resampler produced (always exactly `w * h * channels`).
fn buffer<P: Pixel>(w: u32, h: u32, data: Vec<P::Subpixel>) -> ImageBuffer<P, Vec<P::Subpixel>> {
    // The resampler allocates exactly w * h * CHANNEL_COUNT samples, so this cannot fail;
    // an empty image is still better than a panic.
    ImageBuffer::from_raw(w, h, data).unwrap_or_else(|| ImageBuffer::new(w, h))
}

/// Bilinear, premultiplied resampling of a `channels`-sample source (the last being alpha when
/// `has_alpha`) into an output with one more channel than the colour channels; source pixels
/// outside the image are transparent, so the rotated edge is antialiased against transparency.
fn resample<S: Sample>(src: &[S], channels: usize, has_alpha: bool, geo: &Geometry) -> Vec<S> {
    let colour = if has_alpha { channels - 1 } else { channels };
    let out_channels = colour + 1;
    let (sw, sh) = (geo.input.width as i64, geo.input.height as i64);
    let (cx, cy) = (sw as f64 / 2.0, sh as f64 / 2.0);
    let row_len = geo.output.width as usize * out_channels;
    let mut out = vec![S::from_f32(0.0); row_len * geo.output.height as usize];
    // The alpha of one source pixel (0..=1) and its colour, or transparency outside.
    let tap = |x: i64, y: i64, acc: &mut [f32; 5], weight: f32| {
        if weight == 0.0 || x < 0 || y < 0 || x >= sw || y >= sh {
            return;
        }
        let at = (y as usize * sw as usize + x as usize) * channels;
        let px = &src[at..at + channels];
        let alpha = if has_alpha {
            px[channels - 1].to_f32() / S::MAX
        } else {
            1.0
        };
        let wa = weight * alpha;
        for k in 0..colour {
            acc[k] += wa * px[k].to_f32();
        }
        acc[4] += wa;
    };
    out.par_chunks_mut(row_len.max(1))
        .enumerate()
        .for_each(|(j, row)| {
            let oy = geo.origin.1 + j as f64 + 0.5 - cy;
            for (i, px) in row.chunks_mut(out_channels).enumerate() {
                let ox = geo.origin.0 + i as f64 + 0.5 - cx;
                // The inverse rotation, then from pixel edges to pixel centres.
                let sx = geo.cos * ox + geo.sin * oy + cx - 0.5;
                let sy = -geo.sin * ox + geo.cos * oy + cy - 0.5;
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = ((sx - x0) as f32, (sy - y0) as f32);
                let (x0, y0) = (x0 as i64, y0 as i64);
                let mut acc = [0.0f32; 5];
                tap(x0, y0, &mut acc, (1.0 - fx) * (1.0 - fy));
                tap(x0 + 1, y0, &mut acc, fx * (1.0 - fy));
                tap(x0, y0 + 1, &mut acc, (1.0 - fx) * fy);
                tap(x0 + 1, y0 + 1, &mut acc, fx * fy);
                let alpha = acc[4];
                if alpha > 0.0 {
                    for k in 0..colour {
                        px[k] = S::from_f32(acc[k] / alpha);
                    }
                }
                px[colour] = S::from_f32(alpha * S::MAX);
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    /// 4x3 black image with a red top-left pixel.
    fn marked() -> DynamicImage {
        let mut img = RgbImage::new(4, 3);
        img.put_pixel(0, 0, Rgb([255, 0, 0]));
        DynamicImage::ImageRgb8(img)
    }

    fn red_at(img: &DynamicImage) -> (u32, u32) {
        let rgb = img.to_rgb8();
        let (x, y, _) = rgb
            .enumerate_pixels()
            .find(|(_, _, p)| p.0 == [255, 0, 0])
            .expect("red pixel kept");
        (x, y)
    }

    #[test]
    fn quarter_turns_are_clockwise_and_exact() {
        let cases = [
            (90.0, (2, 0), (3, 4)),
            (180.0, (3, 2), (4, 3)),
            (270.0, (0, 3), (3, 4)),
        ];
        for (deg, at, (w, h)) in cases {
            let r = Rotate { degrees: deg };
            let out = r.apply_frame(&marked()).unwrap();
            assert_eq!((out.width(), out.height()), (w, h), "{deg}");
            assert_eq!(red_at(&out), at, "{deg}");
            assert!(!out.color().has_alpha());
            assert_eq!(r.output_size(Size::new(4, 3)).unwrap(), Size::new(w, h));
        }
        for deg in [0.0, 360.0, -360.0] {
            let out = Rotate { degrees: deg }.apply_frame(&marked()).unwrap();
            assert_eq!(red_at(&out), (0, 0));
        }
        assert_eq!(
            red_at(&Rotate { degrees: -90.0 }.apply_frame(&marked()).unwrap()),
            (0, 3)
        );
    }

    #[test]
    fn free_angles_size_the_canvas_like_imagemagick() {
        // `convert -size WxH xc:red -rotate A -format "%w %h" info:` (ImageMagick 6.9.11).
        let cases = [
            ((70, 46), 1.0, (72, 50)),
            ((70, 46), 10.0, (78, 60)),
            ((70, 46), 30.0, (86, 76)),
            ((70, 46), 45.0, (84, 84)),
            ((70, 46), 89.0, (50, 72)),
            ((70, 46), 135.0, (84, 84)),
            ((70, 46), 200.0, (84, 70)),
            ((70, 46), 0.5, (72, 48)),
            ((245, 163), 10.0, (271, 205)),
            ((245, 163), 60.0, (265, 295)),
            ((245, 163), 315.0, (291, 291)),
            ((245, 163), 359.0, (249, 169)),
        ];
        for ((w, h), deg, (ow, oh)) in cases {
            let size = Rotate { degrees: deg }
                .output_size(Size::new(w, h))
                .unwrap();
            assert_eq!(size, Size::new(ow, oh), "{w}x{h} by {deg}");
        }
    }

    #[test]
    fn free_angles_leave_transparent_corners_and_keep_the_centre() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 20, Rgb([0, 200, 0])));
        let r = Rotate { degrees: 30.0 };
        let out = r.apply_frame(&img).unwrap();
        let size = r.output_size(Size::new(40, 20)).unwrap();
        assert_eq!((out.width(), out.height()), (size.width, size.height));
        let out = out.as_rgba8().expect("RGB gains alpha").clone();
        assert_eq!(out.get_pixel(0, 0).0[3], 0);
        assert_eq!(out.get_pixel(size.width - 1, size.height - 1).0[3], 0);
        let c = out.get_pixel(size.width / 2, size.height / 2).0;
        assert_eq!(c, [0, 200, 0, 255]);
        // The antialiased edge blends alpha, never the colour.
        for p in out.pixels().filter(|p| p.0[3] > 0) {
            assert_eq!(&p.0[..3], &[0, 200, 0]);
        }
    }

    #[test]
    fn free_rotation_turns_clockwise() {
        // A wide image with its left half red: after 80 degrees clockwise the red half is on top.
        let img = RgbImage::from_fn(60, 20, |x, _| {
            if x < 30 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let out = Rotate { degrees: 80.0 }
            .apply_frame(&DynamicImage::ImageRgb8(img))
            .unwrap()
            .to_rgba8();
        let (w, h) = out.dimensions();
        assert_eq!(out.get_pixel(w / 2, h / 4).0, [255, 0, 0, 255]);
        assert_eq!(out.get_pixel(w / 2, 3 * h / 4).0, [0, 0, 255, 255]);
    }

    #[test]
    fn grey_stays_grey() {
        let img = DynamicImage::ImageLuma8(GrayImage::from_pixel(10, 10, Luma([77])));
        let out = Rotate { degrees: 45.0 }.apply_frame(&img).unwrap();
        assert!(matches!(out, DynamicImage::ImageLumaA8(_)));
    }
}
