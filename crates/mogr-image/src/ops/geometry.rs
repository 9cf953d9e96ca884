//! Geometry the pixel operations share: gravity anchoring, colours, and thumbnail sizes.
//!
//! Everything here works on sizes alone, so the engine can know every step's canvas before
//! any pixel is allocated.

use crate::ops::transform::Size;

/// Where a box is anchored inside a canvas (`gravity/<g>`): one cell of a 3x3 grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Gravity {
    /// Top-left corner (the default anchor of `crop`).
    #[default]
    NorthWest,
    /// Top edge, centred horizontally.
    North,
    /// Top-right corner.
    NorthEast,
    /// Left edge, centred vertically.
    West,
    /// The centre.
    Center,
    /// Right edge, centred vertically.
    East,
    /// Bottom-left corner.
    SouthWest,
    /// Bottom edge, centred horizontally.
    South,
    /// Bottom-right corner.
    SouthEast,
}

impl From<mogr_rule::Gravity> for Gravity {
    /// The anchor of a parsed `gravity` (crops, thumbnails' pads, watermarks).
    fn from(g: mogr_rule::Gravity) -> Gravity {
        use mogr_rule::Gravity as Rule;
        match g {
            Rule::NorthWest => Gravity::NorthWest,
            Rule::North => Gravity::North,
            Rule::NorthEast => Gravity::NorthEast,
            Rule::West => Gravity::West,
            Rule::Center => Gravity::Center,
            Rule::East => Gravity::East,
            Rule::SouthWest => Gravity::SouthWest,
            Rule::South => Gravity::South,
            Rule::SouthEast => Gravity::SouthEast,
        }
    }
}

/// Where a box sits along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    Start,
    Middle,
    End,
}

impl Gravity {
    /// The anchor along the x axis.
    fn column(self) -> Edge {
        match self {
            Gravity::NorthWest | Gravity::West | Gravity::SouthWest => Edge::Start,
            Gravity::North | Gravity::Center | Gravity::South => Edge::Middle,
            Gravity::NorthEast | Gravity::East | Gravity::SouthEast => Edge::End,
        }
    }

    /// The anchor along the y axis.
    fn row(self) -> Edge {
        match self {
            Gravity::NorthWest | Gravity::North | Gravity::NorthEast => Edge::Start,
            Gravity::West | Gravity::Center | Gravity::East => Edge::Middle,
            Gravity::SouthWest | Gravity::South | Gravity::SouthEast => Edge::End,
        }
    }

    /// The top-left corner of an `inner` box anchored at this gravity inside `outer`.
    ///
    /// `dx` and `dy` move the box away from the edge it is anchored to, towards the inside
    /// (so on the east side a positive `dx` moves it left), as ImageMagick's gravity does. An
    /// axis on which the box is centred ignores its offset: `center` ignores both,
    /// `north`/`south` ignore `dx`, `west`/`east` ignore `dy`. Centring uses ImageMagick's
    /// arithmetic (`outer/2 - inner/2`, each halved in integers). The result may lie partly or
    /// wholly outside `outer`; callers decide what that means.
    pub fn place(self, outer: Size, inner: Size, dx: i64, dy: i64) -> (i64, i64) {
        let x = along(self.column(), outer.width, inner.width, dx);
        let y = along(self.row(), outer.height, inner.height, dy);
        (x, y)
    }
}

/// The start of a box of length `inner` anchored at `edge` of a span of length `outer`.
fn along(edge: Edge, outer: u32, inner: u32, offset: i64) -> i64 {
    let (outer, inner) = (i64::from(outer), i64::from(inner));
    match edge {
        Edge::Start => offset,
        Edge::Middle => outer / 2 - inner / 2,
        Edge::End => outer - inner - offset,
    }
}

/// An 8-bit sRGB colour with alpha (pad and background colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba(pub [u8; 4]);

impl Rgba {
    /// Opaque white, CI's default pad colour.
    pub const WHITE: Rgba = Rgba([255, 255, 255, 255]);
    /// Fully transparent black.
    pub const TRANSPARENT: Rgba = Rgba([0, 0, 0, 0]);

    /// An opaque colour from its red, green and blue components.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Rgba {
        Rgba([r, g, b, 255])
    }

    /// True when the colour has no transparency.
    pub fn is_opaque(self) -> bool {
        self.0[3] == u8::MAX
    }

    /// True when red, green and blue are equal (a grey canvas can stay grey).
    pub fn is_gray(self) -> bool {
        self.0[0] == self.0[1] && self.0[1] == self.0[2]
    }
}

impl Default for Rgba {
    fn default() -> Self {
        Rgba::WHITE
    }
}

