//! The image engine behind its worker pool: what handlers use to run image work.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use mogr_image::{Budget, Engine, Limits, SourceShape};
use mogr_store::{ByteStream, StoreError};

use super::errors::{memory_busy, pool_error, source_error};
use super::memory_budget::{MemoryBudget, Reservation};
use super::pool::{Admission, Cost, WorkerPool};
use crate::config::ServerConfig;
use crate::error_map::ApiResult;

/// Bytes read from a source before admission, enough for the headers `probe` needs
/// (JPEG's frame header can follow tens of KB of EXIF and ICC data).
const PROBE_BYTES: usize = 64 * 1024;

/// The engine and the bounded pool its work runs on; shared by every request.
#[derive(Debug)]
pub struct ImageProcessor {
    engine: Arc<Engine>,
    pool: WorkerPool,
    memory: MemoryBudget,
    time_limit: Option<Duration>,
    stopped: Arc<AtomicU64>,
}

/// A place in the pool, taken before the (possibly large) source is read, and the job's
/// share of the memory budget, taken once the whole source is at hand.
#[derive(Debug)]
pub struct Slot(Admission, Option<Reservation>);

/// Sets the job's cancellation flag when dropped: when the client goes, hyper drops the
/// request's future and with it this guard, and the worker stops at its next check.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl ImageProcessor {
    /// Builds the engine and starts the pool from the server settings.
    pub fn new(config: &ServerConfig) -> ImageProcessor {
        let pool = WorkerPool::with_idle_hook(
            config.image_workers,
            config.image_queue,
            config.image_idle_hook,
        );
        tracing::debug!(
            workers = pool.workers(),
            queue = pool.queue(),
            "image worker pool started"
        );
        let memory = MemoryBudget::new(config.engine.limits.max_memory, config.image_memory_wait);
        tracing::debug!(bytes = memory.total_bytes(), "image memory budget");
        ImageProcessor {
            engine: Arc::new(Engine::new(config.engine.clone())),
            pool,
            memory,
            time_limit: config.processing_time_limit,
            stopped: Arc::default(),
        }
    }

    /// The engine's limits (the processing size cap is `max_input_bytes`).
    pub fn limits(&self) -> &Limits {
        &self.engine.config.limits
    }

    /// The engine (for cost predictions).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Jobs that stopped early, or never started, because their client went away.
    pub fn cancelled_jobs(&self) -> u64 {
        self.stopped.load(Ordering::Relaxed) + self.pool.skipped()
    }

    /// Heavy-lane permits free at the moment (0: heavy requests get 503).
    pub fn free_heavy_permits(&self) -> usize {
        self.pool.free_heavy_permits()
    }

    /// Reserves a place for one job of `cost`; 503 `SlowDown` at once when the pool is full.
    pub fn admit(&self, cost: Cost) -> ApiResult<Slot> {
        self.pool
            .admit(cost)
            .map(|a| Slot(a, None))
            .map_err(|e| pool_error(&e))
    }

    /// Bytes of the memory budget not reserved at the moment.
    pub fn free_memory(&self) -> u64 {
        self.memory.free_bytes()
    }

    /// Reads a source of `size` bytes (at most `limit`) from `stream`, taking its place in
    /// the pool first: only the first bytes are read before admission, enough to probe the
    /// headers for `cost` to predict the work, so a refused request costs no buffering. Once
    /// the whole source is read, its headers (a GIF's frame count needs all of it) give `peak`
    /// the job's predicted memory, which is reserved from the budget (503 `SlowDown` when
    /// there is no room within the configured wait).
    pub async fn admit_source(
        &self,
        mut stream: ByteStream,
        size: u64,
        limit: u64,
        cost: impl FnOnce(SourceShape) -> Cost,
        peak: impl FnOnce(SourceShape) -> u64,
    ) -> ApiResult<(Slot, Bytes)> {
        let mut buf = BytesMut::new();
        while buf.len() < PROBE_BYTES {
            match stream.next().await {
                Some(chunk) => append(&mut buf, chunk, limit)?,
                None => break,
            }
        }
        let shape = SourceShape {
            probe: mogr_image::probe(&buf).ok(),
            bytes: size.max(buf.len() as u64),
        };
        let Slot(admission, _) = self.admit(cost(shape))?;
        while let Some(chunk) = stream.next().await {
            append(&mut buf, chunk, limit)?;
        }
        let whole = SourceShape {
            probe: mogr_image::probe(&buf).ok(),
            bytes: buf.len() as u64,
        };
        let reservation = self
            .memory
            .reserve(peak(whole), whole.bytes)
            .await
            .map_err(|_| memory_busy())?;
        Ok((Slot(admission, Some(reservation)), buf.freeze()))
    }

    /// Runs `work` with the engine on a worker thread, under the processing time limit and
    /// cancelled if the request is dropped while it waits.
    pub async fn run<T, F>(&self, slot: Slot, work: F) -> ApiResult<T>
    where
        F: FnOnce(&Engine, &Budget) -> T + Send + 'static,
        T: Send + 'static,
    {
        let engine = Arc::clone(&self.engine);
        let flag = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(Arc::clone(&flag));
        let (limit, stopped) = (self.time_limit, Arc::clone(&self.stopped));
        let Slot(admission, reservation) = slot;
        admission
            .run(move || {
                // The memory stays reserved until the work is done (or dropped unstarted).
                let _reserved = reservation;
                // The clock starts when a worker takes the job: waiting in the queue is
                // bounded by admission, not charged to the job.
                let budget = Budget::new(limit, Some(flag));
                let out = work(&engine, &budget);
                if budget.was_stopped_by_cancel() {
                    stopped.fetch_add(1, Ordering::Relaxed);
                }
                out
            })
            .await
            .map_err(|e| pool_error(&e))
    }
}

/// Appends a read `chunk`, refusing to grow past `limit`; a failed read (a store error, or a
/// request body that timed out or broke off) is reported as such.
fn append(buf: &mut BytesMut, chunk: std::io::Result<Bytes>, limit: u64) -> ApiResult<()> {
    let chunk = chunk.map_err(|e| source_error(StoreError::Io(e), limit))?;
    if buf.len() as u64 + chunk.len() as u64 > limit {
        return Err(source_error(StoreError::EntityTooLarge(limit), limit));
    }
    buf.extend_from_slice(&chunk);
    Ok(())
}
