//! A signed processing rule must be the rule that runs.
//!
//! The signature check already refuses a URL whose signed rule was altered or removed (a
//! listed parameter that is absent is a mismatch). What it cannot see is an *extra*, unsigned
//! rule placed in front of the signed one. When the signature covers a rule, every rule on the
//! URL must be covered; a signature that covers none leaves unsigned rules allowed, as the JS
//! SDK's `QueryString` sends them.

use mogr_cos::auth;
use mogr_cos::query::Query;
use mogr_cos::ErrorCode;
use mogr_rule::is_processing_key;

use crate::error_map::{ApiError, ApiResult};
use http::HeaderMap;

/// 403 `AccessDenied` when the request signs a rule but also carries one it does not sign.
pub fn check(headers: &HeaderMap, query: &Query) -> ApiResult<()> {
    // Authentication already ran; an unreadable signature here means an anonymous request.
    let Ok(Some(signature)) = auth::extract(headers, query) else {
        return Ok(());
    };
    let rules: Vec<_> = query
        .iter()
        .filter(|p| !p.key.starts_with("q-") && is_processing_key(&p.key))
        .collect();
    let signed = rules.iter().filter(|p| signature.covers(p)).count();
    if signed > 0 && signed < rules.len() {
        return Err(ApiError::with_message(
            ErrorCode::AccessDenied,
            "The processing rule is not covered by the request signature.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_query(signed_rule: &str, extra: &str) -> Query {
        let auth = auth::presign_query(
            "get",
            "/a.jpg",
            &[(signed_rule.to_string(), String::new())],
            &[("host".into(), "h".into())],
            "AK",
            "SK",
            1,
            2,
        );
        Query::parse(Some(&format!("{extra}{auth}")))
    }

    #[test]
    fn an_unsigned_rule_in_front_of_a_signed_one_is_refused() {
        let q = signed_query("imageMogr2/format/png", "imageMogr2/format/webp&");
        let err = check(&HeaderMap::new(), &q).unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccessDenied);
    }

    #[test]
    fn signed_alone_or_unsigned_alone_is_fine() {
        let q = signed_query("imageMogr2/format/png", "");
        assert!(check(&HeaderMap::new(), &q).is_ok());
        let q = Query::parse(Some("imageMogr2/format/png"));
        assert!(check(&HeaderMap::new(), &q).is_ok());
    }
}
