//! Every image size a HEIF/AVIF file declares, checked against the limits before libheif
//! decodes anything.
//!
//! libheif sizes what it allocates from more than the primary image's `ispe`: each grid tile
//! and auxiliary image has its own `ispe`, and a `grid` or `iovl` item carries its own canvas
//! size in its item data, allocated as declared. libheif 1.15 checks those against a per-side
//! limit only (32768), never against an area, and the context setting that tunes it is out of
//! reach through libheif-rs. So this reads the boxes that declare sizes (`meta` > `iprp` >
//! `ipco` > `ispe`; `meta` > `iinf`/`iloc`/`idat` for `grid`/`iovl` data) and refuses a file in
//! which any of them is over the limits. It only ever refuses: boxes it cannot read are left
//! to libheif, which rejects malformed files itself.

use super::bytes::{be16, be32};
use crate::error::Result;
use crate::limits::Limits;

/// Most boxes looked at in one container (real files have a few dozen).
const MAX_BOXES: usize = 4096;

/// Refuse the file if any declared image size is over `limits`.
pub(super) fn check(bytes: &[u8], limits: &Limits) -> Result<()> {
    for meta in children(bytes).filter(|b| b.kind == *b"meta") {
        let Some(meta) = meta.body.get(4..) else {
            continue;
        };
        check_meta(meta, bytes, limits)?;
    }
    Ok(())
}

/// One box: its type and its payload (after the size and type).
struct Bx<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes laid end to end in `data`; stops at the first one that does not fit.
fn children(data: &[u8]) -> impl Iterator<Item = Bx<'_>> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let size = be32(data, pos)?;
        let kind: [u8; 4] = data.get(pos + 4..pos + 8)?.try_into().ok()?;
        let (header, len) = match size {
            0 => (8, data.len() - pos),
            1 => {
                let high = u64::from(be32(data, pos + 8)?);
                let low = u64::from(be32(data, pos + 12)?);
                (16, usize::try_from((high << 32) | low).ok()?)
            }
            n => (8, usize::try_from(n).ok()?),
        };
        let body = data.get(pos + header..pos.checked_add(len)?)?;
        pos += len;
        Some(Bx { kind, body })
    })
    .take(MAX_BOXES)
}

/// The first child of `data` of type `kind`.
fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(data).find(|b| b.kind == *kind).map(|b| b.body)
}

/// The sizes a `meta` box (payload after its version and flags) of `file` declares.
fn check_meta(meta: &[u8], file: &[u8], limits: &Limits) -> Result<()> {
    if let Some(ipco) = child(meta, b"iprp").and_then(|iprp| child(iprp, b"ipco")) {
        for ispe in children(ipco).filter(|b| b.kind == *b"ispe") {
            if let (Some(w), Some(h)) = (be32(ispe.body, 4), be32(ispe.body, 8)) {
                check_size(w, h, limits)?;
            }
        }
    }
    let Some(iloc) = child(meta, b"iloc").and_then(parse_iloc) else {
        return Ok(());
    };
    let idat = child(meta, b"idat").unwrap_or(&[]);
    for (id, kind) in child(meta, b"iinf").map(item_types).unwrap_or_default() {
        let Some(loc) = iloc.iter().find(|l| l.id == id) else {
            continue;
        };
        let source = match loc.method {
            0 => file,
            1 => idat,
            _ => continue,
        };
        let Some(data) = loc.first_bytes(source) else {
            continue;
        };
        let canvas = match &kind {
            b"grid" => grid_canvas(data),
            b"iovl" => overlay_canvas(data),
            _ => None,
        };
        if let Some((w, h)) = canvas {
            check_size(w, h, limits)?;
        }
    }
    Ok(())
}

/// Refuse a declared size over the side or pixel limits (an empty size is libheif's to judge).
fn check_size(w: u32, h: u32, limits: &Limits) -> Result<()> {
    if w == 0 || h == 0 {
        return Ok(());
    }
    limits.check_canvas(w, h)
}

