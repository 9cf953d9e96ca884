//! HEIF/HEIC (x265) and AVIF (libaom) output through libheif: still images only.

use libheif_rs::{
    Channel, ColorSpace, CompressionFormat, EncoderParameterValue, EncoderQuality, HeifContext,
    Image as HeifImage, LibHeif, RgbChroma,
};

use super::exif::with_orientation;
use super::pixels::{alpha_used, interleaved8};
use super::EncodeSettings;
use crate::engine::EngineConfig;
use crate::error::{ImageError, Result};
use crate::model::Image;

/// Which codec goes into the HEIF container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// HEVC (`heif`, `heic`).
    Hevc,
    /// AV1 (`avif`).
    Av1,
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Codec::Hevc => "heif",
            Codec::Av1 => "avif",
        }
    }
}

/// `quality` is on the JPEG scale everywhere but WebP (whose scale is already close to JPEG's),
/// so `quality/85` means about the same visual quality as a JPEG q85; libheif's own scale differs
/// per codec. Each point pairs a JPEG quality with the libheif quality that scored the same mean
/// SSIMULACRA2 on the corpus photos (x265 preset medium, aom speed 6; measured by
/// `tests/encode_quality_defaults.rs`). Values between points are interpolated.
const HEVC_MAP: &[(u8, u8)] = &[
    (1, 1),
    (50, 33),
    (60, 38),
    (70, 42),
    (75, 43),
    (80, 45),
    (85, 50),
    (90, 54),
    (95, 62),
    (100, 90),
];
/// As [`HEVC_MAP`], for libaom.
const AV1_MAP: &[(u8, u8)] = &[
    (1, 1),
    (50, 47),
    (60, 52),
    (70, 57),
    (75, 60),
    (80, 64),
    (85, 72),
    (90, 81),
    (95, 89),
    (100, 98),
];

/// The libheif quality for a JPEG-scale `quality`.
pub fn native_quality(codec: Codec, quality: u8) -> u8 {
    let map = match codec {
        Codec::Hevc => HEVC_MAP,
        Codec::Av1 => AV1_MAP,
    };
    let q = quality.clamp(1, 100);
    for pair in map.windows(2) {
        let [(q0, n0), (q1, n1)] = [pair[0], pair[1]];
        if (q0..=q1).contains(&q) {
            let span = u32::from(q1 - q0).max(1);
            let t = u32::from(q - q0);
            let n = u32::from(n0) * (span - t) + u32::from(n1) * t;
            return ((n + span / 2) / span) as u8;
        }
    }
    q
}

/// Encode the first frame as HEIF (HEVC) or AVIF.
pub fn encode(
    img: &Image,
    settings: &EncodeSettings,
    cfg: &EngineConfig,
    codec: Codec,
) -> Result<Vec<u8>> {
    let err = |detail: String| ImageError::Encode {
        format: codec.name(),
        detail,
    };
    let frame = super::first_frame(img)?;
    let (w, h) = (frame.width(), frame.height());
    let alpha = alpha_used(frame);
    let (mut samples, channels) = interleaved8(frame, alpha);
    if let Some(icc) = img.metadata.icc.as_deref().filter(|p| !p.is_empty()) {
        to_srgb(&mut samples, icc, alpha);
    }
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };

    let mut image =
        HeifImage::new(w, h, ColorSpace::Rgb(chroma)).map_err(|e| err(e.to_string()))?;
    image
        .create_plane(Channel::Interleaved, w, h, 8)
        .map_err(|e| err(e.to_string()))?;
    {
        let planes = image.planes_mut();
        let plane = planes
            .interleaved
            .ok_or_else(|| err("libheif gave no interleaved plane".into()))?;
        let row = w as usize * channels;
        for (y, src) in samples.chunks_exact(row).enumerate() {
            let at = y * plane.stride;
            let dst = plane
                .data
                .get_mut(at..at + row)
                .ok_or_else(|| err("libheif plane smaller than the image".into()))?;
            dst.copy_from_slice(src);
        }
    }
    let lib = LibHeif::new();
    let format = match codec {
        Codec::Hevc => CompressionFormat::Hevc,
        Codec::Av1 => CompressionFormat::Av1,
    };
    let mut encoder = lib
        .encoder_for_format(format)
        .map_err(|e| err(e.to_string()))?;
    encoder
        .set_quality(EncoderQuality::Lossy(native_quality(
            codec,
            settings.quality,
        )))
        .map_err(|e| err(e.to_string()))?;
    match codec {
        Codec::Hevc => encoder.set_parameter_value(
            "preset",
            EncoderParameterValue::String(cfg.heif_preset.clone()),
        ),
        Codec::Av1 => encoder.set_parameter_value(
            "speed",
            EncoderParameterValue::Int(i32::from(cfg.avif_speed.min(9))),
        ),
    }
    .map_err(|e| err(format!("encoder setting: {e}")))?;

    let mut ctx = HeifContext::new().map_err(|e| err(e.to_string()))?;
    let handle = ctx
        .encode_image(&image, &mut encoder, None)
        .map_err(|e| err(e.to_string()))?;
    if !settings.strip {
        let md = &img.metadata;
        if let Some(exif) = md.exif.as_deref() {
            let tiff = with_orientation(exif, md.orientation);
            ctx.add_exif_metadata(&handle, &tiff)
                .map_err(|e| err(e.to_string()))?;
        }
        if let Some(xmp) = md.xmp.as_deref() {
            ctx.add_xmp_metadata(&handle, xmp)
                .map_err(|e| err(e.to_string()))?;
        }
    }
    ctx.write_to_bytes().map_err(|e| err(e.to_string()))
}

/// Convert pixels from the source's ICC profile to sRGB in place.
///
/// libheif-rs 0.20 hands libheif the profile type without a NUL terminator, which libheif 1.15
/// rejects ("Invalid color_profile_type"), so the profile cannot be embedded; converting keeps
/// the colours right in every viewer, which assumes sRGB for an untagged image. An unusable
/// profile leaves the pixels as they are rather than failing the encode.
fn to_srgb(samples: &mut [u8], icc: &[u8], alpha: bool) {
    use lcms2::{Intent, PixelFormat, Profile, Transform};
    let Ok(source) = Profile::new_icc(icc) else {
        return;
    };
    if source.color_space() != lcms2::ColorSpaceSignature::RgbData {
        return;
    }
    let format = if alpha {
        PixelFormat::RGBA_8
    } else {
        PixelFormat::RGB_8
    };
    let srgb = Profile::new_srgb();
    if let Ok(t) = Transform::<u8, u8>::new(&source, format, &srgb, format, Intent::Perceptual) {
        t.transform_in_place(samples);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_map_hits_its_points_and_is_monotonic() {
        assert_eq!(native_quality(Codec::Hevc, 85), 50);
        assert_eq!(native_quality(Codec::Av1, 100), 98);
        assert_eq!(native_quality(Codec::Av1, 85), 72);
        for codec in [Codec::Hevc, Codec::Av1] {
            let qs: Vec<u8> = (1..=100).map(|q| native_quality(codec, q)).collect();
            assert!(qs.windows(2).all(|w| w[0] <= w[1]));
        }
    }
}
