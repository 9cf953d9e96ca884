//! The image engine behind its worker pool: what handlers use to run image work.

use std::sync::Arc;

use mogr_image::{Engine, Limits};

use super::errors::pool_error;
use super::pool::{Admission, WorkerPool};
use crate::config::ServerConfig;
use crate::error_map::ApiResult;

/// The engine and the bounded pool its work runs on; shared by every request.
#[derive(Debug)]
pub struct ImageProcessor {
    engine: Arc<Engine>,
    pool: WorkerPool,
}

/// A place in the pool, taken before the (possibly large) source is read.
#[derive(Debug)]
pub struct Slot(Admission);

impl ImageProcessor {
    /// Builds the engine and starts the pool from the server settings.
    pub fn new(config: &ServerConfig) -> ImageProcessor {
        let pool = WorkerPool::new(config.image_workers, config.image_queue);
        tracing::debug!(
            workers = pool.workers(),
            queue = pool.queue(),
            "image worker pool started"
        );
        ImageProcessor {
            engine: Arc::new(Engine::new(config.engine.clone())),
            pool,
        }
    }

    /// The engine's limits (the processing size cap is `max_input_bytes`).
    pub fn limits(&self) -> &Limits {
        &self.engine.config.limits
    }

    /// Reserves a place for one job; 503 `SlowDown` at once when the pool is full.
    pub fn admit(&self) -> ApiResult<Slot> {
        self.pool.admit().map(Slot).map_err(|e| pool_error(&e))
    }

    /// Runs `work` with the engine on a worker thread.
    pub async fn run<T, F>(&self, slot: Slot, work: F) -> ApiResult<T>
    where
        F: FnOnce(&Engine) -> T + Send + 'static,
        T: Send + 'static,
    {
        let engine = Arc::clone(&self.engine);
        slot.0
            .run(move || work(&engine))
            .await
            .map_err(|e| pool_error(&e))
    }
}
