//! A fixed set of OS threads for CPU-heavy work, with cost-aware admission control.
//!
//! Image work never runs on the async runtime's threads: a decode or an AVIF encode can take
//! seconds and would stall every connection sharing that thread. Capacity is reserved
//! *before* any work is handed over, so a full pool is known at once and the caller can answer
//! 503 instead of piling work up.
//!
//! Jobs come in two lanes, decided by their predicted cost:
//! - **cheap** jobs (header reads such as `imageInfo`, small conversions) are served by every
//!   worker and also by one reserved worker that runs nothing else, so they never wait behind
//!   a long encode, however many of those are running;
//! - **heavy** jobs take weighted permits out of `workers + queue`, one per [`UNIT`] of
//!   predicted work (at most half the permits), so a few huge jobs fill the pool as much as
//!   many small ones would and the wait behind admitted work stays bounded.
//!
//! General workers take the oldest job of either lane, so neither lane can starve the other.
//!
//! A worker that finds no more work after a job calls the pool's idle hook (if one was given)
//! before it sleeps: the binary passes its allocator's "return freed memory now", because a
//! big job's buffers were freed on this thread and an idle thread would otherwise keep them.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use crate::telemetry::metrics::{IMAGE_POOL_BUSY, IMAGE_POOL_QUEUED};

/// A unit of work for a worker thread.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// Called on a worker thread when it has run work and finds no more waiting.
pub type IdleHook = fn();

/// Predicted work of one permit: a typical 2-4 MP conversion.
pub const UNIT: Duration = Duration::from_millis(250);

/// Why pooled work did not produce a result.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PoolError {
    /// Every worker is busy and the queue is full.
    #[error("all image workers are busy and the queue is full")]
    Busy,
    /// The work panicked; the message is the panic payload when it was text.
    #[error("image work failed unexpectedly: {0}")]
    Panicked(String),
    /// No worker thread is running (none could be started).
    #[error("no image worker is running")]
    Stopped,
}

/// Which queue a job waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Predicted to take at most one [`UNIT`].
    Cheap,
    /// Everything else.
    Heavy,
}

/// What admitting a job reserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// The lane.
    pub lane: Lane,
    /// Permits of the heavy lane (1 for cheap jobs).
    pub weight: u32,
}

impl Cost {
    /// A job predicted to take `predicted` of one core.
    pub fn from_predicted(predicted: Duration) -> Cost {
        if predicted <= UNIT {
            return Cost {
                lane: Lane::Cheap,
                weight: 1,
            };
        }
        let units = predicted.as_secs_f64() / UNIT.as_secs_f64();
        Cost {
            lane: Lane::Heavy,
            weight: units.ceil().min(f64::from(u32::MAX)) as u32,
        }
    }
}

/// Worker threads, the two lanes and the permits that bound running and waiting jobs.
#[derive(Debug)]
pub struct WorkerPool {
    shared: Arc<Shared>,
    heavy: Arc<Semaphore>,
    cheap: Arc<Semaphore>,
    max_weight: u32,
    workers: usize,
    queue: usize,
    skipped: Arc<AtomicU64>,
}

/// The queues the workers take from.
#[derive(Debug, Default)]
struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
    on_idle: Option<IdleHook>,
}

#[derive(Default)]
struct Queues {
    cheap: VecDeque<(u64, Job)>,
    heavy: VecDeque<(u64, Job)>,
    /// Arrival order across both lanes.
    next: u64,
    closed: bool,
}

impl std::fmt::Debug for Queues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queues")
            .field("cheap", &self.cheap.len())
            .field("heavy", &self.heavy.len())
            .field("closed", &self.closed)
            .finish()
    }
}

/// What a worker thread takes.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// The oldest job of either lane.
    General,
    /// Cheap jobs only: the reserved worker.
    CheapOnly,
}

