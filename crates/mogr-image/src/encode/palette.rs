//! Indexed colour for GIF and palette PNG: exact palettes when they fit, else quantette.
//!
//! quantette works on opaque sRGB only, so transparency is handled here: transparent pixels get
//! an index of their own and are kept out of palette building and error diffusion.

use std::collections::HashMap;

use image::RgbaImage;
use quantette::deps::palette::Srgb;
use quantette::dither::FloydSteinberg;
use quantette::{ImageRef, PaletteBuf, PaletteSize, Pipeline, QuantizeMethod};

use crate::error::{ImageError, Result};

/// Alpha at or above this counts as opaque where only 1-bit transparency exists (GIF).
const OPAQUE_FROM: u8 = 128;

/// A frame as palette indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Indexed {
    /// Palette colours (at most 256).
    pub palette: Vec<[u8; 3]>,
    /// Alpha per palette entry (PNG `tRNS`); 255 for opaque entries.
    pub alpha: Vec<u8>,
    /// One index per pixel, row-major.
    pub indices: Vec<u8>,
    /// The palette entry reserved for fully transparent pixels, if any pixel is transparent.
    pub transparent: Option<u8>,
}

/// How much of the alpha channel the target format can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlphaMode {
    /// One transparent entry; alpha below 128 is transparent, the rest opaque (GIF).
    Binary,
    /// Every distinct RGBA value is its own entry (PNG with `tRNS`).
    Full,
}

/// How to build a palette when the frame has more colours than fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// Wu's quantiser: fast, used for animations.
    Fast,
    /// k-means refinement: slower, better colours, used for stills.
    Quality,
}

/// The frame's own colours as a palette, when it has at most `max` of them (lossless).
pub(crate) fn exact(rgba: &RgbaImage, max: usize, mode: AlphaMode) -> Option<Indexed> {
    let mut lookup: HashMap<[u8; 4], u8> = HashMap::new();
    let mut palette = Vec::new();
    let mut alpha = Vec::new();
    let mut indices = Vec::with_capacity(rgba.as_raw().len() / 4);
    let mut transparent = None;
    let mut last: Option<([u8; 4], u8)> = None;
    for p in rgba.pixels() {
        let key = match (mode, p.0) {
            (AlphaMode::Binary, [_, _, _, a]) if a < OPAQUE_FROM => [0, 0, 0, 0],
            (AlphaMode::Binary, [r, g, b, _]) => [r, g, b, 255],
            (AlphaMode::Full, [_, _, _, 0]) => [0, 0, 0, 0],
            (AlphaMode::Full, px) => px,
        };
        // Neighbouring pixels repeat a lot; skip the hash lookup for runs.
        if let Some((k, i)) = last {
            if k == key {
                indices.push(i);
                continue;
            }
        }
        let idx = match lookup.get(&key) {
            Some(&i) => i,
            None => {
                if palette.len() >= max.min(256) {
                    return None;
                }
                let i = palette.len() as u8;
                palette.push([key[0], key[1], key[2]]);
                alpha.push(key[3]);
                if key[3] == 0 {
                    transparent = Some(i);
                }
                lookup.insert(key, i);
                i
            }
        };
        last = Some((key, idx));
        indices.push(idx);
    }
    if palette.is_empty() {
        return None;
    }
    Some(Indexed {
        palette,
        alpha,
        indices,
        transparent,
    })
}

/// Reduce the frame to at most `colours` entries (transparency takes one of them).
pub(crate) fn quantize(
    rgba: &RgbaImage,
    colours: u16,
    method: Method,
    dither: bool,
) -> Result<Indexed> {
    let has_transparent = rgba.pixels().any(|p| p.0[3] < OPAQUE_FROM);
    let k = colours.clamp(2, 256) - u16::from(has_transparent);
    let opaque: Vec<Srgb<u8>> = rgba
        .pixels()
        .filter(|p| p.0[3] >= OPAQUE_FROM)
        .map(|p| Srgb::new(p.0[0], p.0[1], p.0[2]))
        .collect();
    let palette = build_palette(&opaque, k, method)?;
    remap(rgba, &palette, dither)
}

/// A palette of at most `k` colours for these opaque pixels (empty input gives an empty palette).
pub(crate) fn build_palette(pixels: &[Srgb<u8>], k: u16, method: Method) -> Result<Vec<[u8; 3]>> {
    if pixels.is_empty() {
        return Ok(Vec::new());
    }
    let method = match method {
        Method::Fast => QuantizeMethod::Wu,
        Method::Quality => QuantizeMethod::kmeans(),
    };
    let palette = Pipeline::new()
        .palette_size(PaletteSize::from_u16_clamped(k))
        .quantize_method(method)
        .parallel(true)
        .input_slice(pixels)
        .map_err(quant_error)?
        .output_srgb8_palette();
    Ok(palette
        .as_slice()
        .iter()
        .map(|c| [c.red, c.green, c.blue])
        .collect())
}

