//! Eight MD5 streams at once in the lanes of 256-bit registers: AVX2, or AVX-512VL's
//! ternary logic and rotates where the CPU has them.
//!
//! MD5 is a chain: each 64-byte block needs the previous block's result, so one stream
//! cannot go faster than one scalar core. Eight unrelated streams can: lane `l` of every
//! 256-bit register holds stream `l`'s value, and each instruction advances all eight.

#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_and_si256, _mm256_andnot_si256, _mm256_loadu_si256,
    _mm256_or_si256, _mm256_permute2x128_si256, _mm256_rol_epi32, _mm256_set1_epi32,
    _mm256_slli_epi32, _mm256_srli_epi32, _mm256_storeu_si256, _mm256_ternarylogic_epi32,
    _mm256_unpackhi_epi32, _mm256_unpackhi_epi64, _mm256_unpacklo_epi32, _mm256_unpacklo_epi64,
    _mm256_xor_si256,
};

/// Streams hashed together.
pub(crate) const LANES: usize = 8;

/// One lane's input: `blocks` consecutive 64-byte blocks from `ptr`, or (stride 0) the same
/// block again and again for an idle lane whose result is thrown away.
#[derive(Clone, Copy)]
pub(crate) struct LaneInput {
    /// First block.
    pub ptr: *const u8,
    /// Bytes from one block to the next: 64, or 0 for an idle lane.
    pub stride: usize,
}

/// Whether this CPU can run [`compress8`].
pub(crate) fn available() -> bool {
    std::is_x86_feature_detected!("avx2")
}

/// Whether this CPU can run [`compress8_avx512`].
pub(crate) fn avx512_available() -> bool {
    available()
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512vl")
}

/// One MD5 step in eight lanes: `a = b + rotl(a + fun(b, c, d) + w + k, s)`.
macro_rules! step {
    ($fun:ident, $rotl:ident, $a:ident, $b:ident, $c:ident, $d:ident, $w:expr, $k:expr, $s:literal, $r:literal) => {{
        let t = _mm256_add_epi32(
            _mm256_add_epi32($a, $fun($b, $c, $d)),
            _mm256_add_epi32($w, _mm256_set1_epi32($k as i32)),
        );
        let t = $rotl::<$s, $r>(t);
        $a = _mm256_add_epi32($b, t);
    }};
}

