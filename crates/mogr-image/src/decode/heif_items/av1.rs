//! The frame sizes an AV1 decoder allocates for an `av01` item.
//!
//! libheif hands dav1d the `configOBUs` of the item's `av1C` followed by the item's data, as
//! one stream of OBUs. dav1d allocates each frame at the size its frame header gives: the
//! sequence header's maximum, or, when the frame header overrides it, an explicit size of up
//! to `frame_width_bits` bits that dav1d does not hold to that maximum. So every sequence
//! header's maximum and every explicit frame size in the stream counts.

use std::borrow::Cow;

use super::bits::Bits;

/// OBU types that carry a size.
const SEQUENCE_HEADER: u8 = 1;
const FRAME_HEADER: u8 = 3;
const FRAME: u8 = 6;
const REDUNDANT_FRAME_HEADER: u8 = 7;

/// Frame types.
const KEY_FRAME: u32 = 0;
const INTRA_ONLY_FRAME: u32 = 2;
const SWITCH_FRAME: u32 = 3;

/// A sequence header value meaning "chosen per frame".
const SELECT: u8 = 2;

/// The largest width and the largest height the stream `av1c` (an `av1C` payload) + `data`
/// (the item's data) declares; `None` when nothing in it parses.
pub(super) fn coded_size(av1c: Option<&[u8]>, data: &[u8]) -> Option<(u32, u32)> {
    // Four bytes of configuration, then the configuration OBUs.
    let config = av1c.and_then(|c| c.get(4..)).unwrap_or_default();
    let stream: Cow<[u8]> = if config.is_empty() {
        Cow::Borrowed(data)
    } else {
        Cow::Owned([config, data].concat())
    };
    let mut largest = None;
    let mut sequence = None;
    for obu in obus(&stream) {
        match obu.kind {
            SEQUENCE_HEADER => {
                // A sequence header that does not parse leaves dav1d with no sequence to
                // decode frames of; its maximum size still counts if it was read.
                sequence = sequence_header(obu.payload, &mut largest);
            }
            FRAME_HEADER | FRAME | REDUNDANT_FRAME_HEADER => {
                if let Some(size) = sequence.as_ref().and_then(|s| frame_size(s, &obu)) {
                    grow(&mut largest, size);
                }
            }
            _ => {}
        }
    }
    largest
}

/// Widen `largest` to cover `size`, each side on its own.
fn grow(largest: &mut Option<(u32, u32)>, (w, h): (u32, u32)) {
    *largest = Some(match *largest {
        Some((lw, lh)) => (lw.max(w), lh.max(h)),
        None => (w, h),
    });
}

/// One OBU: its type, its layer ids and its payload.
struct Obu<'a> {
    kind: u8,
    temporal_id: u32,
    spatial_id: u32,
    payload: &'a [u8],
}

/// The OBUs of `data`; stops at the first one that does not fit.
fn obus(data: &[u8]) -> impl Iterator<Item = Obu<'_>> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let header = *data.get(pos)?;
        let mut at = pos + 1;
        let (temporal_id, spatial_id) = if header & 4 != 0 {
            let ext = *data.get(at)?;
            at += 1;
            (u32::from(ext >> 5), u32::from((ext >> 3) & 3))
        } else {
            (0, 0)
        };
        let len = if header & 2 != 0 {
            let (len, n) = leb128(data.get(at..)?)?;
            at += n;
            len
        } else {
            // Without a size field the OBU runs to the end of the data.
            data.len().checked_sub(at)?
        };
        let end = at.checked_add(len)?;
        let payload = data.get(at..end)?;
        pos = end;
        Some(Obu {
            kind: (header >> 3) & 15,
            temporal_id,
            spatial_id,
            payload,
        })
    })
}

/// An unsigned LEB128 value of at most 8 bytes and 32 bits, and its length in bytes.
fn leb128(data: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0u64;
    for (i, &byte) in data.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let value = u32::try_from(value).ok()?;
            return Some((usize::try_from(value).ok()?, i + 1));
        }
    }
    None
}

