//! `blur/<radius>x<sigma>`: Gaussian blur.
//!
//! ImageMagick semantics: `sigma` is the standard deviation and `radius` the kernel's half-width
//! in pixels, so `blur/1x20` barely spreads while `blur/20x5` is a full Gaussian of sigma 5.
//! Taps beyond 4 sigma are dropped (each carries under 0.04% of the centre weight, below one
//! 8-bit step), which keeps small sigmas fast whatever the radius.
//!
//! The convolution is separable and runs in libblur's fixed-point SIMD kernels; images with
//! alpha are blurred premultiplied so transparent pixels do not darken visible edges.

use std::borrow::Cow;

use image::DynamicImage;
use libblur::{
    BlurImage, BlurImageMut, ConvolutionMode, EdgeMode, EdgeMode2D, FastBlurChannels,
    GaussianBlurParams, ThreadingPolicy,
};

use super::channels::{eight_bit, from_samples, has_alpha, premultiply, samples, unpremultiply};
use super::transform::{Size, Transform};
use crate::error::{ImageError, Result};

/// The largest radius the rule accepts.
pub const MAX_RADIUS: u32 = 50;
/// Kernel half-width in sigmas past which taps are dropped.
const SIGMAS_KEPT: f32 = 4.0;

/// `blur/<radius>x<sigma>`: a Gaussian blur of deviation `sigma`, kernel half-width `radius`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blur {
    /// Kernel half-width in pixels, 1..=50.
    pub radius: u32,
    /// Standard deviation in pixels, > 0.
    pub sigma: f32,
}

impl Blur {
    /// A blur of the given half-width and deviation (checked when applied).
    pub fn new(radius: u32, sigma: f32) -> Blur {
        Blur { radius, sigma }
    }

    /// The arguments are in range: radius 1..=50, sigma a positive number.
    fn check(&self) -> Result<()> {
        if !(1..=MAX_RADIUS).contains(&self.radius) {
            return Err(ImageError::InvalidArgument(format!(
                "blur: radius {} is outside 1..={MAX_RADIUS}",
                self.radius
            )));
        }
        if !(self.sigma.is_finite() && self.sigma > 0.0) {
            return Err(ImageError::InvalidArgument(format!(
                "blur: sigma {} must be a positive number",
                self.sigma
            )));
        }
        Ok(())
    }
}

impl Transform for Blur {
    fn name(&self) -> &'static str {
        "blur"
    }

    fn output_size(&self, input: Size) -> Result<Size> {
        self.check()?;
        Ok(input)
    }

    fn apply_frame(&self, frame: &DynamicImage) -> Result<DynamicImage> {
        self.check()?;
        gaussian(frame, self.radius, self.sigma, "blur")
    }
}

/// The kernel half-width actually used: `radius`, or fewer taps when 4 sigma is narrower.
fn half_width(radius: u32, sigma: f32) -> u32 {
    let by_sigma = (sigma * SIGMAS_KEPT).ceil();
    // `by_sigma` is at least 1 for any positive sigma; the float-to-int cast saturates.
    radius.min(by_sigma as u32).max(1)
}

/// `frame` blurred with deviation `sigma` and half-width at most `radius`, as 8-bit samples in
/// the frame's layout (alpha blurred with the colour, colour premultiplied meanwhile).
///
/// `op` names the rule token in errors; callers have checked `radius >= 1` and `sigma > 0`.
pub(crate) fn gaussian(
    frame: &DynamicImage,
    radius: u32,
    sigma: f32,
    op: &str,
) -> Result<DynamicImage> {
    let frame = eight_bit(frame);
    let (width, height) = (frame.width(), frame.height());
    let (src, channels) = samples(&frame);
    if src.is_empty() {
        return Ok(frame.into_owned());
    }
    let kernel = half_width(radius, sigma) * 2 + 1;
    let params = GaussianBlurParams::new(kernel, f64::from(sigma));
    let row = width as usize * channels;
    // Only frames with alpha need a premultiplied copy; opaque ones are read in place.
    let input = if has_alpha(channels) {
        let mut copy = src.to_vec();
        premultiply(&mut copy, channels, row);
        Cow::Owned(copy)
    } else {
        Cow::Borrowed(src)
    };
    let mut data = if channels == 2 {
        blur_gray_alpha(&input, width, height, params, op)?
    } else {
        blur_interleaved(&input, width, height, channels, params, op)?
    };
    drop(input);
    if has_alpha(channels) {
        unpremultiply(&mut data, channels, row);
    }
    from_samples(width, height, channels, data).ok_or_else(|| layout_error(op))
}

