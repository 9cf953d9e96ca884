//! Server settings the CLI fills in.

use std::collections::BTreeMap;
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

/// Default longest wait for room in the image memory budget: about what a typical conversion
/// takes, so a burst is smoothed rather than refused, while a client is never kept long.
pub const DEFAULT_IMAGE_MEMORY_WAIT: Duration = Duration::from_secs(2);

/// Default longest wait for the next byte of a request body.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Default lowest average rate of a request body, in bytes per second (32 kbit/s, below any
/// mobile link still in use); a 32 MiB image upload may then take at most about 2 hours.
pub const DEFAULT_BODY_MIN_RATE: u64 = 4096;

/// Default age at which unfinished multipart uploads are aborted.
pub const DEFAULT_MULTIPART_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default longest time a client may take to send a request's head.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Default longest time a kept-alive connection may sit with no request before it is closed.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default most client connections open at once on the public port.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Default longest time requests in flight may take to finish once shutdown begins.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Limits on client connections to the public port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Longest time from the first byte of a request to the end of its head (slow clients);
    /// `None`: no limit. The connection is closed without an answer past it.
    pub header_read_timeout: Option<Duration>,
    /// Longest time a connection may wait, with no request in flight, for the first byte of
    /// the next one; `None`: no limit.
    pub idle_timeout: Option<Duration>,
    /// Most connections open at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Everything `serve` needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Root folder of the local store (and of the variant cache and generated credentials
    /// whatever the backend).
    pub data_dir: PathBuf,
    /// Where objects live: on local disk under `data_dir`, or in an S3-compatible engine.
    pub backend: StoreBackend,
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
    /// Longest wait for room in the image memory budget (`engine.limits.max_memory`) before
    /// a request gets 503 `SlowDown`.
    pub image_memory_wait: Duration,
    /// How slowly a request body may arrive before the request fails with `RequestTimeout`.
    pub body_timeouts: BodyTimeouts,
    /// Client connection limits on the public port.
    pub connections: ConnectionLimits,
    /// On shutdown, how long requests in flight may take before their connections are cut.
    pub shutdown_timeout: Duration,
    /// Multipart uploads initiated longer ago than this are aborted in the background
    /// (`None`: kept until completed or aborted).
    pub multipart_expiry: Option<Duration>,
    /// The processed-variant cache and the caching headers of processed responses.
    pub cache: CacheSettings,
    /// Called on an image worker thread when it has finished its work and finds no more:
    /// the binary passes its allocator's "return freed memory to the system now" (`None`:
    /// nothing is called).
    pub image_idle_hook: Option<crate::processing::pool::IdleHook>,
}

/// Which storage backend serves the buckets; chosen here, in one place.
#[derive(Debug, Clone, Default)]
pub enum StoreBackend {
    /// The embedded local-disk store under `data_dir`.
    #[default]
    Local,
    /// An S3-compatible engine (Garage, MinIO, Ceph RGW, ...) shared by several mogr nodes.
    S3(mogr_store::s3::S3Config),
}

/// The `[cache]` settings.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// Folder of the cache (default: `cache` under the data folder).
    pub dir: Option<PathBuf>,
    /// Byte bound of the cache; 0 turns it off.
    pub max_bytes: u64,
    /// `Cache-Control` of processed responses whose source has none of its own.
    pub cache_control: Option<String>,
    /// Per-bucket `Cache-Control` of processed responses, over `cache_control`.
    pub bucket_cache_control: BTreeMap<String, String>,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            dir: None,
            max_bytes: crate::variant_cache::DEFAULT_MAX_BYTES,
            cache_control: None,
            bucket_cache_control: BTreeMap::new(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            data_dir: PathBuf::from("./data"),
            backend: StoreBackend::Local,
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
            image_memory_wait: DEFAULT_IMAGE_MEMORY_WAIT,
            body_timeouts: BodyTimeouts {
                idle: Some(DEFAULT_BODY_IDLE_TIMEOUT),
                min_rate: DEFAULT_BODY_MIN_RATE,
            },
            cache: CacheSettings::default(),
            multipart_expiry: Some(DEFAULT_MULTIPART_EXPIRY),
            connections: ConnectionLimits::default(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            image_idle_hook: None,
        }
    }
}

/// One image worker per available core (1 when the count is unknown).
pub fn default_image_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
