//! Output quality resolution: `quality`, `rquality`, `lquality` against the source's quality.
//!
//! Quality is on the JPEG scale for every lossy target (HEIF/AVIF map it to libheif's scale in
//! the encoder), so `quality/80` means about the same visual quality whatever the format.

use mogr_rule::{OutputFormat, QualitySpec};

use crate::model::SourceInfo;

/// The quality a target gets when neither the rule nor the source says.
///
/// Each lossy default lands near SSIMULACRA2 75 ("high quality") on the corpus photos shrunk to
/// 1 MP (`tests/encode_quality_defaults.rs`; mean score / mean bytes):
/// JPEG q85 76.3 / 172 kB (q80: 72.3); WebP q85 74.5 / 150 kB (q80: 69.3, q90: 79.9);
/// HEIC q85 -> libheif 50: 76.8 / 139 kB; AVIF q85 -> libheif 72: 76.3 / 129 kB.
pub fn default_for(target: OutputFormat) -> u8 {
    match target {
        OutputFormat::Jpeg | OutputFormat::Yjpeg => 85,
        OutputFormat::Webp => 85,
        OutputFormat::Heif | OutputFormat::Heic | OutputFormat::Avif => 85,
        // Lossless targets ignore quality; report the JPEG default for completeness.
        OutputFormat::Png | OutputFormat::Bmp | OutputFormat::Gif | OutputFormat::Tpg => 85,
    }
}

/// The quality to encode with (1..=100).
///
/// - no spec: the source's quality when known (JPEG, lossy WebP), else the target default;
/// - `quality/q`: min(source, q); `quality/q!`: q; with no source quality: q;
/// - `rquality/q`: source × q % (target default standing in for an unknown source);
/// - `lquality/q`: max(source, q) (likewise).
pub fn resolve(spec: Option<QualitySpec>, source: &SourceInfo, target: OutputFormat) -> u8 {
    let known = source.quality.map(|q| q.clamp(1, 100));
    let base = known.unwrap_or_else(|| default_for(target));
    let q = match spec {
        None => base,
        Some(QualitySpec::Absolute { value, force: true }) => value,
        Some(QualitySpec::Absolute {
            value,
            force: false,
        }) => match known {
            Some(src) => src.min(value),
            // An explicit q is not capped by a made-up source quality.
            None => value,
        },
        Some(QualitySpec::Relative(pct)) => {
            ((u32::from(base) * u32::from(pct) + 50) / 100).min(100) as u8
        }
        Some(QualitySpec::Floor(value)) => base.max(value),
    };
    q.clamp(1, 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ImageFormat;

    fn src(quality: Option<u8>) -> SourceInfo {
        SourceInfo {
            format: ImageFormat::Jpeg,
            quality,
            lossless: false,
            palette: false,
            has_alpha: false,
            bit_depth: 8,
        }
    }

    fn abs(value: u8, force: bool) -> Option<QualitySpec> {
        Some(QualitySpec::Absolute { value, force })
    }

    #[test]
    fn absolute_takes_the_smaller_unless_forced() {
        let s = src(Some(80));
        assert_eq!(resolve(abs(90, false), &s, OutputFormat::Jpeg), 80);
        assert_eq!(resolve(abs(60, false), &s, OutputFormat::Jpeg), 60);
        assert_eq!(resolve(abs(90, true), &s, OutputFormat::Jpeg), 90);
        assert_eq!(resolve(abs(95, false), &src(None), OutputFormat::Webp), 95);
    }

    #[test]
    fn relative_and_floor_follow_the_source() {
        let s = src(Some(80));
        assert_eq!(
            resolve(Some(QualitySpec::Relative(80)), &s, OutputFormat::Jpeg),
            64
        );
        assert_eq!(
            resolve(Some(QualitySpec::Floor(90)), &s, OutputFormat::Jpeg),
            90
        );
        assert_eq!(
            resolve(Some(QualitySpec::Floor(50)), &s, OutputFormat::Jpeg),
            80
        );
        let unknown = src(None);
        assert_eq!(
            resolve(
                Some(QualitySpec::Relative(50)),
                &unknown,
                OutputFormat::Webp
            ),
            43
        );
    }

    #[test]
    fn defaults_inherit_the_source_and_clamp_to_one_hundred() {
        assert_eq!(resolve(None, &src(Some(92)), OutputFormat::Webp), 92);
        assert_eq!(
            resolve(None, &src(None), OutputFormat::Jpeg),
            default_for(OutputFormat::Jpeg)
        );
        assert_eq!(resolve(abs(0, true), &src(None), OutputFormat::Jpeg), 1);
        assert_eq!(
            resolve(
                Some(QualitySpec::Relative(200)),
                &src(Some(90)),
                OutputFormat::Jpeg
            ),
            100
        );
    }
}
