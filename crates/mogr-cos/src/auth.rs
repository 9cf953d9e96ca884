//! The COS `q-sign-algorithm=sha1` request signature (docs/cos-protocol.md): extraction, verification, signing.

use std::collections::{HashMap, HashSet};

use hmac::{Hmac, Mac};
use http::header::AUTHORIZATION;
use http::HeaderMap;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::encode::{url_encode, url_encode_bytes};
use crate::error::{CosError, ErrorCode};
use crate::query::{Query, QueryParam};

/// How far a signature's start time may lie in the future (client clock skew), in seconds.
pub const CLOCK_SKEW_SECS: u64 = 15 * 60;

/// Most entries a `q-header-list` may name. SDKs sign a handful of headers; the cap bounds
/// the work a single forged Authorization can ask of the server.
pub const MAX_HEADER_LIST: usize = 64;

/// Most entries a `q-url-param-list` may name (SDKs sign every query parameter).
pub const MAX_URL_PARAM_LIST: usize = 1000;

/// Longest validity window a signature may claim: 7 days, S3's limit for presigned URLs.
/// Without it a `q-sign-time` ending in a far year is a credential that never expires.
pub const MAX_SIGN_WINDOW_SECS: u64 = 7 * 24 * 60 * 60;

/// The fields of a q-sign authorization, however it travelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    /// `q-ak`: the SecretId.
    pub access_key: String,
    /// `q-sign-time` (falls back to `q-key-time`): validity window, used in StringToSign.
    pub sign_time: (u64, u64),
    /// `q-key-time` (falls back to `q-sign-time`): used to derive SignKey.
    pub key_time: (u64, u64),
    /// `q-header-list`, lower-cased, in the client's order.
    pub header_list: Vec<String>,
    /// `q-url-param-list` in canonical form (`lower(UrlEncode(key))`), in the client's order.
    pub url_param_list: Vec<String>,
    /// `q-signature`, lower-case hex.
    pub signature: String,
}

impl SignatureParams {
    /// Whether `param` is covered by the signature (its canonical name is listed).
    ///
    /// Unlisted parameters are not authenticated: a server that wants signed processing
    /// rules to mean anything checks this for the rule it is about to apply.
    pub fn covers(&self, param: &QueryParam) -> bool {
        let canonical = canonical_key(&param.key);
        self.url_param_list.contains(&canonical)
    }

    /// Whether the header `name` (any case) is covered by the signature.
    pub fn signs_header(&self, name: &str) -> bool {
        let canonical = canonical_key(&name.to_ascii_lowercase());
        self.header_list.contains(&canonical)
    }
}

/// Why a request's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Required fields missing or unparsable.
    #[error("malformed authorization: {0}")]
    Malformed(String),
    /// `q-sign-algorithm` other than `sha1`.
    #[error("unsupported signature algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// Now is outside `[start - skew, end]`.
    #[error("request has expired")]
    Expired,
    /// `q-sign-time` spans more than [`MAX_SIGN_WINDOW_SECS`].
    #[error("the signature's validity window is longer than 7 days")]
    WindowTooLong,
    /// A header the signature covers was sent more than once: the signature would cover one
    /// copy while the server might act on another.
    #[error("signed header `{0}` is sent more than once")]
    RepeatedSignedHeader(String),
    /// A signed query parameter occurs more than once (in any letter case): the signature
    /// covers one value while a handler might read another.
    #[error("signed parameter `{0}` occurs more than once")]
    RepeatedSignedParameter(String),
    /// The recomputed signature differs; carries the server's strings for the error body.
    #[error("signature does not match")]
    Mismatch {
        /// `sha1\n<time>\n<sha1(HttpString)>\n`.
        string_to_sign: String,
        /// The HttpString (`FormatString` in the COS error body).
        format_string: String,
    },
}

impl From<AuthError> for CosError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Malformed(m) => CosError::with_message(
                ErrorCode::AccessDenied,
                format!("Invalid Authorization: {m}"),
            ),
            AuthError::UnsupportedAlgorithm(a) => CosError::with_message(
                ErrorCode::AccessDenied,
                format!("Unsupported signature algorithm: {a}"),
            ),
            AuthError::Expired => {
                CosError::with_message(ErrorCode::AccessDenied, "Request has expired")
            }
            AuthError::WindowTooLong => CosError::with_message(
                ErrorCode::AccessDenied,
                "q-sign-time must not span more than 7 days (604800 seconds)",
            ),
            AuthError::RepeatedSignedHeader(name) => CosError::with_message(
                ErrorCode::InvalidRequest,
                format!("The signed header {name} is sent more than once."),
            ),
            AuthError::RepeatedSignedParameter(name) => CosError::with_message(
                ErrorCode::InvalidRequest,
                format!("The signed parameter {name} occurs more than once."),
            ),
            AuthError::Mismatch {
                string_to_sign,
                format_string,
            } => CosError::signature_mismatch(string_to_sign, format_string),
        }
    }
}

