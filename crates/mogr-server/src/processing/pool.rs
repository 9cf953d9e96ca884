//! A fixed set of OS threads for CPU-heavy work, with admission control.
//!
//! Image work never runs on the async runtime's threads: a decode or an AVIF encode can take
//! seconds and would stall every connection sharing that thread. Capacity is counted with a
//! semaphore of `workers + queue` permits taken *before* any work is handed over, so a full
//! pool is known at once and the caller can answer 503 instead of piling work up.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// A unit of work for a worker thread.
type Job = Box<dyn FnOnce() + Send + 'static>;

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

/// Worker threads plus the permits that bound running and waiting jobs together.
#[derive(Debug)]
pub struct WorkerPool {
    jobs: Sender<Job>,
    capacity: Arc<Semaphore>,
    workers: usize,
    queue: usize,
}

/// A reserved place in the pool: obtained without waiting, spent by [`Admission::run`].
#[derive(Debug)]
pub struct Admission {
    permit: OwnedSemaphorePermit,
    jobs: Sender<Job>,
}

impl WorkerPool {
    /// Starts `workers` threads (at least one) and allows `queue` more jobs to wait.
    pub fn new(workers: usize, queue: usize) -> WorkerPool {
        let workers = workers.max(1);
        let (jobs, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut started = 0;
        for index in 0..workers {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("mogr-image-{index}"))
                .spawn(move || work(&receiver));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "could not start an image worker"),
            }
        }
        // Dropping our receiver handle leaves the threads as its only owners: if none started,
        // sends fail at once and callers see `Stopped` instead of waiting forever.
        drop(receiver);
        WorkerPool {
            jobs,
            capacity: Arc::new(Semaphore::new(started + queue)),
            workers: started,
            queue,
        }
    }

    /// Worker threads running.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Jobs allowed to wait beyond the running ones.
    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Reserves a place for one job, or [`PoolError::Busy`] at once when there is none.
    pub fn admit(&self) -> Result<Admission, PoolError> {
        let permit = Arc::clone(&self.capacity)
            .try_acquire_owned()
            .map_err(|_| PoolError::Busy)?;
        Ok(Admission {
            permit,
            jobs: self.jobs.clone(),
        })
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
        let permit = self.permit;
        let job: Job = Box::new(move || {
            if reply.is_closed() {
                return;
            }
            let outcome = catch_unwind(AssertUnwindSafe(work)).map_err(panic_text);
            // Free the place before answering, so a caller that has its result can be
            // admitted again at once.
            drop(permit);
            let _ = reply.send(outcome);
        });
        self.jobs.send(job).map_err(|_| PoolError::Stopped)?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(message)) => Err(PoolError::Panicked(message)),
            Err(_) => Err(PoolError::Stopped),
        }
    }
}

/// A worker: take jobs until the pool (every sender) is gone.
fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, never while running one.
        let next = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
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
    use std::time::Duration;

    #[tokio::test]
    async fn work_runs_off_the_runtime_and_returns_its_value() {
        let pool = WorkerPool::new(2, 0);
        let (on_runtime, thread) = pool
            .admit()
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
            let admission = pool.admit().unwrap();
            let rx = Arc::clone(&release_rx);
            running.push(tokio::spawn(admission.run(move || {
                let _ = rx.lock().unwrap().recv_timeout(Duration::from_secs(30));
            })));
        }
        assert_eq!(pool.admit().unwrap_err(), PoolError::Busy);
        for _ in 0..2 {
            release_tx.send(()).unwrap();
        }
        for handle in running {
            handle.await.unwrap().unwrap();
        }
        assert!(pool.admit().is_ok());
    }

    #[tokio::test]
    async fn a_panic_becomes_an_error_and_the_worker_survives() {
        let pool = WorkerPool::new(1, 0);
        let err = pool
            .admit()
            .unwrap()
            .run(|| -> u8 { panic!("boom") })
            .await
            .unwrap_err();
        assert_eq!(err, PoolError::Panicked("boom".to_string()));
        assert_eq!(pool.admit().unwrap().run(|| 7).await.unwrap(), 7);
    }
}
