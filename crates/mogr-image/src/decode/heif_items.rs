//! Every image size a HEIF/AVIF file declares, and every picture size its coded images would
//! make a decoder allocate, checked before libheif decodes anything.
//!
//! libheif sizes what it allocates from more than the primary image's `ispe`: each grid tile
//! and auxiliary image has its own `ispe`, and a `grid` or `iovl` item carries its own canvas
//! size in its item data, allocated as declared. libheif 1.15 checks those against a per-side
//! limit only (32768), never against an area, and the context setting that tunes it is out of
//! reach through libheif-rs (and would not help below: it never looks at coded sizes). So this
//! reads the boxes that declare sizes (`meta` > `iprp` > `ipco` > `ispe`; `meta` >
//! `iinf`/`iloc`/`idat` for `grid`/`iovl` data) and refuses a file in which any of them is over
//! the limits.
//!
//! Nor does libheif compare an image's `ispe` with the size coded in its bitstream: libde265
//! and dav1d allocate each picture at the size of its HEVC sequence parameter set or AV1
//! sequence/frame header, so a file can declare 64x64 and make the decoder allocate gigabytes.
//! So for every coded item (`hvc1`, `av01`: primary image, grid tiles, alpha and other
//! auxiliary images, thumbnails) the stream libheif would hand the decoder (codec
//! configuration, then item data) is read for its picture sizes, which must be within the
//! limits and within the codec's block padding of the item's `ispe`.
//!
//! It only ever refuses: boxes and headers it cannot read are left to libheif and the decoders,
//! which reject malformed files themselves.

mod av1;
mod bits;
mod boxes;
mod hevc;

use std::collections::HashSet;

use boxes::{associations, child, children, item_types, parse_iloc, Bx};

use super::bytes::{be16, be32};
use super::corrupt;
use crate::error::{ImageError, Result};
use crate::limits::Limits;
use crate::model::ImageFormat;

/// How much larger than its `ispe` a coded picture may be: encoders pad the coded size up to
/// whole coding blocks (at most 64 luma samples in HEVC; AV1 codes the exact size).
const CODED_PADDING: u32 = 64;

/// Refuse the file if any declared or coded image size is over `limits`, or any coded picture
/// is larger than its item declares.
pub(super) fn check(bytes: &[u8], format: ImageFormat, limits: &Limits) -> Result<()> {
    check_file(bytes, format, Some(limits))
}

/// Refuse the file if any coded picture is larger than its item declares (no limits: for
/// reading the header, so that no caller is told a size the decoder would not use).
pub(super) fn check_coded(bytes: &[u8], format: ImageFormat) -> Result<()> {
    check_file(bytes, format, None)
}

fn check_file(bytes: &[u8], format: ImageFormat, limits: Option<&Limits>) -> Result<()> {
    // Items may share data; reading it over and over would cost time out of proportion to the
    // file, and no real file needs more than twice its length read.
    let mut budget = bytes.len().saturating_mul(2);
    for meta in children(bytes).filter(|b| b.kind == *b"meta") {
        let Some(meta) = meta.body.get(4..) else {
            continue;
        };
        check_meta(meta, bytes, format, limits, &mut budget)?;
    }
    Ok(())
}