/// What the server received, as the signature covers it.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// HTTP method (any case).
    pub method: &'a str,
    /// Percent-decoded request path as signed (`+` is a literal plus), e.g. `/dir/a b+c中.jpg`.
    pub path: &'a str,
    /// The parsed query.
    pub query: &'a Query,
    /// Request headers.
    pub headers: &'a HeaderMap,
}

/// Finds the signature: `Authorization` header, else `q-*` query parameters, else `sign=`.
///
/// `Ok(None)` means anonymous (including an empty `Authorization:` as PY `Anonymous=True`
/// sends). Query-form lists arrive double-encoded; [`Query`] has decoded them once already.
pub fn extract(headers: &HeaderMap, query: &Query) -> Result<Option<SignatureParams>, AuthError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let text = value
            .to_str()
            .map_err(|_| AuthError::Malformed("Authorization is not ASCII".into()))?
            .trim();
        if !text.is_empty() {
            return parse_auth_string(text).map(Some);
        }
    }
    if ["q-sign-algorithm", "q-ak", "q-signature"]
        .iter()
        .any(|k| query.has(k))
    {
        return build(|k| query.get(k).map(str::to_owned)).map(Some);
    }
    match query.get("sign").map(str::trim) {
        Some(s) if !s.is_empty() => parse_auth_string(s).map(Some),
        _ => Ok(None),
    }
}

/// Parses `q-sign-algorithm=sha1&q-ak=…&…` (the header form; values are not decoded).
fn parse_auth_string(s: &str) -> Result<SignatureParams, AuthError> {
    let pairs: Vec<(&str, &str)> = s
        .split('&')
        .filter_map(|part| part.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    build(|name| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| (*v).to_owned())
    })
}

/// Assembles and validates the fields from a lookup over either transport.
fn build(get: impl Fn(&str) -> Option<String>) -> Result<SignatureParams, AuthError> {
    let algorithm = get("q-sign-algorithm")
        .ok_or_else(|| AuthError::Malformed("q-sign-algorithm is missing".into()))?;
    if !algorithm.trim().eq_ignore_ascii_case("sha1") {
        return Err(AuthError::UnsupportedAlgorithm(algorithm));
    }
    let access_key = get("q-ak")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::Malformed("q-ak is missing".into()))?;
    let sign_time = get("q-sign-time").map(|t| parse_time(&t)).transpose()?;
    let key_time = get("q-key-time").map(|t| parse_time(&t)).transpose()?;
    let (sign_time, key_time) = match (sign_time, key_time) {
        (Some(s), Some(k)) => (s, k),
        (Some(s), None) => (s, s),
        (None, Some(k)) => (k, k),
        (None, None) => return Err(AuthError::Malformed("q-sign-time is missing".into())),
    };
    let signature = get("q-signature")
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::Malformed("q-signature is missing".into()))?;
    let header_list = signed_names(
        "q-header-list",
        get("q-header-list").as_deref(),
        MAX_HEADER_LIST,
        str::to_ascii_lowercase,
    )?;
    let url_param_list = signed_names(
        "q-url-param-list",
        get("q-url-param-list").as_deref(),
        MAX_URL_PARAM_LIST,
        canonical_list_entry,
    )?;
    Ok(SignatureParams {
        access_key,
        sign_time,
        key_time,
        header_list,
        url_param_list,
        signature,
    })
}

/// The canonical names of a signed list, refusing more than `max` entries or a name listed
/// twice: no SDK sends either, and both would let one request multiply the verifier's work.
fn signed_names(
    field: &str,
    list: Option<&str>,
    max: usize,
    canonical: impl Fn(&str) -> String,
) -> Result<Vec<String>, AuthError> {
    let mut names = Vec::new();
    let mut seen = HashSet::new();
    for entry in split_list(list) {
        if names.len() == max {
            return Err(AuthError::Malformed(format!(
                "{field} names more than {max} entries"
            )));
        }
        let name = canonical(entry);
        if !seen.insert(name.clone()) {
            return Err(AuthError::Malformed(format!(
                "{field} names `{name}` twice"
            )));
        }
        names.push(name);
    }
    Ok(names)
}

fn split_list(list: Option<&str>) -> impl Iterator<Item = &str> {
    list.unwrap_or("")
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

/// A list entry in canonical form. An entry holding characters the canonical alphabet
/// lacks (`/`, `!`, ...) was decoded once too often by its sender; re-encode it.
fn canonical_list_entry(entry: &str) -> String {
    let canonical = entry
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b));
    if canonical {
        entry.to_ascii_lowercase()
    } else {
        canonical_key(entry)
    }
}

