//! From a parsed `imageMogr2` operation to the transform that executes it: one line per op.

use mogr_rule::{Axis, Op, Rgb, ThumbSize};

use crate::ops::blur::Blur;
use crate::ops::bright::Bright;
use crate::ops::contrast::Contrast;
use crate::ops::crop::Crop;
use crate::ops::cut::Cut;
use crate::ops::flip::Flip;
use crate::ops::geometry::{Gravity, ResizeGeometry, Rgba};
use crate::ops::grayscale::Grayscale;
use crate::ops::iradius::IRadius;
use crate::ops::rotate::Rotate;
use crate::ops::rradius::RRadius;
use crate::ops::scrop::Scrop;
use crate::ops::sharpen::Sharpen;
use crate::ops::thumbnail::Thumbnail;
use crate::ops::transform::{Size, Transform};

/// The pixel transform for `op`, or `None` for operations the engine runs on the whole image
/// (`auto-orient`, `cgif`).
pub fn transform_for(op: &Op) -> Option<Box<dyn Transform>> {
    Some(match *op {
        Op::Thumbnail { size, pad } => Box::new(thumbnail(size, pad)),
        Op::Crop {
            width,
            height,
            gravity: g,
            dx,
            dy,
        } => Box::new(Crop {
            width,
            height,
            gravity: Gravity::from(g),
            dx,
            dy,
        }),
        Op::Cut {
            width,
            height,
            dx,
            dy,
        } => Box::new(Cut {
            width,
            height,
            dx,
            dy,
        }),
        Op::Rotate(degrees) => Box::new(Rotate {
            degrees: f64::from(degrees),
        }),
        Op::Flip(Axis::Vertical) => Box::new(Flip::Vertical),
        Op::Flip(Axis::Horizontal) => Box::new(Flip::Horizontal),
        Op::Blur { radius, sigma } => Box::new(Blur::new(radius, sigma as f32)),
        Op::Sharpen(v) => Box::new(Sharpen::new(v)),
        Op::Bright(v) => Box::new(Bright::new(v)),
        Op::Contrast(v) => Box::new(Contrast::new(v)),
        Op::Grayscale(on) => Box::new(Grayscale::new(on)),
        Op::IRadius(r) => Box::new(IRadius::new(r)),
        Op::RRadius(r) => Box::new(RRadius::new(r)),
        // A new Scrop per call: it keeps the window it chose for the frames of one image.
        Op::Scrop { width, height } => Box::new(Scrop::new(width, height)),
        Op::AutoOrient | Op::Cgif(_) => return None,
    })
}

/// The transform of a parsed `thumbnail` and its pad colour.
pub fn thumbnail(size: ThumbSize, pad: Option<Rgb>) -> Thumbnail {
    Thumbnail {
        geometry: geometry(size),
        pad: pad.map(colour),
    }
}

/// The thumbnail size rule of a parsed `thumbnail` argument.
pub fn geometry(size: ThumbSize) -> ResizeGeometry {
    let percent = |x: u32, y: u32| ResizeGeometry::Percent {
        x: f64::from(x),
        y: f64::from(y),
    };
    match size {
        ThumbSize::Percent(p) => percent(p, p),
        ThumbSize::PercentWidth(p) => percent(p, 100),
        ThumbSize::PercentHeight(p) => percent(100, p),
        ThumbSize::Width(w) => ResizeGeometry::Width(w),
        ThumbSize::Height(h) => ResizeGeometry::Height(h),
        ThumbSize::Fit { width, height } => ResizeGeometry::Fit(Size::new(width, height)),
        ThumbSize::Shrink { width, height } => ResizeGeometry::Shrink(Size::new(width, height)),
        ThumbSize::Enlarge { width, height } => ResizeGeometry::Enlarge(Size::new(width, height)),
        ThumbSize::Cover { width, height } => ResizeGeometry::Cover(Size::new(width, height)),
        ThumbSize::Exact { width, height } => ResizeGeometry::Exact(Size::new(width, height)),
        ThumbSize::Area(a) => ResizeGeometry::Area(u64::from(a)),
        ThumbSize::EdgeCover { long, short } => ResizeGeometry::EdgeCover { long, short },
        ThumbSize::EdgeFill { long, short } => ResizeGeometry::EdgeFill { long, short },
    }
}

/// A parsed `color` as an opaque pad colour.
fn colour(c: Rgb) -> Rgba {
    Rgba::rgb(c.r, c.g, c.b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mogr_rule::Stage;

    fn ops(rule: &str) -> Vec<Op> {
        match mogr_rule::parse(rule).unwrap().stages.remove(0) {
            Stage::Mogr(m) => m.ops,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_geometry_op_has_a_transform_named_after_its_token() {
        let rule = "imageMogr2/thumbnail/100x100/gravity/center/crop/50x50/cut/10x10x1x1\
                    /rotate/45/flip/vertical";
        let names: Vec<&str> = ops(rule)
            .iter()
            .map(|op| transform_for(op).expect("a transform").name())
            .collect();
        assert_eq!(names, ["thumbnail", "crop", "cut", "rotate", "flip"]);
    }

    #[test]
    fn every_effect_op_has_a_transform_named_after_its_token() {
        let rule = "imageMogr2/blur/3x2/sharpen/70/bright/10/contrast/-10/grayscale/1\
                    /iradius/5/rradius/5/scrop/10x10";
        let names: Vec<&str> = ops(rule)
            .iter()
            .map(|op| transform_for(op).expect("a transform").name())
            .collect();
        assert_eq!(
            names,
            [
                "blur",
                "sharpen",
                "bright",
                "contrast",
                "grayscale",
                "iradius",
                "rradius",
                "scrop"
            ]
        );
    }

    #[test]
    fn whole_image_ops_have_none() {
        for op in ops("imageMogr2/auto-orient/cgif/5") {
            assert!(transform_for(&op).is_none(), "{op:?}");
        }
    }

    #[test]
    fn pad_colour_and_gravity_reach_the_transform() {
        let op = ops("imageMogr2/thumbnail/10x10/pad/1/color/IzNEM0QzRA")[0];
        let t = transform_for(&op).unwrap();
        assert_eq!(t.output_size(Size::new(40, 20)).unwrap(), Size::new(10, 10));
        let op = ops("imageMogr2/gravity/southeast/crop/10x10")[0];
        let Op::Crop { gravity: g, .. } = op else {
            panic!("{op:?}")
        };
        assert_eq!(Gravity::from(g), Gravity::SouthEast);
    }
}
