//! A bucket's image styles: turning a rule that names styles into the pipeline that actually
//! runs, the checks a style must pass before it is saved, and the separator download form
//! (`<key><sep><style>`).
//!
//! Styles live in the bucket's settings in the store, which the store keeps in memory, so a
//! resolution costs one map lookup per named style and always sees the latest save. Saves are
//! serialised here (read, check, write), so two concurrent saves can never build a loop that
//! each alone would have been refused for.

use mogr_cos::ErrorCode;
use mogr_rule::{Pipeline, StyleError, StyleName, StyleNameError};
use mogr_store::BucketSettings;

use crate::error_map::{ApiError, ApiResult};
use crate::processing::errors::rule_error;
use crate::state::AppState;

/// Most styles one bucket may keep.
pub const MAX_STYLES_PER_BUCKET: usize = 1000;

/// Longest style rule, in bytes: room for ten stages with base64 watermark URLs.
pub const MAX_STYLE_BODY_LEN: usize = 4096;

/// Largest body of a style request: an `<AddStyle>` with the longest rule, with room to spare.
pub const MAX_STYLE_REQUEST: u64 = 64 * 1024;

/// The characters that may separate a key from a style name on download.
pub const SEPARATOR_CHARS: &str = "!-_";

/// The pipeline `rule` stands for in `bucket`: every `style/<name>` replaced by that style's
/// rule. The one function every processing mode calls before any work, so whatever keys on
/// the result (a variant cache, `pipeline.to_string()`) keys on what actually runs.
pub async fn resolve_rule(state: &AppState, bucket: &str, rule: &str) -> ApiResult<Pipeline> {
    let styled = mogr_rule::parse_styled(rule).map_err(|e| style_error(&e, bucket))?;
    // Rules without styles never touch the bucket's settings.
    let settings = if styled.uses_styles() {
        state.store.bucket_settings(bucket).await?
    } else {
        BucketSettings::default()
    };
    mogr_rule::expand(&styled, |name| settings.styles.get(name.as_str()).cloned())
        .map_err(|e| style_error(&e, bucket))
}

/// The COS error for a rule or style that cannot be used: 400 `InvalidArgument` naming the
/// style, or what is wrong with the rule.
pub fn style_error(e: &StyleError, bucket: &str) -> ApiError {
    let message = match e {
        StyleError::Rule(rule) => return rule_error(rule),
        StyleError::Unknown(name) => {
            format!("style `{name}` does not exist in bucket {bucket}")
        }
        other => format!("invalid style: {other}"),
    };
    ApiError::with_message(ErrorCode::InvalidArgument, message)
}

fn name_error(e: &StyleNameError) -> ApiError {
    ApiError::with_message(
        ErrorCode::InvalidArgument,
        format!("invalid StyleName: {e}"),
    )
}

/// Saves (or replaces) style `name` of `bucket` after checking the name, the size, the count,
/// that the rule parses, that every style it names exists, and that it does not lead back to
/// itself.
pub async fn save(state: &AppState, bucket: &str, name: &str, body: &str) -> ApiResult<()> {
    let name = StyleName::parse(name).map_err(|e| name_error(&e))?;
    if body.len() > MAX_STYLE_BODY_LEN {
        return Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            format!(
                "StyleBody is {} bytes long (at most {MAX_STYLE_BODY_LEN})",
                body.len()
            ),
        ));
    }
    let _writing = state.style_writes.lock().await;
    let mut settings = state.store.bucket_settings(bucket).await?;
    if !settings.styles.contains_key(name.as_str())
        && settings.styles.len() >= MAX_STYLES_PER_BUCKET
    {
        return Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            format!("bucket {bucket} already has {MAX_STYLES_PER_BUCKET} styles"),
        ));
    }
    mogr_rule::check_style(&name, body, |n| settings.styles.get(n.as_str()).cloned())
        .map_err(|e| style_error(&e, bucket))?;
    settings
        .styles
        .insert(name.as_str().to_string(), body.to_string());
    state.store.put_bucket_settings(bucket, settings).await?;
    Ok(())
}

/// Deletes style `name` of `bucket`; deleting a style that does not exist succeeds, as
/// deleting a missing object does.
pub async fn delete(state: &AppState, bucket: &str, name: &str) -> ApiResult<()> {
    let _writing = state.style_writes.lock().await;
    let mut settings = state.store.bucket_settings(bucket).await?;
    if settings.styles.remove(name).is_some() {
        state.store.put_bucket_settings(bucket, settings).await?;
    }
    Ok(())
}

/// The styles of `bucket` in name order, or only the one named (none if it does not exist).
pub async fn list(
    state: &AppState,
    bucket: &str,
    only: Option<&str>,
) -> ApiResult<Vec<(String, String)>> {
    let settings = state.store.bucket_settings(bucket).await?;
    Ok(settings
        .styles
        .into_iter()
        .filter(|(name, _)| only.is_none_or(|only| only == name.as_str()))
        .collect())
}

/// Sets the separators of the download form for `bucket` (empty: off).
pub async fn set_separators(state: &AppState, bucket: &str, separators: &str) -> ApiResult<()> {
    if let Some(c) = separators.chars().find(|c| !SEPARATOR_CHARS.contains(*c)) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            format!("`{c}` cannot separate a key from a style: use some of `!`, `-` and `_`"),
        ));
    }
    let mut canonical: Vec<char> = separators.chars().collect();
    canonical.sort_unstable();
    canonical.dedup();
    let _writing = state.style_writes.lock().await;
    let mut settings = state.store.bucket_settings(bucket).await?;
    settings.style_separators = canonical.into_iter().collect();
    state.store.put_bucket_settings(bucket, settings).await?;
    Ok(())
}

/// The separators of the download form for `bucket` (empty: off).
pub async fn separators(state: &AppState, bucket: &str) -> ApiResult<String> {
    Ok(state.store.bucket_settings(bucket).await?.style_separators)
}

/// For a download of a `key` that does not exist: the object and style it names in the
/// separator form, if the bucket enables the separator used, a style of that name exists and
/// so does the object. Keys that exist are never split, so an object whose key merely
/// contains a separator is always served as itself.
///
/// Every split point whose tail is an existing style is tried, the longest object key first;
/// the number of object lookups is at most the number of separators in the key.
pub async fn split_styled_key(
    state: &AppState,
    bucket: &str,
    key: &str,
) -> ApiResult<Option<(String, StyleName)>> {
    let settings = state.store.bucket_settings(bucket).await?;
    if settings.style_separators.is_empty() || settings.styles.is_empty() {
        return Ok(None);
    }
    for (at, sep) in key.char_indices().rev() {
        if !settings.style_separators.contains(sep) {
            continue;
        }
        let (object, style) = (&key[..at], &key[at + sep.len_utf8()..]);
        if object.is_empty() || !settings.styles.contains_key(style) {
            continue;
        }
        let Ok(name) = StyleName::parse(style) else {
            continue;
        };
        match state.store.head_object(bucket, object).await {
            Ok(_) => return Ok(Some((object.to_string(), name))),
            Err(mogr_store::StoreError::NoSuchKey) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}
