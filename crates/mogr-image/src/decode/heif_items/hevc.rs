//! The picture size an HEVC decoder allocates for an `hvc1` item: `pic_width_in_luma_samples`
//! and `pic_height_in_luma_samples` of every sequence parameter set (SPS) it is given.
//!
//! libheif hands libde265 the NAL units of the item's `hvcC` followed by the item's data (NAL
//! units behind 4-byte lengths), and libde265 allocates each picture at its SPS's size, whatever
//! the container's `ispe` says. So every SPS in both places counts.

use super::bits::Bits;
use crate::decode::bytes::{be16, be32};

/// NAL unit type of a sequence parameter set.
const SPS: u8 = 33;
/// Bytes of an SPS read: enough for the fields up to the picture size with seven sub-layers
/// (2 + 1 + 12 + 2 + 7 * 12 bytes, four Exp-Golomb codes of at most 65 bits) even when
/// emulation prevention bytes make it half as long again.
const SPS_PREFIX: usize = 256;

/// The largest width and the largest height over every SPS in `hvcc` (an `hvcC` payload) and
/// `data` (the item's data); `None` when there is no SPS that parses.
pub(super) fn coded_size(hvcc: Option<&[u8]>, data: &[u8]) -> Option<(u32, u32)> {
    let config = hvcc.map(config_nal_units).unwrap_or_default();
    config
        .into_iter()
        .chain(length_prefixed(data))
        .filter(|nal| nal.first().map(|b| (b >> 1) & 0x3F) == Some(SPS))
        .filter_map(sps_size)
        .reduce(|(w0, h0), (w1, h1)| (w0.max(w1), h0.max(h1)))
}

/// The NAL units of an `hvcC` payload: 22 bytes of configuration, the number of arrays, then
/// per array a type byte, a 16-bit count and 16-bit-length NAL units.
fn config_nal_units(hvcc: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let Some(&arrays) = hvcc.get(22) else {
        return out;
    };
    let mut pos = 23usize;
    for _ in 0..arrays {
        let Some(count) = be16(hvcc, pos + 1) else {
            break;
        };
        pos += 3;
        for _ in 0..count {
            let Some(len) = be16(hvcc, pos) else {
                return out;
            };
            let Some(nal) = hvcc.get(pos + 2..pos + 2 + usize::from(len)) else {
                return out;
            };
            out.push(nal);
            pos += 2 + usize::from(len);
        }
    }
    out
}

/// NAL units behind 4-byte big-endian lengths (how libheif reads an `hvc1` item's data);
/// stops where a length overruns the data.
fn length_prefixed(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let len = usize::try_from(be32(data, pos)?).ok()?;
        let nal = data.get(pos + 4..(pos + 4).checked_add(len)?)?;
        pos += 4 + len;
        Some(nal)
    })
}

/// The RBSP of a NAL unit: its bytes with each emulation prevention byte (the `03` of
/// `00 00 03`) removed.
fn rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// `pic_width_in_luma_samples` and `pic_height_in_luma_samples` of an SPS NAL unit (with its
/// 2-byte NAL header); values past `u32` saturate.
fn sps_size(nal: &[u8]) -> Option<(u32, u32)> {
    let body = rbsp(&nal[..nal.len().min(SPS_PREFIX)]);
    let mut r = Bits::new(body.get(2..)?);
    r.skip(4)?; // sps_video_parameter_set_id
    let sub_layers = r.bits(3)? as usize; // sps_max_sub_layers_minus1
    r.skip(1)?; // sps_temporal_id_nesting_flag
    profile_tier_level(&mut r, sub_layers)?;
    r.ue()?; // sps_seq_parameter_set_id
    if r.ue()? == 3 {
        r.skip(1)?; // separate_colour_plane_flag
    }
    let w = r.ue()?;
    let h = r.ue()?;
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    Some((clamp(w), clamp(h)))
}