/// The sizes a `meta` box (payload after its version and flags) of `file` declares or codes;
/// refused as corrupt when the coded items' data would take more than `budget` bytes to read.
fn check_meta(
    meta: &[u8],
    file: &[u8],
    format: ImageFormat,
    limits: Option<&Limits>,
    budget: &mut usize,
) -> Result<()> {
    let iprp = child(meta, b"iprp");
    let properties: Vec<Bx> = iprp
        .and_then(|iprp| child(iprp, b"ipco"))
        .map(|ipco| children(ipco).collect())
        .unwrap_or_default();
    if let Some(limits) = limits {
        for ispe in properties.iter().filter(|b| b.kind == *b"ispe") {
            if let Some((w, h)) = ispe_size(ispe.body) {
                check_size(w, h, limits)?;
            }
        }
    }
    let items = child(meta, b"iinf").map(item_types).unwrap_or_default();
    let coded: HashSet<u32> = items
        .iter()
        .filter(|(_, kind)| matches!(kind, b"hvc1" | b"av01"))
        .map(|(id, _)| *id)
        .collect();
    let props_of = iprp
        .and_then(|iprp| child(iprp, b"ipma"))
        .map(|ipma| associations(ipma, &coded))
        .unwrap_or_default();
    let locations = child(meta, b"iloc")
        .and_then(parse_iloc)
        .unwrap_or_default();
    let idat = child(meta, b"idat").unwrap_or(&[]);
    for (id, kind) in items {
        let data = locations.get(&id).and_then(|loc| match loc.method {
            0 => Some((loc, file)),
            1 => Some((loc, idat)),
            _ => None,
        });
        match &kind {
            b"grid" | b"iovl" => {
                let (Some(limits), Some(header)) =
                    (limits, data.and_then(|(loc, source)| loc.data(source, 32)))
                else {
                    continue;
                };
                let canvas = if kind == *b"grid" {
                    grid_canvas(&header)
                } else {
                    overlay_canvas(&header)
                };
                if let Some((w, h)) = canvas {
                    check_size(w, h, limits)?;
                }
            }
            b"hvc1" | b"av01" => {
                let data = data
                    .and_then(|(loc, source)| loc.data(source, source.len()))
                    .unwrap_or_default();
                *budget = budget.checked_sub(data.len()).ok_or_else(|| {
                    corrupt(format, "image items share more data than the file holds")
                })?;
                let props: Vec<&Bx> = props_of
                    .get(&id)
                    .into_iter()
                    .flatten()
                    .filter_map(|&i| properties.get(usize::from(i).checked_sub(1)?))
                    .collect();
                check_coded_item(&kind, &data, &props, limits)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The picture sizes of one coded item (`kind` `hvc1` or `av01`, its `data` and its
/// properties `props`) against its `ispe` and the limits.
fn check_coded_item(
    kind: &[u8; 4],
    data: &[u8],
    props: &[&Bx],
    limits: Option<&Limits>,
) -> Result<()> {
    // The first configuration is the one libheif passes on.
    let config = |kind: &[u8; 4]| props.iter().find(|p| p.kind == *kind).map(|p| p.body);
    let size = if kind == b"hvc1" {
        hevc::coded_size(config(b"hvcC"), data)
    } else {
        av1::coded_size(config(b"av1C"), data)
    };
    let Some(size) = size else {
        return Ok(());
    };
    // With several `ispe`s, the smallest of each side: a real item has one.
    let declared = props
        .iter()
        .filter(|p| p.kind == *b"ispe")
        .filter_map(|p| ispe_size(p.body))
        .reduce(|(w0, h0), (w1, h1)| (w0.min(w1), h0.min(h1)));
    check_coded_size(size, declared, limits)
}

/// Width and height of an `ispe` payload.
fn ispe_size(body: &[u8]) -> Option<(u32, u32)> {
    Some((be32(body, 4)?, be32(body, 8)?))
}

/// Refuse a declared size over the side or pixel limits (an empty size is libheif's to judge).
fn check_size(w: u32, h: u32, limits: &Limits) -> Result<()> {
    if w == 0 || h == 0 {
        return Ok(());
    }
    limits.check_canvas(w, h)
}

/// Refuse a coded picture size over the limits, or larger than the item's `declared` size by
/// more than block padding: that is a file hiding the picture the decoder would allocate.
fn check_coded_size(
    (w, h): (u32, u32),
    declared: Option<(u32, u32)>,
    limits: Option<&Limits>,
) -> Result<()> {
    if let Some(limits) = limits {
        check_size(w, h, limits)?;
    }
    if let Some((dw, dh)) = declared {
        if w > dw.saturating_add(CODED_PADDING) || h > dh.saturating_add(CODED_PADDING) {
            return Err(ImageError::ResolutionExceed(format!(
                "the coded picture is {w}x{h}, larger than the {dw}x{dh} its item declares"
            )));
        }
    }
    Ok(())
}

/// Output size of a `grid` item: version, flags, rows - 1, columns - 1, then 16- or 32-bit
/// width and height (flag bit 0).
fn grid_canvas(data: &[u8]) -> Option<(u32, u32)> {
    let flags = *data.get(1)?;
    canvas_at(data, 4, flags)
}

/// Canvas size of an `iovl` item: version, flags, four 16-bit fill values, then 16- or 32-bit
/// width and height (flag bit 0).
fn overlay_canvas(data: &[u8]) -> Option<(u32, u32)> {
    let flags = *data.get(1)?;
    canvas_at(data, 10, flags)
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

    const HEIC: ImageFormat = ImageFormat::Heif;

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

    /// One item of a test file: id, type, data (stored in `idat`; none when empty) and the
    /// 1-based indices of its properties.
    struct Item<'a> {
        id: u16,
        kind: &'a [u8; 4],
        data: Vec<u8>,
        props: Vec<u8>,
    }

    /// A file of `items` with the properties `props`, the first item primary.
    fn heif(items: &[Item], props: &[Vec<u8>]) -> Vec<u8> {
        let mut iinf = (items.len() as u16).to_be_bytes().to_vec();
        let mut idat = Vec::new();
        // iloc v1: 4-byte offsets and lengths, no base offset, no index; all data in idat.
        let stored: Vec<&Item> = items.iter().filter(|i| !i.data.is_empty()).collect();
        let mut iloc = vec![0x44, 0x00];
        iloc.extend_from_slice(&(stored.len() as u16).to_be_bytes());
        let mut ipma = (items.len() as u32).to_be_bytes().to_vec();
        for item in items {
            let mut infe = item.id.to_be_bytes().to_vec();
            infe.extend_from_slice(&[0, 0]);
            infe.extend_from_slice(item.kind);
            iinf.extend(full(b"infe", 2, &infe));
            ipma.extend_from_slice(&item.id.to_be_bytes());
            ipma.push(item.props.len() as u8);
            ipma.extend_from_slice(&item.props);
        }
        for item in stored {
            iloc.extend_from_slice(&item.id.to_be_bytes());
            iloc.extend_from_slice(&1u16.to_be_bytes()); // construction method 1 (idat)
            iloc.extend_from_slice(&0u16.to_be_bytes()); // data reference index
            iloc.extend_from_slice(&1u16.to_be_bytes()); // one extent
            iloc.extend_from_slice(&(idat.len() as u32).to_be_bytes());
            iloc.extend_from_slice(&(item.data.len() as u32).to_be_bytes());
            idat.extend_from_slice(&item.data);
        }
        let iprp = bx(
            b"iprp",
            &[bx(b"ipco", &props.concat()), full(b"ipma", 0, &ipma)].concat(),
        );
        let meta = full(
            b"meta",
            0,
            &[
                full(b"pitm", 0, &items[0].id.to_be_bytes()),
                full(b"iinf", 0, &iinf),
                full(b"iloc", 1, &iloc),
                bx(b"idat", &idat),
                iprp,
            ]
            .concat(),
        );
        let mut file = full(b"ftyp", 0, b"heic");
        file.extend(meta);
        file
    }

    /// A file whose primary item 1 is a grid of item 2 (a `hvc1` tile with a small `ispe`),
    /// the grid's output size `canvas` stored in `idat`.
    fn grid_file(canvas: (u32, u32)) -> Vec<u8> {
        // Grid data: version 0, flags 1 (32-bit sizes), 1x1 tiles, then the canvas.
        let mut grid = vec![0, 1, 0, 0];
        grid.extend_from_slice(&canvas.0.to_be_bytes());
        grid.extend_from_slice(&canvas.1.to_be_bytes());
        let items = [
            Item {
                id: 1,
                kind: b"grid",
                data: grid,
                props: vec![1],
            },
            Item {
                id: 2,
                kind: b"hvc1",
                data: Vec::new(),
                props: vec![2],
            },
        ];
        heif(&items, &[ispe(16, 16), ispe(16, 16)])
    }

    /// A file with one `hvc1` item: an `hvcC` with the given SPS, an `ispe`, and `data`.
    fn hevc_file(coded: (u64, u64), declared: (u32, u32), data: Vec<u8>) -> Vec<u8> {
        let sps = hevc::tests::sps(0, 1, coded.0, coded.1);
        let item = Item {
            id: 1,
            kind: b"hvc1",
            data,
            props: vec![0x81, 2],
        };
        let hvcc = bx(b"hvcC", &hevc::tests::hvcc(&[sps]));
        heif(&[item], &[hvcc, ispe(declared.0, declared.1)])
    }

    fn is_resolution(r: Result<()>) -> bool {
        matches!(r, Err(ImageError::ResolutionExceed(_)))
    }

    #[test]
    fn grid_canvas_over_the_limits_is_refused() {
        let limits = Limits::default();
        assert!(check(&grid_file((64, 64)), HEIC, &limits).is_ok());
        assert!(is_resolution(check(
            &grid_file((30_000, 30_000)),
            HEIC,
            &limits
        )));
        assert!(is_resolution(check(
            &grid_file((60_000, 10)),
            HEIC,
            &limits
        )));
        // The container's own sizes are for the limits only.
        assert!(check_coded(&grid_file((30_000, 30_000)), HEIC).is_ok());
    }

    #[test]
    fn any_item_size_over_the_limits_is_refused() {
        let ipco = bx(b"ipco", &[ispe(16, 16), ispe(20_000, 20_000)].concat());
        let meta = full(b"meta", 0, &bx(b"iprp", &ipco));
        assert!(is_resolution(check(&meta, HEIC, &Limits::default())));
    }

    #[test]
    fn coded_size_matching_the_item_is_accepted() {
        let limits = Limits::default();
        assert!(check(&hevc_file((64, 64), (64, 64), Vec::new()), HEIC, &limits).is_ok());
        // Coding blocks pad the coded size.
        assert!(check(&hevc_file((128, 72), (100, 60), Vec::new()), HEIC, &limits).is_ok());
    }

    #[test]
    fn coded_size_larger_than_the_item_declares_is_refused() {
        let hidden = hevc_file((8000, 8000), (64, 64), Vec::new());
        assert!(is_resolution(check(&hidden, HEIC, &Limits::default())));
        assert!(is_resolution(check_coded(&hidden, HEIC)));
        assert!(is_resolution(check_coded(
            &hevc_file((64, 200), (64, 64), Vec::new()),
            HEIC
        )));
    }

    #[test]
    fn coded_size_over_the_limits_is_refused() {
        let big = hevc_file((40_000, 40_000), (40_000, 40_000), Vec::new());
        assert!(check_coded(&big, HEIC).is_ok());
        let err = check(&big, HEIC, &Limits::default()).unwrap_err();
        assert!(matches!(err, ImageError::ResolutionExceed(_)), "{err:?}");
        let tight = Limits {
            max_pixels: 64 * 64 - 1,
            ..Limits::default()
        };
        let small = hevc_file((64, 64), (0, 0), Vec::new());
        assert!(is_resolution(check(&small, HEIC, &tight)));
    }

    #[test]
    fn any_coded_item_is_checked_not_only_the_primary() {
        // Item 1 (primary) is honest; item 2 (an alpha plane or grid tile, say) is not.
        let sps = |w, h| bx(b"hvcC", &hevc::tests::hvcc(&[hevc::tests::sps(0, 1, w, h)]));
        let props = [sps(64, 64), ispe(64, 64), sps(8000, 64), ispe(64, 64)];
        let item = |id, props| Item {
            id,
            kind: b"hvc1",
            data: Vec::new(),
            props,
        };
        let honest = heif(&[item(1, vec![1, 2]), item(2, vec![1, 4])], &props);
        assert!(check_coded(&honest, HEIC).is_ok());
        let hidden = heif(&[item(1, vec![1, 2]), item(2, vec![3, 4])], &props);
        assert!(is_resolution(check_coded(&hidden, HEIC)));
    }

    #[test]
    fn sps_in_the_item_data_counts() {
        let sps = hevc::tests::sps(1, 1, 64, 30_000);
        let mut data = (sps.len() as u32).to_be_bytes().to_vec();
        data.extend_from_slice(&sps);
        let file = hevc_file((64, 64), (64, 64), data);
        assert!(is_resolution(check_coded(&file, HEIC)));
    }

    #[test]
    fn av1_sequence_header_larger_than_the_item_is_refused() {
        // av1C: marker and version, profile and level, flags, no delay; then a sequence
        // header OBU of 20000 x 64.
        let mut av1c = vec![0x81, 0, 0x0C, 0];
        av1c.extend(av1::tests::obu(1, &av1::tests::reduced(16, 20_000, 64)));
        let item = Item {
            id: 1,
            kind: b"av01",
            data: Vec::new(),
            props: vec![1, 2],
        };
        let props = [bx(b"av1C", &av1c), ispe(64, 64)];
        let file = heif(&[item], &props);
        let err = check_coded(&file, ImageFormat::Avif).unwrap_err();
        assert!(err.to_string().contains("20000x64"), "{err}");
    }

    #[test]
    fn items_sharing_the_file_over_and_over_are_refused() {
        let sps = hevc::tests::sps(0, 1, 64, 64);
        let mut data = (sps.len() as u32).to_be_bytes().to_vec();
        data.extend_from_slice(&sps);
        data.resize(4000, 0);
        let mut file = hevc_file((64, 64), (64, 64), data);
        assert!(check_coded(&file, HEIC).is_ok());
        // Rewrite the iloc so that forty items all point at the same data.
        let mut iloc = vec![0x44, 0x00];
        iloc.extend_from_slice(&40u16.to_be_bytes());
        for id in 1..=40u16 {
            iloc.extend_from_slice(&id.to_be_bytes());
            iloc.extend_from_slice(&[0, 1, 0, 0, 0, 1]);
            iloc.extend_from_slice(&0u32.to_be_bytes());
            iloc.extend_from_slice(&4000u32.to_be_bytes());
        }
        let mut iinf = 40u16.to_be_bytes().to_vec();
        for id in 1..=40u16 {
            let mut infe = id.to_be_bytes().to_vec();
            infe.extend_from_slice(&[0, 0]);
            infe.extend_from_slice(b"hvc1");
            iinf.extend(full(b"infe", 2, &infe));
        }
        let meta_at = file.windows(4).position(|w| w == b"meta").unwrap() - 4;
        let meta = children(&file[meta_at + 12..])
            .map(|b| match &b.kind {
                b"iloc" => full(b"iloc", 1, &iloc),
                b"iinf" => full(b"iinf", 0, &iinf),
                kind => bx(kind, b.body),
            })
            .collect::<Vec<_>>()
            .concat();
        file.truncate(meta_at);
        file.extend(full(b"meta", 0, &meta));
        let err = check_coded(&file, HEIC).unwrap_err();
        assert!(matches!(err, ImageError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn unreadable_boxes_are_left_to_libheif() {
        let limits = Limits::default();
        assert!(check(b"", HEIC, &limits).is_ok());
        assert!(check(b"\0\0\0\x08meta", HEIC, &limits).is_ok());
        let mut cut = grid_file((30_000, 30_000));
        cut.truncate(cut.len() - 80);
        assert!(check(&cut, HEIC, &limits).is_ok());
        let mut cut = hevc_file((8000, 8000), (64, 64), Vec::new());
        cut.truncate(cut.len() - 60);
        assert!(check(&cut, HEIC, &limits).is_ok());
    }
}