/// (item id, item type) of every `infe` (version 2 or 3) in an `iinf` payload.
fn item_types(iinf: &[u8]) -> Vec<(u32, [u8; 4])> {
    let version = iinf.first().copied().unwrap_or(0);
    let entries = if version == 0 { 6 } else { 8 };
    let Some(rest) = iinf.get(entries..) else {
        return Vec::new();
    };
    children(rest)
        .filter(|b| b.kind == *b"infe")
        .filter_map(|infe| {
            let (id, at) = match infe.body.first()? {
                2 => (u32::from(be16(infe.body, 4)?), 6),
                3 => (be32(infe.body, 4)?, 8),
                _ => return None,
            };
            // item_protection_index (2 bytes), then the item type.
            let kind = infe.body.get(at + 2..at + 6)?.try_into().ok()?;
            Some((id, kind))
        })
        .collect()
}

/// Where one item's data lies.
struct Location {
    id: u32,
    /// 0 = file offsets, 1 = offsets into `idat`.
    method: u8,
    /// (offset, length) of each extent, base offset included.
    extents: Vec<(u64, u64)>,
}

impl Location {
    /// The item data's first bytes (enough for a grid or overlay header), joined over extents.
    fn first_bytes(&self, source: &[u8]) -> Option<Vec<u8>> {
        const WANT: usize = 32;
        let mut out = Vec::new();
        for &(offset, length) in &self.extents {
            let start = usize::try_from(offset).ok()?;
            let len = usize::try_from(length).ok()?;
            // A zero length means "to the end of the source".
            let end = if len == 0 {
                source.len()
            } else {
                start.checked_add(len)?.min(source.len())
            };
            out.extend_from_slice(source.get(start..end)?);
            if out.len() >= WANT {
                break;
            }
        }
        out.truncate(WANT);
        Some(out)
    }
}

/// Item locations from an `iloc` payload (version 0, 1 or 2).
fn parse_iloc(iloc: &[u8]) -> Option<Vec<Location>> {
    let version = *iloc.first()?;
    let sizes = *iloc.get(4)?;
    let more = *iloc.get(5)?;
    let (offset_size, length_size) = (sizes >> 4, sizes & 15);
    let base_size = more >> 4;
    let index_size = if version == 0 { 0 } else { more & 15 };
    let mut r = Reader { data: iloc, pos: 6 };
    let count = if version < 2 { r.uint(2)? } else { r.uint(4)? };
    let mut out = Vec::new();
    for _ in 0..count.min(MAX_BOXES as u64) {
        let id = u32::try_from(if version < 2 { r.uint(2)? } else { r.uint(4)? }).ok()?;
        let method = if version == 0 {
            0
        } else {
            (r.uint(2)? & 15) as u8
        };
        r.uint(2)?; // data_reference_index
        let base = r.uint(base_size)?;
        let extent_count = r.uint(2)?;
        let mut extents = Vec::new();
        for _ in 0..extent_count {
            r.uint(index_size)?;
            let offset = base.checked_add(r.uint(offset_size)?)?;
            extents.push((offset, r.uint(length_size)?));
        }
        out.push(Location {
            id,
            method,
            extents,
        });
    }
    Some(out)
}

/// Big-endian unsigned fields of 0, 4 or 8 bytes (and 2 for counts and ids).
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn uint(&mut self, bytes: u8) -> Option<u64> {
        let n = usize::from(bytes);
        if !matches!(n, 0 | 2 | 4 | 8) {
            return None;
        }
        let field = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(field.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
    }
}

/// Output size of a `grid` item: version, flags, rows - 1, columns - 1, then 16- or 32-bit
/// width and height (flag bit 0).
fn grid_canvas(data: Vec<u8>) -> Option<(u32, u32)> {
    let flags = *data.get(1)?;
    canvas_at(&data, 4, flags)
}

/// Canvas size of an `iovl` item: version, flags, four 16-bit fill values, then 16- or 32-bit
/// width and height (flag bit 0).
fn overlay_canvas(data: Vec<u8>) -> Option<(u32, u32)> {
    let flags = *data.get(1)?;
    canvas_at(&data, 10, flags)
}

