//! `Range: bytes=...` for GET Object (single ranges only, as COS).

/// What a `Range` header asks of an object of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOutcome {
    /// No usable range: send the whole object with 200 (absent, malformed or multi-range).
    Full,
    /// Send bytes `start..=end` with 206.
    Partial(u64, u64),
    /// 416 `InvalidRange`.
    Unsatisfiable,
}

/// Interprets a `Range` value against `size`.
///
/// Malformed values and multiple ranges are ignored (RFC 9110 allows it; S3 does the same),
/// so a client always gets either its range or the whole object.
pub fn evaluate(header: Option<&str>, size: u64) -> RangeOutcome {
    let Some(spec) = header.map(str::trim) else {
        return RangeOutcome::Full;
    };
    let Some(set) = spec.strip_prefix("bytes=") else {
        return RangeOutcome::Full;
    };
    if set.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return RangeOutcome::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    if first.is_empty() {
        // Suffix form `-n`: the last n bytes.
        return match parse(last) {
            None => RangeOutcome::Full,
            Some(0) => RangeOutcome::Unsatisfiable,
            Some(_) if size == 0 => RangeOutcome::Unsatisfiable,
            Some(n) => RangeOutcome::Partial(size.saturating_sub(n), size - 1),
        };
    }
    let Some(start) = parse(first) else {
        return RangeOutcome::Full;
    };
    let end = if last.is_empty() {
        None
    } else {
        match parse(last) {
            Some(end) if end >= start => Some(end),
            _ => return RangeOutcome::Full,
        }
    };
    if start >= size {
        return RangeOutcome::Unsatisfiable;
    }
    let end = end.map_or(size - 1, |e| e.min(size - 1));
    RangeOutcome::Partial(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeOutcome::*;

    #[test]
    fn single_range_forms() {
        assert_eq!(evaluate(Some("bytes=8-14"), 16), Partial(8, 14));
        assert_eq!(evaluate(Some("bytes=8-"), 16), Partial(8, 15));
        assert_eq!(evaluate(Some("bytes=-4"), 16), Partial(12, 15));
        assert_eq!(evaluate(Some("bytes=-100"), 16), Partial(0, 15));
        assert_eq!(evaluate(Some("bytes=0-1000"), 16), Partial(0, 15));
        assert_eq!(evaluate(Some("bytes=15-15"), 16), Partial(15, 15));
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(evaluate(Some("bytes=16-"), 16), Unsatisfiable);
        assert_eq!(evaluate(Some("bytes=20-30"), 16), Unsatisfiable);
        assert_eq!(evaluate(Some("bytes=-0"), 16), Unsatisfiable);
        assert_eq!(evaluate(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(evaluate(Some("bytes=-5"), 0), Unsatisfiable);
    }

    #[test]
    fn ignored_ranges_give_the_whole_object() {
        assert_eq!(evaluate(None, 16), Full);
        assert_eq!(evaluate(Some("bytes=0-1,4-5"), 16), Full);
        assert_eq!(evaluate(Some("items=0-1"), 16), Full);
        assert_eq!(evaluate(Some("bytes=5-2"), 16), Full);
        assert_eq!(evaluate(Some("bytes=a-b"), 16), Full);
        assert_eq!(evaluate(Some("bytes=-"), 16), Full);
        assert_eq!(evaluate(Some("bytes=+1-2"), 16), Full);
    }
}