/// The size grammar of `thumbnail/<geometry>`, which is ImageMagick's `-resize` geometry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResizeGeometry {
    /// `!<S>p` (both sides), `!<S>px` (width only), `!x<S>p` (height only): per-cent of each
    /// side; 100 keeps a side.
    Percent {
        /// Per-cent of the width.
        x: f64,
        /// Per-cent of the height.
        y: f64,
    },
    /// `<W>x`: width W, height proportional.
    Width(u32),
    /// `x<H>`: height H, width proportional.
    Height(u32),
    /// `<W>x<H>`: the largest proportional size inside W x H (may enlarge).
    Fit(Size),
    /// `<W>x<H>>`: like `Fit`, but never enlarges.
    Shrink(Size),
    /// `<W>x<H><`: like `Fit`, but never shrinks.
    Enlarge(Size),
    /// `!<W>x<H>r`: the smallest proportional size covering W x H.
    Cover(Size),
    /// `<W>x<H>!`: exactly W x H, aspect ratio ignored.
    Exact(Size),
    /// `<A>@`: the largest proportional size of at most A pixels.
    Area(u64),
    /// imageView2 mode 4: the smallest proportional size whose long edge is at least `long`
    /// and whose short edge is at least `short`.
    EdgeCover {
        /// Minimum long edge.
        long: u32,
        /// Minimum short edge.
        short: u32,
    },
    /// imageView2 mode 5: `EdgeCover`, then a centred crop to `long` x `short` turned like
    /// the image (see [`ResizeGeometry::crop_box`]).
    EdgeFill {
        /// Long edge of the output.
        long: u32,
        /// Short edge of the output.
        short: u32,
    },
}

/// A `long` x `short` box turned like `src`: long across a landscape (or square) image, down a
/// portrait one.
fn oriented(src: Size, long: u32, short: u32) -> Size {
    if src.width >= src.height {
        Size::new(long, short)
    } else {
        Size::new(short, long)
    }
}

/// ImageMagick's rounding of a computed side: `floor(v + 0.5)`, saturating.
fn round_side(v: f64) -> u32 {
    // `as` saturates on overflow and maps NaN to 0; callers clamp to at least 1.
    (v + 0.5).floor() as u32
}

impl ResizeGeometry {
    /// The box a `pad/1` canvas takes, for the forms that name both sides of a bounding box.
    pub fn pad_box(self) -> Option<Size> {
        match self {
            ResizeGeometry::Fit(b) | ResizeGeometry::Shrink(b) | ResizeGeometry::Enlarge(b) => {
                Some(b)
            }
            _ => None,
        }
    }

    /// The box the scaled image is centre-cropped to, for the forms that crop (`EdgeFill`).
    pub fn crop_box(self, src: Size) -> Option<Size> {
        match self {
            ResizeGeometry::EdgeFill { long, short } => Some(oriented(src, long, short)),
            _ => None,
        }
    }

    /// The size `convert -resize <geometry>` gives an image of `src` size, to the pixel.
    ///
    /// This follows ImageMagick 6's geometry arithmetic step by step (including its floating
    /// point order), because CI's thumbnail grammar comes from it and users compare sizes. One
    /// deliberate difference: where ImageMagick rounds a side to 0 and refuses (`!1p` of a
    /// 70x46 image), the side is 1 pixel here.
    pub fn resize(self, src: Size) -> Size {
        let out = match self {
            ResizeGeometry::Percent { x, y } => {
                let (w, h) = (f64::from(src.width), f64::from(src.height));
                Size::new(round_side(x * w / 100.0), round_side(y * h / 100.0))
            }
            ResizeGeometry::Width(w) => proportional(src, Some(w), None, false),
            ResizeGeometry::Height(h) => proportional(src, None, Some(h), false),
            ResizeGeometry::Fit(b) => proportional(src, Some(b.width), Some(b.height), false),
            ResizeGeometry::Cover(b) => proportional(src, Some(b.width), Some(b.height), true),
            ResizeGeometry::Shrink(b) => {
                let s = proportional(src, Some(b.width), Some(b.height), false);
                Size::new(s.width.min(src.width), s.height.min(src.height))
            }
            ResizeGeometry::Enlarge(b) => {
                let s = proportional(src, Some(b.width), Some(b.height), false);
                Size::new(s.width.max(src.width), s.height.max(src.height))
            }
            ResizeGeometry::Exact(b) => b,
            ResizeGeometry::Area(area) => by_area(src, area),
            ResizeGeometry::EdgeCover { long, short }
            | ResizeGeometry::EdgeFill { long, short } => {
                let b = oriented(src, long, short);
                proportional(src, Some(b.width), Some(b.height), true)
            }
        };
        Size::new(out.width.max(1), out.height.max(1))
    }
}

/// ImageMagick's aspect-preserving step: scale by the requested side(s), the smaller ratio for
/// a bounding box, the larger one for a cover (`^`), each side rounded and at least 1.
fn proportional(src: Size, width: Option<u32>, height: Option<u32>, cover: bool) -> Size {
    let target = Size::new(width.unwrap_or(src.width), height.unwrap_or(src.height));
    if target == src || src.width == 0 || src.height == 0 {
        return target;
    }
    let (fw, fh) = (f64::from(src.width), f64::from(src.height));
    let scale = match (width, height) {
        (Some(w), Some(h)) => {
            let (sx, sy) = (f64::from(w) / fw, f64::from(h) / fh);
            if cover {
                sx.max(sy)
            } else {
                sx.min(sy)
            }
        }
        (Some(w), None) => f64::from(w) / fw,
        (None, Some(h)) => f64::from(h) / fh,
        (None, None) => 1.0,
    };
    Size::new(round_side(scale * fw).max(1), round_side(scale * fh).max(1))
}