impl Queues {
    fn take(&mut self, role: Role) -> Option<Job> {
        let lane = match (role, self.cheap.front(), self.heavy.front()) {
            (Role::CheapOnly, _, _) => &mut self.cheap,
            (Role::General, Some((c, _)), Some((h, _))) if h < c => &mut self.heavy,
            (Role::General, Some(_), _) => &mut self.cheap,
            (Role::General, None, _) => &mut self.heavy,
        };
        lane.pop_front().map(|(_, job)| job)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        // Jobs run outside the lock and catch their panics, so poisoning cannot leave the
        // queues half-updated.
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A reserved place in the pool: obtained without waiting, spent by [`Admission::run`].
#[derive(Debug)]
pub struct Admission {
    permit: OwnedSemaphorePermit,
    lane: Lane,
    shared: Arc<Shared>,
    skipped: Arc<AtomicU64>,
}

impl WorkerPool {
    /// Starts `workers` general threads (at least one) plus the reserved cheap-lane thread,
    /// and allows `queue` more permits of heavy work to wait.
    pub fn new(workers: usize, queue: usize) -> WorkerPool {
        WorkerPool::with_idle_hook(workers, queue, None)
    }

    /// Like [`WorkerPool::new`]; each worker calls `on_idle` when it runs out of work.
    pub fn with_idle_hook(workers: usize, queue: usize, on_idle: Option<IdleHook>) -> WorkerPool {
        let shared = Arc::new(Shared {
            on_idle,
            ..Shared::default()
        });
        let spawn = |name: String, role: Role| {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(name)
                .spawn(move || work(&shared, role))
                .map_err(|e| tracing::error!(error = %e, "could not start an image worker"))
                .is_ok()
        };
        let started = (0..workers.max(1))
            .filter(|index| spawn(format!("mogr-image-{index}"), Role::General))
            .count();
        let cheap_worker = spawn("mogr-image-cheap".to_string(), Role::CheapOnly);
        // Without a thread to run them, no job is admitted: callers see 503 at once instead of
        // waiting for ever.
        let heavy_permits = if started == 0 { 0 } else { started + queue };
        let cheap_permits = if started == 0 && !cheap_worker {
            0
        } else {
            started + queue + 1
        };
        WorkerPool {
            shared,
            heavy: Arc::new(Semaphore::new(heavy_permits)),
            cheap: Arc::new(Semaphore::new(cheap_permits)),
            max_weight: u32::try_from((started + queue) / 2)
                .unwrap_or(u32::MAX)
                .max(1),
            workers: started,
            queue,
            skipped: Arc::default(),
        }
    }

    /// General worker threads running.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Heavy-lane permits allowed to wait beyond the running ones.
    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Heavy-lane permits not taken at the moment.
    pub fn free_heavy_permits(&self) -> usize {
        self.heavy.available_permits()
    }

    /// Jobs dropped before they started because their caller had gone.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Reserves a place for a job of `cost`, or [`PoolError::Busy`] at once when there is none.
    pub fn admit(&self, cost: Cost) -> Result<Admission, PoolError> {
        let permit = match cost.lane {
            Lane::Cheap => Arc::clone(&self.cheap).try_acquire_owned(),
            Lane::Heavy => Arc::clone(&self.heavy)
                .try_acquire_many_owned(cost.weight.clamp(1, self.max_weight)),
        }
        .map_err(|_| PoolError::Busy)?;
        Ok(Admission {
            permit,
            lane: cost.lane,
            shared: Arc::clone(&self.shared),
            skipped: Arc::clone(&self.skipped),
        })
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        // Workers finish what is queued, then exit.
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

impl Admission {
    /// Runs `work` on a worker thread and waits (asynchronously) for its result. The place
    /// stays taken until `work` returns, even if the caller stops waiting; work whose caller
    /// has already gone when a worker picks it up is skipped.
    pub async fn run<T, F>(self, work: F) -> Result<T, PoolError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let Admission {
            permit,
            lane,
            shared,
            skipped,
        } = self;
        let job: Job = Box::new(move || {
            if reply.is_closed() {
                skipped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let outcome = catch_unwind(AssertUnwindSafe(work)).map_err(panic_text);
            // Free the place before answering, so a caller that has its result can be
            // admitted again at once.
            drop(permit);
            let _ = reply.send(outcome);
        });
        {
            let mut queues = shared.lock();
            if queues.closed {
                return Err(PoolError::Stopped);
            }
            let seq = queues.next;
            queues.next += 1;
            match lane {
                Lane::Cheap => queues.cheap.push_back((seq, job)),
                Lane::Heavy => queues.heavy.push_back((seq, job)),
            }
            metrics::gauge!(IMAGE_POOL_QUEUED).increment(1.0);
        }
        // Every worker wakes: a cheap-only worker must not swallow a heavy job's wake-up.
        shared.ready.notify_all();
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(message)) => Err(PoolError::Panicked(message)),
            Err(_) => Err(PoolError::Stopped),
        }
    }
}

/// A worker: take jobs of its role until the pool is dropped and the queues are empty.
fn work(shared: &Shared, role: Role) {
    let mut worked = false;
    loop {
        let job = {
            let mut queues = shared.lock();
            loop {
                if let Some(job) = queues.take(role) {
                    break job;
                }
                if queues.closed {
                    return;
                }
                if let (true, Some(on_idle)) = (std::mem::take(&mut worked), shared.on_idle) {
                    // Outside the lock: the hook may take a while, and jobs may arrive meanwhile.
                    drop(queues);
                    on_idle();
                    queues = shared.lock();
                    continue;
                }
                queues = shared
                    .ready
                    .wait(queues)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        metrics::gauge!(IMAGE_POOL_QUEUED).decrement(1.0);
        let busy = metrics::gauge!(IMAGE_POOL_BUSY);
        busy.increment(1.0);
        job();
        busy.decrement(1.0);
        worked = true;
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    const HEAVY: Cost = Cost {
        lane: Lane::Heavy,
        weight: 1,
    };
    const CHEAP: Cost = Cost {
        lane: Lane::Cheap,
        weight: 1,
    };

    #[tokio::test]
    async fn work_runs_off_the_runtime_and_returns_its_value() {
        let pool = WorkerPool::new(2, 0);
        let (on_runtime, thread) = pool
            .admit(HEAVY)
            .unwrap()
            .run(|| {
                (
                    tokio::runtime::Handle::try_current().is_ok(),
                    std::thread::current().name().map(str::to_string),
                )
            })
            .await
            .unwrap();
        assert!(!on_runtime);
        assert!(thread.unwrap().starts_with("mogr-image-"));
    }

    #[tokio::test]
    async fn a_full_pool_refuses_at_once_and_frees_places_when_work_ends() {
        let pool = WorkerPool::new(1, 1);
        // Unbounded, so releasing never blocks the test's runtime thread.
        let (release_tx, release_rx) = channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let mut running = Vec::new();
        for _ in 0..2 {
            let admission = pool.admit(HEAVY).unwrap();
            let rx = Arc::clone(&release_rx);
            running.push(tokio::spawn(admission.run(move || {
                let _ = rx.lock().unwrap().recv_timeout(Duration::from_secs(30));
            })));
        }
        assert_eq!(pool.admit(HEAVY).unwrap_err(), PoolError::Busy);
        for _ in 0..2 {
            release_tx.send(()).unwrap();
        }
        for handle in running {
            handle.await.unwrap().unwrap();
        }
        assert!(pool.admit(HEAVY).is_ok());
    }

    #[tokio::test]
    async fn cheap_work_runs_while_heavy_work_holds_every_worker() {
        let pool = WorkerPool::new(1, 0);
        let (release_tx, release_rx) = channel::<()>();
        let (started_tx, started_rx) = oneshot::channel::<()>();
        let heavy = pool.admit(HEAVY).unwrap();
        let blocked = tokio::spawn(heavy.run(move || {
            let _ = started_tx.send(());
            let _ = release_rx.recv_timeout(Duration::from_secs(30));
        }));
        // The only general worker is now inside the heavy job.
        started_rx.await.unwrap();
        assert_eq!(pool.admit(HEAVY).unwrap_err(), PoolError::Busy);
        let thread = pool
            .admit(CHEAP)
            .unwrap()
            .run(|| std::thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert_eq!(thread.as_deref(), Some("mogr-image-cheap"));
        release_tx.send(()).unwrap();
        blocked.await.unwrap().unwrap();
    }

    #[test]
    fn big_jobs_weigh_more_but_never_more_than_half_the_pool() {
        assert_eq!(Cost::from_predicted(Duration::ZERO).lane, Lane::Cheap);
        assert_eq!(Cost::from_predicted(UNIT).lane, Lane::Cheap);
        let big = Cost::from_predicted(UNIT * 10);
        assert_eq!((big.lane, big.weight), (Lane::Heavy, 10));
        let pool = WorkerPool::new(2, 6);
        let _a = pool.admit(big).unwrap();
        let _b = pool.admit(big).unwrap();
        assert_eq!(pool.admit(HEAVY).unwrap_err(), PoolError::Busy);
        assert!(pool.admit(CHEAP).is_ok());
    }

    static IDLE_CALLS: AtomicU64 = AtomicU64::new(0);

    fn count_idle() {
        IDLE_CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[tokio::test]
    async fn a_worker_calls_the_idle_hook_after_work_not_while_sleeping() {
        let pool = WorkerPool::with_idle_hook(1, 0, Some(count_idle));
        // Workers that have run nothing do not call it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(IDLE_CALLS.load(Ordering::SeqCst), 0);
        for expected in 1..=3 {
            pool.admit(HEAVY).unwrap().run(|| ()).await.unwrap();
            // The hook runs after the reply is sent; wait for it, bounded.
            for _ in 0..500 {
                if IDLE_CALLS.load(Ordering::SeqCst) >= expected {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(IDLE_CALLS.load(Ordering::SeqCst), expected);
        }
        // Once per stretch of work: sleeping workers do not call it again.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(IDLE_CALLS.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_panic_becomes_an_error_and_the_worker_survives() {
        let pool = WorkerPool::new(1, 0);
        let err = pool
            .admit(HEAVY)
            .unwrap()
            .run(|| -> u8 { panic!("boom") })
            .await
            .unwrap_err();
        assert_eq!(err, PoolError::Panicked("boom".to_string()));
        assert_eq!(pool.admit(HEAVY).unwrap().run(|| 7).await.unwrap(), 7);
    }
}
