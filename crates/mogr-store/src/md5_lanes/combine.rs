//! Uploads hashed together: whoever needs blocks hashed queues them, and once a full batch
//! is queued (or the oldest job has waited long enough) one waiting thread takes up to eight
//! and runs them through the SIMD lanes side by side (flat combining), the others wait for
//! their results.
//!
//! While other streams are open (other uploads under way), a job waits a few milliseconds
//! for companions; a job still alone then is hashed by its own thread with the scalar code,
//! so a lone upload costs what it always did and a busy store hashes at a third of the CPU.
//! A batch starts early only when it is full: the lanes cost the same whether one or eight
//! are busy, so starting with the first three (as this once did) hashed most uploads in
//! batches of three, at three times the CPU of a full batch.
//! Callers run on the blocking pool (hashing is CPU work), so waiting here parks no async
//! task. The thread that combines stops once its own job is done; a waiter takes over.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::avx2::{self, LaneInput, LANES};
use super::scalar_blocks;

/// A run of whole blocks to hash from `state` on.
#[derive(Clone)]
struct Job {
    id: u64,
    state: [u32; 4],
    data: Arc<Vec<u8>>,
    start: usize,
    blocks: usize,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Job>,
    done: HashMap<u64, [u32; 4]>,
    combining: bool,
    next_id: u64,
}

struct Hub {
    queue: Mutex<Queue>,
    changed: Condvar,
    /// `None`: no vector unit to share, every job is hashed by its own thread.
    kernel: Option<Kernel>,
}

/// Which eight-lane block function runs the batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    Avx2,
    Avx512,
}

impl Kernel {
    /// The fastest this CPU runs, if any.
    fn best() -> Option<Kernel> {
        if avx2::avx512_available() {
            Some(Kernel::Avx512)
        } else if avx2::available() {
            Some(Kernel::Avx2)
        } else {
            None
        }
    }
}

