//! Where the server is in its life: serving, or draining before it stops.

use std::sync::atomic::{AtomicBool, Ordering};

/// Shared by the accept loop (which starts the drain) and `/ready` (which reports it).
#[derive(Debug, Default)]
pub struct Lifecycle {
    draining: AtomicBool,
}

impl Lifecycle {
    /// Marks the server as shutting down: it accepts no new connections from now on.
    pub fn begin_drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}
