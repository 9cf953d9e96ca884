//! Recognising which query-string key carries the processing rule (`imageMogr2`, `imageView2`, ...).

/// Prefixes that mark a decoded query key as a CI processing rule.
const PROCESSING_PREFIXES: &[&str] = &[
    "imageMogr2",
    "imageView2",
    "watermark/",
    "imageInfo",
    "imageAve",
    "exif",
    "style/",
    "ci-process",
];

/// True when a percent-decoded query key is a processing rule rather than an ordinary parameter.
///
/// `watermark` and `style` need their `/` so that unrelated keys sharing the prefix are not taken
/// for rules; the others are matched as bare prefixes, as CI does.
pub fn is_processing_key(decoded_query_key: &str) -> bool {
    PROCESSING_PREFIXES
        .iter()
        .any(|prefix| decoded_query_key.starts_with(prefix))
}