/// `lower(UrlEncode(key))`: the name a parameter or header has in the signature.
fn canonical_key(key: &str) -> String {
    url_encode(key).to_ascii_lowercase()
}

/// Parses `start;end` (the `;` may arrive as `%3B`).
fn parse_time(raw: &str) -> Result<(u64, u64), AuthError> {
    let decoded = raw.replace("%3B", ";").replace("%3b", ";");
    let bad = || AuthError::Malformed(format!("bad time range `{raw}`"));
    let (start, end) = decoded.split_once(';').ok_or_else(bad)?;
    let start: u64 = start.trim().parse().map_err(|_| bad())?;
    let end: u64 = end.trim().parse().map_err(|_| bad())?;
    if start > end {
        return Err(bad());
    }
    Ok((start, end))
}

fn hmac_sha1_hex(key: &[u8], msg: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha1>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(msg);
    hex::encode(mac.finalize().into_bytes())
}

fn time_string((start, end): (u64, u64)) -> String {
    format!("{start};{end}")
}

/// `sha1\n<time>\n<hex sha1(HttpString)>\n`.
fn string_to_sign(sign_time: (u64, u64), format_string: &str) -> String {
    let digest = hex::encode(Sha1::digest(format_string.as_bytes()));
    format!("sha1\n{}\n{digest}\n", time_string(sign_time))
}

/// hex(HMAC-SHA1(key = hex(HMAC-SHA1(SecretKey, KeyTime)), StringToSign)).
fn compute_signature(secret_key: &str, key_time: (u64, u64), string_to_sign: &str) -> String {
    let sign_key = hmac_sha1_hex(secret_key.as_bytes(), time_string(key_time).as_bytes());
    hmac_sha1_hex(sign_key.as_bytes(), string_to_sign.as_bytes())
}

/// The HttpString: `method\npath\nparams\nheaders\n`.
fn format_string(method: &str, path: &str, params: &str, headers: &str) -> String {
    format!(
        "{}\n{path}\n{params}\n{headers}\n",
        method.to_ascii_lowercase()
    )
}

/// HttpParameters from the listed names; the flag is false when a listed one is absent.
///
/// A listed name may occur only once in the query, whatever its case or encoding: the
/// signature covers one value, and a handler reading a parameter by its exact name could
/// otherwise be handed another copy (`RESPONSE-CONTENT-TYPE=text/plain&response-content-type=text/html`).
fn http_parameters(list: &[String], query: &Query) -> Result<(String, bool), AuthError> {
    let mut by_name: HashMap<String, &str> = HashMap::new();
    for p in query {
        let canonical = canonical_key(&p.key);
        if !list.contains(&canonical) {
            continue;
        }
        if by_name.insert(canonical, p.value.as_str()).is_some() {
            return Err(AuthError::RepeatedSignedParameter(p.key.clone()));
        }
    }
    let mut all_present = true;
    let parts: Vec<String> = list
        .iter()
        .map(|name| {
            let value = by_name.get(name).map(|v| url_encode(v));
            all_present &= value.is_some();
            format!("{name}={}", value.unwrap_or_default())
        })
        .collect();
    Ok((parts.join("&"), all_present))
}

/// The trimmed value of each canonical name listed in `list`; a listed header sent more than
/// once is refused, since the server could store a copy other than the one signed.
fn signed_header_values<'h>(
    list: &[String],
    headers: &'h HeaderMap,
) -> Result<HashMap<String, &'h [u8]>, AuthError> {
    let mut by_name: HashMap<String, &[u8]> = HashMap::new();
    for (name, value) in headers {
        let canonical = canonical_key(name.as_str());
        if !list.contains(&canonical) {
            continue;
        }
        if by_name
            .insert(canonical, value.as_bytes().trim_ascii())
            .is_some()
        {
            return Err(AuthError::RepeatedSignedHeader(name.as_str().to_owned()));
        }
    }
    Ok(by_name)
}

/// `host:port` without the port; `None` when there is no numeric port.
fn strip_port(host: &[u8]) -> Option<&[u8]> {
    let colon = host.iter().rposition(|&b| b == b':')?;
    let (name, port) = (&host[..colon], &host[colon + 1..]);
    let numeric = !port.is_empty() && port.iter().all(u8::is_ascii_digit);
    (numeric && !name.is_empty()).then_some(name)
}

