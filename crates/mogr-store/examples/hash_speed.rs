//! Throughput of the digests every stored byte passes through: CRC-64/XZ (the table-driven
//! `crc` crate against the SIMD `crc-fast`) and MD5 (`md-5`, with its x86-64 assembly back end).
//! Run: `cargo run --release -p mogr-store --example hash_speed`.

use std::hint::black_box;
use std::time::Instant;

use md5::{Digest, Md5};

const SIZE: usize = 64 << 20;
const ROUNDS: usize = 5;

/// Median GB/s of `f` over `data`.
fn gbps(data: &[u8], mut f: impl FnMut(&[u8]) -> u64) -> f64 {
    let mut runs: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            black_box(f(black_box(data)));
            data.len() as f64 / t.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[ROUNDS / 2]
}

fn main() {
    let data: Vec<u8> = (0..SIZE)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let table = gbps(&data, |d| mogr_store::CRC64.checksum(d));
    let simd = gbps(&data, mogr_store::crc64);
    assert_eq!(mogr_store::CRC64.checksum(&data), mogr_store::crc64(&data));
    let md5 = gbps(&data, |d| u64::from(Md5::digest(d)[0]));
    println!("crc64 table16 {table:.2} GB/s");
    println!("crc64 crc-fast {simd:.2} GB/s ({:.1}x)", simd / table);
    println!("md5 {md5:.2} GB/s");
}
