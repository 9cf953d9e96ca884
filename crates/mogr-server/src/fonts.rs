//! The fonts text watermarks draw with: CI's font names mapped to the closest font the setup
//! script installs, read once on first use and shared by every request (and the CLI).
//!
//! CI documents Windows and macOS font files (`tahoma.ttf`, `simhei.ttf`, ...) that cannot be
//! shipped; each maps to an open font of the same kind. Characters a Latin font lacks (Chinese
//! in `tahoma.ttf`, CI's default font) are drawn with the CJK font, as CI lists those fonts
//! for Chinese too. The table is the one the README shows.

use std::sync::{Arc, OnceLock};

use mogr_image::FontBook;

/// An installed font: candidate files (the first that exists is used) and the face index.
struct Family {
    /// For logs.
    name: &'static str,
    /// Absolute paths, in order of preference.
    files: &'static [&'static str],
    /// CI font names (lower case) drawn with this family.
    ci_names: &'static [&'static str],
}

/// WenQuanYi Micro Hei (`fonts-wqy-microhei`): a compact CJK sans with Latin letters.
const CJK_FILES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
];

/// Every font family and the CI names it stands in for.
const FAMILIES: &[Family] = &[
    Family {
        name: "WenQuanYi Micro Hei",
        files: CJK_FILES,
        ci_names: &[
            "simhei.ttf",
            "simhei黑体.ttf",
            "simsun.ttc",
            "simsun宋体.ttc",
            "simkai.ttf",
            "simkai楷体.ttf",
            "simfang.ttf",
            "simfang仿宋.ttf",
            "stheiti-light.ttc",
            "stheiti light华文黑体.ttc",
            "stheiti-medium.ttc",
            "stheiti medium.ttc",
            "youyuan.ttf",
            "幼圆.ttf",
            "msyh.ttf",
            "msyh.ttc",
            "wqy-microhei.ttc",
            "wqy-zenhei.ttc",
        ],
    },
    Family {
        name: "DejaVu Sans",
        files: &["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
        ci_names: &[
            "tahoma.ttf",
            "arial.ttf",
            "helvetica.dfont",
            "helveticaneue.dfont",
        ],
    },
    Family {
        name: "DejaVu Sans Bold",
        files: &["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
        ci_names: &["ahronbd.ttf", "ariblk.ttf"],
    },
];

/// The fonts, read from disk on the first call only.
pub fn system_fonts() -> Arc<FontBook> {
    static FONTS: OnceLock<Arc<FontBook>> = OnceLock::new();
    Arc::clone(FONTS.get_or_init(|| Arc::new(load())))
}

/// Reads every family's first existing file; a family with none is left out (its names are
/// then unknown fonts, answered 400) and logged.
fn load() -> FontBook {
    let mut book = FontBook::new();
    for family in FAMILIES {
        let face = family.files.iter().find_map(|path| {
            let data = std::fs::read(path).ok()?;
            let label = path.rsplit('/').next().unwrap_or(path);
            book.add_face(label, data, 0).ok()
        });
        let Some(face) = face else {
            tracing::warn!(
                family = family.name,
                files = ?family.files,
                "font not installed (run scripts/setup.sh); its CI font names are unavailable"
            );
            continue;
        };
        for name in family.ci_names {
            book.map_name(name, face);
        }
        if family.files == CJK_FILES {
            book.set_fallback(face);
        }
    }
    book
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_ci_fonts_all_map_to_an_installed_font() {
        let book = system_fonts();
        for name in [
            "tahoma.ttf",
            "SimHei.ttf",
            "simsun.ttc",
            "arial.ttf",
            "Ariblk.ttf",
            "HelveticaNeue.dfont",
            "simhei黑体.ttf",
            "幼圆.TTF",
        ] {
            assert!(book.lookup(name).is_some(), "{name} is not mapped");
        }
        assert!(book.lookup("comic.ttf").is_none());
        // Loaded once: the same book every time.
        assert!(Arc::ptr_eq(&book, &system_fonts()));
    }
}
