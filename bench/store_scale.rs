//! The local store at scale: fill a data folder with many small objects through the `Store`
//! API (no HTTP), then time opening it with its persisted index against a full rebuild from
//! the records, which is what every start did before the index was persisted.
//!
//! ```text
//! cargo build --release -p mogr-store --example store_scale
//! eatmydata target/release/examples/store_scale fill DATA BUCKET 1000000   # fsync off: fast
//! sync
//! target/release/examples/store_scale open DATA      # 3 opens with the index, median
//! target/release/examples/store_scale rebuild DATA   # 3 opens with the index removed, median
//! ```
//! `fill` writes keys `photos/<group>/<n>.jpg` in `--groups` folders (default 150), the shape
//! that made delimiter listings slow; run under `eatmydata` it skips the syncs, which would
//! otherwise make a million objects take hours, and `sync` afterwards makes them durable.

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
        "usage: store_scale fill DATA BUCKET COUNT [--groups N] [--start N]\n       \
         store_scale open DATA | rebuild DATA"
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
        Some("open") if args.len() == 2 => time_opens(Path::new(&args[1]), false),
        Some("rebuild") if args.len() == 2 => time_opens(Path::new(&args[1]), true),
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

/// Time three opens (median), each followed by a listing so the index is known to be whole.
fn time_opens(root: &Path, rebuild: bool) {
    let mut times = Vec::new();
    let mut keys = 0;
    for _ in 0..3 {
        if rebuild {
            for dir in index_dirs(root) {
                std::fs::remove_dir_all(&dir).unwrap_or_else(|e| fail(&e.to_string()));
            }
        }
        let began = Instant::now();
        let store = LocalStore::open(root).unwrap_or_else(|e| fail(&e.to_string()));
        times.push(began.elapsed());
        keys = count_keys(&store);
        drop(store);
    }
    let first = times[0];
    times.sort();
    let what = if rebuild {
        "rebuild from records"
    } else {
        "snapshot + log"
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "open ({what}): median {:.0} ms (first {:.0}, min {:.0}, max {:.0}) for {keys} objects",
        ms(times[1]),
        ms(first),
        ms(times[0]),
        ms(times[2])
    );
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
