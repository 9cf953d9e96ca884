//! `mogr style`: manage a bucket's image styles on a running server.
//!
//! It talks to the server as any COS client would (signed `?style` requests, path-style
//! addressing) rather than writing the data folder: the server checks every style (loops,
//! unknown names, limits), serialises the writes, and serves the change at once, none of which
//! holds for a file edited under a running server.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mogr_cos::xml::{
    parse_style_list, parse_style_separators, style_name_xml, style_separators_xml, AddStyle,
};

use crate::cli::{StyleAction, StyleArgs};
use crate::config::{read_key_file, CliError};
use crate::credentials;

/// How long a signature stays valid: long enough for a slow server, short for a leaked one.
const SIGNATURE_LIFETIME: u64 = 600;

/// Runs one `mogr style` action.
pub fn run(args: StyleArgs) -> Result<(), CliError> {
    let client = StyleClient::new(&args)?;
    match &args.action {
        StyleAction::List { name } => {
            let body = name.as_deref().map(|n| style_name_xml("GetStyle", n));
            let xml = client.send("GET", "style", body)?;
            let list = parse_style_list(xml.as_bytes()).map_err(|e| other(&e.to_string()))?;
            for (name, rule) in list.styles {
                println!("{name}\t{rule}");
            }
        }
        StyleAction::Put { name, rule } => {
            let add = AddStyle {
                name: name.clone(),
                body: rule.clone(),
            };
            client.send("PUT", "style", Some(add.to_xml()))?;
        }
        StyleAction::Delete { name } => {
            client.send("DELETE", "style", Some(style_name_xml("DeleteStyle", name)))?;
        }
        StyleAction::Separators { set: Some(set) } => {
            client.send(
                "PUT",
                "mogr-style-separators",
                Some(style_separators_xml(set)),
            )?;
        }
        StyleAction::Separators { set: None } => {
            let xml = client.send("GET", "mogr-style-separators", None)?;
            let current =
                parse_style_separators(xml.as_bytes()).map_err(|e| other(&e.to_string()))?;
            println!("{current}");
        }
    }
    Ok(())
}

fn other(message: &str) -> CliError {
    CliError::Other(message.to_string())
}

/// A signing client for one bucket's bucket-level sub-resources.
struct StyleClient {
    http: reqwest::blocking::Client,
    endpoint: String,
    bucket: String,
    secret_id: String,
    secret_key: String,
}

impl StyleClient {
    fn new(args: &StyleArgs) -> Result<StyleClient, CliError> {
        let bucket = args
            .bucket
            .clone()
            .ok_or_else(|| other("--bucket (or MOGR_BUCKET) is required"))?;
        let (secret_id, secret_key) = credentials_of(args)?;
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| other(&e.to_string()))?;
        Ok(StyleClient {
            http,
            endpoint: args.endpoint.trim_end_matches('/').to_string(),
            bucket,
            secret_id,
            secret_key,
        })
    }

    /// Sends `method /<bucket>/?<param>` with `body`; the response text, or the server's
    /// error as a `CliError`.
    fn send(&self, method: &str, param: &str, body: Option<String>) -> Result<String, CliError> {
        let url = format!("{}/{}/?{param}", self.endpoint, self.bucket);
        let parsed = reqwest::Url::parse(&url).map_err(|e| other(&format!("{url}: {e}")))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err(other(&format!("{url}: no host"))),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let authorization = mogr_cos::auth::sign(
            method,
            &format!("/{}/", self.bucket),
            &[(param.to_string(), String::new())],
            &[("host".to_string(), host)],
            &self.secret_id,
            &self.secret_key,
            now.saturating_sub(60),
            now + SIGNATURE_LIFETIME,
        );
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| other(&e.to_string()))?;
        let mut request = self
            .http
            .request(method, parsed)
            .header("Authorization", authorization);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/xml").body(body);
        }
        let response = request.send().map_err(|e| other(&format!("{url}: {e}")))?;
        let status = response.status();
        let text = response.text().map_err(|e| other(&format!("{url}: {e}")))?;
        if status.is_success() {
            Ok(text)
        } else {
            let code = element(&text, "Code").unwrap_or_else(|| "error".to_string());
            let message = element(&text, "Message").unwrap_or_else(|| text.trim().to_string());
            Err(other(&format!("{status}: {code} {message}")))
        }
    }
}

/// The text of the first `<tag>` in a small error body, the five XML entities decoded.
fn element(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let len = xml[start..].find(&format!("</{tag}>"))?;
    let text = &xml[start..start + len];
    Some(
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// The key pair from the flags or the environment, else the one the server generated.
fn credentials_of(args: &StyleArgs) -> Result<(String, String), CliError> {
    match (&args.secret_id, &args.secret_key, &args.secret_key_file) {
        (Some(id), Some(key), _) => return Ok((id.clone(), key.clone())),
        (Some(id), None, Some(file)) => return Ok((id.clone(), read_key_file(file)?)),
        (Some(_), None, None) => {
            return Err(other("--secret-id needs --secret-key-file or --secret-key"))
        }
        _ => {}
    }
    let data = args.data.clone().unwrap_or_else(|| PathBuf::from("./data"));
    credentials::load(Path::new(&data))?.ok_or_else(|| {
        other(&format!(
            "no credentials: pass --secret-id with --secret-key-file, or --data naming the \
             folder where the server generated them (not found in {})",
            data.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::element;

    #[test]
    fn error_fields_are_read_and_unescaped() {
        let body =
            "<Error><Code>InvalidArgument</Code><Message>loop: a -&gt; b &amp; c</Message></Error>";
        assert_eq!(element(body, "Code").as_deref(), Some("InvalidArgument"));
        assert_eq!(
            element(body, "Message").as_deref(),
            Some("loop: a -> b & c")
        );
        assert_eq!(element(body, "Resource"), None);
    }
}