/// The eight-lane block function, for one set of round functions and rotate: the same MD5
/// whatever the instruction set.
macro_rules! compress8_with {
    ($name:ident, $features:literal, $f:ident, $g:ident, $h:ident, $i:ident, $rotl:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// # Safety
        /// The CPU has the instructions this form is compiled for (AVX2: [`available`];
        /// AVX-512F and VL as well: [`avx512_available`]), and for every lane,
        /// `ptr + stride * (blocks - 1) + 64` bytes from `ptr` are readable.
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn $name(
            states: &mut [[u32; 4]; LANES],
            lanes: &[LaneInput; LANES],
            blocks: usize,
        ) {
            let mut cols = [[0u32; LANES]; 4];
            for (l, state) in states.iter().enumerate() {
                for (i, word) in state.iter().enumerate() {
                    cols[i][l] = *word;
                }
            }
            // SAFETY: each column is 32 readable bytes.
            let (mut a, mut b, mut c, mut d) = unsafe {
                (
                    _mm256_loadu_si256(cols[0].as_ptr().cast()),
                    _mm256_loadu_si256(cols[1].as_ptr().cast()),
                    _mm256_loadu_si256(cols[2].as_ptr().cast()),
                    _mm256_loadu_si256(cols[3].as_ptr().cast()),
                )
            };
            for n in 0..blocks {
                let mut w = [_mm256_set1_epi32(0); 16];
                for half in 0..2 {
                    let mut rows = [_mm256_set1_epi32(0); LANES];
                    for (l, row) in rows.iter_mut().enumerate() {
                        // SAFETY: the caller vouches for `ptr + stride * n + 64` bytes of each lane.
                        let p = unsafe { lanes[l].ptr.add(lanes[l].stride * n + 32 * half) };
                        *row = unsafe { _mm256_loadu_si256(p.cast()) };
                    }
                    let cols = transpose(rows);
                    w[8 * half..8 * half + 8].copy_from_slice(&cols);
                }
                let (aa, bb, cc, dd) = (a, b, c, d);
                step!($f, $rotl, a, b, c, d, w[0], 0xd76aa478u32, 7, 25);
                step!($f, $rotl, d, a, b, c, w[1], 0xe8c7b756u32, 12, 20);
                step!($f, $rotl, c, d, a, b, w[2], 0x242070dbu32, 17, 15);
                step!($f, $rotl, b, c, d, a, w[3], 0xc1bdceeeu32, 22, 10);
                step!($f, $rotl, a, b, c, d, w[4], 0xf57c0fafu32, 7, 25);
                step!($f, $rotl, d, a, b, c, w[5], 0x4787c62au32, 12, 20);
                step!($f, $rotl, c, d, a, b, w[6], 0xa8304613u32, 17, 15);
                step!($f, $rotl, b, c, d, a, w[7], 0xfd469501u32, 22, 10);
                step!($f, $rotl, a, b, c, d, w[8], 0x698098d8u32, 7, 25);
                step!($f, $rotl, d, a, b, c, w[9], 0x8b44f7afu32, 12, 20);
                step!($f, $rotl, c, d, a, b, w[10], 0xffff5bb1u32, 17, 15);
                step!($f, $rotl, b, c, d, a, w[11], 0x895cd7beu32, 22, 10);
                step!($f, $rotl, a, b, c, d, w[12], 0x6b901122u32, 7, 25);
                step!($f, $rotl, d, a, b, c, w[13], 0xfd987193u32, 12, 20);
                step!($f, $rotl, c, d, a, b, w[14], 0xa679438eu32, 17, 15);
                step!($f, $rotl, b, c, d, a, w[15], 0x49b40821u32, 22, 10);
                step!($g, $rotl, a, b, c, d, w[1], 0xf61e2562u32, 5, 27);
                step!($g, $rotl, d, a, b, c, w[6], 0xc040b340u32, 9, 23);
                step!($g, $rotl, c, d, a, b, w[11], 0x265e5a51u32, 14, 18);
                step!($g, $rotl, b, c, d, a, w[0], 0xe9b6c7aau32, 20, 12);
                step!($g, $rotl, a, b, c, d, w[5], 0xd62f105du32, 5, 27);
                step!($g, $rotl, d, a, b, c, w[10], 0x02441453u32, 9, 23);
                step!($g, $rotl, c, d, a, b, w[15], 0xd8a1e681u32, 14, 18);
                step!($g, $rotl, b, c, d, a, w[4], 0xe7d3fbc8u32, 20, 12);
                step!($g, $rotl, a, b, c, d, w[9], 0x21e1cde6u32, 5, 27);
                step!($g, $rotl, d, a, b, c, w[14], 0xc33707d6u32, 9, 23);
                step!($g, $rotl, c, d, a, b, w[3], 0xf4d50d87u32, 14, 18);
                step!($g, $rotl, b, c, d, a, w[8], 0x455a14edu32, 20, 12);
                step!($g, $rotl, a, b, c, d, w[13], 0xa9e3e905u32, 5, 27);
                step!($g, $rotl, d, a, b, c, w[2], 0xfcefa3f8u32, 9, 23);
                step!($g, $rotl, c, d, a, b, w[7], 0x676f02d9u32, 14, 18);
                step!($g, $rotl, b, c, d, a, w[12], 0x8d2a4c8au32, 20, 12);
                step!($h, $rotl, a, b, c, d, w[5], 0xfffa3942u32, 4, 28);
                step!($h, $rotl, d, a, b, c, w[8], 0x8771f681u32, 11, 21);
                step!($h, $rotl, c, d, a, b, w[11], 0x6d9d6122u32, 16, 16);
                step!($h, $rotl, b, c, d, a, w[14], 0xfde5380cu32, 23, 9);
                step!($h, $rotl, a, b, c, d, w[1], 0xa4beea44u32, 4, 28);
                step!($h, $rotl, d, a, b, c, w[4], 0x4bdecfa9u32, 11, 21);
                step!($h, $rotl, c, d, a, b, w[7], 0xf6bb4b60u32, 16, 16);
                step!($h, $rotl, b, c, d, a, w[10], 0xbebfbc70u32, 23, 9);
                step!($h, $rotl, a, b, c, d, w[13], 0x289b7ec6u32, 4, 28);
                step!($h, $rotl, d, a, b, c, w[0], 0xeaa127fau32, 11, 21);
                step!($h, $rotl, c, d, a, b, w[3], 0xd4ef3085u32, 16, 16);
                step!($h, $rotl, b, c, d, a, w[6], 0x04881d05u32, 23, 9);
                step!($h, $rotl, a, b, c, d, w[9], 0xd9d4d039u32, 4, 28);
                step!($h, $rotl, d, a, b, c, w[12], 0xe6db99e5u32, 11, 21);
                step!($h, $rotl, c, d, a, b, w[15], 0x1fa27cf8u32, 16, 16);
                step!($h, $rotl, b, c, d, a, w[2], 0xc4ac5665u32, 23, 9);
                step!($i, $rotl, a, b, c, d, w[0], 0xf4292244u32, 6, 26);
                step!($i, $rotl, d, a, b, c, w[7], 0x432aff97u32, 10, 22);
                step!($i, $rotl, c, d, a, b, w[14], 0xab9423a7u32, 15, 17);
                step!($i, $rotl, b, c, d, a, w[5], 0xfc93a039u32, 21, 11);
                step!($i, $rotl, a, b, c, d, w[12], 0x655b59c3u32, 6, 26);
                step!($i, $rotl, d, a, b, c, w[3], 0x8f0ccc92u32, 10, 22);
                step!($i, $rotl, c, d, a, b, w[10], 0xffeff47du32, 15, 17);
                step!($i, $rotl, b, c, d, a, w[1], 0x85845dd1u32, 21, 11);
                step!($i, $rotl, a, b, c, d, w[8], 0x6fa87e4fu32, 6, 26);
                step!($i, $rotl, d, a, b, c, w[15], 0xfe2ce6e0u32, 10, 22);
                step!($i, $rotl, c, d, a, b, w[6], 0xa3014314u32, 15, 17);
                step!($i, $rotl, b, c, d, a, w[13], 0x4e0811a1u32, 21, 11);
                step!($i, $rotl, a, b, c, d, w[4], 0xf7537e82u32, 6, 26);
                step!($i, $rotl, d, a, b, c, w[11], 0xbd3af235u32, 10, 22);
                step!($i, $rotl, c, d, a, b, w[2], 0x2ad7d2bbu32, 15, 17);
                step!($i, $rotl, b, c, d, a, w[9], 0xeb86d391u32, 21, 11);
                a = _mm256_add_epi32(a, aa);
                b = _mm256_add_epi32(b, bb);
                c = _mm256_add_epi32(c, cc);
                d = _mm256_add_epi32(d, dd);
            }
            let mut out = [[0u32; LANES]; 4];
            for (slot, v) in out.iter_mut().zip([a, b, c, d]) {
                // SAFETY: `slot` is 32 writable bytes.
                unsafe { _mm256_storeu_si256(slot.as_mut_ptr().cast(), v) };
            }
            for (l, state) in states.iter_mut().enumerate() {
                *state = [out[0][l], out[1][l], out[2][l], out[3][l]];
            }
        }
    };
}