/// The sequence header fields a frame header's size depends on.
struct Sequence {
    reduced_still_picture_header: bool,
    decoder_model_info_present: bool,
    equal_picture_interval: bool,
    frame_presentation_time_length: usize,
    buffer_removal_time_length: usize,
    /// Per operating point: its idc and whether it has decoder model parameters.
    operating_points: Vec<(u32, bool)>,
    frame_width_bits: u32,
    frame_height_bits: u32,
    /// Bits of a frame id, 0 when frame ids are absent.
    frame_id_bits: usize,
    delta_frame_id_bits: usize,
    screen_content_tools: u8,
    force_integer_mv: u8,
    /// Bits of an order hint, 0 when order hints are off.
    order_hint_bits: usize,
}

/// Parse a sequence header OBU payload; its maximum frame size goes into `largest` as soon as
/// it is read.
fn sequence_header(payload: &[u8], largest: &mut Option<(u32, u32)>) -> Option<Sequence> {
    let mut r = Bits::new(payload);
    r.skip(3)?; // seq_profile
    r.skip(1)?; // still_picture
    let reduced = r.bit()?;
    let mut s = Sequence {
        reduced_still_picture_header: reduced,
        decoder_model_info_present: false,
        equal_picture_interval: false,
        frame_presentation_time_length: 0,
        buffer_removal_time_length: 0,
        operating_points: vec![(0, false)],
        frame_width_bits: 0,
        frame_height_bits: 0,
        frame_id_bits: 0,
        delta_frame_id_bits: 0,
        screen_content_tools: SELECT,
        force_integer_mv: SELECT,
        order_hint_bits: 0,
    };
    if reduced {
        r.skip(5)?; // seq_level_idx[0]
    } else {
        operating_points(&mut r, &mut s)?;
    }
    s.frame_width_bits = r.bits(4)? + 1;
    s.frame_height_bits = r.bits(4)? + 1;
    let max_width = r.bits(s.frame_width_bits)? + 1;
    let max_height = r.bits(s.frame_height_bits)? + 1;
    grow(largest, (max_width, max_height));
    if !reduced && r.bit()? {
        // frame_id_numbers_present_flag
        let delta = r.bits(4)? as usize + 2;
        s.delta_frame_id_bits = delta;
        s.frame_id_bits = r.bits(3)? as usize + delta + 1;
    }
    r.skip(3)?; // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
    if !reduced {
        r.skip(4)?; // interintra, masked compound, warped motion, dual filter
        let order_hint = r.bit()?;
        if order_hint {
            r.skip(2)?; // enable_jnt_comp, enable_ref_frame_mvs
        }
        s.screen_content_tools = if r.bit()? { SELECT } else { u8::from(r.bit()?) };
        // seq_choose_integer_mv, then seq_force_integer_mv, only with screen content tools.
        s.force_integer_mv = if s.screen_content_tools != 0 && !r.bit()? {
            u8::from(r.bit()?)
        } else {
            SELECT
        };
        if order_hint {
            s.order_hint_bits = r.bits(3)? as usize + 1;
        }
    }
    Some(s)
}

/// Timing and decoder model info, then the operating points, of a full sequence header.
fn operating_points(r: &mut Bits, s: &mut Sequence) -> Option<()> {
    let mut delay_length = 0;
    if r.bit()? {
        // timing_info_present_flag
        r.skip(64)?; // num_units_in_display_tick, time_scale
        s.equal_picture_interval = r.bit()?;
        if s.equal_picture_interval {
            r.uvlc()?; // num_ticks_per_picture_minus_1
        }
        s.decoder_model_info_present = r.bit()?;
        if s.decoder_model_info_present {
            delay_length = r.bits(5)? as usize + 1;
            r.skip(32)?; // num_units_in_decoding_tick
            s.buffer_removal_time_length = r.bits(5)? as usize + 1;
            s.frame_presentation_time_length = r.bits(5)? as usize + 1;
        }
    }
    let initial_display_delay_present = r.bit()?;
    let count = r.bits(5)? + 1;
    s.operating_points.clear();
    for _ in 0..count {
        let idc = r.bits(12)?;
        if r.bits(5)? > 7 {
            r.skip(1)?; // seq_tier
        }
        let decoder_model = s.decoder_model_info_present && r.bit()?;
        if decoder_model {
            r.skip(2 * delay_length + 1)?; // buffer delays, low_delay_mode_flag
        }
        if initial_display_delay_present && r.bit()? {
            r.skip(4)?; // initial_display_delay_minus_1
        }
        s.operating_points.push((idc, decoder_model));
    }
    Some(())
}

