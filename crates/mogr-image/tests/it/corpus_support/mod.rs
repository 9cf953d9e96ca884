//! Locating the shared test corpus and reading its manifest.
#![allow(dead_code)]

use std::path::PathBuf;

/// The corpus folder (`/work/shared/corpus` relative to the repo), if present.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        println!("skipped: corpus absent");
        None
    }
}

/// One manifest row.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: String,
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub mode: String,
}

/// All manifest rows.
pub fn manifest(dir: &std::path::Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let (w, h) = cols[3].split_once('x').unwrap();
            Entry {
                file: cols[0].to_string(),
                width: w.parse().unwrap(),
                height: h.parse().unwrap(),
                frames: cols[4].parse().unwrap(),
                mode: cols[5].to_string(),
            }
        })
        .collect()
}

/// Bytes of one corpus file.
pub fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}
