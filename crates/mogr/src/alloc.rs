//! The process-wide allocator: one that gives freed memory back to the system.
//!
//! With glibc's malloc, the memory a large image job frees stays with the process (its
//! arenas keep it, and its mmap threshold rises after the first big free, so later big
//! buffers come from the heap too): after a few heavy conversions an idle server held
//! gigabytes. mimalloc returns freed pages to the system; with the `override` feature it
//! also serves the C codecs' `malloc` (libwebp, libheif, mozjpeg). On its own it purges
//! freed pages only when the thread that owns them next allocates (after a delay), so a
//! worker that goes idle right after a huge job would keep them until its next job; the
//! server therefore calls [`release_free_memory`] on each image worker when it runs out of
//! work (measured in docs/memory.md). Building with `--features jemalloc` (and without the
//! default features) uses jemalloc with background purging instead, for comparison.

#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc options: purge freed pages from a background thread after a second.
#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
#[allow(non_upper_case_globals)]
#[export_name = "malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives the memory this thread has freed back to the system now, rather than when the
/// thread next allocates: the image pool calls it on a worker that has run out of work.
#[cfg(feature = "mimalloc")]
pub fn release_free_memory() {
    // SAFETY: mi_collect only walks and purges mimalloc's own free lists; it takes no pointers.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// jemalloc's background thread purges on its own; nothing to do.
#[cfg(not(feature = "mimalloc"))]
pub fn release_free_memory() {}
