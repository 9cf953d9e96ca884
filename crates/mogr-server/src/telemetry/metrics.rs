//! The metrics mogr exports, in one catalogue, and the Prometheus recorder that collects them.
//!
//! Code records with the `metrics` crate's macros and the name constants below; nothing is
//! collected until [`prometheus`] installs the recorder (the CLI does, and so does the admin
//! listener), so library users and unit tests pay nothing. Names follow Prometheus practice:
//! `mogr_<area>_<what>_<unit>`, counters end in `_total`. A new area (the variant cache's
//! `mogr_cache_*`) adds its constants here and a row to [`CATALOGUE`].

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered, by `operation` and `status`.
pub const HTTP_REQUESTS: &str = "mogr_http_requests_total";
/// Time from the request's arrival to the end of its response body, by `operation`.
pub const HTTP_REQUEST_DURATION: &str = "mogr_http_request_duration_seconds";
/// Request body bytes read, by `operation`.
pub const HTTP_REQUEST_BYTES: &str = "mogr_http_request_bytes_total";
/// Response body bytes sent, by `operation`.
pub const HTTP_RESPONSE_BYTES: &str = "mogr_http_response_bytes_total";
/// Open client connections on the public port.
pub const CONNECTIONS_OPEN: &str = "mogr_connections_open";
/// Client connections accepted on the public port.
pub const CONNECTIONS_ACCEPTED: &str = "mogr_connections_accepted_total";
/// Image outputs produced or refused, by `mode`, output `format` and `outcome`.
pub const IMAGE_JOBS: &str = "mogr_image_jobs_total";
/// Engine time of one image output (decode, operations, encode), by `mode`.
pub const IMAGE_JOB_DURATION: &str = "mogr_image_job_duration_seconds";
/// Image workers running a job now.
pub const IMAGE_POOL_BUSY: &str = "mogr_image_pool_busy_workers";
/// Image jobs admitted and waiting for a worker now.
pub const IMAGE_POOL_QUEUED: &str = "mogr_image_pool_queued_jobs";
/// Image requests refused with 503 `SlowDown` because the pool was full.
pub const IMAGE_POOL_REFUSED: &str = "mogr_image_pool_refused_total";
/// Store failures that were not the client's fault (I/O errors), answered 500.
pub const STORE_ERRORS: &str = "mogr_store_errors_total";
/// Processed variants served from the cache.
pub const CACHE_HITS: &str = "mogr_cache_hits_total";
/// Processed variants that had to be computed.
pub const CACHE_MISSES: &str = "mogr_cache_misses_total";

/// What kind of metric a catalogue row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// A distribution (rendered as a Prometheus histogram).
    Histogram,
}

/// One exported metric: name, kind, unit and help text.
#[derive(Debug, Clone, Copy)]
pub struct MetricInfo {
    /// The metric name.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// The unit Prometheus shows.
    pub unit: Unit,
    /// The `# HELP` text.
    pub help: &'static str,
}

const fn row(name: &'static str, kind: Kind, unit: Unit, help: &'static str) -> MetricInfo {
    MetricInfo {
        name,
        kind,
        unit,
        help,
    }
}

