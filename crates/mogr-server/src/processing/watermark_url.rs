//! Which stored object a watermark URL names. Nothing here opens a connection: the URL only
//! names a bucket and key, which are then read from the store under the request's authority.
//!
//! Accepted forms (the query, such as a signature, is ignored; the fragment too):
//! - `http(s)://<bucket>.cos.<region>.myqcloud.com/<key>` and the `.pic.` host, as CI has them
//!   (also on `tencentcos.cn`);
//! - mogr's own address as the request reached it (its `Host`): path-style
//!   `http://<host>/<bucket>/<key>`, or, when that host is itself a virtual host of a bucket,
//!   `http://<bucket host>/<key>`.
//!
//! Anything else (another host, another scheme, user info) is refused.

use percent_encoding::percent_decode_str;

use crate::addressing::{strip_port, vhost_bucket};

/// A watermark's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// The bucket the URL names.
    pub bucket: String,
    /// The decoded key.
    pub key: String,
}

/// Resolves `url` against the request's `own_host` and the configured virtual-host suffix;
/// `Err` says why the URL is refused.
pub fn resolve(url: &str, own_host: &str, vhost_suffix: &str) -> Result<ObjectRef, String> {
    let rest = strip_scheme(url).ok_or("only http and https URLs name a stored image")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() || authority.contains('@') {
        return Err("the URL has no plain host".into());
    }
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let path = percent_decode_str(&tail[..path_end])
        .decode_utf8()
        .map_err(|_| "the URL path is not valid UTF-8")?;
    let path = path.strip_prefix('/').unwrap_or(&path);
    let host = authority.to_ascii_lowercase();
    let (bucket, key) = if let Some(bucket) = cos_domain_bucket(strip_port(&host)) {
        (bucket.to_owned(), path.to_owned())
    } else if host == own_host.to_ascii_lowercase() {
        match vhost_bucket(own_host, vhost_suffix) {
            Some(bucket) => (bucket, path.to_owned()),
            None => {
                let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
                (bucket.to_owned(), key.to_owned())
            }
        }
    } else {
        return Err(format!(
            "{authority} is neither a COS domain of the bucket nor this server's address"
        ));
    };
    if mogr_store::validate_bucket(&bucket).is_err() {
        return Err(format!("{bucket} is not a bucket name"));
    }
    if key.is_empty() || key.ends_with('/') || mogr_store::validate_key(&key).is_err() {
        return Err("the URL names no object".into());
    }
    Ok(ObjectRef { bucket, key })
}

fn strip_scheme(url: &str) -> Option<&str> {
    ["http://", "https://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    })
}

/// The bucket of `<bucket>.cos|pic.<region>.myqcloud.com` (or `.tencentcos.cn`).
fn cos_domain_bucket(host: &str) -> Option<&str> {
    let labels: Vec<&str> = host.split('.').collect();
    let [bucket, service, region, domain @ ..] = labels.as_slice() else {
        return None;
    };
    let known_domain = matches!(domain, ["myqcloud", "com"] | ["tencentcos", "cn"]);
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (matches!(*service, "cos" | "pic") && region_ok && known_domain).then_some(*bucket)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str, host: &str) -> (String, String) {
        let r = resolve(url, host, ".cos.").unwrap_or_else(|e| panic!("{url}: {e}"));
        (r.bucket, r.key)
    }

    fn pair(b: &str, k: &str) -> (String, String) {
        (b.to_owned(), k.to_owned())
    }

    #[test]
    fn ci_domains_name_bucket_and_key() {
        let own = "127.0.0.1:9000";
        for url in [
            "http://wm-1250000000.cos.ap-guangzhou.myqcloud.com/logo/a.png",
            "https://wm-1250000000.pic.ap-guangzhou.myqcloud.com/logo/a.png",
            "HTTP://WM-1250000000.COS.AP-GUANGZHOU.MYQCLOUD.COM/logo/a.png",
            "http://wm-1250000000.cos.ap-guangzhou.myqcloud.com:443/logo/a.png?q-sign-algorithm=sha1",
            "http://wm-1250000000.cos.ap-guangzhou.tencentcos.cn/logo%2Fa.png#x",
        ] {
            assert_eq!(ok(url, own), pair("wm-1250000000", "logo/a.png"), "{url}");
        }
        assert_eq!(
            ok(
                "http://wm-1.cos.ap-beijing.myqcloud.com/%E6%B0%B4%E5%8D%B0.png",
                own
            ),
            pair("wm-1", "水印.png")
        );
    }

    #[test]
    fn own_address_path_style_and_virtual_host() {
        assert_eq!(
            ok("http://127.0.0.1:9000/wm-1/logo.png", "127.0.0.1:9000"),
            pair("wm-1", "logo.png")
        );
        assert_eq!(
            ok("http://wm-1.cos.local:9000/logo.png", "wm-1.cos.local:9000"),
            pair("wm-1", "logo.png")
        );
    }

    #[test]
    fn everything_else_is_refused() {
        let own = "127.0.0.1:9000";
        for url in [
            "http://example.com/wm-1/logo.png",
            "http://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:9001/wm-1/logo.png",
            "http://localhost:9000/wm-1/logo.png",
            "http://wm-1.cos.ap-guangzhou.myqcloud.com.evil.com/logo.png",
            "http://wm-1.cdn.ap-guangzhou.myqcloud.com/logo.png",
            "http://user@wm-1.cos.ap-guangzhou.myqcloud.com/logo.png",
            "ftp://wm-1.cos.ap-guangzhou.myqcloud.com/logo.png",
            "file:///etc/passwd",
            "wm-1/logo.png",
            "http://wm-1.cos.ap-guangzhou.myqcloud.com/",
            "http://wm-1.cos.ap-guangzhou.myqcloud.com/dir/",
            "http://127.0.0.1:9000/wm-1",
            "http://127.0.0.1:9000/NotABucket/logo.png",
            "http:///logo.png",
        ] {
            assert!(resolve(url, own, ".cos.").is_err(), "{url} was accepted");
        }
    }
}
