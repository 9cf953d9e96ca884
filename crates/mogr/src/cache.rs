//! `mogr cache stats` and `mogr cache purge`: work on the cache folder directly, so they need
//! no running server and are safe beside one (a purged entry is a miss for the server, which
//! computes it again on the next request).

use mogr_server::variant_cache::{cache_dir, purge};

use crate::cli::{CacheArgs, CacheCommand};
use crate::config::{cache_settings, data_dir, load_file, CliError};

/// Runs one `mogr cache` subcommand.
pub fn run(cmd: CacheCommand) -> Result<(), CliError> {
    match cmd {
        CacheCommand::Stats(args) => stats(&args),
        CacheCommand::Purge(args) => {
            let (bucket, prefix) = match args.target.as_deref() {
                None | Some("") => (None, ""),
                Some(t) => match t.split_once('/') {
                    Some((b, p)) => (Some(b), p),
                    None => (Some(t), ""),
                },
            };
            purge_cmd(&args.at, bucket, prefix)
        }
    }
}

fn locate(args: &CacheArgs) -> Result<(std::path::PathBuf, u64), CliError> {
    let file = load_file(args.config.as_deref())?;
    let settings = cache_settings(&file);
    let data = data_dir(args.data.as_deref(), &file);
    Ok((
        cache_dir(&data, settings.dir.as_deref()),
        settings.max_bytes,
    ))
}

fn stats(args: &CacheArgs) -> Result<(), CliError> {
    let (dir, max_bytes) = locate(args)?;
    let usage = purge::usage(&dir);
    let (entries, bytes) = usage
        .values()
        .fold((0, 0), |(e, b), u| (e + u.entries, b + u.bytes));
    if args.json {
        let doc = serde_json::json!({
            "dir": dir.display().to_string(),
            "max_bytes": max_bytes,
            "entries": entries,
            "bytes": bytes,
            "buckets": usage,
        });
        println!("{doc}");
        return Ok(());
    }
    println!("cache {} (max_bytes {max_bytes})", dir.display());
    println!("{:<40} {:>10} {:>14}", "bucket", "entries", "bytes");
    for (bucket, u) in &usage {
        println!("{bucket:<40} {:>10} {:>14}", u.entries, u.bytes);
    }
    println!("{:<40} {entries:>10} {bytes:>14}", "total");
    Ok(())
}

fn purge_cmd(args: &CacheArgs, bucket: Option<&str>, prefix: &str) -> Result<(), CliError> {
    let (dir, _) = locate(args)?;
    if !dir.exists() {
        println!("purged 0 entries (0 bytes): no cache at {}", dir.display());
        return Ok(());
    }
    let purged = purge::purge_dir(&dir, bucket, prefix).map_err(|e| CliError::io(&dir, e))?;
    println!(
        "purged {} entries ({} bytes)",
        purged.entries(),
        purged.bytes()
    );
    Ok(())
}
