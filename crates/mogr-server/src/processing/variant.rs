//! Processing on download behind the variant cache: a stored output is served as is, a
//! missing one is computed once however many requests ask for it at the same time, then
//! stored. Authorisation has already happened against the source object.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use mogr_cos::ErrorCode;
use mogr_rule::Pipeline;
use mogr_store::GetObject;

use super::errors::{image_error, record_output};
use super::pipeline::{cost, ignores_limit_errors, memory_peak};
use super::watermarks::{Loaded, Watermarks};
use crate::config::ServerConfig;
use crate::error_map::{ApiError, ApiResult};
use crate::state::AppState;
use crate::telemetry::metrics::ImageMode;
use crate::variant_cache::flight::{follow, Flights, Turn, Waited};
use crate::variant_cache::{
    cache_dir, engine_fingerprint, CacheCounters, CacheStats, Variant, VariantCache, VariantKey,
};

/// How long a request may wait for another request's computation beyond the processing time
/// limit (the leader may itself wait for a worker first).
const FOLLOW_SLACK: Duration = Duration::from_secs(30);
/// The wait bound when processing has no time limit.
const FOLLOW_UNLIMITED: Duration = Duration::from_secs(300);

/// Where a processed response came from (`x-mogr-cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// From a stored entry, or from a concurrent request's computation: no engine run.
    Hit,
    /// Computed by this request and stored.
    Miss,
    /// Computed by this request and not stored (cache off, too big, or the source changed
    /// while it was read).
    Bypass,
}

impl CacheOutcome {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Bypass => "bypass",
        }
    }
}

/// A processed output ready to send.
#[derive(Debug)]
pub struct Served {
    /// The bytes (`None` when a HEAD was answered from an entry's header).
    pub body: Option<Bytes>,
    /// Output length.
    pub len: u64,
    /// Output `Content-Type`.
    pub mime: String,
    /// Where it came from.
    pub cache: CacheOutcome,
}

/// An error handed from a leader to its followers (COS errors are not `Clone`).
#[derive(Debug, Clone)]
struct SharedError {
    code: ErrorCode,
    message: String,
    headers: HeaderMap,
}

impl SharedError {
    fn of(e: &ApiError) -> SharedError {
        SharedError {
            code: e.code(),
            message: e.error.message.clone(),
            headers: e.headers.clone(),
        }
    }

    fn to_api(&self) -> ApiError {
        let mut e = ApiError::with_message(self.code, self.message.clone());
        e.headers = self.headers.clone();
        e
    }
}

type Shared = Result<Arc<Variant>, SharedError>;

/// The variant cache, the computations in flight, and the response settings for processed
/// downloads; shared by every request.
#[derive(Debug)]
pub struct Variants {
    cache: Arc<VariantCache>,
    flights: Flights<Shared>,
    follow_bound: Duration,
    fingerprint: String,
    cache_control: Option<String>,
    bucket_cache_control: std::collections::BTreeMap<String, String>,
}

impl Variants {
    /// Opens the cache the settings name; a cache that cannot be opened is logged and left
    /// off (processing still works, uncached).
    pub fn new(config: &ServerConfig) -> Variants {
        let settings = &config.cache;
        let dir = cache_dir(&config.data_dir, settings.dir.as_deref());
        let cache = VariantCache::open(&dir, settings.max_bytes).unwrap_or_else(|e| {
            tracing::warn!(dir = %dir.display(), error = %e, "variant cache disabled");
            VariantCache::disabled()
        });
        Variants {
            cache,
            flights: Flights::default(),
            follow_bound: config
                .processing_time_limit
                .map_or(FOLLOW_UNLIMITED, |t| t + FOLLOW_SLACK),
            fingerprint: engine_fingerprint(&config.engine),
            cache_control: settings.cache_control.clone(),
            bucket_cache_control: settings.bucket_cache_control.clone(),
        }
    }

    /// The cache itself (for purges).
    pub fn cache(&self) -> &VariantCache {
        &self.cache
    }

    /// Counters and size of the cache.
    pub fn stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The key of `pipeline` run on the version `source_etag` of `bucket`/`key`, with the
    /// other objects it reads at the versions `inputs` names.
    pub fn key(
        &self,
        bucket: &str,
        key: &str,
        source_etag: &str,
        inputs: &str,
        pipeline: &Pipeline,
    ) -> VariantKey {
        VariantKey {
            bucket: bucket.to_string(),
            key: key.to_string(),
            source_etag: source_etag.to_string(),
            inputs: inputs.to_string(),
            rule: pipeline.to_string(),
            fingerprint: self.fingerprint.clone(),
        }
    }

