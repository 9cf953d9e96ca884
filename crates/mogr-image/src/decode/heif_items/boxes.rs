//! Reading the ISOBMFF boxes of a HEIF `meta` box that say which items exist, where their data
//! lies and which properties they have. Every read is bounds checked; a box that does not
//! parse reads as absent, and counts are held to libheif's own limits so that no file makes
//! these parsers allocate more than libheif would accept.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::decode::bytes::{be16, be32};

/// Most child boxes looked at in one box (libheif refuses a box with more).
const MAX_BOXES: usize = 20_000;
/// Most items in an `iloc` (libheif refuses more).
const MAX_ITEMS: u64 = 20_000;
/// Most extents of one item in an `iloc` (libheif refuses more).
const MAX_EXTENTS: u64 = 32;

/// One box: its type and its payload (after the size and type).
pub(super) struct Bx<'a> {
    /// The four-character type.
    pub(super) kind: [u8; 4],
    /// The payload.
    pub(super) body: &'a [u8],
}

/// The boxes laid end to end in `data`; stops at the first one that does not fit.
pub(super) fn children(data: &[u8]) -> impl Iterator<Item = Bx<'_>> {
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
pub(super) fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(data).find(|b| b.kind == *kind).map(|b| b.body)
}

/// (item id, item type) of every `infe` (version 2 or 3) in an `iinf` payload.
pub(super) fn item_types(iinf: &[u8]) -> Vec<(u32, [u8; 4])> {
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
pub(super) struct Location {
    /// 0 = file offsets, 1 = offsets into `idat`.
    pub(super) method: u8,
    /// (offset, length) of each extent, base offset included.
    extents: Vec<(u64, u64)>,
}

impl Location {
    /// The item's data in `source` (the file or the `idat` payload), joined over its extents,
    /// at most `max` bytes of it; `None` when an extent lies outside `source`.
    pub(super) fn data<'a>(&self, source: &'a [u8], max: usize) -> Option<Cow<'a, [u8]>> {
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut total = 0usize;
        for &(offset, length) in &self.extents {
            if total >= max {
                break;
            }
            let start = usize::try_from(offset).ok()?;
            let len = usize::try_from(length).ok()?;
            // A zero length means "to the end of the source".
            let end = if len == 0 {
                source.len()
            } else {
                start.checked_add(len)?.min(source.len())
            };
            let part = source.get(start..end)?;
            let part = &part[..part.len().min(max - total)];
            total += part.len();
            parts.push(part);
        }
        Some(match parts.as_slice() {
            [one] => Cow::Borrowed(*one),
            _ => Cow::Owned(parts.concat()),
        })
    }
}

/// Item locations by item id from an `iloc` payload (version 0, 1 or 2); the first entry of an
/// id counts, as in libheif. `None` when it does not parse or is over libheif's limits.
pub(super) fn parse_iloc(iloc: &[u8]) -> Option<HashMap<u32, Location>> {
    let version = *iloc.first()?;
    let sizes = *iloc.get(4)?;
    let more = *iloc.get(5)?;
    let (offset_size, length_size) = (sizes >> 4, sizes & 15);
    let base_size = more >> 4;
    let index_size = if version == 0 { 0 } else { more & 15 };
    let mut r = Reader { data: iloc, pos: 6 };
    let count = if version < 2 { r.uint(2)? } else { r.uint(4)? };
    if count > MAX_ITEMS {
        return None;
    }
    let mut out = HashMap::new();
    for _ in 0..count {
        let id = u32::try_from(if version < 2 { r.uint(2)? } else { r.uint(4)? }).ok()?;
        let method = if version == 0 {
            0
        } else {
            (r.uint(2)? & 15) as u8
        };
        r.uint(2)?; // data_reference_index
        let base = r.uint(base_size)?;
        let extent_count = r.uint(2)?;
        if extent_count > MAX_EXTENTS {
            return None;
        }
        let mut extents = Vec::new();
        for _ in 0..extent_count {
            r.uint(index_size)?;
            let offset = base.checked_add(r.uint(offset_size)?)?;
            extents.push((offset, r.uint(length_size)?));
        }
        out.entry(id).or_insert(Location { method, extents });
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

    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
}

/// The property indices (1-based into `ipco`, in order) of each of `items`, from an `ipma`
/// payload; the first entry of an item counts, as in libheif. Entries of other items are
/// skipped unstored, so a huge `ipma` costs time in proportion to its size but no memory.
pub(super) fn associations(ipma: &[u8], items: &HashSet<u32>) -> HashMap<u32, Vec<u16>> {
    let mut out = HashMap::new();
    let (Some(&version), Some(&flags)) = (ipma.first(), ipma.get(3)) else {
        return out;
    };
    let wide_index = flags & 1 == 1;
    let mut r = Reader { data: ipma, pos: 4 };
    let Some(count) = r.uint(4) else {
        return out;
    };
    for _ in 0..count {
        let id = if version < 1 { r.uint(2) } else { r.uint(4) };
        let (Some(id), Some(n)) = (id.and_then(|id| u32::try_from(id).ok()), r.byte()) else {
            break;
        };
        let wanted = items.contains(&id) && !out.contains_key(&id);
        let mut indices = Vec::new();
        for _ in 0..n {
            // The top bit is the "essential" flag.
            let index = if wide_index {
                r.uint(2).map(|v| v as u16 & 0x7FFF)
            } else {
                r.byte().map(|v| u16::from(v & 0x7F))
            };
            let Some(index) = index else {
                return out;
            };
            if wanted {
                indices.push(index);
            }
        }
        if wanted {
            out.insert(id, indices);
        }
    }
    out
}
