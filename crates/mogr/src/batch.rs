//! Batch mode: one rule over every image in a folder, in parallel, with progress and a summary.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use mogr_image::Budget;

use crate::assets;
use crate::cli::BatchArgs;
use crate::config::{self, CliError};
use crate::process::{parse_rule, read_input, write_output};

/// Run the batch; fails (exit 1) if any file failed, after processing all of them.
pub fn run(args: BatchArgs) -> Result<(), CliError> {
    let engine = config::engine(&args.engine)?;
    let pipeline = parse_rule(&args.rule)?;
    let limit = engine.config.limits.max_input_bytes;
    let assets = assets::for_pipeline(&pipeline, args.engine.assets.as_deref(), limit)?;
    let mut files = Vec::new();
    collect_files(&args.input, &mut files)?;
    files.sort();
    std::fs::create_dir_all(&args.output).map_err(|e| CliError::io(&args.output, e))?;

    let bar = ProgressBar::new(files.len() as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {pos}/{len} files, {elapsed} elapsed, eta {eta} {msg}",
    ) {
        bar.set_style(style);
    }
    let bytes_in = AtomicU64::new(0);
    let bytes_out = AtomicU64::new(0);
    let failures = Mutex::new(Vec::new());
    let started = Instant::now();
    let jobs = args.jobs.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| CliError::Other(e.to_string()))?;
    pool.install(|| {
        files.par_iter().for_each(|file| {
            let result = (|| -> Result<(u64, u64), CliError> {
                let input = read_input(file, engine.config.limits.max_input_bytes)?;
                let out = engine.process_with(&input, &pipeline, &Budget::unlimited(), &assets)?;
                let target = output_path(&args.input, &args.output, file, out.format);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| CliError::io(parent, e))?;
                }
                write_output(&target, &out.bytes)?;
                Ok((input.len() as u64, out.bytes.len() as u64))
            })();
            match result {
                Ok((i, o)) => {
                    bytes_in.fetch_add(i, Ordering::Relaxed);
                    bytes_out.fetch_add(o, Ordering::Relaxed);
                }
                Err(e) => {
                    if let Ok(mut f) = failures.lock() {
                        f.push(format!("{}: {e}", file.display()));
                    }
                }
            }
            bar.inc(1);
        })
    });
    bar.finish_and_clear();

    let failures = failures.into_inner().unwrap_or_default();
    let (i, o) = (bytes_in.into_inner(), bytes_out.into_inner());
    for f in &failures {
        eprintln!("failed: {f}");
    }
    println!(
        "{} files, {} ok, {} failed; {} bytes in, {} bytes out ({:.1} %), {:.2} s",
        files.len(),
        files.len() - failures.len(),
        failures.len(),
        i,
        o,
        if i > 0 {
            o as f64 * 100.0 / i as f64
        } else {
            0.0
        },
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::Other(format!(
            "{} of {} files failed",
            failures.len(),
            files.len()
        )))
    }
}

/// Every regular file under `dir`, recursively (hidden files skipped).
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CliError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| CliError::io(dir, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|e| CliError::io(&path, e))?;
        if kind.is_dir() {
            collect_files(&path, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// The input's place in the output tree, with the extension of the output format.
fn output_path(in_root: &Path, out_root: &Path, file: &Path, format: &str) -> PathBuf {
    let rel = file.strip_prefix(in_root).unwrap_or(file);
    let ext = match format {
        "yjpeg" | "jpeg" => "jpg",
        other => other,
    };
    out_root.join(rel).with_extension(ext)
}
