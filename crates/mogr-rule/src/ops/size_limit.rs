//! `size-limit/<n>k|<n>m[!]`: aim the encoded output at n KiB or MiB (an output setting).
//!
//! CI does not say which kilo it means; `k` is read as 1024 bytes and `m` as 1024 k, the usual
//! reading of file sizes. The unit letters are lower-case, as documented.

use std::fmt;

use crate::args::{invalid, number_in};
use crate::tokens::Tokens;
use crate::{MogrStage, RuleError, SizeLimit};

/// Bytes in one `k`.
const KIB: u64 = 1024;

/// Bytes in one `m`.
const MIB: u64 = 1024 * KIB;

/// `size-limit/<n>k|<n>m[!]`, n a non-zero decimal.
pub(crate) fn parse(
    name: &str,
    tokens: &mut Tokens<'_>,
    stage: &mut MogrStage,
) -> Result<(), RuleError> {
    let arg = tokens.arg(name)?;
    let (body, original_if_larger) = match arg.strip_suffix('!') {
        Some(body) => (body, true),
        None => (arg, false),
    };
    let (digits, unit) = if let Some(digits) = body.strip_suffix('k') {
        (digits, KIB)
    } else if let Some(digits) = body.strip_suffix('m') {
        (digits, MIB)
    } else {
        return Err(invalid(name, arg));
    };
    let n = number_in(name, digits, 1, u64::MAX).map_err(|_| invalid(name, arg))?;
    let bytes = n.checked_mul(unit).ok_or_else(|| invalid(name, arg))?;
    stage.output.size_limit = Some(SizeLimit {
        bytes,
        original_if_larger,
    });
    Ok(())
}

/// `size-limit/<n>m` when the budget is whole MiB, else `<n>k`; then `!` if set.
pub(crate) fn fmt(f: &mut fmt::Formatter<'_>, limit: SizeLimit) -> fmt::Result {
    let bang = if limit.original_if_larger { "!" } else { "" };
    if limit.bytes.is_multiple_of(MIB) {
        write!(f, "size-limit/{}m{bang}", limit.bytes / MIB)
    } else {
        write!(f, "size-limit/{}k{bang}", limit.bytes / KIB)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::SizeLimit;

    fn limit(rule: &str) -> Option<SizeLimit> {
        stage(rule).unwrap().output.size_limit
    }

    #[test]
    fn kilo_and_mega_with_or_without_bang() {
        let l = |bytes, original_if_larger| {
            Some(SizeLimit {
                bytes,
                original_if_larger,
            })
        };
        assert_eq!(limit("size-limit/15k"), l(15 * 1024, false));
        assert_eq!(limit("size-limit/15k!"), l(15 * 1024, true));
        assert_eq!(limit("size-limit/2m"), l(2 * 1024 * 1024, false));
        assert_eq!(limit("size-limit/2m!"), l(2 * 1024 * 1024, true));
        assert_eq!(limit("size-limit/1k/size-limit/3k!"), l(3 * 1024, true));
        assert!(
            ops("size-limit/15k").unwrap().is_empty(),
            "an output setting, not an op"
        );
    }

    #[test]
    fn canonical_unit() {
        assert_eq!(canonical("size-limit/1024k"), "imageMogr2/size-limit/1m");
        assert_eq!(canonical("size-limit/1m"), "imageMogr2/size-limit/1m");
        assert_eq!(
            canonical("size-limit/1536k!"),
            "imageMogr2/size-limit/1536k!"
        );
        assert_eq!(canonical("size-limit/015k"), "imageMogr2/size-limit/15k");
    }

    #[test]
    fn malformed() {
        for bad in [
            "0k",
            "0m",
            "15",
            "15K",
            "15kb",
            "k",
            "!",
            "15!k",
            "15k!!",
            "-1k",
            "1.5m",
            "",
            "99999999999999999999k",
            "18014398509481984k",
        ] {
            assert_eq!(
                ops(&format!("size-limit/{bad}/strip")),
                Err(invalid("size-limit", bad)),
                "{bad}"
            );
        }
    }
}