static HUB: LazyLock<Hub> = LazyLock::new(|| Hub {
    queue: Mutex::default(),
    changed: Condvar::new(),
    kernel: Kernel::best(),
});

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue is changed by single pushes, pops and inserts; never left torn.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Fewer jobs than this are cheaper hashed one by one with the scalar code (an 8-lane step
/// costs about what three scalar streams do).
const MIN_BATCH: usize = 3;
/// How long a job waits for companions while other streams are open and may send theirs.
/// Bounds the latency this adds to an upload; a lone upload never waits. Measured at 16
/// concurrent 1 MiB PUTs (store_bench, one machine): 3 ms gave 1.82-1.94 ms of CPU per
/// request and 600-630 req/s, 10 ms 1.48-1.56 and 665-680, 20 ms no better than 10.
const GATHER: Duration = Duration::from_millis(10);

/// Advances `state` over `blocks` 64-byte blocks of `data` from `start`, side by side with
/// other threads' jobs when enough come together. Blocks until done.
pub(super) fn compress_shared(
    state: &mut [u32; 4],
    data: Arc<Vec<u8>>,
    start: usize,
    blocks: usize,
) {
    let hub = &*HUB;
    let Some(kernel) = hub.kernel else {
        scalar_blocks(state, &data[start..start + blocks * 64]);
        return;
    };
    let deadline = Instant::now() + GATHER;
    let mut queue = hub.lock();
    let id = queue.next_id;
    queue.next_id += 1;
    queue.waiting.push_back(Job {
        id,
        state: *state,
        data,
        start,
        blocks,
    });
    // Waiters count the queue again: this job may complete a batch.
    hub.changed.notify_all();
    loop {
        if let Some(done) = queue.done.remove(&id) {
            *state = done;
            return;
        }
        if queue.combining {
            queue = hub
                .changed
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        let queued = queue.waiting.len();
        let now = Instant::now();
        let more_may_come = super::open_streams() > queued && now < deadline;
        if queued >= LANES || (queued >= MIN_BATCH && !more_may_come) {
            queue = combine(hub, queue, kernel);
            continue;
        }
        if more_may_come {
            queue = hub
                .changed
                .wait_timeout(queue, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        // Alone: take the job back and hash it here, in parallel with anyone else's.
        if let Some(at) = queue.waiting.iter().position(|j| j.id == id) {
            if let Some(job) = queue.waiting.remove(at) {
                drop(queue);
                *state = one(job.state, &job.data[job.start..job.start + job.blocks * 64]);
                return;
            }
        }
        // Taken by a combiner that has finished meanwhile: its result is in `done`.
    }
}

/// Runs up to [`LANES`] queued jobs side by side and publishes their results.
fn combine<'a>(
    hub: &'a Hub,
    mut queue: MutexGuard<'a, Queue>,
    kernel: Kernel,
) -> MutexGuard<'a, Queue> {
    queue.combining = true;
    let n = queue.waiting.len().min(LANES);
    let batch: Vec<Job> = queue.waiting.drain(..n).collect();
    drop(queue);
    let ids: Vec<u64> = batch.iter().map(|j| j.id).collect();
    // A panic must not leave the others waiting for ever: their jobs are then redone one
    // by one (the batch is moved in, so keep a copy: the data itself is shared).
    let backup = batch.clone();
    let states =
        std::panic::catch_unwind(AssertUnwindSafe(|| run(batch, kernel))).unwrap_or_else(|_| {
            backup
                .iter()
                .map(|j| one(j.state, &j.data[j.start..j.start + j.blocks * 64]))
                .collect()
        });
    drop(backup);
    let mut queue = hub.lock();
    queue.combining = false;
    queue.done.extend(ids.into_iter().zip(states));
    hub.changed.notify_all();
    queue
}

fn one(mut state: [u32; 4], bytes: &[u8]) -> [u32; 4] {
    scalar_blocks(&mut state, bytes);
    state
}

/// Hashes a batch with `kernel` (which this CPU runs); the new states in the batch's order.
fn run(batch: Vec<Job>, kernel: Kernel) -> Vec<[u32; 4]> {
    if batch.len() == 1 {
        return batch
            .iter()
            .map(|j| one(j.state, &j.data[j.start..j.start + j.blocks * 64]))
            .collect();
    }
    static IDLE: [u8; 64] = [0; 64];
    let idle = LaneInput {
        ptr: IDLE.as_ptr(),
        stride: 0,
    };
    let mut states = [[0u32; 4]; LANES];
    let mut inputs = [idle; LANES];
    let mut left = [0usize; LANES];
    let mut out: Vec<[u32; 4]> = batch.iter().map(|j| j.state).collect();
    for (l, job) in batch.iter().enumerate() {
        states[l] = job.state;
        inputs[l] = LaneInput {
            ptr: job.data[job.start..job.start + job.blocks * 64].as_ptr(),
            stride: 64,
        };
        left[l] = job.blocks;
    }
    loop {
        let busy: Vec<usize> = (0..batch.len()).filter(|&l| left[l] > 0).collect();
        if busy.len() <= 1 {
            // One stream left: the scalar code is faster than one lane of eight.
            for l in busy {
                let job = &batch[l];
                let from = job.start + (job.blocks - left[l]) * 64;
                out[l] = one(states[l], &job.data[from..job.start + job.blocks * 64]);
            }
            return out;
        }
        let step = busy.iter().map(|&l| left[l]).min().unwrap_or(0);
        // SAFETY: the kernel's instructions were detected (`Kernel::best`, or the tests'
        // checks); every busy lane has `left[l] >= step` blocks readable from its pointer (a
        // slice of its job's data, kept alive by `batch`), and idle lanes read the same
        // 64-byte static block.
        unsafe {
            match kernel {
                Kernel::Avx2 => avx2::compress8(&mut states, &inputs, step),
                Kernel::Avx512 => avx2::compress8_avx512(&mut states, &inputs, step),
            }
        };
        for &l in &busy {
            left[l] -= step;
            if left[l] == 0 {
                out[l] = states[l];
                inputs[l] = idle;
            } else {
                // SAFETY: `step` blocks were within this lane's slice, and more remain.
                inputs[l].ptr = unsafe { inputs[l].ptr.add(step * 64) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, RngCore, SeedableRng};

    #[test]
    fn lanes_of_every_length_match_the_scalar_code() {
        let mut kernels = Vec::new();
        if avx2::available() {
            kernels.push(Kernel::Avx2);
        }
        if avx2::avx512_available() {
            kernels.push(Kernel::Avx512);
        }
        for kernel in kernels {
            every_length_matches(kernel);
        }
    }

    fn every_length_matches(kernel: Kernel) {
        let mut rng = StdRng::seed_from_u64(7);
        for jobs in 2..=LANES {
            let batch: Vec<Job> = (0..jobs)
                .map(|i| {
                    let blocks = rng.gen_range(1..300);
                    let start = 64 * rng.gen_range(0..3);
                    let mut data = vec![0u8; start + blocks * 64 + rng.gen_range(0..64)];
                    rng.fill_bytes(&mut data);
                    Job {
                        id: i as u64,
                        state: [rng.gen(), rng.gen(), rng.gen(), rng.gen()],
                        data: Arc::new(data),
                        start,
                        blocks,
                    }
                })
                .collect();
            let want: Vec<[u32; 4]> = batch
                .iter()
                .map(|j| one(j.state, &j.data[j.start..j.start + j.blocks * 64]))
                .collect();
            assert_eq!(run(batch, kernel), want, "{kernel:?}, {jobs} jobs");
        }
    }
}
