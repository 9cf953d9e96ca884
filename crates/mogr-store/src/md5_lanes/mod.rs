//! MD5 of object bodies (the ETag), with many uploads hashed side by side.
//!
//! One MD5 stream is a chain of 64-byte blocks and runs at scalar speed whatever the CPU.
//! A store hashes many uploads at once, though, and on x86-64 with AVX2 their blocks are
//! hashed eight streams per instruction (see `combine`): the same MD5, bit for bit, at a
//! fraction of the CPU. Elsewhere, and for short inputs, the scalar code runs.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod combine;

use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(target_arch = "x86_64")]
use std::sync::Arc;

/// Inputs shorter than this are hashed on the caller's thread at once: batching pays off
/// for bulk data only.
#[cfg(target_arch = "x86_64")]
const SHARE_FROM_BLOCKS: usize = 64;

/// The per-step constants of RFC 1321.
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Streams in existence, so a job knows whether companions may come (see `combine`).
static OPEN: AtomicUsize = AtomicUsize::new(0);

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn open_streams() -> usize {
    OPEN.load(Ordering::Relaxed)
}

/// Counts one open stream while it lives.
#[derive(Debug)]
struct Open;

impl Open {
    fn new() -> Open {
        OPEN.fetch_add(1, Ordering::Relaxed);
        Open
    }
}

impl Clone for Open {
    fn clone(&self) -> Open {
        Open::new()
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A streaming MD5.
#[derive(Debug, Clone)]
pub struct Md5Stream {
    state: [u32; 4],
    /// Bytes hashed so far, `tail` included.
    len: u64,
    tail: [u8; 64],
    tail_len: usize,
    _open: Open,
}

impl Default for Md5Stream {
    fn default() -> Self {
        Md5Stream::new()
    }
}

impl Md5Stream {
    /// An empty stream.
    pub fn new() -> Md5Stream {
        Md5Stream {
            state: INIT,
            len: 0,
            tail: [0; 64],
            tail_len: 0,
            _open: Open::new(),
        }
    }

    /// Hashes `data` on this thread.
    pub fn update(&mut self, data: &[u8]) {
        let rest = self.fill_tail(data);
        let whole = rest.len() / 64 * 64;
        scalar_blocks(&mut self.state, &rest[..whole]);
        self.keep_tail(&rest[whole..]);
        self.len += data.len() as u64;
    }

    /// Hashes `data`, side by side with other threads' bulk data when that is faster, and
    /// hands the buffer back. Blocking CPU work: call it off the async runtime.
    pub fn update_owned(&mut self, data: Vec<u8>) -> Vec<u8> {
        #[cfg(target_arch = "x86_64")]
        {
            let head = (64 - self.tail_len) % 64;
            if data.len() >= head + SHARE_FROM_BLOCKS * 64 {
                // Complete the tail, hash the whole blocks after it together with others,
                // keep what is left over.
                self.update(&data[..head]);
                let blocks = (data.len() - head) / 64;
                let shared = Arc::new(data);
                combine::compress_shared(&mut self.state, shared.clone(), head, blocks);
                let end = head + blocks * 64;
                self.keep_tail(&shared[end..]);
                self.len += (shared.len() - head) as u64;
                // The job kept no reference once done; a copy only if that ever changes.
                return Arc::try_unwrap(shared).unwrap_or_else(|s| s.to_vec());
            }
        }
        self.update(&data);
        data
    }

    /// The digest of everything hashed so far (the stream can go on).
    pub fn finalize(&self) -> [u8; 16] {
        let mut state = self.state;
        let mut last = [0u8; 128];
        last[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        last[self.tail_len] = 0x80;
        let end = if self.tail_len < 56 { 64 } else { 128 };
        last[end - 8..end].copy_from_slice(&(self.len.wrapping_mul(8)).to_le_bytes());
        scalar_blocks(&mut state, &last[..end]);
        let mut out = [0u8; 16];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Tops up a partial block from `data`, hashing it once full; returns the rest.
    fn fill_tail<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        if self.tail_len == 0 {
            return data;
        }
        let take = (64 - self.tail_len).min(data.len());
        self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
        self.tail_len += take;
        if self.tail_len == 64 {
            let block = self.tail;
            scalar_blocks(&mut self.state, &block);
            self.tail_len = 0;
        }
        &data[take..]
    }

    /// Keeps `rest` (under one block, the tail being empty) for later.
    fn keep_tail(&mut self, rest: &[u8]) {
        debug_assert!(rest.is_empty() || self.tail_len == 0);
        self.tail[self.tail_len..self.tail_len + rest.len()].copy_from_slice(rest);
        self.tail_len += rest.len();
    }
}

/// Advances `state` over `bytes` (whole 64-byte blocks) with the scalar code.
fn scalar_blocks(state: &mut [u32; 4], bytes: &[u8]) {
    debug_assert_eq!(bytes.len() % 64, 0);
    for chunk in bytes.chunks_exact(64) {
        if let Ok(block) = <&[u8; 64]>::try_from(chunk) {
            compress_one(state, block);
        }
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn compress_one(state: &mut [u32; 4], block: &[u8; 64]) {
    md5_asm::compress(state, std::slice::from_ref(block));
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
fn compress_one(state: &mut [u32; 4], block: &[u8; 64]) {
    compress_portable(state, block);
}

/// The block function of RFC 1321 in plain Rust, where there is no assembly.
#[cfg_attr(any(target_arch = "x86", target_arch = "x86_64"), allow(dead_code))]
fn compress_portable(state: &mut [u32; 4], block: &[u8; 64]) {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let mut w = [0u32; 16];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let [mut a, mut b, mut c, mut d] = *state;
    for i in 0..64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((b & d) | (c & !d), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let t = a
            .wrapping_add(f)
            .wrapping_add(K[i])
            .wrapping_add(w[g])
            .rotate_left(S[i]);
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(t);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests;
