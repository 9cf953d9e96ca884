//! Configuration: flags over environment over the TOML file over defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{EngineArgs, LogFormat, ServeArgs};
use crate::{credentials, logging};

/// Where the admin listener listens when nothing says otherwise.
const DEFAULT_ADMIN_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9001);

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
    /// Memory budget for image work, in bytes (default: half the machine's memory).
    max_memory: Option<u64>,
    /// Milliseconds a job may wait for room in the memory budget before 503 `SlowDown`.
    memory_wait_ms: Option<u64>,
}

/// The `[codec]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodecFile {
    heif_preset: Option<String>,
    avif_speed: Option<u8>,
}

/// The `[cache]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheFile {
    /// Folder of the cache (default: `cache` under the data folder).
    dir: Option<PathBuf>,
    /// Byte bound; 0 turns the cache off.
    max_bytes: Option<u64>,
    /// `Cache-Control` of processed responses whose source has none.
    cache_control: Option<String>,
    /// Bucket -> `Cache-Control` of its processed responses.
    #[serde(default)]
    bucket_cache_control: std::collections::BTreeMap<String, String>,
}

/// The `[store]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreFile {
    /// Age at which unfinished multipart uploads are aborted: seconds, or a number with a
    /// unit (`"90s"`, `"30m"`, `"12h"`, `"7d"`); 0 keeps them for ever.
    multipart_expiry: Option<DurationText>,
    /// `local` (default) or `s3`.
    kind: Option<String>,
    /// S3 engine URL, e.g. `http://127.0.0.1:3900`.
    endpoint: Option<String>,
    /// S3 region the engine expects in signatures.
    region: Option<String>,
    /// The engine bucket that holds every mogr bucket as a top-level prefix.
    bucket: Option<String>,
    /// Engine access key id.
    access_key: Option<String>,
    /// Engine secret key, inline ...
    secret_key: Option<String>,
    /// ... or in a file of its own.
    secret_key_file: Option<PathBuf>,
    /// Path-style addressing (`endpoint/bucket/key`; default true, what Garage and MinIO use).
    path_style: Option<bool>,
    /// `prefix` (default: every mogr bucket a top-level prefix of `bucket`) or `per-bucket`
    /// (each mogr bucket an engine bucket of its own, named `bucket_name_prefix` + its name).
    bucket_mode: Option<String>,
    /// Prepended to engine bucket names in `per-bucket` mode.
    bucket_name_prefix: Option<String>,
    /// Smallest multipart part the engine accepts, in bytes (default 5 MiB, what AWS S3 and
    /// MinIO need; 0 for Garage, which keeps listings' multipart ETags exactly COS's).
    engine_min_part_size: Option<u64>,
}

/// The storage backend the `[store]` table chooses.
fn store_backend(store: &StoreFile) -> Result<mogr_server::StoreBackend, String> {
    match store.kind.as_deref().unwrap_or("local") {
        "local" => Ok(mogr_server::StoreBackend::Local),
        "s3" => {
            let need = |v: &Option<String>, name: &str| {
                v.clone()
                    .ok_or_else(|| format!("store.kind = \"s3\" needs store.{name}"))
            };
            let secret_key = match (&store.secret_key, &store.secret_key_file) {
                (Some(key), None) => key.clone(),
                (None, Some(path)) => read_key_file(path).map_err(|e| e.to_string())?,
                _ => {
                    return Err(
                        "store: give exactly one of secret_key and secret_key_file".to_string()
                    )
                }
            };
            Ok(mogr_server::StoreBackend::S3(mogr_store::s3::S3Config {
                endpoint: need(&store.endpoint, "endpoint")?,
                region: store.region.clone().unwrap_or_else(|| "garage".to_string()),
                bucket: need(&store.bucket, "bucket")?,
                access_key: need(&store.access_key, "access_key")?,
                secret_key,
                path_style: store.path_style.unwrap_or(true),
                buckets: engine_buckets(store)?,
                min_engine_part: store.engine_min_part_size.unwrap_or(5 * 1024 * 1024),
            }))
        }
        other => Err(format!("store.kind `{other}`: use local or s3")),
    }
}

