//! The fonts a text watermark may name: font files handed in by the caller (the engine reads no
//! files), and the CI font names (`tahoma.ttf`, `simhei.ttf`, ...) that map to each.

use std::collections::HashMap;

use crate::error::{ImageError, Result};

/// One font face: its file's bytes and its index inside a collection (`.ttc`).
pub(crate) struct FontFace {
    /// A name for messages (the file name).
    pub(crate) label: String,
    /// The whole font file.
    pub(crate) data: Vec<u8>,
    /// Face index inside the file (0 for a single-face `.ttf`).
    pub(crate) index: u32,
}

impl std::fmt::Debug for FontFace {
    // The font bytes are megabytes of noise in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FontFace")
            .field("label", &self.label)
            .field("index", &self.index)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// Identifies a face added to a [`FontBook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaceId(usize);

/// Font faces by CI font name, plus the face that draws characters a named font lacks.
#[derive(Debug, Default)]
pub struct FontBook {
    faces: Vec<FontFace>,
    names: HashMap<String, FaceId>,
    fallback: Option<FaceId>,
}

impl FontBook {
    /// An empty book: every font name is unknown.
    pub fn new() -> FontBook {
        FontBook::default()
    }

    /// Adds the face `index` of the font file `data`; `InvalidArgument` if it does not parse
    /// as an OpenType/TrueType face.
    pub fn add_face(&mut self, label: &str, data: Vec<u8>, index: u32) -> Result<FaceId> {
        if rustybuzz::Face::from_slice(&data, index).is_none() {
            return Err(ImageError::InvalidArgument(format!(
                "{label}: not a usable font (face {index})"
            )));
        }
        self.faces.push(FontFace {
            label: label.to_owned(),
            data,
            index,
        });
        Ok(FaceId(self.faces.len() - 1))
    }

    /// Makes the CI font name `name` (matched case-insensitively) draw with `face`.
    pub fn map_name(&mut self, name: &str, face: FaceId) {
        self.names.insert(name.to_lowercase(), face);
    }

    /// Characters the named font has no glyph for are drawn with `face` (a CJK font, so
    /// Chinese text in a Latin font still renders).
    pub fn set_fallback(&mut self, face: FaceId) {
        self.fallback = Some(face);
    }

    /// The face a font name maps to.
    pub fn lookup(&self, name: &str) -> Option<FaceId> {
        self.names.get(&name.to_lowercase()).copied()
    }

    /// Every mapped name with the label of its face, sorted by name.
    pub fn mapping(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .names
            .iter()
            .filter_map(|(name, id)| Some((name.clone(), self.face(*id)?.label.clone())))
            .collect();
        all.sort();
        all
    }

    /// The face behind `id`.
    pub(crate) fn face(&self, id: FaceId) -> Option<&FontFace> {
        self.faces.get(id.0)
    }

    /// The fallback face, if any.
    pub(crate) fn fallback(&self) -> Option<FaceId> {
        self.fallback
    }
}