/// The HttpHeaders strings worth trying: as received, then (when the `Host` has a port)
/// with the bare host name, which is what PY signs. Never more than two, however the list
/// is written. The flag is false when a listed header is missing.
fn http_header_variants(
    list: &[String],
    headers: &HeaderMap,
) -> Result<(Vec<String>, bool), AuthError> {
    let by_name = signed_header_values(list, headers)?;
    let mut all_present = true;
    let mut received = Vec::with_capacity(list.len());
    let mut bare = Vec::with_capacity(list.len());
    let mut port_stripped = false;
    for name in list {
        let value = by_name.get(name).copied();
        all_present &= value.is_some();
        let value = value.unwrap_or_default();
        received.push(format!("{name}={}", url_encode_bytes(value)));
        match strip_port(value).filter(|_| name == "host") {
            Some(host) => {
                port_stripped = true;
                bare.push(format!("{name}={}", url_encode_bytes(host)));
            }
            None => bare.push(format!("{name}={}", url_encode_bytes(value))),
        }
    }
    let mut variants = vec![received.join("&")];
    if port_stripped {
        variants.push(bare.join("&"));
    }
    Ok((variants, all_present))
}

/// Checks `p` against the request with `secret_key` at time `now_unix`.
///
/// Tries the `Host` as received and without its port (PY signs the bare hostname). The path
/// is checked exactly as it will be used as the key: a `+` is a plus, never a space, or a
/// signature for `a b.txt` would also authorise `a+b.txt`. A listed parameter or header that
/// is absent is a mismatch, so a signed rule cannot be stripped off a URL.
pub fn verify(
    req: &AuthRequest,
    p: &SignatureParams,
    secret_key: &str,
    now_unix: u64,
) -> Result<(), AuthError> {
    let (start, end) = p.sign_time;
    if end.saturating_sub(start) > MAX_SIGN_WINDOW_SECS {
        return Err(AuthError::WindowTooLong);
    }
    if now_unix.saturating_add(CLOCK_SKEW_SECS) < start || now_unix > end {
        return Err(AuthError::Expired);
    }
    let (params, params_present) = http_parameters(&p.url_param_list, req.query)?;
    let (header_variants, headers_present) = http_header_variants(&p.header_list, req.headers)?;
    let mut first: Option<(String, String)> = None;
    for headers in &header_variants {
        let fs = format_string(req.method, req.path, &params, headers);
        let sts = string_to_sign(p.sign_time, &fs);
        let expected = compute_signature(secret_key, p.key_time, &sts);
        let matches: bool = expected.as_bytes().ct_eq(p.signature.as_bytes()).into();
        if matches && params_present && headers_present {
            return Ok(());
        }
        first.get_or_insert((sts, fs));
    }
    let (string_to_sign, format_string) = first.unwrap_or_default();
    Err(AuthError::Mismatch {
        string_to_sign,
        format_string,
    })
}

/// Canonical `(lower(UrlEncode(k)), UrlEncode(v))` pairs, sorted as the SDKs sort them.
fn canonical_pairs(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (canonical_key(k), url_encode(v)))
        .collect();
    out.sort();
    out
}

fn join_pairs(pairs: &[(String, String)]) -> (String, String) {
    let joined = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let list = pairs
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (joined, list)
}

/// Signs a request as the SDKs do and returns the `Authorization` value.
///
/// `path` is the decoded path; `params` and `headers` are decoded `(name, value)` pairs,
/// all of which are signed (lower-cased, encoded, sorted). For tests and tools.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
    secret_id: &str,
    secret_key: &str,
    start: u64,
    end: u64,
) -> String {
    let (param_string, param_list) = join_pairs(&canonical_pairs(params));
    let (header_string, header_list) = join_pairs(&canonical_pairs(headers));
    let fs = format_string(method, path, &param_string, &header_string);
    let sts = string_to_sign((start, end), &fs);
    let signature = compute_signature(secret_key, (start, end), &sts);
    format!(
        "q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={start};{end}&q-key-time={start};{end}\
         &q-header-list={header_list}&q-url-param-list={param_list}&q-signature={signature}"
    )
}

/// A presigned-URL query string as PY `get_presigned_url` builds it: the authorization
/// fields URL-encoded (so the lists end up double-encoded), then the signed params
/// (`k=v`, both form-encoded). Append it to the encoded path after `?`.
#[allow(clippy::too_many_arguments)]
pub fn presign_query(
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
    secret_id: &str,
    secret_key: &str,
    start: u64,
    end: u64,
) -> String {
    let auth = sign(
        method, path, params, headers, secret_id, secret_key, start, end,
    );
    let mut parts: Vec<String> = auth
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    parts.extend(
        params
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))),
    );
    parts.join("&")
}

#[cfg(test)]
mod tests;
