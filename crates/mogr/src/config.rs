//! Configuration: flags over environment over the TOML file over defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{EngineArgs, ServeArgs};
use crate::credentials;

/// Errors the CLI reports on one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The configuration file is not valid.
    #[error("config {path}: {detail}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// Processing failed.
    #[error("{0}")]
    Image(#[from] mogr_image::ImageError),
    /// Anything else, already worded for the user.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The `[limits]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    max_input_bytes: Option<u64>,
    max_side: Option<u32>,
    max_pixels: Option<u64>,
    max_frames: Option<u32>,
    max_total_pixels: Option<u64>,
    /// Seconds one image job may run on a worker; 0 for no limit.
    max_processing_secs: Option<u64>,
}

/// The `[codec]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodecFile {
    heif_preset: Option<String>,
    avif_speed: Option<u8>,
}

/// One `[[credentials]]` entry: the key inline, or (better: the config file can then be
/// shared) in a file of its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialFile {
    secret_id: String,
    secret_key: Option<String>,
    secret_key_file: Option<PathBuf>,
}

/// The whole TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    region: Option<String>,
    vhost_suffix: Option<String>,
    /// Host text after the bucket label of the image (`.pic.`) domain.
    pic_vhost_suffix: Option<String>,
    default_bucket: Option<String>,
    max_object_size: Option<u64>,
    image_workers: Option<usize>,
    image_queue: Option<usize>,
    /// Seconds to wait for the next byte of a request body; 0 for no limit.
    body_idle_timeout_secs: Option<u64>,
    /// Lowest average rate of a request body in bytes per second; 0 for no minimum.
    body_min_rate: Option<u64>,
    #[serde(default)]
    credentials: Vec<CredentialFile>,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    codec: CodecFile,
}

/// Read the TOML file if one was named.
pub fn load_file(path: Option<&Path>) -> Result<FileConfig, CliError> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    toml::from_str(&text).map_err(|e| CliError::Config {
        path: path.display().to_string(),
        detail: e.message().to_string(),
    })
}

/// The engine configuration from the file's `[limits]` and `[codec]` tables.
pub fn engine_config(file: &FileConfig) -> mogr_image::EngineConfig {
    let mut cfg = mogr_image::EngineConfig::default();
    let l = &file.limits;
    let lim = &mut cfg.limits;
    lim.max_input_bytes = l.max_input_bytes.unwrap_or(lim.max_input_bytes);
    lim.max_side = l.max_side.unwrap_or(lim.max_side);
    lim.max_pixels = l.max_pixels.unwrap_or(lim.max_pixels);
    lim.max_frames = l.max_frames.unwrap_or(lim.max_frames);
    lim.max_total_pixels = l.max_total_pixels.unwrap_or(lim.max_total_pixels);
    if let Some(p) = &file.codec.heif_preset {
        cfg.heif_preset = p.clone();
    }
    if let Some(s) = file.codec.avif_speed {
        cfg.avif_speed = s.min(9);
    }
    cfg
}

/// The engine for the processing commands.
pub fn engine(args: &EngineArgs) -> Result<mogr_image::Engine, CliError> {
    let file = load_file(args.config.as_deref())?;
    Ok(mogr_image::Engine::new(engine_config(&file)))
}

/// A secret key read from `path`, without the surrounding whitespace an editor leaves.
pub(crate) fn read_key_file(path: &Path) -> Result<String, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    let key = text.trim();
    if key.is_empty() {
        return Err(CliError::Other(format!(
            "{}: the key file is empty",
            path.display()
        )));
    }
    Ok(key.to_string())
}

/// The `(SecretId, SecretKey)` of one `[[credentials]]` entry.
fn file_credential(c: CredentialFile) -> Result<(String, String), CliError> {
    match (c.secret_key, c.secret_key_file) {
        (Some(key), None) => Ok((c.secret_id, key)),
        (None, Some(path)) => Ok((c.secret_id, read_key_file(&path)?)),
        _ => Err(CliError::Other(format!(
            "credentials for {}: give exactly one of secret_key and secret_key_file",
            c.secret_id
        ))),
    }
}

/// A count of seconds where 0 means "no limit".
fn seconds(secs: u64) -> Option<Duration> {
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// `mogr serve`: resolve the configuration, bind, print where, serve forever.
pub fn serve(args: ServeArgs) -> Result<(), CliError> {
    let file = load_file(args.config.as_deref())?;
    let defaults = mogr_server::ServerConfig::default();
    let processing_time_limit = match file.limits.max_processing_secs {
        Some(secs) => seconds(secs),
        None => defaults.processing_time_limit,
    };
    let body_timeouts = mogr_server::BodyTimeouts {
        idle: match file.body_idle_timeout_secs {
            Some(secs) => seconds(secs),
            None => defaults.body_timeouts.idle,
        },
        min_rate: file
            .body_min_rate
            .unwrap_or(defaults.body_timeouts.min_rate),
    };
    let mut cfg = mogr_server::ServerConfig {
        listen: args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9000))),
        data_dir: args
            .data
            .clone()
            .or(file.data.clone())
            .unwrap_or_else(|| PathBuf::from("./data")),
        region: file.region.clone().unwrap_or(defaults.region),
        vhost_suffix: file.vhost_suffix.clone().unwrap_or(defaults.vhost_suffix),
        pic_vhost_suffix: file
            .pic_vhost_suffix
            .clone()
            .unwrap_or(defaults.pic_vhost_suffix),
        default_bucket: file.default_bucket.clone(),
        max_object_size: file.max_object_size.unwrap_or(defaults.max_object_size),
        image_workers: file
            .image_workers
            .map_or(defaults.image_workers, |w| w.max(1)),
        image_queue: file.image_queue.unwrap_or(defaults.image_queue),
        engine: engine_config(&file),
        processing_time_limit,
        body_timeouts,
        credentials: Vec::new(),
    };
    std::fs::create_dir_all(&cfg.data_dir).map_err(|e| CliError::io(&cfg.data_dir, e))?;
    cfg.credentials = match (args.secret_id, args.secret_key, args.secret_key_file) {
        (Some(id), Some(key), _) => vec![(id, key)],
        (Some(id), None, Some(path)) => vec![(id, read_key_file(&path)?)],
        _ if !file.credentials.is_empty() => file
            .credentials
            .into_iter()
            .map(file_credential)
            .collect::<Result<_, _>>()?,
        _ => vec![credentials::load_or_generate(&cfg.data_dir)?],
    };

    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.to_string()))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| CliError::Other(format!("cannot listen on {}: {e}", cfg.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| CliError::Other(e.to_string()))?;
        println!(
            "mogr listening on http://{addr} (data: {})",
            cfg.data_dir.display()
        );
        mogr_server::serve(cfg, listener)
            .await
            .map_err(|e| CliError::Other(format!("server stopped: {e}")))
    })
}
