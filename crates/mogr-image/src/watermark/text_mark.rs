//! The mark of a text watermark: the rendered text in its `fill` colour over an optional
//! black drop shadow (`shadow/<opacity>`).

use image::{GrayImage, Rgba, RgbaImage};
use mogr_rule::TextMark;

use crate::error::Result;
use crate::text::{render_text, FontBook};
use crate::watermark::composite::over;

/// The text's pixels, with straight (not premultiplied) alpha.
pub(super) fn prepare(mark: &TextMark, fonts: &FontBook) -> Result<RgbaImage> {
    let mask = render_text(fonts, &mark.font, &mark.text, mark.size)?;
    let fill = [mark.fill.r, mark.fill.g, mark.fill.b];
    if mark.shadow == 0 {
        return Ok(tinted(&mask, fill, 100, 0));
    }
    // The shadow falls right and down by about a sixteenth of the size, at least a pixel.
    let offset = (mark.size / 16).max(1);
    let mut out = tinted(&mask, [0, 0, 0], mark.shadow, offset);
    let text = tinted(&mask, fill, 100, 0);
    for (x, y, p) in text.enumerate_pixels() {
        if p.0[3] > 0 {
            let below = out.get_pixel_mut(x, y);
            *below = Rgba(over(p.0, below.0));
        }
    }
    Ok(out)
}

/// `mask` as pixels of `colour` at `percent` opacity, shifted right and down by `offset` on a
/// canvas grown by `offset`.
fn tinted(mask: &GrayImage, colour: [u8; 3], percent: u8, offset: u32) -> RgbaImage {
    let (w, h) = mask.dimensions();
    let mut out = RgbaImage::new(w + offset, h + offset);
    for (x, y, m) in mask.enumerate_pixels() {
        let alpha = (u32::from(m.0[0]) * u32::from(percent) + 50) / 100;
        let [r, g, b] = colour;
        out.put_pixel(x + offset, y + offset, Rgba([r, g, b, alpha as u8]));
    }
    out
}
