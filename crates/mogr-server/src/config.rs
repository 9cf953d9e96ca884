//! Server settings the CLI fills in.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::body::BodyTimeouts;

/// Largest single PUT / part accepted by default (COS's own 5 GiB limit).
pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// Default time one image job may run on a worker: a 12 MP photo converted to AVIF or HEIF
/// at the default speeds takes about 10 s, so three such stages fit and a ten-stage chain
/// does not.
pub const DEFAULT_PROCESSING_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Default longest wait for the next byte of a request body.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Default lowest average rate of a request body, in bytes per second (32 kbit/s, below any
/// mobile link still in use); a 32 MiB image upload may then take at most about 2 hours.
pub const DEFAULT_BODY_MIN_RATE: u64 = 4096;

/// Everything `serve` needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Root folder of the local store.
    pub data_dir: PathBuf,
    /// `(SecretId, SecretKey)` pairs; any of them may sign any request.
    pub credentials: Vec<(String, String)>,
    /// Region reported in `x-cos-bucket-region`.
    pub region: String,
    /// Host text after the bucket label that marks virtual-host addressing
    /// (`.cos.` matches `<bucket>.cos.<anything>`).
    pub vhost_suffix: String,
    /// The same for CI's image domain (`.pic.` matches `<bucket>.pic.<anything>`), where the
    /// style API lives; it addresses the same buckets.
    pub pic_vhost_suffix: String,
    /// Bucket used when neither the Host nor the path names one (SDK `Domain` mode).
    pub default_bucket: Option<String>,
    /// Largest body of one PUT Object or one part, in bytes (`EntityTooLarge` above it).
    pub max_object_size: u64,
    /// Image engine settings (limits, encoder speeds).
    pub engine: mogr_image::EngineConfig,
    /// Threads of the image worker pool (default: the available cores).
    pub image_workers: usize,
    /// Image work that may wait for a worker before requests get 503 `SlowDown`, in units of
    /// a typical 2-4 MP conversion (about 250 ms of one core); a job predicted to cost more
    /// takes more units, at most half of `image_workers + image_queue`. Cheap jobs
    /// (`imageInfo`, small images) have a lane and a reserved worker of their own. Default:
    /// eight per worker: an admitted request waits about a second at most, a burst of 16
    /// typical clients on two cores is absorbed rather than refused, and waiting sources stay
    /// bounded by 8 x 32 MiB per core.
    pub image_queue: usize,
    /// Longest time one image job may run on a worker (`None`: no limit). Past it the job
    /// stops between steps and answers 400 `ImageTooLarge`, or the original with
    /// `ignore-error/1`.
    pub processing_time_limit: Option<Duration>,
    /// How slowly a request body may arrive before the request fails with `RequestTimeout`.
    pub body_timeouts: BodyTimeouts,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            data_dir: PathBuf::from("./data"),
            credentials: Vec::new(),
            region: "ap-guangzhou".to_string(),
            vhost_suffix: ".cos.".to_string(),
            pic_vhost_suffix: ".pic.".to_string(),
            default_bucket: None,
            max_object_size: DEFAULT_MAX_OBJECT_SIZE,
            engine: mogr_image::EngineConfig::default(),
            image_workers: default_image_workers(),
            image_queue: 8 * default_image_workers(),
            processing_time_limit: Some(DEFAULT_PROCESSING_TIME_LIMIT),
            body_timeouts: BodyTimeouts {
                idle: Some(DEFAULT_BODY_IDLE_TIMEOUT),
                min_rate: DEFAULT_BODY_MIN_RATE,
            },
        }
    }
}

/// One image worker per available core (1 when the count is unknown).
pub fn default_image_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
