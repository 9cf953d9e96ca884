//! Who is calling (q-sign signature or anonymous) and whether the bucket ACL lets them.

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method};
use mogr_cos::auth::{self, AuthRequest};
use mogr_cos::query::Query;
use mogr_cos::ErrorCode;
use mogr_store::Acl;

use crate::error_map::{auth_error, ApiError, ApiResult};
use crate::operation::{Access, Operation};
use crate::state::AppState;

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A valid signature by this SecretId.
    Signed(String),
    /// No signature at all (an empty `Authorization:` counts as none).
    Anonymous,
}

/// Verifies the signature, if any. `signed_path` is the percent-decoded request path.
pub fn authenticate(
    state: &AppState,
    method: &Method,
    signed_path: &str,
    query: &Query,
    headers: &HeaderMap,
) -> ApiResult<Principal> {
    let Some(params) = auth::extract(headers, query).map_err(auth_error)? else {
        return Ok(Principal::Anonymous);
    };
    let secret = state
        .secret_for(&params.access_key)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidAccessKeyId))?;
    let request = AuthRequest {
        method: method.as_str(),
        path: signed_path,
        query,
        headers,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    auth::verify(&request, &params, secret, now).map_err(auth_error)?;
    Ok(Principal::Signed(params.access_key))
}

/// Lets signed callers do anything and anonymous ones what the bucket's canned ACL allows.
pub async fn authorize(
    state: &AppState,
    principal: &Principal,
    operation: &Operation,
    bucket: Option<&str>,
) -> ApiResult<()> {
    if matches!(principal, Principal::Signed(_)) {
        return Ok(());
    }
    let needed = operation.access();
    if needed == Access::Open {
        return Ok(());
    }
    let denied = || ApiError::new(ErrorCode::AccessDenied);
    let (Some(bucket), Access::Read | Access::Write) = (bucket, needed) else {
        return Err(denied());
    };
    let acl = state.store.head_bucket(bucket).await?.acl;
    let allowed = match needed {
        Access::Read => matches!(acl, Acl::PublicRead | Acl::PublicReadWrite),
        Access::Write => acl == Acl::PublicReadWrite,
        Access::Open | Access::Owner => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(denied())
    }
}

/// Refuses `response-*` overrides on anonymous GET/HEAD Object, as S3 does: otherwise anyone
/// could make a public object answer with a Content-Type or Content-Disposition of their
/// choosing under the bucket's name (e.g. serve an upload as `text/html`).
pub fn check_overrides(
    principal: &Principal,
    operation: &Operation,
    query: &Query,
) -> ApiResult<()> {
    let overrides = matches!(operation, Operation::GetObject | Operation::HeadObject)
        && query.iter().any(|p| p.key.starts_with("response-"));
    if overrides && *principal == Principal::Anonymous {
        return Err(ApiError::with_message(
            ErrorCode::InvalidRequest,
            "response-* overrides need a signed request",
        ));
    }
    Ok(())
}
