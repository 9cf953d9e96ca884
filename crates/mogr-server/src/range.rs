//! `Range: bytes=...` for GET Object (single ranges only, as COS).
//!
//! Only the request form is parsed here; the store resolves it against the size of the
//! version it opens ([`ByteRange::resolve`]), so the range and the bytes always agree.

use mogr_store::ByteRange;

/// The range a `Range` header asks for; `None` for the whole object.
///
/// Malformed values and multiple ranges are ignored (HTTP lets a server ignore `Range`; S3
/// does the same),
/// so a client always gets either its range, the whole object or 416.
pub fn parse(header: Option<&str>) -> Option<ByteRange> {
    let set = header?.trim().strip_prefix("bytes=")?;
    if set.contains(',') {
        return None;
    }
    let (first, last) = set.trim().split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    if first.is_empty() {
        return number(last).map(ByteRange::Suffix);
    }
    let first = number(first)?;
    if last.is_empty() {
        return Some(ByteRange::From(first));
    }
    match number(last)? {
        last if last >= first => Some(ByteRange::FromTo(first, last)),
        // `last < first` is syntactically invalid: ignored, not unsatisfiable.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ByteRange::*;

    #[test]
    fn single_range_forms() {
        assert_eq!(parse(Some("bytes=8-14")), Some(FromTo(8, 14)));
        assert_eq!(parse(Some("bytes=8-")), Some(From(8)));
        assert_eq!(parse(Some("bytes=-4")), Some(Suffix(4)));
        assert_eq!(parse(Some("bytes=-0")), Some(Suffix(0)));
        assert_eq!(parse(Some(" bytes= 2 - 3 ")), Some(FromTo(2, 3)));
        assert_eq!(parse(Some("bytes=15-15")), Some(FromTo(15, 15)));
    }

    #[test]
    fn resolved_against_the_size_by_the_store() {
        let resolve = |h: &str, size| parse(Some(h)).and_then(|r| r.resolve(size));
        assert_eq!(resolve("bytes=8-", 16), Some((8, 15)));
        assert_eq!(resolve("bytes=-100", 16), Some((0, 15)));
        assert_eq!(resolve("bytes=0-1000", 16), Some((0, 15)));
        assert_eq!(resolve("bytes=16-", 16), None);
        assert_eq!(resolve("bytes=20-30", 16), None);
        assert_eq!(resolve("bytes=-0", 16), None);
        assert_eq!(resolve("bytes=0-", 0), None);
        assert_eq!(resolve("bytes=-5", 0), None);
    }

    #[test]
    fn ignored_ranges_give_the_whole_object() {
        for h in [
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=5-2",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
            "bytes=-99999999999999999999999",
        ] {
            assert_eq!(parse(Some(h)), None, "{h}");
        }
        assert_eq!(parse(None), None);
    }
}
