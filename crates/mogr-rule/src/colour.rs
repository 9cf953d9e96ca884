//! Colours written as Base64 of `#RRGGBB` (`color/IzNEM0QzRA` is `#3D3D3D`).

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::args::invalid;
use crate::{Rgb, RuleError};

/// Decoding configuration: padding optional, non-canonical trailing bits refused.
const DECODE: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);

/// URL-safe Base64, the documented alphabet.
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, DECODE);

/// Standard Base64, which clients that forget the URL-safe variant send (`+` for `-`).
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, DECODE);

/// The canonical spelling: URL-safe, unpadded.
const CANONICAL: GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest token worth decoding: Base64 of `#RRGGBB` is 10 characters, 12 padded.
const MAX_TOKEN: usize = 12;

/// Parse the Base64 colour argument of `op`; anything but `#RRGGBB` (hex, any case) is invalid.
pub(crate) fn parse(op: &str, arg: &str) -> Result<Rgb, RuleError> {
    if arg.len() > MAX_TOKEN {
        return Err(invalid(op, arg));
    }
    let bytes = URL_SAFE
        .decode(arg)
        .or_else(|_| STANDARD.decode(arg))
        .map_err(|_| invalid(op, arg))?;
    let hex = bytes
        .strip_prefix(b"#")
        .filter(|hex| hex.len() == 6)
        .ok_or_else(|| invalid(op, arg))?;
    let channel = |i: usize| -> Result<u8, RuleError> {
        let pair = std::str::from_utf8(&hex[i..i + 2]).map_err(|_| invalid(op, arg))?;
        if !pair.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(op, arg));
        }
        u8::from_str_radix(pair, 16).map_err(|_| invalid(op, arg))
    };
    Ok(Rgb {
        r: channel(0)?,
        g: channel(2)?,
        b: channel(4)?,
    })
}

/// The canonical token for `colour`: unpadded URL-safe Base64 of upper-case `#RRGGBB`.
pub(crate) fn encode(colour: Rgb) -> String {
    let Rgb { r, g, b } = colour;
    CANONICAL.encode(format!("#{r:02X}{g:02X}{b:02X}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_examples() {
        let grey = Rgb {
            r: 0x3D,
            g: 0x3D,
            b: 0x3D,
        };
        assert_eq!(parse("color", "IzNEM0QzRA"), Ok(grey));
        assert_eq!(parse("color", "IzNEM0QzRA=="), Ok(grey));
        assert_eq!(parse("color", "I0ZGRkZGRg=="), Ok(Rgb::WHITE));
        assert_eq!(parse("color", "I0ZGRkZGRg"), Ok(Rgb::WHITE));
        assert_eq!(encode(grey), "IzNEM0QzRA");
    }

    #[test]
    fn lower_case_hex_and_both_alphabets() {
        // "#ffeeff" -> Base64 contains no alphabet-specific characters; "#3f3ffb" does ("+").
        let token = STANDARD.encode("#fbff3e");
        let url = CANONICAL.encode("#fbff3e");
        let want = Rgb {
            r: 0xFB,
            g: 0xFF,
            b: 0x3E,
        };
        assert_eq!(parse("color", &token), Ok(want));
        assert_eq!(parse("color", &url), Ok(want));
    }

    #[test]
    fn round_trips_every_channel_value() {
        for v in 0..=255u8 {
            let c = Rgb {
                r: v,
                g: 255 - v,
                b: v / 2,
            };
            assert_eq!(parse("color", &encode(c)), Ok(c));
        }
    }

    #[test]
    fn refuses_anything_else() {
        for text in [
            "3D3D3D",
            "#3D3D3",
            "#3D3D3D3D",
            "#GGGGGG",
            "#3D3D3D\n",
            "#+1+1+1",
            "",
        ] {
            let token = CANONICAL.encode(text);
            assert_eq!(
                parse("color", &token),
                Err(invalid("color", &token)),
                "{text:?}"
            );
        }
        for token in [
            "!!!",
            "IzNEM0QzRA===",
            "IzNEM0QzRB",
            "aGVsbG8gd29ybGQgaGVsbG8=",
        ] {
            assert_eq!(
                parse("color", token),
                Err(invalid("color", token)),
                "{token}"
            );
        }
    }
}