/// Every metric mogr exports; the README's table follows this list.
pub const CATALOGUE: &[MetricInfo] = &[
    row(HTTP_REQUESTS, Kind::Counter, Unit::Count, "Requests answered, by COS operation and HTTP status."),
    row(HTTP_REQUEST_DURATION, Kind::Histogram, Unit::Seconds, "Time from a request's arrival to the end of its response body, by COS operation."),
    row(HTTP_REQUEST_BYTES, Kind::Counter, Unit::Bytes, "Request body bytes read, by COS operation."),
    row(HTTP_RESPONSE_BYTES, Kind::Counter, Unit::Bytes, "Response body bytes sent, by COS operation."),
    row(CONNECTIONS_OPEN, Kind::Gauge, Unit::Count, "Client connections open on the public port."),
    row(CONNECTIONS_ACCEPTED, Kind::Counter, Unit::Count, "Client connections accepted on the public port."),
    row(IMAGE_JOBS, Kind::Counter, Unit::Count, "Image outputs, by mode (download, upload, cloud), output format and outcome (ok or the COS error code)."),
    row(IMAGE_JOB_DURATION, Kind::Histogram, Unit::Seconds, "Engine time of one image output, by mode."),
    row(IMAGE_POOL_BUSY, Kind::Gauge, Unit::Count, "Image workers running a job."),
    row(IMAGE_POOL_QUEUED, Kind::Gauge, Unit::Count, "Image jobs admitted and waiting for a worker."),
    row(IMAGE_POOL_REFUSED, Kind::Counter, Unit::Count, "Image requests refused with 503 SlowDown because the pool was full."),
    row(STORE_ERRORS, Kind::Counter, Unit::Count, "Store I/O failures answered with 500."),
    row(CACHE_HITS, Kind::Counter, Unit::Count, "Processed variants served from the cache."),
    row(CACHE_MISSES, Kind::Counter, Unit::Count, "Processed variants computed because the cache did not hold them."),
];

/// Histogram buckets for latencies: 1 ms to 60 s, roughly 2.5x apart (image jobs span
/// milliseconds for `imageInfo` to tens of seconds for an AVIF encode).
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The process-wide Prometheus recorder's handle, installing the recorder on first use.
///
/// If another recorder was installed first (an embedding program's), mogr's metrics go there
/// and this handle renders an empty page.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_string()), SECONDS_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        describe_all();
        handle
    })
}

/// Registers the help text and unit of every catalogue row with the installed recorder.
fn describe_all() {
    for m in CATALOGUE {
        match m.kind {
            Kind::Counter => describe_counter!(m.name, m.unit, m.help),
            Kind::Gauge => describe_gauge!(m.name, m.unit, m.help),
            Kind::Histogram => describe_histogram!(m.name, m.unit, m.help),
        }
    }
}

/// Which processing mode an image job belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageMode {
    /// `GET /<key>?<rule>`.
    Download,
    /// `PUT` or Complete Multipart with `Pic-Operations`.
    Upload,
    /// `POST ?image_process`.
    Cloud,
}

impl ImageMode {
    /// The `mode` label.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageMode::Download => "download",
            ImageMode::Upload => "upload",
            ImageMode::Cloud => "cloud",
        }
    }
}

/// Records one image output: `format` is the output's (`none` when it failed), `outcome`
/// `ok` or the COS error code, `engine_time` the worker time it took.
pub fn image_job(mode: ImageMode, format: &str, outcome: &'static str, engine_time: Duration) {
    counter!(IMAGE_JOBS, "mode" => mode.as_str(), "format" => format.to_string(), "outcome" => outcome)
        .increment(1);
    histogram!(IMAGE_JOB_DURATION, "mode" => mode.as_str()).record(engine_time.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_names_are_distinct_and_prometheus_shaped() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
        for m in CATALOGUE {
            assert!(m.name.starts_with("mogr_"), "{}", m.name);
            assert!(
                m.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                m.name
            );
            assert_eq!(
                m.kind == Kind::Counter,
                m.name.ends_with("_total"),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn recorded_values_render_in_the_exposition_text() {
        let handle = prometheus();
        image_job(ImageMode::Cloud, "avif", "ok", Duration::from_millis(30));
        let text = handle.render();
        assert!(
            text.contains(r#"mogr_image_jobs_total{mode="cloud",format="avif",outcome="ok"}"#),
            "{text}"
        );
        assert!(
            text.contains(r#"mogr_image_job_duration_seconds_bucket{mode="cloud",le="0.05"}"#),
            "{text}"
        );
        assert!(text.contains("# HELP mogr_image_jobs_total"), "{text}");
    }
}