/// ImageMagick 6's `<A>@`: first the width-only step with W = A, then, when that is larger
/// than the area allows, each side scaled by sqrt(A / (w*h)) and truncated (so w*h <= A).
fn by_area(src: Size, area: u64) -> Size {
    // The width step keeps its own rounding; sides beyond u32 saturate, which only matters
    // for areas no parser lets through.
    let stepped = proportional(
        src,
        Some(u32::try_from(area).unwrap_or(u32::MAX)),
        None,
        false,
    );
    let (fw, fh) = (f64::from(src.width), f64::from(src.height));
    // ImageMagick adds sqrt(MagickEpsilon) so an exact area is not lost to rounding.
    let root = (area as f64 + 1.0e-12f64.sqrt()).sqrt();
    let distance = (fw * fh).sqrt();
    let divisor = distance * (1.0 / root);
    let (sx, sy) = (fw * (1.0 / divisor), fh * (1.0 / divisor));
    if sx < f64::from(stepped.width) || sy < f64::from(stepped.height) {
        // Truncation, as ImageMagick 6 casts here without rounding.
        Size::new(sx as u32, sy as u32)
    } else {
        stepped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANVAS: Size = Size::new(100, 80);
    const BOX: Size = Size::new(30, 20);

    #[test]
    fn each_gravity_anchors_its_cell() {
        let cases = [
            (Gravity::NorthWest, (0, 0)),
            (Gravity::North, (35, 0)),
            (Gravity::NorthEast, (70, 0)),
            (Gravity::West, (0, 30)),
            (Gravity::Center, (35, 30)),
            (Gravity::East, (70, 30)),
            (Gravity::SouthWest, (0, 60)),
            (Gravity::South, (35, 60)),
            (Gravity::SouthEast, (70, 60)),
        ];
        for (g, at) in cases {
            assert_eq!(g.place(CANVAS, BOX, 0, 0), at, "{g:?}");
        }
    }

    #[test]
    fn offsets_move_inward_and_centred_axes_ignore_them() {
        assert_eq!(Gravity::NorthWest.place(CANVAS, BOX, 5, 7), (5, 7));
        assert_eq!(Gravity::SouthEast.place(CANVAS, BOX, 5, 7), (65, 53));
        assert_eq!(Gravity::Center.place(CANVAS, BOX, 5, 7), (35, 30));
        assert_eq!(Gravity::North.place(CANVAS, BOX, 5, 7), (35, 7));
        assert_eq!(Gravity::South.place(CANVAS, BOX, 5, 7), (35, 53));
        assert_eq!(Gravity::West.place(CANVAS, BOX, 5, 7), (5, 30));
        assert_eq!(Gravity::East.place(CANVAS, BOX, 5, 7), (65, 30));
    }

    #[test]
    fn centring_halves_each_side_in_integers() {
        // 5/2 - 2/2 = 1 and 4/2 - 1/2 = 2, as ImageMagick places a centred box.
        let at = Gravity::Center.place(Size::new(5, 4), Size::new(2, 1), 0, 0);
        assert_eq!(at, (1, 2));
    }

    #[test]
    fn zero_sides_become_one_pixel() {
        let s = ResizeGeometry::Percent { x: 1.0, y: 1.0 }.resize(Size::new(70, 46));
        assert_eq!(s, Size::new(1, 1));
        assert_eq!(
            ResizeGeometry::Area(1).resize(Size::new(245, 163)),
            Size::new(1, 1)
        );
    }

    #[test]
    fn edge_forms_turn_their_box_like_the_image() {
        let cover = ResizeGeometry::EdgeCover {
            long: 300,
            short: 100,
        };
        // Landscape 400x200: long edge across, scale max(300/400, 100/200) = 0.75.
        assert_eq!(cover.resize(Size::new(400, 200)), Size::new(300, 150));
        // Portrait 200x400: the same box turned.
        assert_eq!(cover.resize(Size::new(200, 400)), Size::new(150, 300));
        let fill = ResizeGeometry::EdgeFill {
            long: 300,
            short: 100,
        };
        assert_eq!(fill.resize(Size::new(200, 400)), Size::new(150, 300));
        assert_eq!(
            fill.crop_box(Size::new(200, 400)),
            Some(Size::new(100, 300))
        );
        assert_eq!(
            fill.crop_box(Size::new(400, 400)),
            Some(Size::new(300, 100))
        );
        assert_eq!(cover.crop_box(Size::new(400, 200)), None);
    }

    #[test]
    fn pad_box_is_given_only_for_bounding_boxes() {
        let b = Size::new(10, 10);
        assert_eq!(ResizeGeometry::Fit(b).pad_box(), Some(b));
        assert_eq!(ResizeGeometry::Cover(b).pad_box(), None);
        assert_eq!(ResizeGeometry::Width(10).pad_box(), None);
    }
}
