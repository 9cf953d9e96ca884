//! Who is calling (q-sign signature or anonymous), what their signature vouches for, and
//! whether the bucket ACL lets them.
//!
//! The caller is established once per request by [`authenticate`] and carried in the
//! request context; later checks (Pic-Operations targets, overrides) read that value instead
//! of looking at the signature again.

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method};
use mogr_cos::auth::{self, AuthRequest, SignatureParams};
use mogr_cos::query::Query;
use mogr_cos::ErrorCode;
use mogr_rule::is_processing_key;
use mogr_store::Acl;

use crate::addressing::Style;
use crate::error_map::{auth_error, ApiError, ApiResult};
use crate::operation::{is_subresource, Access, Operation};
use crate::state::AppState;

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A valid signature; it vouches only for the headers and parameters it lists.
    Signed(Box<SignatureParams>),
    /// No signature at all (an empty `Authorization:` counts as none).
    Anonymous,
}

impl Principal {
    /// Whether the caller signed the request.
    pub fn is_signed(&self) -> bool {
        matches!(self, Principal::Signed(_))
    }
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
    Ok(Principal::Signed(Box::new(params)))
}

/// A signature vouches only for what it lists. Everything on a signed request that changes
/// which operation runs, what it may write, or how the answer is presented must therefore be
/// listed, or a holder of a presigned URL could append it:
/// - the `Host` header, when it is what names the bucket (virtual-host addressing);
/// - `Pic-Operations` and every `x-cos-*` / `x-ci-*` header with a value (ACLs, metadata);
/// - sub-resources (`acl`, `uploads`, `uploadId`, ...) and `response-*` overrides;
/// - every processing rule, once one rule is signed (a signature covering none leaves
///   unsigned rules allowed, as COS does and the JS SDK's raw `QueryString` relies on).
pub fn check_signed_scope(
    principal: &Principal,
    style: Style,
    query: &Query,
    headers: &HeaderMap,
) -> ApiResult<()> {
    let Principal::Signed(signature) = principal else {
        return Ok(());
    };
    let unsigned = |what: String| {
        ApiError::with_message(
            ErrorCode::AccessDenied,
            format!("{what} is not covered by the request signature."),
        )
    };
    if style == Style::VirtualHost && !signature.signs_header("host") {
        return Err(unsigned("The Host header, which names the bucket,".into()));
    }
    for (name, value) in headers {
        let name = name.as_str();
        let scoped =
            name == "pic-operations" || name.starts_with("x-cos-") || name.starts_with("x-ci-");
        if scoped && !value.as_bytes().trim_ascii().is_empty() && !signature.signs_header(name) {
            return Err(unsigned(format!("The header {name}")));
        }
    }
    let mut rules = 0;
    let mut signed_rules = 0;
    for param in query {
        let key = param.key.as_str();
        if key.starts_with("q-") || key == "sign" {
            continue;
        }
        let covered = signature.covers(param);
        if is_subresource(key) || key.starts_with("response-") {
            if !covered {
                return Err(unsigned(format!("The parameter {key}")));
            }
        } else if is_processing_key(key) {
            rules += 1;
            signed_rules += usize::from(covered);
        }
    }
    if signed_rules > 0 && signed_rules < rules {
        return Err(unsigned("A processing rule".into()));
    }
    Ok(())
}

/// The authority the processing rules of a request carry when they read other objects
/// (watermark images). A presigned link vouches for the one key and the parameters it lists:
/// a rule appended to it unsigned reads as an anonymous caller would, so the holder of a link
/// to one key of a private bucket cannot draw other keys onto it. A signature in the
/// `Authorization` header is made by whoever holds the key at request time (the SDKs send
/// rules there unsigned, the Node SDK's `QueryString` for one), so it keeps its authority.
pub fn rule_authority<'a>(
    principal: &'a Principal,
    query: &Query,
    headers: &HeaderMap,
) -> &'a Principal {
    static ANONYMOUS: Principal = Principal::Anonymous;
    let Principal::Signed(signature) = principal else {
        return principal;
    };
    let in_header = headers
        .get(http::header::AUTHORIZATION)
        .is_some_and(|v| !v.as_bytes().trim_ascii().is_empty());
    let unsigned_rule = query
        .iter()
        .any(|p| is_processing_key(&p.key) && !signature.covers(p));
    if !in_header && unsigned_rule {
        &ANONYMOUS
    } else {
        principal
    }
}

/// Lets signed callers do anything and anonymous ones what the bucket's canned ACL allows.
pub async fn authorize(
    state: &AppState,
    principal: &Principal,
    operation: &Operation,
    bucket: Option<&str>,
) -> ApiResult<()> {
    if principal.is_signed() {
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

/// Refuses `response-*` overrides on anonymous downloads (plain or processed), as S3 does:
/// otherwise anyone could make a public object answer with a Content-Type or
/// Content-Disposition of their choosing under the bucket's name (e.g. serve an upload as
/// `text/html`).
pub fn check_overrides(
    principal: &Principal,
    operation: &Operation,
    query: &Query,
) -> ApiResult<()> {
    let download = matches!(
        operation,
        Operation::GetObject | Operation::HeadObject | Operation::ProcessedGet { .. }
    );
    let overrides = download && query.iter().any(|p| p.key.starts_with("response-"));
    if overrides && !principal.is_signed() {
        return Err(ApiError::with_message(
            ErrorCode::InvalidRequest,
            "response-* overrides need a signed request",
        ));
    }
    Ok(())
}
