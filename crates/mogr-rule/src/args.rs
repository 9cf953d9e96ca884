//! Argument readers shared by the operations: numbers, pixel sizes, `<a>x<b>` pairs, switches.
//!
//! Numbers are plain ASCII decimals: no sign (except where [`signed_in`] allows `-`), no spaces,
//! no `+`. Leading zeros are accepted.

use crate::{RuleError, MAX_PIXELS};

/// Build a [`RuleError::InvalidArgument`] naming the operation and the token.
pub(crate) fn invalid(op: &str, arg: &str) -> RuleError {
    RuleError::InvalidArgument {
        op: op.to_owned(),
        arg: arg.to_owned(),
    }
}

/// A digit string as a number, saturating at `u64::MAX`; `None` if it is not all digits.
fn digits(arg: &str) -> Option<u64> {
    if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(arg.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// A decimal within `min..=max`; anything else (including overflow) is invalid.
pub(crate) fn number_in(op: &str, arg: &str, min: u64, max: u64) -> Result<u64, RuleError> {
    match digits(arg) {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(op, arg)),
    }
}

/// A `u8` decimal within `min..=max`.
pub(crate) fn u8_in(op: &str, arg: &str, min: u8, max: u8) -> Result<u8, RuleError> {
    let n = number_in(op, arg, u64::from(min), u64::from(max))?;
    u8::try_from(n).map_err(|_| invalid(op, arg))
}

/// A `u32` decimal within `min..=max`.
pub(crate) fn u32_in(op: &str, arg: &str, min: u32, max: u32) -> Result<u32, RuleError> {
    let n = number_in(op, arg, u64::from(min), u64::from(max))?;
    u32::try_from(n).map_err(|_| invalid(op, arg))
}

/// An optionally negative (`-`) decimal within `min..=max`.
pub(crate) fn signed_in(op: &str, arg: &str, min: i32, max: i32) -> Result<i32, RuleError> {
    let (negative, magnitude) = match arg.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, arg),
    };
    let n = digits(magnitude).ok_or_else(|| invalid(op, arg))?;
    let n = i64::try_from(n).map_err(|_| invalid(op, arg))?;
    let n = if negative { -n } else { n };
    match i32::try_from(n) {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(op, arg)),
    }
}

/// A pixel size: a non-zero decimal, clamped to [`MAX_PIXELS`] as CI does.
pub(crate) fn pixels(op: &str, token: &str, arg: &str) -> Result<u32, RuleError> {
    match digits(arg) {
        Some(0) | None => Err(invalid(op, token)),
        Some(n) => Ok(clamp(n, MAX_PIXELS)),
    }
}

/// A pixel offset: a decimal that may be zero, clamped to [`MAX_PIXELS`].
pub(crate) fn offset(op: &str, token: &str, arg: &str) -> Result<u32, RuleError> {
    digits(arg)
        .map(|n| clamp(n, MAX_PIXELS))
        .ok_or_else(|| invalid(op, token))
}

/// `n` limited to `max`.
pub(crate) fn clamp(n: u64, max: u32) -> u32 {
    u32::try_from(n.min(u64::from(max))).unwrap_or(max)
}

/// `<W>x<H>`, both non-zero pixel sizes; errors name the whole token.
pub(crate) fn pixel_pair(op: &str, arg: &str) -> Result<(u32, u32), RuleError> {
    let (w, h) = arg.split_once('x').ok_or_else(|| invalid(op, arg))?;
    Ok((pixels(op, arg, w)?, pixels(op, arg, h)?))
}

/// A `0` or `1` switch.
pub(crate) fn switch(op: &str, arg: &str) -> Result<bool, RuleError> {
    match arg {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(invalid(op, arg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_are_non_zero_and_clamped() {
        assert_eq!(pixels("t", "5", "5"), Ok(5));
        assert_eq!(pixels("t", "007", "007"), Ok(7));
        assert_eq!(pixels("t", "10000", "10000"), Ok(10_000));
        assert_eq!(pixels("t", "10001", "10001"), Ok(10_000));
        assert_eq!(pixels("t", "x", "99999999999999999999999"), Ok(10_000));
        for bad in ["0", "", "-1", "+1", "1.5", " 1", "1e3"] {
            assert_eq!(pixels("t", bad, bad), Err(invalid("t", bad)), "{bad:?}");
        }
    }

    #[test]
    fn offsets_may_be_zero() {
        assert_eq!(offset("dx", "0", "0"), Ok(0));
        assert_eq!(offset("dx", "20000", "20000"), Ok(10_000));
        assert_eq!(offset("dx", "-1", "-1"), Err(invalid("dx", "-1")));
    }

    #[test]
    fn signed_numbers() {
        assert_eq!(signed_in("b", "-100", -100, 100), Ok(-100));
        assert_eq!(signed_in("b", "100", -100, 100), Ok(100));
        assert_eq!(signed_in("b", "-0", -100, 100), Ok(0));
        for bad in [
            "-101",
            "101",
            "+5",
            "--5",
            "-",
            "",
            "5-",
            "-99999999999999999999",
        ] {
            assert_eq!(
                signed_in("b", bad, -100, 100),
                Err(invalid("b", bad)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn pairs_and_switches() {
        assert_eq!(pixel_pair("s", "3x4"), Ok((3, 4)));
        for bad in ["3x", "x4", "3", "3x4x5", "0x4", "3X4"] {
            assert_eq!(pixel_pair("s", bad), Err(invalid("s", bad)), "{bad:?}");
        }
        assert_eq!(switch("g", "1"), Ok(true));
        assert_eq!(switch("g", "0"), Ok(false));
        assert_eq!(switch("g", "2"), Err(invalid("g", "2")));
    }

    #[test]
    fn ranges() {
        assert_eq!(u8_in("q", "100", 0, 100), Ok(100));
        assert_eq!(u8_in("q", "101", 0, 100), Err(invalid("q", "101")));
        assert_eq!(u32_in("r", "360", 0, 360), Ok(360));
        assert_eq!(u32_in("r", "361", 0, 360), Err(invalid("r", "361")));
    }
}
