//! COS percent-encoding (`UrlEncode` of the signature doc) and the matching decoders.

use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything except `A-Z a-z 0-9 - _ . ~` is escaped, as PY `quote(s, '-_.~')` does.
const COS_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// As [`COS_UNRESERVED`] but keeping `/`, the form ListObjects uses for keys.
const COS_PATH: &AsciiSet = &COS_UNRESERVED.remove(b'/');

/// COS `UrlEncode`: every byte except `A-Za-z0-9-_.~` as `%XX` with upper-case hex.
pub fn url_encode(s: &str) -> String {
    url_encode_bytes(s.as_bytes())
}

/// [`url_encode`] over raw bytes (header values need not be UTF-8).
pub fn url_encode_bytes(bytes: &[u8]) -> String {
    percent_encode(bytes, COS_UNRESERVED).to_string()
}

/// [`url_encode`] keeping `/` literal, for keys and prefixes in `encoding-type=url` listings.
pub fn url_encode_path(s: &str) -> String {
    percent_encode(s.as_bytes(), COS_PATH).to_string()
}

/// Form-decodes one query half: `+` becomes a space, `%XX` is decoded, bad UTF-8 is replaced.
pub fn form_decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Percent-decodes a request path as it is signed: `+` stays `+`; `None` if not UTF-8.
pub fn decode_path(raw: &str) -> Option<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// [`url_encode_path`] when a listing asked for `encoding-type=url`, else the text unchanged.
pub fn url_encode_path_if(encode: bool, s: &str) -> String {
    if encode {
        url_encode_path(s)
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_but_unreserved_with_upper_hex() {
        assert_eq!(url_encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(
            url_encode("imageMogr2/thumbnail/!50p"),
            "imageMogr2%2Fthumbnail%2F%2150p"
        );
        assert_eq!(url_encode("a b+c*'()"), "a%20b%2Bc%2A%27%28%29");
        assert_eq!(url_encode("腾讯云"), "%E8%85%BE%E8%AE%AF%E4%BA%91");
        assert_eq!(
            url_encode("mQ/fVh815F3k6TAUm8m0eg=="),
            "mQ%2FfVh815F3k6TAUm8m0eg%3D%3D"
        );
    }

    #[test]
    fn path_encoding_keeps_slashes() {
        assert_eq!(url_encode_path("Tencent Cloud.jpg"), "Tencent%20Cloud.jpg");
        assert_eq!(
            url_encode_path("照片/2020年/IMG0001.jpg"),
            "%E7%85%A7%E7%89%87/2020%E5%B9%B4/IMG0001.jpg"
        );
    }

    #[test]
    fn form_decode_turns_plus_into_space_but_path_decode_does_not() {
        assert_eq!(form_decode("a+b%2Bc%E4%B8%AD"), "a b+c中");
        assert_eq!(
            decode_path("/dir/a%20b%2Bc+%E4%B8%AD.jpg").unwrap(),
            "/dir/a b+c+中.jpg"
        );
        assert_eq!(decode_path("/bad%FF"), None);
        assert_eq!(form_decode("%FF"), "\u{FFFD}");
    }
}