compress8_with!(
    compress8,
    "avx2",
    f,
    g,
    h,
    i,
    rotl,
    "Advances the eight states by `blocks` blocks each (AVX2)."
);
compress8_with!(
    compress8_avx512,
    "avx2,avx512f,avx512vl",
    f512,
    g512,
    h512,
    i512,
    rotl512,
    "[`compress8`] with AVX-512VL's ternary logic (one instruction per round function \
     instead of two or three) and rotate (one instead of three): about 40 % fewer \
     instructions per step."
);

/// Rows (8 words of one lane) to columns (word `i` of every lane).
#[inline]
#[target_feature(enable = "avx2")]
fn transpose(r: [__m256i; LANES]) -> [__m256i; LANES] {
    {
        let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
        let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
        let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
        let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
        let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
        let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
        let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
        let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
        let u0 = _mm256_unpacklo_epi64(t0, t2);
        let u1 = _mm256_unpackhi_epi64(t0, t2);
        let u2 = _mm256_unpacklo_epi64(t1, t3);
        let u3 = _mm256_unpackhi_epi64(t1, t3);
        let u4 = _mm256_unpacklo_epi64(t4, t6);
        let u5 = _mm256_unpackhi_epi64(t4, t6);
        let u6 = _mm256_unpacklo_epi64(t5, t7);
        let u7 = _mm256_unpackhi_epi64(t5, t7);
        [
            _mm256_permute2x128_si256::<0x20>(u0, u4),
            _mm256_permute2x128_si256::<0x20>(u1, u5),
            _mm256_permute2x128_si256::<0x20>(u2, u6),
            _mm256_permute2x128_si256::<0x20>(u3, u7),
            _mm256_permute2x128_si256::<0x31>(u0, u4),
            _mm256_permute2x128_si256::<0x31>(u1, u5),
            _mm256_permute2x128_si256::<0x31>(u2, u6),
            _mm256_permute2x128_si256::<0x31>(u3, u7),
        ]
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn f(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
    _mm256_or_si256(_mm256_and_si256(x, y), _mm256_andnot_si256(x, z))
}

#[inline]
#[target_feature(enable = "avx2")]
fn g(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
    _mm256_or_si256(_mm256_and_si256(x, z), _mm256_andnot_si256(z, y))
}

#[inline]
#[target_feature(enable = "avx2")]
fn h(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
    _mm256_xor_si256(_mm256_xor_si256(x, y), z)
}

#[inline]
#[target_feature(enable = "avx2")]
fn i(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
    _mm256_xor_si256(
        y,
        _mm256_or_si256(x, _mm256_xor_si256(z, _mm256_set1_epi32(-1))),
    )
}

#[inline]
#[target_feature(enable = "avx2")]
fn rotl<const S: i32, const R: i32>(x: __m256i) -> __m256i {
    _mm256_or_si256(_mm256_slli_epi32::<S>(x), _mm256_srli_epi32::<R>(x))
}

// AVX-512VL: each round function is one ternary-logic instruction whose immediate is the
// function's truth table (bit `4a + 2b + c` is the result for input bits a, b, c).

#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
fn f512(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
    // x ? y : z
    _mm256_ternarylogic_epi32::<0xCA>(x, y, z)
}

#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
fn g512(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
    // z ? x : y
    _mm256_ternarylogic_epi32::<0xE4>(x, y, z)
}

#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
fn h512(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
    // x ^ y ^ z
    _mm256_ternarylogic_epi32::<0x96>(x, y, z)
}

#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
fn i512(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
    // y ^ (x | !z)
    _mm256_ternarylogic_epi32::<0x39>(x, y, z)
}

#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
fn rotl512<const S: i32, const R: i32>(x: __m256i) -> __m256i {
    _mm256_rol_epi32::<S>(x)
}
