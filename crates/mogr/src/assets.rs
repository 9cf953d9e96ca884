//! Watermark images and fonts for `mogr process` and batch mode, read from local files.
//!
//! A `watermark/1/image/<b64 url>` stage reads the URL's path (percent-decoded, without the
//! host or query) under the `--assets` folder: the folder plays the bucket. Paths that climb
//! out of the folder are refused. Fonts are the server's (see the README's font table).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use mogr_image::watermark::{image_urls, needs_fonts};
use mogr_image::Assets;
use mogr_rule::Pipeline;

use crate::config::CliError;
use crate::process::read_input;

/// The assets `pipeline` needs; `dir` is the `--assets` folder.
pub fn for_pipeline(
    pipeline: &Pipeline,
    dir: Option<&Path>,
    limit: u64,
) -> Result<Assets, CliError> {
    let mut assets = Assets::new();
    for url in image_urls(pipeline) {
        let dir = dir.ok_or_else(|| {
            CliError::Other(format!(
                "the rule draws the watermark image {url}: give the folder it is in with --assets DIR"
            ))
        })?;
        let path = local_path(dir, url)?;
        let bytes = read_input(&path, limit)?;
        assets.insert_image(url, Arc::new(bytes));
    }
    if needs_fonts(pipeline) {
        assets.set_fonts(mogr_server::fonts::system_fonts());
    }
    Ok(assets)
}

/// `dir` joined with the decoded path of `url`, which must stay inside `dir`.
fn local_path(dir: &Path, url: &str) -> Result<PathBuf, CliError> {
    let refuse = |why: &str| CliError::Other(format!("watermark URL {url}: {why}"));
    let rest = url.split_once("://").map_or(url, |(_, rest)| {
        rest.split_once('/').map_or("", |(_, path)| path)
    });
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| refuse("the path is not valid UTF-8"))?;
    let relative = Path::new(path.as_ref());
    let inside = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if path.is_empty() || !inside {
        return Err(refuse(
            "the path must name a file inside the --assets folder",
        ));
    }
    Ok(dir.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_path_is_looked_up_under_the_folder() {
        let dir = Path::new("/srv/assets");
        let at = |url: &str| local_path(dir, url).map_err(|e| e.to_string());
        assert_eq!(
            at("http://b-1.cos.ap-guangzhou.myqcloud.com/logo/a%20b.png?sign=x").unwrap(),
            dir.join("logo/a b.png")
        );
        assert_eq!(at("logo.png").unwrap(), dir.join("logo.png"));
        for bad in [
            "http://h/../etc/passwd",
            "http://h/a/%2E%2E/%2E%2E/x",
            "http://h/",
            "http://h//etc/passwd",
        ] {
            assert!(at(bad).is_err(), "{bad}");
        }
    }
}