/// Skip a `profile_tier_level(1, sub_layers)`.
fn profile_tier_level(r: &mut Bits, sub_layers: usize) -> Option<()> {
    // Profile space, tier, profile, 32 compatibility flags, 48 constraint bits, then the level.
    r.skip(96)?;
    let mut present = [(false, false); 8];
    for p in present.iter_mut().take(sub_layers) {
        *p = (r.bit()?, r.bit()?);
    }
    if sub_layers > 0 {
        r.skip(2 * (8 - sub_layers))?; // reserved_zero_2bits
    }
    for &(profile, level) in present.iter().take(sub_layers) {
        if profile {
            r.skip(88)?;
        }
        if level {
            r.skip(8)?;
        }
    }
    Some(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::bits::Writer;
    use super::*;

    /// Insert emulation prevention bytes.
    fn escape(rbsp: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut zeros = 0;
        for &b in rbsp {
            if zeros >= 2 && b <= 3 {
                out.push(3);
                zeros = 0;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            out.push(b);
        }
        out
    }

    /// An SPS NAL unit with `sub_layers` sub-layers (all with profile and level) and the
    /// given chroma format and picture size.
    pub(in super::super) fn sps(sub_layers: u32, chroma: u64, w: u64, h: u64) -> Vec<u8> {
        let mut b = Writer::default();
        b.put(4, 0);
        b.put(3, u64::from(sub_layers));
        b.put(1, 1);
        b.zeros(96); // every PTL field zero: emulation prevention gets exercised
        for _ in 0..sub_layers {
            b.put(2, 3);
        }
        if sub_layers > 0 {
            b.zeros(2 * (8 - sub_layers));
        }
        for _ in 0..sub_layers {
            b.zeros(88);
            b.put(8, 0);
        }
        b.ue(0);
        b.ue(chroma);
        if chroma == 3 {
            b.put(1, 0);
        }
        b.ue(w);
        b.ue(h);
        b.ue(0); // the rest of an SPS is not read
        let mut nal = vec![SPS << 1, 1];
        nal.extend(escape(&b.finish()));
        nal
    }

    /// An `hvcC` payload with one array of the given NAL units.
    pub(in super::super) fn hvcc(nals: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![1];
        out.extend_from_slice(&[0; 20]);
        out.push(0xF3);
        out.push(1);
        out.push(0x80 | SPS);
        out.extend_from_slice(&(nals.len() as u16).to_be_bytes());
        for nal in nals {
            out.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            out.extend_from_slice(nal);
        }
        out
    }

    #[test]
    fn reads_the_picture_size_of_every_sps() {
        let one = sps(0, 1, 64, 48);
        assert_eq!(
            coded_size(Some(&hvcc(std::slice::from_ref(&one))), &[]),
            Some((64, 48))
        );
        let many = sps(7, 3, 40_000, 8);
        assert_eq!(coded_size(Some(&hvcc(&[many])), &[]), Some((40_000, 8)));
        // An SPS in the item data counts as much as one in the configuration.
        let mut data = Vec::new();
        for nal in [vec![0x26, 1, 0xAF], sps(2, 1, 16, 70_000)] {
            data.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            data.extend_from_slice(&nal);
        }
        assert_eq!(coded_size(Some(&hvcc(&[one])), &data), Some((64, 70_000)));
        assert_eq!(coded_size(None, &data), Some((16, 70_000)));
    }

    #[test]
    fn no_sps_is_no_size() {
        assert_eq!(coded_size(None, &[]), None);
        assert_eq!(coded_size(Some(&hvcc(&[vec![0x40, 1, 0x0C]])), &[]), None);
        let mut cut = sps(0, 1, 64, 48);
        cut.truncate(16);
        assert_eq!(coded_size(Some(&hvcc(&[cut])), &[]), None);
    }

    #[test]
    fn any_bytes_parse_without_panicking() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let valid = hvcc(&[sps(3, 3, 1000, 1000)]);
        for round in 0..20_000 {
            let len = (next() % 200) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 {
                // Mutations of a valid configuration reach deeper than noise does.
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
