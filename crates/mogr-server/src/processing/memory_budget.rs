//! The memory budget image jobs share: each job reserves its predicted peak before it runs
//! and gives it back when it ends.
//!
//! A job whose prediction does not fit next to the jobs already admitted waits a bounded time
//! for room, then is refused (503 `SlowDown`, the caller may retry). A job that could never
//! fit is not the budget's business: the engine refuses it as too large (400, or the original
//! with `ignore-error/1`), so it reserves only its source here.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Reservations are counted in these units (a semaphore counts permits, not bytes).
const UNIT: u64 = 1 << 20;

/// Why a reservation was not granted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the image memory budget is taken by running jobs")]
pub struct NoRoom;

/// Bytes reserved by one job, returned when dropped.
#[derive(Debug)]
pub struct Reservation {
    _permit: Option<OwnedSemaphorePermit>,
    /// Bytes reserved (rounded up to whole units).
    pub bytes: u64,
}

/// The shared budget.
#[derive(Debug)]
pub struct MemoryBudget {
    units: Arc<Semaphore>,
    total: u32,
    wait: Duration,
}

impl MemoryBudget {
    /// A budget of `bytes`; a job waits at most `wait` for room.
    pub fn new(bytes: u64, wait: Duration) -> MemoryBudget {
        let total = u32::try_from(bytes / UNIT).unwrap_or(u32::MAX).max(1);
        MemoryBudget {
            units: Arc::new(Semaphore::new(total as usize)),
            total,
            wait,
        }
    }

    /// The budget in bytes.
    pub fn total_bytes(&self) -> u64 {
        u64::from(self.total) * UNIT
    }

    /// Bytes not reserved at the moment.
    pub fn free_bytes(&self) -> u64 {
        self.units.available_permits() as u64 * UNIT
    }

    /// Reserves `peak` bytes for a job whose encoded source is `source` bytes, waiting up to
    /// the configured time for room. A peak over the whole budget reserves only the source
    /// (the engine refuses such a job before decoding it).
    pub async fn reserve(&self, peak: u64, source: u64) -> Result<Reservation, NoRoom> {
        let want = if peak > self.total_bytes() {
            source
        } else {
            peak
        };
        let units = u32::try_from(want.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total);
        let units_sem = Arc::clone(&self.units);
        let permit = match units_sem.clone().try_acquire_many_owned(units) {
            Ok(p) => p,
            Err(_) if self.wait.is_zero() => return Err(NoRoom),
            Err(_) => tokio::time::timeout(self.wait, units_sem.acquire_many_owned(units))
                .await
                .map_err(|_| NoRoom)?
                .map_err(|_| NoRoom)?,
        };
        Ok(Reservation {
            _permit: Some(permit),
            bytes: u64::from(units) * UNIT,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = UNIT;

    #[tokio::test]
    async fn jobs_share_the_budget_and_give_it_back() {
        let budget = MemoryBudget::new(100 * MIB, Duration::ZERO);
        let a = budget.reserve(60 * MIB, MIB).await.unwrap();
        assert_eq!(a.bytes, 60 * MIB);
        assert_eq!(budget.reserve(50 * MIB, MIB).await.unwrap_err(), NoRoom);
        let b = budget.reserve(40 * MIB, MIB).await.unwrap();
        assert_eq!(budget.free_bytes(), 0);
        drop(a);
        drop(b);
        assert_eq!(budget.free_bytes(), 100 * MIB);
    }

    #[tokio::test]
    async fn a_job_waits_a_bounded_time_for_room() {
        let budget = Arc::new(MemoryBudget::new(100 * MIB, Duration::from_secs(30)));
        let held = budget.reserve(80 * MIB, MIB).await.unwrap();
        let waiting = {
            let budget = Arc::clone(&budget);
            tokio::spawn(async move { budget.reserve(50 * MIB, MIB).await.map(|r| r.bytes) })
        };
        tokio::task::yield_now().await;
        drop(held);
        assert_eq!(waiting.await.unwrap(), Ok(50 * MIB));

        let short = MemoryBudget::new(100 * MIB, Duration::from_millis(20));
        let _held = short.reserve(80 * MIB, MIB).await.unwrap();
        assert_eq!(short.reserve(50 * MIB, MIB).await.unwrap_err(), NoRoom);
    }

    #[tokio::test]
    async fn a_job_over_the_whole_budget_reserves_its_source_only() {
        let budget = MemoryBudget::new(100 * MIB, Duration::ZERO);
        let r = budget.reserve(500 * MIB, 3 * MIB).await.unwrap();
        assert_eq!(r.bytes, 3 * MIB);
    }
}