/// Where mogr buckets live in the engine, from `bucket_mode` and `bucket_name_prefix`.
fn engine_buckets(store: &StoreFile) -> Result<mogr_store::s3::EngineBuckets, String> {
    use mogr_store::s3::EngineBuckets;
    match (store.bucket_mode.as_deref(), &store.bucket_name_prefix) {
        (None | Some("prefix"), None) => Ok(EngineBuckets::Prefixes),
        (None | Some("prefix"), Some(_)) => {
            Err("store.bucket_name_prefix needs store.bucket_mode = \"per-bucket\"".to_string())
        }
        (Some("per-bucket"), prefix) => Ok(EngineBuckets::PerBucket {
            name_prefix: prefix.clone().unwrap_or_default(),
        }),
        (Some(other), _) => Err(format!(
            "store.bucket_mode `{other}`: use prefix or per-bucket"
        )),
    }
}

/// A duration in a config file: whole seconds, or text with a unit.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DurationText {
    Seconds(u64),
    Text(String),
}

impl DurationText {
    /// The duration; `None` for 0 (off).
    fn resolve(&self) -> Result<Option<Duration>, String> {
        let secs = match self {
            DurationText::Seconds(secs) => *secs,
            DurationText::Text(text) => parse_duration_secs(text)?,
        };
        Ok(seconds(secs))
    }
}

/// Seconds in `"<n>"`, `"<n>s"`, `"<n>m"`, `"<n>h"` or `"<n>d"`.
fn parse_duration_secs(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: use a number with s, m, h or d")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("`{text}` is not a duration"))
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
    /// Admin listener address, or "off".
    admin_listen: Option<String>,
    /// `text` or `json`.
    log_format: Option<LogFormat>,
    /// Seconds requests in flight may take to finish on shutdown.
    shutdown_timeout_secs: Option<u64>,
    /// Seconds a client may take to send a request head; 0 for no limit.
    header_read_timeout_secs: Option<u64>,
    /// Seconds a connection may stay open with no request; 0 for no limit.
    idle_timeout_secs: Option<u64>,
    /// Most client connections open at once.
    max_connections: Option<usize>,
    #[serde(default)]
    credentials: Vec<CredentialFile>,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    codec: CodecFile,
    #[serde(default)]
    cache: CacheFile,
    #[serde(default)]
    store: StoreFile,
}

/// The server's cache settings from the file's `[cache]` table.
pub fn cache_settings(file: &FileConfig) -> mogr_server::CacheSettings {
    let defaults = mogr_server::CacheSettings::default();
    let c = &file.cache;
    mogr_server::CacheSettings {
        dir: c.dir.clone(),
        max_bytes: c.max_bytes.unwrap_or(defaults.max_bytes),
        cache_control: c.cache_control.clone(),
        bucket_cache_control: c.bucket_cache_control.clone(),
    }
}

/// The data folder: the flag, else the file's `data`, else `./data`.
pub fn data_dir(flag: Option<&Path>, file: &FileConfig) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or(file.data.clone())
        .unwrap_or_else(|| PathBuf::from("./data"))
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
    lim.max_memory = l.max_memory.unwrap_or(lim.max_memory);
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

/// The config file's name for messages.
fn config_path(args: &ServeArgs) -> String {
    args.config
        .as_deref()
        .map_or_else(String::new, |p| p.display().to_string())
}

/// Prints one start-up line. A closed stdout (a supervisor or test that stopped reading) must
/// not stop the server, as `println!` would by panicking.
pub(crate) fn announce(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(line);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// Where the admin listener goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AdminListen {
    /// Not started.
    Off,
    /// Asked for: failing to bind it is an error.
    Explicit(SocketAddr),
    /// The default: if the port is taken (another mogr), serve without it and say so.
    Default(SocketAddr),
}

