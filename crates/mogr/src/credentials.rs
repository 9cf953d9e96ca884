//! A generated key pair for servers started without credentials.

use std::path::Path;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::config::CliError;

/// Where the generated pair lives under the data folder. A dot-name, so it can never be
/// mistaken for a bucket (bucket names start with a letter or digit).
const FILE: &str = ".mogr-credentials.json";

#[derive(Serialize, Deserialize)]
struct Stored {
    secret_id: String,
    secret_key: String,
}

/// Load the pair stored under `data`, or generate one, store it (mode 0600) and print it.
pub fn load_or_generate(data: &Path) -> Result<(String, String), CliError> {
    let path = data.join(FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let s: Stored = serde_json::from_str(&text)
            .map_err(|e| CliError::Other(format!("{}: {e}", path.display())))?;
        crate::config::announce(format_args!(
            "mogr credentials (from {}): SecretId={}",
            path.display(),
            s.secret_id
        ));
        return Ok((s.secret_id, s.secret_key));
    }
    let stored = Stored {
        secret_id: format!("AKID{}", random_token(32)),
        secret_key: random_token(32),
    };
    let text = serde_json::to_string_pretty(&stored).map_err(|e| CliError::Other(e.to_string()))?;
    write_private(&path, text.as_bytes())?;
    crate::config::announce(format_args!(
        "mogr generated credentials (stored in {}):\n  SecretId  = {}\n  SecretKey = {}",
        path.display(),
        stored.secret_id,
        stored.secret_key
    ));
    Ok((stored.secret_id, stored.secret_key))
}

/// The pair a server generated under `data`, if there is one (never generates).
pub fn load(data: &Path) -> Result<Option<(String, String)>, CliError> {
    let path = data.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CliError::io(&path, e)),
    };
    let s: Stored = serde_json::from_str(&text)
        .map_err(|e| CliError::Other(format!("{}: {e}", path.display())))?;
    Ok(Some((s.secret_id, s.secret_key)))
}

/// `n` random alphanumeric characters.
fn random_token(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).map_err(|e| CliError::io(path, e))?;
    f.write_all(bytes).map_err(|e| CliError::io(path, e))
}
