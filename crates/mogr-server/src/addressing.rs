//! Which bucket and key a request names: virtual-host, path-style or the default bucket.

use mogr_store::{validate_bucket, StoreError};

/// How the request named its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `Host: <bucket><vhost_suffix>...`; the whole path is the key.
    VirtualHost,
    /// `/<bucket>/<key>`.
    PathStyle,
    /// Neither: the configured default bucket (or none: the service level).
    Domain,
}

/// The resolved addressing of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The bucket, if the request names one (or a default applies).
    pub bucket: Option<String>,
    /// The decoded key; empty for bucket- and service-level requests.
    pub key: String,
    /// How the bucket was found.
    pub style: Style,
    /// When a path-style guess could also be a key in the default bucket: that key.
    /// The dispatcher keeps path-style only if the named bucket exists.
    pub default_bucket_key: Option<String>,
}

/// The first label of a `Host` value of the form `<label><suffix>...`, valid bucket or not.
fn vhost_label<'a>(host: &'a str, suffix: &str) -> Option<&'a str> {
    let host = strip_port(host);
    let dot = host.find('.')?;
    let (label, rest) = host.split_at(dot);
    let after = rest.strip_prefix(suffix).filter(|_| !suffix.is_empty())?;
    // `.s3.local` must not match `.s3.localhost`; a suffix ending in `.` is already a boundary.
    (suffix.ends_with('.') || after.is_empty() || after.starts_with('.')).then_some(label)
}

/// Of several virtual-host suffixes, the first that `host` matches, else the first one.
pub fn matching_suffix<'a>(host: &str, suffixes: &[&'a str]) -> &'a str {
    suffixes
        .iter()
        .copied()
        .find(|suffix| vhost_label(host, suffix).is_some())
        .or_else(|| suffixes.first().copied())
        .unwrap_or("")
}

/// The bucket named by a virtual-host `Host` value, if it matches `<bucket><suffix>`.
pub fn vhost_bucket(host: &str, suffix: &str) -> Option<String> {
    vhost_label(host, suffix)
        .filter(|label| validate_bucket(label).is_ok())
        .map(str::to_string)
}

/// Whether `name` has a bucket's shape, `<name>-<appid digits>`, whatever its characters:
/// such a name that fails [`validate_bucket`] was meant as a bucket and is refused as one.
pub fn looks_like_bucket(name: &str) -> bool {
    name.rsplit_once('-').is_some_and(|(name, appid)| {
        !name.is_empty() && !appid.is_empty() && appid.bytes().all(|b| b.is_ascii_digit())
    })
}

/// `host` without a trailing `:port` (IPv6 literals keep their brackets).
pub fn strip_port(host: &str) -> &str {
    match host.rfind(':') {
        Some(i)
            if !host[i..].contains(']') && host[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &host[..i]
        }
        _ => host,
    }
}

/// Resolves bucket and key from the `Host` value and the percent-decoded path.
///
/// `InvalidBucketName` when the host's first label, or (without a default bucket, where it
/// could be a key) the first path segment, has a bucket's shape but is not a valid name
/// (e.g. upper case): answering the bucket list or 405 instead would hide the mistake.
pub fn resolve(
    host: &str,
    decoded_path: &str,
    vhost_suffix: &str,
    default_bucket: Option<&str>,
) -> Result<Target, StoreError> {
    let path = decoded_path.strip_prefix('/').unwrap_or(decoded_path);
    if let Some(label) = vhost_label(host, vhost_suffix) {
        if validate_bucket(label).is_ok() {
            return Ok(Target {
                bucket: Some(label.to_string()),
                key: path.to_string(),
                style: Style::VirtualHost,
                default_bucket_key: None,
            });
        }
        if looks_like_bucket(label) {
            return Err(StoreError::InvalidBucketName(label.to_string()));
        }
    }
    let (first, rest) = match path.split_once('/') {
        Some((first, rest)) => (first, rest),
        None => (path, ""),
    };
    if validate_bucket(first).is_ok() {
        return Ok(Target {
            bucket: Some(first.to_string()),
            key: rest.to_string(),
            style: Style::PathStyle,
            default_bucket_key: default_bucket.map(|_| path.to_string()),
        });
    }
    if default_bucket.is_none() && looks_like_bucket(first) {
        return Err(StoreError::InvalidBucketName(first.to_string()));
    }
    Ok(Target {
        bucket: default_bucket.map(str::to_string),
        key: path.to_string(),
        style: Style::Domain,
        default_bucket_key: None,
    })
}

impl Target {
    /// Falls back from a path-style guess to the default bucket, the whole path being the key.
    pub fn into_default_bucket(self, default_bucket: &str) -> Target {
        Target {
            bucket: Some(default_bucket.to_string()),
            key: self.default_bucket_key.unwrap_or(self.key),
            style: Style::Domain,
            default_bucket_key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com";

    #[test]
    fn vhost_names_the_bucket_and_the_path_is_the_key() {
        let t = resolve(HOST, "/dir/a b+c.jpg", ".cos.", None).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("examplebucket-1250000000"));
        assert_eq!(t.key, "dir/a b+c.jpg");
        assert_eq!(t.style, Style::VirtualHost);
        let t = resolve("b-1.cos.local:9000", "/", ".cos.", None).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("b-1"));
        assert_eq!(t.key, "");
    }