/// `--admin-listen`, else the file's `admin_listen`, else the default.
fn admin_listen(flag: Option<&str>, file: Option<&str>) -> Result<AdminListen, CliError> {
    let Some(text) = flag.or(file) else {
        return Ok(AdminListen::Default(DEFAULT_ADMIN_LISTEN));
    };
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("off") || text.eq_ignore_ascii_case("none") {
        return Ok(AdminListen::Off);
    }
    text.parse().map(AdminListen::Explicit).map_err(|_| {
        CliError::Other(format!(
            "admin listen address `{text}`: expected ADDRESS:PORT (e.g. 127.0.0.1:9001) or off"
        ))
    })
}

/// Binds the admin listener as `admin` asks.
async fn bind_admin(admin: AdminListen) -> Result<Option<tokio::net::TcpListener>, CliError> {
    match admin {
        AdminListen::Off => Ok(None),
        AdminListen::Explicit(addr) => tokio::net::TcpListener::bind(addr)
            .await
            .map(Some)
            .map_err(|e| CliError::Other(format!("cannot listen on {addr} (admin): {e}"))),
        AdminListen::Default(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => Ok(Some(listener)),
            Err(e) => {
                tracing::warn!(
                    %addr,
                    error = %e,
                    "admin listener not started (set --admin-listen to another address)"
                );
                Ok(None)
            }
        },
    }
}

/// The connection limits from the file, over the defaults.
fn connection_limits(file: &FileConfig) -> mogr_server::ConnectionLimits {
    let defaults = mogr_server::ConnectionLimits::default();
    mogr_server::ConnectionLimits {
        header_read_timeout: file
            .header_read_timeout_secs
            .map_or(defaults.header_read_timeout, seconds),
        idle_timeout: file
            .idle_timeout_secs
            .map_or(defaults.idle_timeout, seconds),
        max_connections: file
            .max_connections
            .map_or(defaults.max_connections, |n| n.max(1)),
    }
}

