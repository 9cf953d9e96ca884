//! CMYK and YCCK JPEG pixels to sRGB.

use lcms2::{Intent, PixelFormat, Profile, Transform};

/// Convert 4-channel pixels to interleaved sRGB.
///
/// `ycck`: the channels are Y, Cb, Cr, K (Adobe transform 2) and are first turned into CMYK the
/// way libjpeg does. `inverted`: the file carries an Adobe APP14 marker, whose CMYK is stored
/// inverted (255 = no ink), as Photoshop writes it. With a CMYK `icc` profile the conversion
/// goes through lcms2; without one (or if the profile is unusable) the naive formula is used.
pub(crate) fn to_srgb(raw: &[u8], ycck: bool, inverted: bool, icc: Option<&[u8]>) -> Vec<u8> {
    let mut cmyk: Vec<[u8; 4]> = raw
        .chunks_exact(4)
        .map(|p| [p[0], p[1], p[2], p[3]])
        .collect();
    // YCCK always comes with the Adobe marker, so its CMYK is the inverted kind too.
    let inverted = inverted || ycck;
    if ycck {
        for p in &mut cmyk {
            let [r, g, b] = ycc_to_rgb(p[0], p[1], p[2]);
            *p = [255 - r, 255 - g, 255 - b, p[3]];
        }
    }
    if let Some(rgb) = icc.and_then(|icc| through_profile(&cmyk, inverted, icc)) {
        return rgb;
    }
    let mut out = Vec::with_capacity(cmyk.len() * 3);
    for [c, m, y, k] in cmyk {
        let (c, m, y, k) = if inverted {
            (c, m, y, k)
        } else {
            (255 - c, 255 - m, 255 - y, 255 - k)
        };
        // With inverted ink values, R = (1 - C)(1 - K) becomes c * k.
        out.extend([mul255(c, k), mul255(m, k), mul255(y, k)]);
    }
    out
}

fn mul255(a: u8, b: u8) -> u8 {
    ((u32::from(a) * u32::from(b) + 127) / 255) as u8
}

/// JFIF YCbCr -> RGB (ITU-R BT.601 full range).
fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = f32::from(y);
    let cb = f32::from(cb) - 128.0;
    let cr = f32::from(cr) - 128.0;
    let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    [
        clamp(y + 1.402 * cr),
        clamp(y - 0.344_136 * cb - 0.714_136 * cr),
        clamp(y + 1.772 * cb),
    ]
}

/// Convert through the embedded CMYK profile to sRGB; `None` if it is not a usable CMYK profile.
fn through_profile(cmyk: &[[u8; 4]], inverted: bool, icc: &[u8]) -> Option<Vec<u8>> {
    let input = Profile::new_icc(icc).ok()?;
    if input.color_space() != lcms2::ColorSpaceSignature::CmykData {
        return None;
    }
    let format = if inverted {
        PixelFormat::CMYK_8_REV
    } else {
        PixelFormat::CMYK_8
    };
    let srgb = Profile::new_srgb();
    let t: Transform<[u8; 4], [u8; 3]> = Transform::new(
        &input,
        format,
        &srgb,
        PixelFormat::RGB_8,
        Intent::Perceptual,
    )
    .ok()?;
    let mut out = vec![[0u8; 3]; cmyk.len()];
    t.transform_pixels(cmyk, &mut out);
    Some(out.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_inverted_cmyk() {
        // Inverted: 255 = no ink. No ink at all is white; full black ink is black.
        assert_eq!(
            to_srgb(&[255, 255, 255, 255], false, true, None),
            [255, 255, 255]
        );
        assert_eq!(to_srgb(&[255, 255, 255, 0], false, true, None), [0, 0, 0]);
        // Full cyan, no black: red channel gone.
        assert_eq!(
            to_srgb(&[0, 255, 255, 255], false, true, None),
            [0, 255, 255]
        );
        // Plain CMYK: 0 = no ink.
        assert_eq!(to_srgb(&[0, 0, 0, 0], false, false, None), [255, 255, 255]);
    }
}
