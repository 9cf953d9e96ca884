//! Shared state handed to every request.

use std::collections::HashMap;
use std::sync::Arc;

use mogr_store::Store;

use crate::config::ServerConfig;

/// What every handler can reach: the store, the settings and the credential table.
#[derive(Clone)]
pub struct AppState {
    /// The storage backend.
    pub store: Arc<dyn Store>,
    /// The settings the server was started with.
    pub config: Arc<ServerConfig>,
    /// SecretId -> SecretKey.
    pub credentials: Arc<HashMap<String, String>>,
    /// The image engine and its bounded worker pool.
    pub images: Arc<crate::processing::ImageProcessor>,
    /// Held while a bucket's styles are read, checked and written back.
    pub style_writes: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    /// Builds the state from settings and an opened store.
    pub fn new(config: ServerConfig, store: Arc<dyn Store>) -> Self {
        let credentials = config.credentials.iter().cloned().collect();
        let images = Arc::new(crate::processing::ImageProcessor::new(&config));
        AppState {
            images,
            style_writes: Arc::new(tokio::sync::Mutex::new(())),
            store,
            config: Arc::new(config),
            credentials: Arc::new(credentials),
        }
    }

    /// The secret key of an access key id, if it is known.
    pub fn secret_for(&self, access_key: &str) -> Option<&str> {
        self.credentials.get(access_key).map(String::as_str)
    }
}