/// The explicit size of a frame header, read as dav1d reads it; `None` when the frame takes
/// its size from the sequence (already counted) or from a reference frame (counted when that
/// frame was), or when the header does not parse.
fn frame_size(s: &Sequence, obu: &Obu) -> Option<(u32, u32)> {
    if s.reduced_still_picture_header {
        // No override is possible: the frame is the sequence's maximum size.
        return None;
    }
    let mut r = Bits::new(obu.payload);
    if r.bit()? {
        // show_existing_frame: shows a frame already decoded.
        return None;
    }
    let frame_type = r.bits(2)?;
    let show_frame = r.bit()?;
    if show_frame && s.decoder_model_info_present && !s.equal_picture_interval {
        r.skip(s.frame_presentation_time_length)?;
    }
    if !show_frame {
        r.skip(1)?; // showable_frame
    }
    let error_resilient =
        (frame_type == KEY_FRAME && show_frame) || frame_type == SWITCH_FRAME || r.bit()?;
    r.skip(1)?; // disable_cdf_update
    let screen_content = if s.screen_content_tools == SELECT {
        r.bit()?
    } else {
        s.screen_content_tools != 0
    };
    if screen_content && s.force_integer_mv == SELECT {
        r.skip(1)?; // force_integer_mv
    }
    r.skip(s.frame_id_bits)?; // current_frame_id
    let size_override = frame_type == SWITCH_FRAME || r.bit()?;
    r.skip(s.order_hint_bits)?; // order_hint
    let intra = frame_type == KEY_FRAME || frame_type == INTRA_ONLY_FRAME;
    if !error_resilient && !intra {
        r.skip(3)?; // primary_ref_frame
    }
    if s.decoder_model_info_present && r.bit()? {
        // buffer_removal_time_present_flag
        for &(idc, decoder_model) in &s.operating_points {
            let in_temporal = (idc >> obu.temporal_id) & 1 == 1;
            let in_spatial = (idc >> (obu.spatial_id + 8)) & 1 == 1;
            if decoder_model && (idc == 0 || (in_temporal && in_spatial)) {
                r.skip(s.buffer_removal_time_length)?;
            }
        }
    }
    let refresh_all = (frame_type == KEY_FRAME && show_frame) || frame_type == SWITCH_FRAME;
    let refresh = if refresh_all { 0xFF } else { r.bits(8)? };
    if (!intra || refresh != 0xFF) && error_resilient {
        r.skip(8 * s.order_hint_bits)?; // ref_order_hint[8]
    }
    if !intra {
        let short_signaling = s.order_hint_bits > 0 && r.bit()?;
        if short_signaling {
            r.skip(6)?; // last_frame_idx, gold_frame_idx
        }
        for _ in 0..7 {
            if !short_signaling {
                r.skip(3)?; // ref_frame_idx
            }
            r.skip(s.delta_frame_id_bits)?; // delta_frame_id_minus_1, when frame ids are on
        }
        if size_override && !error_resilient {
            for _ in 0..7 {
                if r.bit()? {
                    // found_ref: the size of a reference frame.
                    return None;
                }
            }
        }
    }
    if !size_override {
        return None;
    }
    Some((
        r.bits(s.frame_width_bits)? + 1,
        r.bits(s.frame_height_bits)? + 1,
    ))
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::bits::Writer;
    use super::*;

    /// An OBU with a size field.
    pub(in super::super) fn obu(kind: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 128);
        let mut out = vec![kind << 3 | 2, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    /// A reduced still picture sequence header of the given maximum size.
    pub(in super::super) fn reduced(bits: u32, w: u64, h: u64) -> Vec<u8> {
        let mut b = Writer::default();
        b.put(3, 0);
        b.put(1, 1);
        b.put(1, 1);
        b.put(5, 0);
        b.put(4, u64::from(bits - 1));
        b.put(4, u64::from(bits - 1));
        b.put(bits, w - 1);
        b.put(bits, h - 1);
        b.put(3, 0);
        b.zeros(12); // the rest is not read
        b.finish()
    }

    /// A full sequence header: timing and decoder model info, two operating points (the second
    /// with decoder model parameters and a display delay), frame ids, order hints of 7 bits,
    /// screen content tools chosen per frame.
    fn full(bits: u32, w: u64, h: u64) -> Vec<u8> {
        let mut b = Writer::default();
        b.put(3, 0);
        b.put(1, 0);
        b.put(1, 0);
        b.put(1, 1); // timing info
        b.put(64, 0);
        b.put(1, 1); // equal_picture_interval
        b.ue(5); // uvlc has the Exp-Golomb layout
        b.put(1, 1); // decoder model info
        b.put(5, 9); // buffer_delay_length_minus_1 = 9
        b.put(32, 0);
        b.put(5, 4); // buffer_removal_time_length_minus_1 = 4
        b.put(5, 2);
        b.put(1, 1); // initial display delay present
        b.put(5, 1); // two operating points
        b.put(12, 0x101);
        b.put(5, 8);
        b.put(1, 0); // tier
        b.put(1, 0); // no decoder model
        b.put(1, 0); // no display delay
        b.put(12, 0);
        b.put(5, 0);
        b.put(1, 1); // decoder model
        b.put(10, 0);
        b.put(10, 0);
        b.put(1, 0);
        b.put(1, 1); // display delay
        b.put(4, 3);
        b.put(4, u64::from(bits - 1));
        b.put(4, u64::from(bits - 1));
        b.put(bits, w - 1);
        b.put(bits, h - 1);
        b.put(1, 1); // frame ids
        b.put(4, 3); // delta_frame_id_length_minus_2 = 3
        b.put(3, 2); // additional_frame_id_length_minus_1 = 2
        b.put(3, 0);
        b.put(4, 0);
        b.put(1, 1); // order hint
        b.put(2, 0);
        b.put(1, 1); // seq_choose_screen_content_tools
        b.put(1, 1); // seq_choose_integer_mv
        b.put(3, 6); // order_hint_bits_minus_1
        b.zeros(12);
        b.finish()
    }

    /// A shown key frame header for [`full`] that overrides the size with `w` x `h`.
    fn key_frame(bits: u32, w: u64, h: u64) -> Vec<u8> {
        let mut b = Writer::default();
        b.put(1, 0); // show_existing_frame
        b.put(2, 0); // key frame
        b.put(1, 1); // shown
        b.put(1, 0); // disable_cdf_update
        b.put(1, 1); // allow_screen_content_tools
        b.put(1, 0); // force_integer_mv
        b.put(8, 0); // frame id: 2 + 5 + 1 bits
        b.put(1, 1); // frame_size_override_flag
        b.put(7, 0); // order hint
        b.put(1, 1); // buffer_removal_time_present_flag
        b.put(5, 0); // the second operating point's buffer removal time
        b.put(bits, w - 1);
        b.put(bits, h - 1);
        b.zeros(8);
        b.finish()
    }

    /// An inter frame header for [`full`]; `found_ref` picks whether it takes a reference
    /// frame's size or overrides it with `w` x `h`.
    fn inter_frame(bits: u32, found_ref: bool, w: u64, h: u64) -> Vec<u8> {
        let mut b = Writer::default();
        b.put(1, 0);
        b.put(2, 1); // inter frame
        b.put(1, 0); // not shown
        b.put(1, 0); // showable_frame
        b.put(1, 0); // error_resilient_mode
        b.put(1, 0); // disable_cdf_update
        b.put(1, 0); // no screen content tools
        b.put(8, 0); // frame id
        b.put(1, 1); // frame_size_override_flag
        b.put(7, 0); // order hint
        b.put(3, 0); // primary_ref_frame
        b.put(1, 0); // no buffer removal times
        b.put(8, 1); // refresh_frame_flags
        b.put(1, 0); // frame_refs_short_signaling
        for _ in 0..7 {
            b.put(3, 0);
            b.put(5, 0); // delta frame id
        }
        if found_ref {
            b.put(1, 1);
        } else {
            b.zeros(7);
            b.put(bits, w - 1);
            b.put(bits, h - 1);
        }
        b.zeros(8);
        b.finish()
    }

    #[test]
    fn reads_the_sequence_maximum() {
        let seq = obu(SEQUENCE_HEADER, &reduced(7, 64, 48));
        let mut data = obu(2, &[]);
        data.extend(&seq);
        data.extend(obu(FRAME, &[0; 8]));
        assert_eq!(coded_size(None, &data), Some((64, 48)));
        // In the configuration OBUs as well as in the data.
        let mut av1c = vec![0x81, 0, 0x0C, 0];
        av1c.extend(obu(SEQUENCE_HEADER, &reduced(16, 40_000, 8)));
        assert_eq!(coded_size(Some(&av1c), &data), Some((40_000, 48)));
        assert_eq!(coded_size(Some(&av1c), &[]), Some((40_000, 8)));
    }

    #[test]
    fn reads_a_full_sequence_header_and_frame_size_overrides() {
        let mut data = obu(SEQUENCE_HEADER, &full(16, 64, 64));
        assert_eq!(coded_size(None, &data), Some((64, 64)));
        data.extend(obu(FRAME, &key_frame(16, 60, 50)));
        assert_eq!(coded_size(None, &data), Some((64, 64)));
        // A shown key frame whose explicit size dav1d takes over the maximum.
        let mut big = data.clone();
        big.extend(obu(FRAME_HEADER, &key_frame(16, 65_536, 30)));
        assert_eq!(coded_size(None, &big), Some((65_536, 64)));
        // An inter frame with its own size, and one that takes a reference's.
        let mut inter = data.clone();
        inter.extend(obu(FRAME, &inter_frame(16, false, 20, 30_000)));
        assert_eq!(coded_size(None, &inter), Some((64, 30_000)));
        let mut by_ref = data;
        by_ref.extend(obu(FRAME, &inter_frame(16, true, 20, 30_000)));
        assert_eq!(coded_size(None, &by_ref), Some((64, 64)));
    }

    #[test]
    fn frames_before_any_sequence_header_and_unreadable_streams_are_no_size() {
        assert_eq!(coded_size(None, &obu(FRAME, &key_frame(16, 9, 9))), None);
        assert_eq!(coded_size(None, &[]), None);
        assert_eq!(coded_size(Some(&[0x81, 0, 0]), &[0x0A]), None);
        // An OBU without a size field runs to the end of the data.
        let mut open = vec![SEQUENCE_HEADER << 3];
        open.extend(reduced(8, 200, 100));
        assert_eq!(coded_size(None, &open), Some((200, 100)));
        // A size field of more than 32 bits.
        assert_eq!(leb128(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), None);
        assert_eq!(leb128(&[0x80; 9]), None);
        assert_eq!(leb128(&[0x80, 0x01]), Some((128, 2)));
    }

    #[test]
    fn any_bytes_parse_without_panicking() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut valid = obu(SEQUENCE_HEADER, &full(16, 64, 64));
        valid.extend(obu(FRAME, &key_frame(16, 60, 50)));
        valid.extend(obu(FRAME, &inter_frame(16, false, 20, 30)));
        for round in 0..20_000 {
            let len = (next() % 200) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 {
                // Mutations of a valid stream reach deeper than noise does.
                bytes = valid.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
                bytes.truncate((next() as usize) % (valid.len() + 1));
            }
            let _ = coded_size(Some(&bytes), &bytes);
        }
    }
}