/// Blurs interleaved Gray, RGB or RGBA samples.
fn blur_interleaved(
    src: &[u8],
    width: u32,
    height: u32,
    channels: usize,
    params: GaussianBlurParams,
    op: &str,
) -> Result<Vec<u8>> {
    let layout = match channels {
        1 => FastBlurChannels::Plane,
        3 => FastBlurChannels::Channels3,
        4 => FastBlurChannels::Channels4,
        _ => return Err(layout_error(op)),
    };
    let input = BlurImage::borrow(src, width, height, layout);
    let mut out = vec![0u8; src.len()];
    let mut output = BlurImageMut::borrow(&mut out, width, height, layout);
    libblur::gaussian_blur(
        &input,
        &mut output,
        params,
        EdgeMode2D::new(EdgeMode::Clamp),
        ThreadingPolicy::Adaptive,
        ConvolutionMode::FixedPoint,
    )
    .map_err(|e| ImageError::InvalidArgument(format!("{op}: {e}")))?;
    Ok(out)
}

/// Blurs Gray+alpha samples, which libblur has no interleaved layout for, as two planes.
fn blur_gray_alpha(
    src: &[u8],
    width: u32,
    height: u32,
    params: GaussianBlurParams,
    op: &str,
) -> Result<Vec<u8>> {
    let gray: Vec<u8> = src.iter().step_by(2).copied().collect();
    let alpha: Vec<u8> = src.iter().skip(1).step_by(2).copied().collect();
    let gray = blur_interleaved(&gray, width, height, 1, params, op)?;
    let alpha = blur_interleaved(&alpha, width, height, 1, params, op)?;
    Ok(gray
        .iter()
        .zip(&alpha)
        .flat_map(|(&g, &a)| [g, a])
        .collect())
}

