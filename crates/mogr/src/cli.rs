//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A COS-compatible object store with imageMogr2 image processing.
#[derive(Debug, Parser)]
#[command(name = "mogr", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the COS-compatible HTTP server.
    Serve(ServeArgs),
    /// Apply an imageMogr2 rule to one image (or, given folders, to every image in a folder).
    Process(ProcessArgs),
    /// Print the imageInfo JSON of an image.
    Info(InfoArgs),
    /// Apply a rule to every image under a folder, in parallel.
    Batch(BatchArgs),
    /// Manage a bucket's image styles on a running server (signed COS requests).
    Style(StyleArgs),
}

/// `mogr style`.
#[derive(Debug, Args)]
pub struct StyleArgs {
    /// Which change or query.
    #[command(subcommand)]
    pub action: StyleAction,
    /// Where the server listens.
    #[arg(
        long,
        env = "MOGR_ENDPOINT",
        default_value = "http://127.0.0.1:9000",
        global = true
    )]
    pub endpoint: String,
    /// The bucket (`name-appid`).
    #[arg(long, env = "MOGR_BUCKET", global = true)]
    pub bucket: Option<String>,
    /// SecretId to sign with (with --secret-key-file or --secret-key); without it, the pair
    /// the server generated in --data is used.
    #[arg(long, env = "MOGR_SECRET_ID", global = true)]
    pub secret_id: Option<String>,
    /// SecretKey to sign with. Visible in the process list: prefer --secret-key-file.
    #[arg(long, env = "MOGR_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<String>,
    /// File holding the SecretKey.
    #[arg(long, env = "MOGR_SECRET_KEY_FILE", global = true)]
    pub secret_key_file: Option<PathBuf>,
    /// The server's data folder, to read the credentials it generated [default: ./data].
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
}

/// `mogr style <action>`.
#[derive(Debug, Subcommand)]
pub enum StyleAction {
    /// Print the bucket's styles, one `name<TAB>rule` per line.
    List {
        /// Only this style.
        name: Option<String>,
    },
    /// Save (or replace) a style.
    Put {
        /// The style name (letters, digits, `-`, `_`, `.`).
        name: String,
        /// The rule it stands for, e.g. `imageMogr2/thumbnail/200x/format/webp`.
        rule: String,
    },
    /// Delete a style.
    Delete {
        /// The style name.
        name: String,
    },
    /// Show, or set, the characters that separate a key from a style on download
    /// (some of `!`, `-`, `_`; `""` turns the form off).
    Separators {
        /// The new separators; without it the current ones are printed.
        #[arg(allow_hyphen_values = true)]
        set: Option<String>,
    },
}

/// `mogr serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:9000].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Data folder [default: ./data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long, env = "MOGR_CONFIG")]
    pub config: Option<PathBuf>,
    /// SecretId clients sign with (with --secret-key-file or --secret-key).
    #[arg(long, env = "MOGR_SECRET_ID", requires = "key")]
    pub secret_id: Option<String>,
    /// SecretKey clients sign with (with --secret-id). Visible to every local user in the
    /// process list: prefer --secret-key-file or the environment.
    #[arg(
        long,
        env = "MOGR_SECRET_KEY",
        hide_env_values = true,
        requires = "secret_id",
        group = "key"
    )]
    pub secret_key: Option<String>,
    /// File holding the SecretKey (surrounding whitespace ignored), with --secret-id.
    #[arg(
        long,
        env = "MOGR_SECRET_KEY_FILE",
        requires = "secret_id",
        group = "key"
    )]
    pub secret_key_file: Option<PathBuf>,
}

/// Engine settings shared by the processing commands.
#[derive(Debug, Args, Clone)]
pub struct EngineArgs {
    /// TOML configuration file (its [limits] and [codec] tables apply).
    #[arg(long, env = "MOGR_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `mogr process`.
#[derive(Debug, Args)]
pub struct ProcessArgs {
    /// Input image file, `-` for stdin, or a folder for batch mode.
    pub input: PathBuf,
    /// The rule, e.g. `imageMogr2/format/webp/quality/80`.
    pub rule: String,
    /// Output file, `-` for stdout, or a folder for batch mode.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Parallel jobs in batch mode [default: number of cores].
    #[arg(short, long)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `mogr info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Input image file or `-` for stdin.
    pub input: PathBuf,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `mogr batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Folder of input images (searched recursively).
    pub input: PathBuf,
    /// The rule applied to each image.
    pub rule: String,
    /// Output folder; the input tree is mirrored, extensions follow the output format.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Parallel jobs [default: number of cores].
    #[arg(short, long)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub engine: EngineArgs,
}