    /// `Cache-Control` of a processed response: the source's own, else the bucket's setting,
    /// else the default setting (a `response-cache-control` override beats all three).
    pub fn cache_control(&self, bucket: &str, stored: Option<&String>) -> Option<String> {
        stored
            .filter(|s| !s.trim().is_empty())
            .or_else(|| self.bucket_cache_control.get(bucket))
            .or(self.cache_control.as_ref())
            .cloned()
    }
}

/// The variant `key` names, from the cache or computed by running `pipeline` on the source.
/// HEAD is answered from an entry's header when there is one.
pub async fn serve(
    state: &AppState,
    key: &VariantKey,
    pipeline: Pipeline,
    marks: &Watermarks,
    head: bool,
) -> ApiResult<Served> {
    let variants = &state.variants;
    if head {
        if let Some(h) = variants.cache.head(key).await {
            return Ok(Served {
                body: None,
                len: h.len,
                mime: h.mime,
                cache: CacheOutcome::Hit,
            });
        }
    }
    loop {
        if let Some(hit) = variants.cache.get(key).await {
            return Ok(served(hit, CacheOutcome::Hit));
        }
        match variants.flights.join(key.id()) {
            Turn::Lead(leader) => {
                // A flight that ended between our look-up and our joining has stored its
                // result: look once more before computing again.
                if let Some(hit) = variants.cache.recheck(key).await {
                    leader.finish(Ok(Arc::new(hit.clone())));
                    return Ok(served(hit, CacheOutcome::Hit));
                }
                return match compute(state, key, &pipeline, marks).await {
                    Ok((variant, cacheable)) => {
                        let stored = cacheable && variants.cache.enabled();
                        if stored {
                            // Stored before the flight ends, so the next request finds it.
                            variants.cache.put(key, &variant).await;
                        }
                        leader.finish(Ok(Arc::new(variant.clone())));
                        let outcome = if stored {
                            CacheOutcome::Miss
                        } else {
                            CacheOutcome::Bypass
                        };
                        Ok(served(variant, outcome))
                    }
                    Err(e) => {
                        leader.finish(Err(SharedError::of(&e)));
                        Err(e)
                    }
                };
            }
            Turn::Follow(rx) => match follow(rx, variants.follow_bound).await {
                Waited::Done(Ok(variant)) => {
                    CacheCounters::bump(&variants.cache.counters().shared);
                    return Ok(served((*variant).clone(), CacheOutcome::Hit));
                }
                Waited::Done(Err(e)) => return Err(e.to_api()),
                // The leader's client went away and took the work with it: lead or follow
                // the next attempt.
                Waited::Abandoned => continue,
                Waited::TimedOut => {
                    return Err(ApiError::with_message(
                        ErrorCode::SlowDown,
                        "the same image is being processed for another request; retry later",
                    ))
                }
            },
        }
    }
}

fn served(v: Variant, cache: CacheOutcome) -> Served {
    Served {
        len: v.bytes.len() as u64,
        body: Some(v.bytes),
        mime: v.mime,
        cache,
    }
}

/// Runs the pipeline on the source on the bounded pool. The output may be stored only if it
/// was made from the versions the key names (source and watermark images), and is not the
/// original handed back by `ignore-error/1` (a time limit hit under load must not be
/// remembered).
async fn compute(
    state: &AppState,
    key: &VariantKey,
    pipeline: &Pipeline,
    marks: &Watermarks,
) -> ApiResult<(Variant, bool)> {
    let images = &state.images;
    let limit = images.limits().max_input_bytes;
    let GetObject {
        meta, body: stream, ..
    } = state.store.get_object(&key.bucket, &key.key, None).await?;
    let same_version = meta.etag == key.source_etag;
    let (slot, source) = images
        .admit_source(
            stream,
            meta.size,
            limit,
            |shape| cost(images.engine(), [pipeline], false, shape),
            |shape| memory_peak(images.engine(), [pipeline], false, shape),
        )
        .await?;
    let Loaded { assets, unchanged } = marks.load(state).await?;
    CacheCounters::bump(&state.variants.cache.counters().engine_runs);
    let (input, job) = (source.clone(), pipeline.clone());
    let outcome = images
        .run(slot, move |engine, budget| {
            let started = Instant::now();
            let outcome = engine.process_with(&input, &job, budget, &assets);
            record_output(ImageMode::Download, &outcome, started.elapsed());
            outcome
        })
        .await?;
    let out = outcome.map_err(|e| image_error(&e))?;
    let fell_back = ignores_limit_errors(pipeline) && out.bytes.as_slice() == source.as_ref();
    let variant = Variant {
        bytes: Bytes::from(out.bytes),
        mime: out.mime.to_string(),
    };
    Ok((variant, same_version && unchanged && !fell_back))
}