    #[test]
    fn custom_suffix_must_match_exactly() {
        assert_eq!(
            vhost_bucket("b-1.s3.local:9000", ".s3.local").as_deref(),
            Some("b-1")
        );
        assert_eq!(
            vhost_bucket("b-1.s3.local", ".s3.local").as_deref(),
            Some("b-1")
        );
        assert_eq!(vhost_bucket("b-1.s3.localhost", ".s3.local"), None);
        assert_eq!(
            vhost_bucket("b-1.s3.local.example", ".s3.local").as_deref(),
            Some("b-1")
        );
        assert_eq!(vhost_bucket("Bucket-1.cos.x", ".cos."), None);
        assert_eq!(vhost_bucket("nobucket.cos.x", ".cos."), None);
        assert_eq!(vhost_bucket("127.0.0.1:9000", ".cos."), None);
    }

    #[test]
    fn path_style_names_bucket_in_the_first_segment() {
        let t = resolve("127.0.0.1:9000", "/b-1/x/y.jpg", ".cos.", None).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("b-1"));
        assert_eq!(t.key, "x/y.jpg");
        assert_eq!(t.style, Style::PathStyle);
        let t = resolve("127.0.0.1:9000", "/b-1", ".cos.", None).unwrap();
        assert_eq!((t.bucket.as_deref(), t.key.as_str()), (Some("b-1"), ""));
    }

    #[test]
    fn domain_mode_uses_the_default_bucket() {
        let t = resolve("127.0.0.1:9000", "/photo.jpg", ".cos.", Some("d-1")).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("d-1"));
        assert_eq!(t.key, "photo.jpg");
        let t = resolve("127.0.0.1:9000", "/", ".cos.", None).unwrap();
        assert_eq!(t.bucket, None);
        let guess = resolve("127.0.0.1", "/dir-2024/a.jpg", ".cos.", Some("d-1")).unwrap();
        assert_eq!(guess.style, Style::PathStyle);
        let fallback = guess.into_default_bucket("d-1");
        assert_eq!(fallback.bucket.as_deref(), Some("d-1"));
        assert_eq!(fallback.key, "dir-2024/a.jpg");
    }

    #[test]
    fn bucket_shaped_but_invalid_names_are_refused() {
        for (host, path) in [
            ("Upper-1250000000.cos.ap-guangzhou.myqcloud.com", "/"),
            ("under_score-1250000000.cos.ap-guangzhou.myqcloud.com", "/k"),
            ("127.0.0.1:9000", "/Upper-1250000000"),
            ("127.0.0.1:9000", "/Upper-1250000000/x.jpg"),
        ] {
            let err = resolve(host, path, ".cos.", None).unwrap_err();
            assert!(
                matches!(&err, StoreError::InvalidBucketName(name) if name.starts_with("Upper") || name.starts_with("under")),
                "{host}{path}: {err:?}"
            );
        }
        // Not bucket-shaped: the service level, as before.
        let t = resolve("127.0.0.1:9000", "/photo.jpg", ".cos.", None).unwrap();
        assert_eq!((t.bucket, t.key.as_str()), (None, "photo.jpg"));
        // With a default bucket, a bucket-shaped first segment may be a key.
        let t = resolve("127.0.0.1:9000", "/Dir-2024/a.jpg", ".cos.", Some("d-1")).unwrap();
        assert_eq!(
            (t.bucket.as_deref(), t.key.as_str()),
            (Some("d-1"), "Dir-2024/a.jpg")
        );
        assert!(looks_like_bucket("Upper-125") && !looks_like_bucket("nodash"));
        assert!(!looks_like_bucket("-125") && !looks_like_bucket("a-12b"));
    }

    #[test]
    fn the_image_domain_addresses_the_same_buckets() {
        let suffixes = [".cos.", ".pic."];
        let pic = "examplebucket-1250000000.pic.ap-guangzhou.myqcloud.com";
        assert_eq!(matching_suffix(pic, &suffixes), ".pic.");
        assert_eq!(matching_suffix(HOST, &suffixes), ".cos.");
        assert_eq!(matching_suffix("127.0.0.1:9000", &suffixes), ".cos.");
        let t = resolve(pic, "/", matching_suffix(pic, &suffixes), None).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("examplebucket-1250000000"));
        assert_eq!(t.style, Style::VirtualHost);
    }

    #[test]
    fn ports_are_stripped_but_ipv6_literals_kept() {
        assert_eq!(strip_port("h:9000"), "h");
        assert_eq!(strip_port("h"), "h");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }
}