/// `mogr serve`: resolve the configuration, bind, print where, serve until SIGTERM/SIGINT.
pub fn serve(args: ServeArgs) -> Result<(), CliError> {
    let file = load_file(args.config.as_deref())?;
    logging::init(
        args.log_format
            .or(file.log_format)
            .unwrap_or(LogFormat::Text),
    );
    let open_files = crate::open_files::raise_limit();
    tracing::debug!(?open_files, "open files limit");
    let admin = admin_listen(args.admin_listen.as_deref(), file.admin_listen.as_deref())?;
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
    let multipart_expiry = match &file.store.multipart_expiry {
        Some(text) => text.resolve().map_err(|detail| CliError::Config {
            path: config_path(&args),
            detail: format!("store.multipart_expiry: {detail}"),
        })?,
        None => defaults.multipart_expiry,
    };
    let backend = store_backend(&file.store).map_err(|detail| CliError::Config {
        path: config_path(&args),
        detail,
    })?;
    let mut cfg = mogr_server::ServerConfig {
        backend,
        listen: args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9000))),
        data_dir: data_dir(args.data.as_deref(), &file),
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
        image_memory_wait: file
            .limits
            .memory_wait_ms
            .map_or(defaults.image_memory_wait, Duration::from_millis),
        body_timeouts,
        cache: cache_settings(&file),
        multipart_expiry,
        connections: connection_limits(&file),
        shutdown_timeout: args
            .shutdown_timeout
            .or(file.shutdown_timeout_secs)
            .map_or(defaults.shutdown_timeout, Duration::from_secs),
        credentials: Vec::new(),
        image_idle_hook: Some(crate::alloc::release_free_memory),
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
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| CliError::Other(format!("cannot listen on {}: {e}", cfg.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| CliError::Other(e.to_string()))?;
        let admin = bind_admin(admin).await?;
        match &cfg.backend {
            mogr_server::StoreBackend::Local => announce(format_args!(
                "mogr listening on http://{addr} (data: {})",
                cfg.data_dir.display()
            )),
            mogr_server::StoreBackend::S3(s3) => announce(format_args!(
                "mogr listening on http://{addr} (objects: {} bucket {})",
                s3.endpoint, s3.bucket
            )),
        }
        if let Some(admin_addr) = admin.as_ref().and_then(|l| l.local_addr().ok()) {
            announce(format_args!(
                "mogr admin on http://{admin_addr} (playground at /, /metrics, /health, /ready)"
            ));
        }
        let store = mogr_server::server::open_store(&cfg)
            .await
            .map_err(|e| CliError::Other(format!("cannot open the store: {e}")))?;
        let state = mogr_server::AppState::new(cfg, store);
        mogr_server::serve_with_admin(state, listener, admin, logging::shutdown_signal())
            .await
            .map_err(|e| CliError::Other(format!("server stopped: {e}")))
    });
    // Requests still running were dropped by the drain; nothing left is worth waiting for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if served.is_ok() {
        tracing::info!("mogr stopped");
    }
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit_or_plain_seconds() {
        assert_eq!(parse_duration_secs("7d"), Ok(7 * 86_400));
        assert_eq!(parse_duration_secs(" 90 "), Ok(90));
        assert_eq!(parse_duration_secs("30m"), Ok(1800));
        assert_eq!(parse_duration_secs("12h"), Ok(43_200));
        assert!(parse_duration_secs("7w").is_err());
        assert!(parse_duration_secs("d").is_err());
        assert!(parse_duration_secs("99999999999999999999d").is_err());
        let off = DurationText::Seconds(0).resolve();
        assert_eq!(off, Ok(None));
    }

    #[test]
    fn the_store_table_chooses_the_backend() {
        let file: FileConfig = toml::from_str("").unwrap();
        assert!(matches!(
            store_backend(&file.store),
            Ok(mogr_server::StoreBackend::Local)
        ));
        let file: FileConfig = toml::from_str(
            "[store]\nkind = \"s3\"\nendpoint = \"http://127.0.0.1:3900\"\nbucket = \"mogr\"\n\
             access_key = \"GK1\"\nsecret_key = \"s\"\n",
        )
        .unwrap();
        match store_backend(&file.store) {
            Ok(mogr_server::StoreBackend::S3(cfg)) => {
                assert_eq!(cfg.endpoint, "http://127.0.0.1:3900");
                assert_eq!(cfg.region, "garage");
                assert_eq!((cfg.bucket.as_str(), cfg.path_style), ("mogr", true));
                assert_eq!(cfg.buckets, mogr_store::s3::EngineBuckets::Prefixes);
                assert_eq!(cfg.min_engine_part, 5 * 1024 * 1024);
            }
            other => panic!("expected the S3 backend, got {other:?}"),
        }
        let s3 = "[store]\nkind = \"s3\"\nendpoint = \"http://e\"\nbucket = \"m\"\n\
                  access_key = \"k\"\nsecret_key = \"s\"\n";
        let per_bucket: FileConfig = toml::from_str(&format!(
            "{s3}bucket_mode = \"per-bucket\"\nbucket_name_prefix = \"cos-\"\n"
        ))
        .unwrap();
        match store_backend(&per_bucket.store) {
            Ok(mogr_server::StoreBackend::S3(cfg)) => assert_eq!(
                cfg.buckets,
                mogr_store::s3::EngineBuckets::PerBucket {
                    name_prefix: "cos-".into()
                }
            ),
            other => panic!("expected per-bucket mode, got {other:?}"),
        }
        for bad in ["bucket_mode = \"each\"\n", "bucket_name_prefix = \"x-\"\n"] {
            let file: FileConfig = toml::from_str(&format!("{s3}{bad}")).unwrap();
            assert!(store_backend(&file.store).is_err(), "{bad}");
        }
        let missing: FileConfig = toml::from_str("[store]\nkind = \"s3\"\n").unwrap();
        assert!(store_backend(&missing.store).is_err());
        let bogus: FileConfig = toml::from_str("[store]\nkind = \"nfs\"\n").unwrap();
        assert!(store_backend(&bogus.store).is_err());
    }
}
