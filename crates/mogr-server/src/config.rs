//! Server settings the CLI fills in.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Largest single PUT / part accepted by default (COS's own 5 GiB limit).
pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

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
    /// Bucket used when neither the Host nor the path names one (SDK `Domain` mode).
    pub default_bucket: Option<String>,
    /// Largest body of one PUT Object or one part, in bytes (`EntityTooLarge` above it).
    pub max_object_size: u64,
    /// Image engine settings (limits, encoder speeds).
    pub engine: mogr_image::EngineConfig,
    /// Threads of the image worker pool (default: the available cores).
    pub image_workers: usize,
    /// Image jobs that may wait for a worker before requests get 503 `SlowDown` (default:
    /// eight per worker: at the 100-250 ms a typical 2-4 MP conversion takes, an admitted
    /// request waits about a second at most, a burst of 16 clients on two cores is absorbed
    /// rather than refused, and waiting sources stay bounded by 8 x 32 MiB per core).
    pub image_queue: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            data_dir: PathBuf::from("./data"),
            credentials: Vec::new(),
            region: "ap-guangzhou".to_string(),
            vhost_suffix: ".cos.".to_string(),
            default_bucket: None,
            max_object_size: DEFAULT_MAX_OBJECT_SIZE,
            engine: mogr_image::EngineConfig::default(),
            image_workers: default_image_workers(),
            image_queue: 8 * default_image_workers(),
        }
    }
}

/// One image worker per available core (1 when the count is unknown).
pub fn default_image_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
