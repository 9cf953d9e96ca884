//! MD5 speed: md-5 (one stream at a time, the usual way) against mogr's `Md5Stream` with
//! sixteen uploads hashing 1 MiB buffers at once (the way a busy store hashes). CPU time of
//! the whole process per MiB hashed, medians of 5 rounds, and the ratio, from one run:
//!
//!     cargo run --release -p mogr-store --example md5_speed
//!
//! CPU time, not wall time, because the machine may be shared; both sides check that
//! they computed the right digest.

use md5::{Digest, Md5};
use mogr_store::Md5Stream;

const MIB: usize = 1 << 20;
const STREAMS: usize = 16;
const BUFFERS_PER_STREAM: usize = 16;
const ROUNDS: usize = 5;

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let data: Vec<Vec<u8>> = (0..STREAMS)
        .map(|s| {
            (0..MIB)
                .map(|i| (i * 31 + s * 7 + i / 4099) as u8)
                .collect()
        })
        .collect();
    let want: Vec<[u8; 16]> = data
        .iter()
        .map(|d| {
            let mut h = Md5::new();
            for _ in 0..BUFFERS_PER_STREAM {
                h.update(d);
            }
            h.finalize().into()
        })
        .collect();
    let mib = (STREAMS * BUFFERS_PER_STREAM) as f64;
    let (mut single, mut lanes) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let c0 = cpu_seconds();
        for (d, want) in data.iter().zip(&want) {
            let mut h = Md5::new();
            for _ in 0..BUFFERS_PER_STREAM {
                h.update(d);
            }
            assert_eq!(<[u8; 16]>::from(h.finalize()), *want);
        }
        single.push((cpu_seconds() - c0) * 1000.0 / mib);

        let c0 = cpu_seconds();
        std::thread::scope(|scope| {
            for (d, want) in data.iter().zip(&want) {
                scope.spawn(move || {
                    let mut h = Md5Stream::new();
                    let mut buf = d.clone();
                    for _ in 0..BUFFERS_PER_STREAM {
                        buf = h.update_owned(buf);
                    }
                    assert_eq!(h.finalize(), *want);
                });
            }
        });
        lanes.push((cpu_seconds() - c0) * 1000.0 / mib);
    }
    let (s, l) = (median(single), median(lanes));
    println!("md-5, one stream at a time:        {s:.3} ms CPU per MiB");
    println!("Md5Stream, {STREAMS} streams at once:     {l:.3} ms CPU per MiB");
    println!("Md5Stream / md-5 CPU per MiB:       {:.2}x", l / s);
}
