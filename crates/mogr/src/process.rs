//! `mogr process` and `mogr info` on one image.

use std::io::{Read, Write};
use std::path::Path;

use mogr_image::Budget;

use crate::assets;
use crate::batch;
use crate::cli::{BatchArgs, InfoArgs, ProcessArgs};
use crate::config::{self, CliError};

/// `mogr process IN RULE -o OUT`; folders switch to batch mode.
pub fn run(args: ProcessArgs) -> Result<(), CliError> {
    if args.input.is_dir() {
        return batch::run(BatchArgs {
            input: args.input,
            rule: args.rule,
            output: args.output,
            jobs: args.jobs,
            engine: args.engine,
        });
    }
    let engine = config::engine(&args.engine)?;
    let input = read_input(&args.input, engine.config.limits.max_input_bytes)?;
    let pipeline = parse_rule(&args.rule)?;
    let limit = engine.config.limits.max_input_bytes;
    let assets = assets::for_pipeline(&pipeline, args.engine.assets.as_deref(), limit)?;
    let out = engine.process_with(&input, &pipeline, &Budget::unlimited(), &assets)?;
    write_output(&args.output, &out.bytes)
}

/// `mogr info IN`: the imageInfo JSON.
pub fn info(args: InfoArgs) -> Result<(), CliError> {
    let engine = config::engine(&args.engine)?;
    let input = read_input(&args.input, engine.config.limits.max_input_bytes)?;
    let info = mogr_image::info::image_info(&input, &engine.config.limits)?;
    println!("{}", info.to_json());
    Ok(())
}

/// Parse a rule as given on the command line (a leading `?` from a pasted URL is dropped).
pub fn parse_rule(rule: &str) -> Result<mogr_rule::Pipeline, CliError> {
    let rule = rule.strip_prefix('?').unwrap_or(rule);
    Ok(mogr_rule::parse(rule).map_err(mogr_image::ImageError::from)?)
}

/// Read a file or stdin (`-`), refusing more than `limit` bytes without reading them all.
pub fn read_input(path: &Path, limit: u64) -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit + 1).read_to_end(&mut buf))
    };
    read.map_err(|e| CliError::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(mogr_image::ImageError::TooLarge(format!(
            "input is over the {limit} byte limit"
        ))
        .into());
    }
    Ok(buf)
}

/// Write to a file (via a temporary name, so a failed run leaves no partial file) or stdout.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|_| out.flush())
            .map_err(|e| CliError::io(path, e));
    }
    let name = path
        .file_name()
        .ok_or_else(|| CliError::Other(format!("{}: not a file name", path.display())))?;
    let tmp = path.with_file_name(format!(".{}.mogr-tmp", name.to_string_lossy()));
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            CliError::io(path, e)
        })
}
