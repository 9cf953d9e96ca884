//! The local store at scale: fill a data folder with many small objects through the `Store`
//! API (no HTTP), then time opening it with its persisted index against a full rebuild from
//! the records, which is what every start did before the index was persisted.
//!
//! ```text
//! cargo build --release -p mogr-store --example store_scale
//! target/release/examples/store_scale fill-raw DATA BUCKET 1000000   # record files directly
//! target/release/examples/store_scale rebuild DATA   # 3 opens with the index removed, median
//! target/release/examples/store_scale open DATA      # 3 opens with the index, median
//! eatmydata target/release/examples/store_scale fill DATA BUCKET 10000   # through put_object
//! ```
//! Both fills write keys `photos/<group>/<n>.jpg` in `--groups` folders (default 150), the
//! shape that made delimiter listings slow. `fill` goes through `Store::put_object` (run it
//! under `eatmydata`, or the syncs make a million objects take hours); `fill-raw` writes the
//! same record files the store writes (body, JSON trailer, length, tag) straight into place,
//! thirty times faster, and removes the bucket's index so the next open rebuilds it from the
//! records, as every open did before the index was persisted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use mogr_store::{Acl, ListQuery, LocalStore, PutOptions, Store, StoreError};

/// Puts in flight while filling.
const CONCURRENCY: usize = 64;

fn usage() -> ! {
    eprintln!(
        "usage: store_scale fill|fill-raw DATA BUCKET COUNT [--groups N] [--start N]\n       \
         store_scale open|rebuild DATA [--runs N]"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| fail(&e.to_string()));
    match args.first().map(String::as_str) {
        Some("fill") if args.len() >= 4 => {
            let count = args[3].parse().unwrap_or_else(|_| usage());
            let groups = flag(&args, "--groups").unwrap_or(150);
            let start = flag(&args, "--start").unwrap_or(0);
            runtime.block_on(fill(Path::new(&args[1]), &args[2], start, count, groups));
        }
        Some("fill-raw") if args.len() >= 4 => {
            let count = args[3].parse().unwrap_or_else(|_| usage());
            let groups = flag(&args, "--groups").unwrap_or(150);
            runtime.block_on(fill_raw(Path::new(&args[1]), &args[2], count, groups));
        }
        Some("open") if args.len() >= 2 => time_opens(
            Path::new(&args[1]),
            false,
            flag(&args, "--runs").unwrap_or(3),
        ),
        Some("rebuild") if args.len() >= 2 => time_opens(
            Path::new(&args[1]),
            true,
            flag(&args, "--runs").unwrap_or(3),
        ),
        _ => usage(),
    }
}

fn flag(args: &[String], name: &str) -> Option<u64> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

/// The key of object `n`.
fn key_of(n: u64, groups: u64) -> String {
    format!("photos/{:04}/{n:09}.jpg", n % groups.max(1))
}

async fn fill(root: &Path, bucket: &str, start: u64, count: u64, groups: u64) {
    let root = root.to_path_buf();
    let store = tokio::task::spawn_blocking(move || LocalStore::open(root))
        .await
        .unwrap_or_else(|e| fail(&e.to_string()))
        .unwrap_or_else(|e| fail(&e.to_string()));
    let store = Arc::new(store);
    match store.create_bucket(bucket, Acl::Private).await {
        Ok(()) | Err(StoreError::BucketAlreadyExists) => {}
        Err(e) => fail(&e.to_string()),
    }
    let began = Instant::now();
    let done = Arc::new(AtomicU64::new(0));
    let puts = futures::stream::iter(start..start + count).map(|n| {
        let (store, done) = (store.clone(), done.clone());
        let bucket = bucket.to_string();
        async move {
            let key = key_of(n, groups);
            let body = mogr_store::contract::body(format!("object {n}\n").as_bytes());
            if let Err(e) = store
                .put_object(&bucket, &key, body, PutOptions::default())
                .await
            {
                fail(&format!("put {key}: {e}"));
            }
            let total = done.fetch_add(1, Ordering::Relaxed) + 1;
            if total % 100_000 == 0 {
                eprintln!("{total} objects, {:.0} s", began.elapsed().as_secs_f64());
            }
        }
    });
    puts.buffer_unordered(CONCURRENCY).collect::<()>().await;
    let secs = began.elapsed().as_secs_f64();
    println!(
        "filled {count} objects in {secs:.1} s ({:.0}/s)",
        count as f64 / secs
    );
}

