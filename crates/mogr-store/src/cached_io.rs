//! Opening and reading files from memory without leaving the async thread.
//!
//! A GET of a file the page cache holds is a few microseconds of copying, yet a trip to the
//! blocking pool (wake a thread, then wake the runtime back) cost more CPU than the copy for
//! a 100 KB file and about a tenth of a 1 MiB GET. Linux can be asked to do a call only if it
//! would not block: `openat2` with `RESOLVE_CACHED` resolves a path from the dentry cache or
//! fails with `EAGAIN`, and `preadv2` with `RWF_NOWAIT` reads from the page cache or fails the
//! same way. Callers try these first and go to the blocking pool only when told to, so the
//! runtime never waits for a disk.
//!
//! "Would block" is an error of kind [`io::ErrorKind::WouldBlock`] (see [`would_block`]);
//! so is "this kernel or file system cannot tell", which leads to the same fallback.

use std::fs::File;
use std::io;
use std::path::Path;

/// Whether an error from this module means "do it on the blocking pool instead".
pub fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Where a read may get its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Memory or disk, with blocking calls: on the blocking pool.
    Disk,
    /// Only what the dentry and page caches hold, else `WouldBlock`: on the async thread,
    /// without a hand-off.
    Memory,
}

impl Reach {
    /// Opens `path` read-only.
    pub fn open(self, path: &Path) -> io::Result<File> {
        match self {
            Reach::Disk => File::open(path),
            Reach::Memory => open(path),
        }
    }

    /// Fills `buf` from `offset` (`UnexpectedEof` if the file ends first).
    pub fn read_exact_at(self, file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
        match self {
            Reach::Disk => std::os::unix::fs::FileExt::read_exact_at(file, buf, offset),
            Reach::Memory => read_exact_at(file, buf, offset),
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    #![allow(unsafe_code)]

    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};

    use rustix::fs::{openat2, Mode, OFlags, ResolveFlags, CWD};
    use rustix::io::Errno;

    /// Cleared once the kernel says it lacks `openat2` or `RESOLVE_CACHED` (before 5.12, or
    /// a sandbox that filters it): every open then goes to the blocking pool.
    static OPEN_SUPPORTED: AtomicBool = AtomicBool::new(true);

    fn would_block() -> io::Error {
        io::ErrorKind::WouldBlock.into()
    }

    pub(super) fn open(path: &Path) -> io::Result<File> {
        if !OPEN_SUPPORTED.load(Ordering::Relaxed) {
            return Err(would_block());
        }
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        match openat2(CWD, path, flags, Mode::empty(), ResolveFlags::CACHED) {
            Ok(fd) => Ok(File::from(fd)),
            // Not in the dentry cache, or interrupted: the blocking pool opens it.
            Err(Errno::AGAIN | Errno::INTR) => Err(would_block()),
            Err(Errno::NOSYS | Errno::INVAL | Errno::PERM | Errno::OPNOTSUPP) => {
                OPEN_SUPPORTED.store(false, Ordering::Relaxed);
                Err(would_block())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One `preadv2(RWF_NOWAIT)` into `len` bytes at `dst`; how many were read.
    ///
    /// # Safety
    /// `dst` is valid for writes of `len` bytes.
    unsafe fn pread_nowait(
        file: &File,
        dst: *mut u8,
        len: usize,
        offset: u64,
    ) -> io::Result<usize> {
        let iov = libc::iovec {
            iov_base: dst.cast(),
            iov_len: len,
        };
        let offset = libc::off_t::try_from(offset).map_err(io::Error::other)?;
        // SAFETY: one iovec over `len` writable bytes (the caller's promise); the kernel writes
        // at most that many.
        let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, offset, libc::RWF_NOWAIT) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                // Not in memory, or a file system that cannot say (EOPNOTSUPP): the caller
                // reads it the ordinary way.
                Some(libc::EAGAIN | libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL) => {
                    Err(would_block())
                }
                _ => Err(e),
            };
        }
        Ok(n as usize)
    }

    pub(super) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let rest = &mut buf[done..];
            // SAFETY: `rest` is a live, writable slice of `rest.len()` bytes.
            match unsafe { pread_nowait(file, rest.as_mut_ptr(), rest.len(), offset + done as u64) }
            {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub(super) fn read_vec_at(file: &File, len: usize, offset: u64) -> io::Result<Vec<u8>> {
        let mut buf: Vec<u8> = Vec::with_capacity(len);
        while buf.len() < len {
            let filled = buf.len();
            // Exactly the bytes still wanted: the capacity may be larger than asked for.
            let spare = &mut buf.spare_capacity_mut()[..len - filled];
            // SAFETY: the spare capacity is `len - filled` writable bytes; the kernel
            // initialises the `n` it reports, and only those are added to the length.
            let n = match unsafe {
                pread_nowait(
                    file,
                    spare.as_mut_ptr().cast(),
                    spare.len(),
                    offset + filled as u64,
                )
            } {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            // SAFETY: see above; `n <= spare.len()`.
            unsafe { buf.set_len(filled + n) };
        }
        Ok(buf)
    }
}

/// Opens `path` read-only if the path is resolved from memory (`WouldBlock` if the disk
/// would be needed, or the kernel cannot tell).
pub fn open(path: &Path) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    return linux::open(path);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        Err(io::ErrorKind::WouldBlock.into())
    }
}

/// Fills `buf` from `offset` if the page cache holds all of it (`WouldBlock` if not;
/// `UnexpectedEof` if the file ends first).
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    return linux::read_exact_at(file, buf, offset);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, buf, offset);
        Err(io::ErrorKind::WouldBlock.into())
    }
}

/// `len` bytes from `offset` in fresh memory that is not zeroed first, if the page cache
/// holds all of them (`WouldBlock` if not; `UnexpectedEof` if the file ends first).
pub fn read_vec_at(file: &File, len: usize, offset: u64) -> io::Result<Vec<u8>> {
    #[cfg(target_os = "linux")]
    return linux::read_vec_at(file, len, offset);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, len, offset);
        Err(io::ErrorKind::WouldBlock.into())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_file_just_written_is_opened_and_read_from_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = match open(&path) {
            Ok(file) => file,
            // A sandbox without openat2: nothing more to check here.
            Err(e) if would_block(&e) => return,
            Err(e) => panic!("{e}"),
        };
        let got = read_vec_at(&file, 200_000, 50_000).unwrap();
        assert_eq!(got, data[50_000..250_000]);
        let mut head = [0u8; 16];
        read_exact_at(&file, &mut head, 0).unwrap();
        assert_eq!(head, data[..16]);
        let past = read_vec_at(&file, 10, 299_995).unwrap_err();
        assert_eq!(past.kind(), io::ErrorKind::UnexpectedEof);
        // A name never looked up is not in the dentry cache: the disk would be asked.
        let missing = open(&dir.path().join("missing")).unwrap_err();
        assert!(
            matches!(
                missing.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::WouldBlock
            ),
            "{missing}"
        );
    }

    #[test]
    fn a_file_evicted_from_memory_would_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let file = File::open(&path).unwrap();
        file.sync_all().unwrap();
        // Drop its pages from the page cache (clean once synced).
        let r = unsafe {
            libc::posix_fadvise(
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
                0,
                libc::POSIX_FADV_DONTNEED,
            )
        };
        assert_eq!(r, 0);
        match read_vec_at(&file, 1 << 20, 0) {
            Err(e) => assert!(would_block(&e), "{e}"),
            // A file system that keeps the pages anyway (tmpfs) reads them: also right.
            Ok(bytes) => assert_eq!(bytes, vec![7u8; 1 << 20]),
        }
    }
}