/// Map the frame onto `palette` (Floyd–Steinberg when `dither`); transparent pixels get an
/// extra entry after the palette.
pub(crate) fn remap(rgba: &RgbaImage, palette: &[[u8; 3]], dither: bool) -> Result<Indexed> {
    let (w, h) = rgba.dimensions();
    let transparent_px: Vec<bool> = rgba.pixels().map(|p| p.0[3] < OPAQUE_FROM).collect();
    let any_transparent = transparent_px.iter().any(|&t| t);
    let Some(&fill) = palette.first() else {
        // Nothing opaque: one transparent entry covers the frame.
        return Ok(Indexed {
            palette: vec![[0, 0, 0]],
            alpha: vec![0],
            indices: vec![0; transparent_px.len()],
            transparent: Some(0),
        });
    };
    // Transparent pixels take an exact palette colour so they diffuse no error to neighbours.
    let pixels: Vec<Srgb<u8>> = rgba
        .pixels()
        .zip(&transparent_px)
        .map(|(p, &t)| {
            let [r, g, b] = if t { fill } else { [p.0[0], p.0[1], p.0[2]] };
            Srgb::new(r, g, b)
        })
        .collect();
    let image = ImageRef::new(w, h, pixels.as_slice()).map_err(|e| quant_error(e.error))?;
    let custom: Vec<Srgb<u8>> = palette
        .iter()
        .map(|&[r, g, b]| Srgb::new(r, g, b))
        .collect();
    let custom = PaletteBuf::new(custom).map_err(|e| quant_error(e.to_string()))?;
    let ditherer = dither.then(FloydSteinberg::new);
    let (out_palette, mut indices) = Pipeline::new()
        .quantize_method(custom)
        .ditherer(ditherer)
        .parallel(true)
        .input_image(image)
        .output_srgb8_indexed_image()
        .into_parts();
    if indices.len() != transparent_px.len() {
        return Err(quant_error("quantiser returned no pixels"));
    }
    let mut palette: Vec<[u8; 3]> = out_palette
        .iter()
        .map(|c| [c.red, c.green, c.blue])
        .collect();
    let mut alpha = vec![255; palette.len()];
    let mut transparent = None;
    if any_transparent {
        let t =
            u8::try_from(palette.len()).map_err(|_| quant_error("palette has no free entry"))?;
        palette.push([0, 0, 0]);
        alpha.push(0);
        for (i, _) in indices.iter_mut().zip(&transparent_px).filter(|(_, &t)| t) {
            *i = t;
        }
        transparent = Some(t);
    }
    Ok(Indexed {
        palette,
        alpha,
        indices,
        transparent,
    })
}

fn quant_error(detail: impl ToString) -> ImageError {
    ImageError::Encode {
        format: "palette",
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    #[test]
    fn few_colours_give_an_exact_palette_with_one_transparent_entry() {
        let mut img = RgbaImage::from_pixel(4, 4, Rgba([200, 10, 10, 255]));
        img.put_pixel(0, 0, Rgba([1, 2, 3, 0]));
        img.put_pixel(1, 0, Rgba([9, 9, 9, 10]));
        img.put_pixel(2, 0, Rgba([0, 0, 255, 255]));
        let ix = exact(&img, 256, AlphaMode::Binary).unwrap();
        assert_eq!(ix.palette.len(), 3);
        let t = ix.transparent.unwrap();
        assert_eq!(ix.indices[0], t);
        assert_eq!(ix.indices[1], t);
        assert_eq!(ix.palette[usize::from(ix.indices[2])], [0, 0, 255]);
    }

    #[test]
    fn too_many_colours_refuse_an_exact_palette_and_quantize_to_the_limit() {
        let img = RgbaImage::from_fn(64, 64, |x, y| Rgba([(x * 4) as u8, (y * 4) as u8, 7, 255]));
        assert!(exact(&img, 256, AlphaMode::Binary).is_none());
        let ix = quantize(&img, 16, Method::Fast, true).unwrap();
        assert!(ix.palette.len() <= 16);
        assert_eq!(ix.indices.len(), 64 * 64);
        assert!(ix
            .indices
            .iter()
            .all(|&i| usize::from(i) < ix.palette.len()));
    }

    #[test]
    fn transparent_pixels_keep_their_own_entry_after_quantizing() {
        let img = RgbaImage::from_fn(40, 40, |x, y| {
            let a = if x < 10 { 0 } else { 255 };
            Rgba([(x * 6) as u8, (y * 6) as u8, 50, a])
        });
        let ix = quantize(&img, 256, Method::Quality, true).unwrap();
        let t = ix.transparent.unwrap();
        assert!(ix.palette.len() <= 256);
        assert_eq!(ix.indices[0], t);
        assert_ne!(ix.indices[20], t);
        assert_eq!(ix.alpha[usize::from(t)], 0);
    }
}