/// Write `count` record files in the store's on-disk format directly, without syncs, then
/// drop the bucket's index so the next open rebuilds it from them.
async fn fill_raw(root: &Path, bucket: &str, count: u64, groups: u64) {
    use md5::{Digest, Md5};
    use sha1::Sha1;
    let opened = root.to_path_buf();
    let store = tokio::task::spawn_blocking(move || LocalStore::open(opened))
        .await
        .unwrap_or_else(|e| fail(&e.to_string()))
        .unwrap_or_else(|e| fail(&e.to_string()));
    match store.create_bucket(bucket, Acl::Private).await {
        Ok(()) | Err(StoreError::BucketAlreadyExists) => {}
        Err(e) => fail(&e.to_string()),
    }
    drop(store);
    let began = Instant::now();
    let objects = root.join("buckets").join(bucket).join("objects");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let write = |n: u64| -> std::io::Result<()> {
        let key = key_of(n, groups);
        let body = format!("object {n}\n").into_bytes();
        let trailer = serde_json::json!({
            "key": key,
            "size": body.len(),
            "etag": hex::encode(Md5::digest(&body)),
            "crc64": mogr_store::crc64(&body),
            "mtime_secs": now.as_secs(),
            "mtime_nanos": now.subsec_nanos(),
        });
        let trailer = serde_json::to_vec(&trailer)?;
        let mut record = body;
        record.extend_from_slice(&trailer);
        record.extend_from_slice(&(trailer.len() as u32).to_be_bytes());
        record.extend_from_slice(b"MOGRREC1");
        let name = hex::encode(Sha1::digest(key.as_bytes()));
        let dir = objects.join(&name[0..2]).join(&name[2..4]);
        let path = dir.join(format!("{name}.obj"));
        match std::fs::write(&path, &record) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&dir)?;
                std::fs::write(&path, &record)
            }
            other => other,
        }
    };
    for n in 0..count {
        write(n).unwrap_or_else(|e| fail(&e.to_string()));
        if (n + 1) % 100_000 == 0 {
            eprintln!("{} records, {:.0} s", n + 1, began.elapsed().as_secs_f64());
        }
    }
    for dir in index_dirs(root) {
        std::fs::remove_dir_all(&dir).unwrap_or_else(|e| fail(&e.to_string()));
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "wrote {count} records in {secs:.1} s ({:.0}/s)",
        count as f64 / secs
    );
}

/// Every bucket's index directory.
fn index_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join("buckets")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("index"))
        .filter(|p| p.is_dir())
        .collect()
}

/// Time `runs` opens (median), each followed by a listing so the index is known to be whole.
fn time_opens(root: &Path, rebuild: bool, runs: u64) {
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut keys = 0;
    for _ in 0..runs.max(1) {
        if rebuild {
            for dir in index_dirs(root) {
                std::fs::remove_dir_all(&dir).unwrap_or_else(|e| fail(&e.to_string()));
            }
        }
        let began = Instant::now();
        let cpu_before = cpu_seconds();
        let store = LocalStore::open(root).unwrap_or_else(|e| fail(&e.to_string()));
        times.push(began.elapsed());
        cpu.push(cpu_seconds() - cpu_before);
        keys = count_keys(&store);
        drop(store);
    }
    let first = times[0];
    times.sort();
    cpu.sort_by(f64::total_cmp);
    let what = if rebuild {
        "rebuild from records"
    } else {
        "snapshot + log"
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "open ({what}): median {:.0} ms (first {:.0}, min {:.0}, max {:.0}) for {keys} objects",
        ms(times[times.len() / 2]),
        ms(first),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
    // CPU time does not depend on how busy a shared machine is.
    println!(
        "  CPU time of open: median {:.0} ms",
        cpu[cpu.len() / 2] * 1000.0
    );
}

/// User and system CPU seconds this process has used (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime, in clock ticks of 1/100 s on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// Objects in every bucket, paging through the listing.
fn count_keys(store: &LocalStore) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    runtime.block_on(async {
        let mut total = 0;
        let buckets = store
            .list_buckets()
            .await
            .unwrap_or_else(|e| fail(&e.to_string()));
        for bucket in buckets {
            let mut query = ListQuery {
                max_keys: 1000,
                ..ListQuery::default()
            };
            loop {
                let page = store
                    .list_objects(&bucket.name, &query)
                    .await
                    .unwrap_or_else(|e| fail(&e.to_string()));
                total += page.objects.len() as u64;
                match page.next_marker {
                    Some(marker) => query.marker = marker,
                    None => break,
                }
            }
        }
        total
    })
}
