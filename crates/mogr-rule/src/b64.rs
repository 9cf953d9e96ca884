//! Base64 text arguments (`watermark/1/image/<b64>`, `text/<b64>`, `font/<b64>`): decoding that
//! accepts what clients send, and the one canonical spelling the printer uses.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::args::invalid;
use crate::RuleError;

/// Decoding configuration: padding optional, non-canonical trailing bits refused.
const DECODE: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);

/// URL-safe Base64, the documented alphabet.
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, DECODE);

/// Standard Base64 (`+` for `-`); a `/` of that alphabet would already have split the token.
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, DECODE);

/// The canonical spelling: URL-safe, unpadded.
const CANONICAL: GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The UTF-8 text a Base64 argument of `op` encodes, at most `max_bytes` long once decoded.
/// Empty text, invalid Base64, invalid UTF-8 and control characters are invalid.
pub(crate) fn text(op: &str, arg: &str, max_bytes: usize) -> Result<String, RuleError> {
    // Four characters carry three bytes; refuse before decoding anything oversized.
    if arg.is_empty() || arg.len() > max_bytes.div_ceil(3) * 4 + 2 {
        return Err(invalid(op, arg));
    }
    let bytes = URL_SAFE
        .decode(arg)
        .or_else(|_| STANDARD.decode(arg))
        .map_err(|_| invalid(op, arg))?;
    let text = String::from_utf8(bytes).map_err(|_| invalid(op, arg))?;
    if text.is_empty() || text.len() > max_bytes || text.chars().any(char::is_control) {
        return Err(invalid(op, arg));
    }
    Ok(text)
}

/// The canonical token for `text`.
pub(crate) fn encode(text: &str) -> String {
    CANONICAL.encode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_alphabets_and_padding_decode_to_the_same_text() {
        // "水印?>" has `+`/`/` in standard Base64 and `-`/`_` in the URL-safe alphabet.
        let text_in = "水印?>";
        let url = encode(text_in);
        let padded = base64::engine::general_purpose::URL_SAFE.encode(text_in);
        assert_eq!(text("t", &url, 64).unwrap(), text_in);
        assert_eq!(text("t", &padded, 64).unwrap(), text_in);
        let std = base64::engine::general_purpose::STANDARD_NO_PAD.encode("a>>b");
        assert!(std.contains('+'), "{std}");
        assert_eq!(text("t", &std, 64).unwrap(), "a>>b");
    }

    #[test]
    fn refuses_empty_long_binary_and_control_text() {
        for bad in ["", "!!!", "IzNEM0QzRB"] {
            assert_eq!(text("t", bad, 64), Err(invalid("t", bad)), "{bad}");
        }
        for raw in [&b"\xff\xfe"[..], b"a\nb", b"\x00"] {
            let token = CANONICAL.encode(raw);
            assert_eq!(text("t", &token, 64), Err(invalid("t", &token)));
        }
        let long = encode(&"x".repeat(65));
        assert_eq!(text("t", &long, 64), Err(invalid("t", &long)));
        assert_eq!(text("t", &encode(&"x".repeat(64)), 64).unwrap().len(), 64);
    }
}
