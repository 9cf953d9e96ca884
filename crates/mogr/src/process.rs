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
///
/// A path that already names something other than a regular file (`/dev/null`, a FIFO, a
/// symbolic link) is written through in place: renaming over it would replace the device or
/// the link with a plain file.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|_| out.flush())
            .map_err(|e| CliError::io(path, e));
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
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

#[cfg(test)]
mod tests {
    use super::write_output;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn a_regular_file_is_replaced_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.webp");
        std::fs::write(&out, b"an older and longer content").unwrap();
        write_output(&out, b"new").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "the temporary file is gone");
    }

    #[test]
    fn a_symbolic_link_stays_a_link_and_its_target_gets_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.png");
        let link = dir.path().join("link.png");
        std::fs::write(&target, b"old content").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_output(&link, b"png").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"png");
    }

    /// `-o /dev/null` once replaced the device with a plain file; a FIFO stands in for it.
    #[test]
    fn a_fifo_is_written_through_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_output(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
}