fn canvas_at(data: &[u8], at: usize, flags: u8) -> Option<(u32, u32)> {
    if flags & 1 == 0 {
        Some((u32::from(be16(data, at)?), u32::from(be16(data, at + 2)?)))
    } else {
        Some((be32(data, at)?, be32(data, at + 4)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ImageError;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// A full box: version, zero flags, then `body`.
    fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
        let mut b = vec![version, 0, 0, 0];
        b.extend_from_slice(body);
        bx(kind, &b)
    }

    fn ispe(w: u32, h: u32) -> Vec<u8> {
        let mut b = w.to_be_bytes().to_vec();
        b.extend_from_slice(&h.to_be_bytes());
        full(b"ispe", 0, &b)
    }

    /// A file whose primary item 1 is a grid of item 2 (a `hvc1` tile with a small `ispe`),
    /// the grid's output size `canvas` stored in `idat`.
    fn grid_file(canvas: (u32, u32)) -> Vec<u8> {
        let mut infe1 = 1u16.to_be_bytes().to_vec();
        infe1.extend_from_slice(&[0, 0]);
        infe1.extend_from_slice(b"grid");
        let mut infe2 = 2u16.to_be_bytes().to_vec();
        infe2.extend_from_slice(&[0, 0]);
        infe2.extend_from_slice(b"hvc1");
        let mut iinf_body = 2u16.to_be_bytes().to_vec();
        iinf_body.extend(full(b"infe", 2, &infe1));
        iinf_body.extend(full(b"infe", 2, &infe2));
        // Grid data: version 0, flags 1 (32-bit sizes), 1x1 tiles, then the canvas.
        let mut grid = vec![0, 1, 0, 0];
        grid.extend_from_slice(&canvas.0.to_be_bytes());
        grid.extend_from_slice(&canvas.1.to_be_bytes());
        // iloc v1: 4-byte offsets and lengths, no base offset, no index; one item in idat.
        let mut iloc = vec![0x44, 0x00];
        iloc.extend_from_slice(&1u16.to_be_bytes());
        iloc.extend_from_slice(&1u16.to_be_bytes()); // item 1
        iloc.extend_from_slice(&1u16.to_be_bytes()); // construction method 1 (idat)
        iloc.extend_from_slice(&0u16.to_be_bytes()); // data reference index
        iloc.extend_from_slice(&1u16.to_be_bytes()); // one extent
        iloc.extend_from_slice(&0u32.to_be_bytes());
        iloc.extend_from_slice(&(grid.len() as u32).to_be_bytes());
        let ipco = bx(b"ipco", &[ispe(16, 16), ispe(16, 16)].concat());
        let meta = full(
            b"meta",
            0,
            &[
                full(b"pitm", 0, &1u16.to_be_bytes()),
                full(b"iinf", 0, &iinf_body),
                full(b"iloc", 1, &iloc),
                bx(b"idat", &grid),
                bx(b"iprp", &ipco),
            ]
            .concat(),
        );
        let mut file = full(b"ftyp", 0, b"heic");
        file.extend(meta);
        file
    }

    #[test]
    fn grid_canvas_over_the_limits_is_refused() {
        let limits = Limits::default();
        assert!(check(&grid_file((64, 64)), &limits).is_ok());
        let err = check(&grid_file((30_000, 30_000)), &limits).unwrap_err();
        assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
        let err = check(&grid_file((60_000, 10)), &limits).unwrap_err();
        assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
    }

    #[test]
    fn any_item_size_over_the_limits_is_refused() {
        let ipco = bx(b"ipco", &[ispe(16, 16), ispe(20_000, 20_000)].concat());
        let meta = full(b"meta", 0, &bx(b"iprp", &ipco));
        let err = check(&meta, &Limits::default()).unwrap_err();
        assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
    }

    #[test]
    fn unreadable_boxes_are_left_to_libheif() {
        assert!(check(b"", &Limits::default()).is_ok());
        assert!(check(b"\0\0\0\x08meta", &Limits::default()).is_ok());
        let mut cut = grid_file((30_000, 30_000));
        cut.truncate(cut.len() - 40);
        assert!(check(&cut, &Limits::default()).is_ok());
    }
}