/// The (unreachable) failure to rebuild a frame of the size just read.
fn layout_error(op: &str) -> ImageError {
    ImageError::InvalidArgument(format!("{op}: unsupported pixel layout"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgba, RgbaImage};

    /// A gray image, black left of column `w / 2` and white from it on.
    fn step(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageLuma8(GrayImage::from_fn(w, h, |x, _| {
            Luma([if x < w / 2 { 0 } else { 255 }])
        }))
    }

    /// Pixels of row `y` that are neither near-black nor near-white (the 10%-90% ramp).
    fn ramp_width(img: &DynamicImage, y: u32) -> usize {
        let g = img.to_luma8();
        (0..g.width())
            .filter(|&x| (26..=229).contains(&g.get_pixel(x, y).0[0]))
            .count()
    }

    #[test]
    fn a_sharp_edge_becomes_a_ramp_as_wide_as_sigma_says() {
        // A Gaussian step response rises from 10% to 90% over 2.56 sigma.
        let out = Blur::new(20, 2.0).apply_frame(&step(64, 8)).unwrap();
        let w = ramp_width(&out, 4);
        assert!((4..=6).contains(&w), "ramp of {w} px for sigma 2");
        let wide = Blur::new(30, 6.0).apply_frame(&step(96, 8)).unwrap();
        let w = ramp_width(&wide, 4);
        assert!((14..=17).contains(&w), "ramp of {w} px for sigma 6");
    }

    #[test]
    fn the_radius_limits_how_far_the_blur_reaches() {
        let out = Blur::new(1, 20.0)
            .apply_frame(&step(32, 4))
            .unwrap()
            .to_luma8();
        let row: Vec<u8> = (0..32).map(|x| out.get_pixel(x, 2).0[0]).collect();
        assert!(row[..15].iter().all(|&v| v == 0), "{row:?}");
        assert!(row[17..].iter().all(|&v| v == 255), "{row:?}");
        assert!(row[15] > 0 && row[16] < 255, "{row:?}");
    }

    #[test]
    fn a_flat_image_stays_flat() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(40, 30, Rgba([12, 200, 99, 255])));
        let out = Blur::new(10, 3.0).apply_frame(&img).unwrap();
        assert_eq!((out.width(), out.height()), (40, 30));
        assert!(out.to_rgba8().pixels().all(|p| p.0 == [12, 200, 99, 255]));
    }

    #[test]
    fn alpha_edges_keep_their_colour() {
        // Opaque red on the left, transparent black on the right: premultiplied blurring
        // spreads alpha but must keep every visible pixel red, not a darker red.
        let img = DynamicImage::ImageRgba8(RgbaImage::from_fn(32, 4, |x, _| {
            if x < 16 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        }));
        let out = Blur::new(8, 2.0).apply_frame(&img).unwrap().to_rgba8();
        let fringe: Vec<_> = out
            .pixels()
            .filter(|p| p.0[3] >= 16 && p.0[0] < 245)
            .collect();
        assert!(fringe.is_empty(), "dark fringe: {fringe:?}");
        assert!(out.get_pixel(16, 1).0[3] < 255 && out.get_pixel(15, 1).0[3] > 0);
    }

    #[test]
    fn gray_alpha_is_blurred_premultiplied_too() {
        let img = DynamicImage::ImageLumaA8(image::GrayAlphaImage::from_fn(16, 2, |x, _| {
            image::LumaA(if x < 8 { [200, 255] } else { [0, 0] })
        }));
        let out = Blur::new(4, 1.5)
            .apply_frame(&img)
            .unwrap()
            .to_luma_alpha8();
        assert!(out.pixels().filter(|p| p.0[1] >= 16).all(|p| p.0[0] >= 190));
    }

    #[test]
    fn tiny_images_and_huge_kernels_do_not_panic() {
        for (w, h) in [(1, 1), (2, 2), (1, 7), (9, 1)] {
            let img =
                DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([9, 8, 7])));
            let out = Blur::new(50, 50.0).apply_frame(&img).unwrap();
            assert_eq!((out.width(), out.height()), (w, h));
            assert!(out.to_rgb8().pixels().all(|p| p.0 == [9, 8, 7]));
        }
    }

    #[test]
    fn bad_arguments_name_the_token() {
        for blur in [
            Blur::new(0, 1.0),
            Blur::new(51, 1.0),
            Blur::new(3, 0.0),
            Blur::new(3, f32::NAN),
        ] {
            let err = blur.output_size(Size::new(10, 10)).unwrap_err();
            assert!(
                matches!(&err, ImageError::InvalidArgument(m) if m.starts_with("blur")),
                "{err}"
            );
        }
        assert_eq!(
            Blur::new(3, 9.0).output_size(Size::new(7, 5)).unwrap(),
            Size::new(7, 5)
        );
    }

    #[test]
    fn sixteen_bit_frames_are_blurred_as_eight_bit() {
        let img = DynamicImage::ImageRgba16(image::ImageBuffer::from_pixel(
            3,
            3,
            Rgba([65535u16, 0, 0, 65535]),
        ));
        let out = Blur::new(2, 1.0).apply_frame(&img).unwrap();
        assert_eq!(out.color(), image::ColorType::Rgba8);
    }
}
