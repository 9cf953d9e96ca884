//! `Location` values of an `<UploadResult>`: `<host>/<key>` without a scheme, as the client
//! would address the object.

use crate::addressing::vhost_bucket;
use crate::context::RequestCtx;
use crate::state::AppState;

/// Where `bucket`/`key` lives, seen from a request that addressed `request_bucket`.
///
/// A virtual-host request names another bucket by swapping the host's first label; other
/// requests use the path, except for the default bucket, which needs no prefix.
pub fn location(
    state: &AppState,
    ctx: &RequestCtx,
    request_bucket: &str,
    bucket: &str,
    key: &str,
) -> String {
    let host = ctx.host.as_str();
    let is_vhost =
        vhost_bucket(host, &state.config.vhost_suffix).as_deref() == Some(request_bucket);
    if is_vhost {
        let rest = host.get(request_bucket.len()..).unwrap_or_default();
        return format!("{bucket}{rest}/{key}");
    }
    if state.config.default_bucket.as_deref() == Some(bucket) {
        format!("{host}/{key}")
    } else {
        format!("{host}/{bucket}/{key}")
    }
}
