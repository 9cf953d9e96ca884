//! The backend contract suite against `S3Store` over a real engine: the 3-node Garage
//! cluster `scripts/garage.sh start` runs (scripts/test.sh starts it and exports its
//! `MOGR_S3_*` variables). Without those variables each check says so and passes.

use mogr_store::contract;
use mogr_store::s3::{EngineBuckets, S3Config, S3Store};

/// The engine from the environment, or `None` (with a note) when none was started.
fn engine_config() -> Option<S3Config> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(endpoint) = var("MOGR_S3_ENDPOINT") else {
        eprintln!(
            "skipped: no S3 engine (run `scripts/garage.sh start` and source the env file it \
             names, or scripts/test.sh, which does both)"
        );
        return None;
    };
    Some(S3Config {
        endpoint,
        region: var("MOGR_S3_REGION").unwrap_or_else(|| "garage".into()),
        bucket: var("MOGR_S3_BUCKET").expect("MOGR_S3_BUCKET"),
        access_key: var("MOGR_S3_ACCESS_KEY").expect("MOGR_S3_ACCESS_KEY"),
        secret_key: var("MOGR_S3_SECRET_KEY").expect("MOGR_S3_SECRET_KEY"),
        path_style: true,
        buckets: EngineBuckets::Prefixes,
        // Garage takes parts of any size.
        min_engine_part: 0,
    })
}

/// The same engine with every mogr bucket an engine bucket of its own.
fn per_bucket_config() -> Option<S3Config> {
    engine_config().map(|cfg| S3Config {
        buckets: EngineBuckets::PerBucket {
            name_prefix: "pb-".into(),
        },
        ..cfg
    })
}

macro_rules! s3_contract_test {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(cfg) = engine_config() else { return };
            let store = S3Store::open(cfg).await.expect("open the S3 store");
            contract::$name(&store).await;
        }
    )*};
}

/// Checks run again with one engine bucket per mogr bucket: objects, listings (keys come
/// back from another engine bucket), commits that copy across engine buckets, bucket
/// creation and deletion.
mod per_bucket {
    use super::*;

    macro_rules! per_bucket_test {
        ($($name:ident),* $(,)?) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(cfg) = per_bucket_config() else { return };
                let store = S3Store::open(cfg).await.expect("open the S3 store");
                contract::$name(&store).await;
            }
        )*};
    }

    per_bucket_test!(
        object_round_trip,
        ranges_return_exact_bytes,
        listing_prefix_delimiter_marker,
        staged_writes_wait_for_publish,
        multipart_with_outputs_commits_together,
        bucket_lifecycle,
    );
}

s3_contract_test!(
    object_round_trip,
    checksums_match_known_vectors,
    ranges_return_exact_bytes,
    overwrite_replaces_body_and_attrs,
    bad_digest_keeps_the_old_object,
    failed_stream_keeps_the_old_object,
    delete_object_semantics,
    missing_bucket_and_key,
    invalid_keys_are_rejected,
    unusual_valid_keys_round_trip,
    listing_orders_keys_by_bytes,
    listing_prefix_delimiter_marker,
    paging_visits_every_key_once,
    atomic_batch_is_all_or_nothing,
    staged_writes_wait_for_publish,
    multipart_complete,
    multipart_errors_and_abort,
    multipart_with_outputs_commits_together,
    multipart_with_failing_output_commits_nothing,
    multipart_outputs_may_replace_the_original,
    listing_multipart_uploads,
    concurrent_writers_never_mix,
    bucket_lifecycle,
    bucket_settings_round_trip,
);

/// A write acknowledged by one node is read at once through another node's store (each
/// with its own bucket cache), and bucket ACL changes reach the other node within the
/// cache time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_see_each_others_writes() {
    let Some(cfg) = engine_config() else { return };
    let a = S3Store::open(cfg.clone()).await.expect("node a");
    let b = S3Store::open(cfg).await.expect("node b");
    let bucket = contract::fresh_bucket(&a, "twonodes").await;
    use mogr_store::{Acl, PutOptions, Store};
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let put = a
        .put_object(&bucket, "k", contract::body(&data), PutOptions::default())
        .await
        .unwrap();
    let got = b.get_object(&bucket, "k", None).await.unwrap();
    assert_eq!(got.meta.etag, put.etag);
    assert_eq!(got.meta.crc64, contract::crc64(&data));
    assert_eq!(contract::read_all(got.body).await, data);
    assert_eq!(b.head_bucket(&bucket).await.unwrap().acl, Acl::Private);
    a.set_bucket_acl(&bucket, Acl::PublicRead).await.unwrap();
    tokio::time::sleep(mogr_store::s3::CACHE_TTL).await;
    assert_eq!(b.head_bucket(&bucket).await.unwrap().acl, Acl::PublicRead);
    // Parts of one upload through both nodes, completed through the first.
    let id = a
        .create_multipart(&bucket, "mp", PutOptions::default())
        .await
        .unwrap();
    let part1 = vec![1u8; 1024 * 1024];
    let part2 = b"tail".to_vec();
    let p1 = a
        .upload_part(&bucket, "mp", &id, 1, contract::body(&part1), None)
        .await
        .unwrap();
    let p2 = b
        .upload_part(&bucket, "mp", &id, 2, contract::body(&part2), None)
        .await
        .unwrap();
    let parts = [
        mogr_store::CompletedPart {
            part_number: 1,
            etag: p1.etag,
        },
        mogr_store::CompletedPart {
            part_number: 2,
            etag: p2.etag,
        },
    ];
    let done = a
        .complete_multipart(&bucket, "mp", &id, &parts)
        .await
        .unwrap();
    let whole = [part1, part2].concat();
    let got = b.get_object(&bucket, "mp", None).await.unwrap();
    assert_eq!(got.meta.etag, done.etag);
    assert!(done.etag.ends_with("-2"));
    assert_eq!(got.meta.crc64, contract::crc64(&whole));
    assert_eq!(contract::read_all(got.body).await, whole);
}

/// An engine that cannot be reached is "unavailable" (503 at the HTTP edge), promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_engine_is_unavailable() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = S3Config {
        endpoint: format!("http://127.0.0.1:{port}"),
        region: "garage".into(),
        bucket: "mogr".into(),
        access_key: "GK0".into(),
        secret_key: "0".into(),
        path_style: true,
        buckets: EngineBuckets::Prefixes,
        min_engine_part: 0,
    };
    match S3Store::open(cfg).await {
        Err(mogr_store::StoreError::Unavailable(_)) => {}
        Err(e) => panic!("expected Unavailable, got {e}"),
        Ok(_) => panic!("opened a store on a closed port"),
    }
}

/// With an engine minimum part size above COS's, small parts are joined into larger engine
/// parts: the object reads back byte for byte with the ETag and CRC-64 COS reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_parts_are_joined_for_engines_with_a_larger_minimum() {
    use mogr_store::contract::{body, crc64, fresh_bucket, md5_hex};
    use mogr_store::{CompletedPart, PutOptions, Store, MIN_PART_SIZE};

    let Some(cfg) = engine_config() else { return };
    let store = S3Store::open(S3Config {
        min_engine_part: 5 * 1024 * 1024,
        ..cfg
    })
    .await
    .expect("open");
    let bucket = fresh_bucket(&store, "joined").await;
    let id = store
        .create_multipart(&bucket, "big.bin", PutOptions::default())
        .await
        .unwrap();
    let parts: Vec<Vec<u8>> = (0..3u8)
        .map(|i| vec![i + 1; MIN_PART_SIZE as usize])
        .chain([b"tail".to_vec()])
        .collect();
    let mut done = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let number = i as u32 + 1;
        let info = store
            .upload_part(&bucket, "big.bin", &id, number, body(data), None)
            .await
            .unwrap();
        done.push(CompletedPart {
            part_number: number,
            etag: info.etag,
        });
    }
    let meta = store
        .complete_multipart(&bucket, "big.bin", &id, &done)
        .await
        .unwrap();
    let whole = parts.concat();
    let mut md5s = Vec::new();
    for data in &parts {
        md5s.extend(hex::decode(md5_hex(data)).unwrap());
    }
    assert_eq!(meta.etag, format!("{}-4", md5_hex(&md5s)));
    assert_eq!(meta.crc64, crc64(&whole));
    assert_eq!(read(&store, &bucket, "big.bin").await, Some(whole));
    assert_eq!(
        store.head_object(&bucket, "big.bin").await.unwrap().etag,
        meta.etag
    );
    store.delete_object(&bucket, "big.bin").await.unwrap();
    store.delete_bucket(&bucket).await.unwrap();
}

/// The body of `key`, or `None` when there is no such object.
async fn read(store: &S3Store, bucket: &str, key: &str) -> Option<Vec<u8>> {
    use mogr_store::{Store, StoreError};
    match store.get_object(bucket, key, None).await {
        Ok(got) => Some(mogr_store::contract::read_all(got.body).await),
        Err(StoreError::NoSuchKey) => None,
        Err(e) => panic!("{key}: {e}"),
    }
}

/// A node that dies right after writing a commit's record (before any copy) leaves nothing
/// visible; the sweep of another node then publishes the whole commit, except over an
/// object a client wrote after the commit's objects were staged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_commit_is_finished_by_another_nodes_sweep() {
    use mogr_store::contract::{body, fresh_bucket};
    use mogr_store::{PutOptions, Store};
    use std::time::Duration;

    let Some(cfg) = engine_config() else { return };
    let dying = S3Store::open(cfg.clone()).await.expect("node a");
    let bucket = fresh_bucket(&dying, "sweep").await;
    let put = |key: &'static str, data: &'static [u8]| {
        dying.put_object(&bucket, key, body(data), PutOptions::default())
    };
    put("photo.jpg", b"old").await.unwrap();
    dying.crash_after_commit_record();
    let mut stage = dying.stage();
    for (key, data) in [
        ("photo.jpg", &b"new original"[..]),
        ("thumb.png", b"thumb"),
        ("later.png", b"staged first"),
    ] {
        stage
            .put(&bucket, key, body(data), PutOptions::default())
            .await
            .unwrap();
    }
    assert!(stage.publish().await.is_err(), "the commit did not stop");
    assert_eq!(
        read(&dying, &bucket, "photo.jpg").await.as_deref(),
        Some(&b"old"[..])
    );
    assert_eq!(read(&dying, &bucket, "thumb.png").await, None);
    // Written by a client after the commit staged its own version.
    tokio::time::sleep(Duration::from_millis(5)).await;
    put("later.png", b"written later").await.unwrap();
    drop(dying);

    // A grace long enough that the other checks' live commits are never swept here.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let other = S3Store::open(cfg).await.expect("node b");
    let swept = other
        .sweep(Duration::from_secs(3), Duration::from_secs(3600))
        .await
        .expect("sweep");
    assert!(swept.commits >= 1, "{swept:?}");
    assert_eq!(
        read(&other, &bucket, "photo.jpg").await.as_deref(),
        Some(&b"new original"[..])
    );
    assert_eq!(
        read(&other, &bucket, "thumb.png").await.as_deref(),
        Some(&b"thumb"[..])
    );
    assert_eq!(
        read(&other, &bucket, "later.png").await.as_deref(),
        Some(&b"written later"[..]),
        "the sweep overwrote a newer object"
    );
    for key in ["photo.jpg", "thumb.png", "later.png"] {
        other.delete_object(&bucket, key).await.unwrap();
    }
    let left = other
        .list_objects(
            &bucket,
            &mogr_store::ListQuery {
                prefix: String::new(),
                delimiter: String::new(),
                marker: String::new(),
                max_keys: 10,
            },
        )
        .await
        .unwrap();
    // Garage may still list a key for a moment after its delete: a listed key counts as left
    // behind only if it still answers HEAD (as delete_bucket judges emptiness).
    let mut left_behind = Vec::new();
    for object in left.objects {
        if other.head_object(&bucket, &object.key).await.is_ok() {
            left_behind.push(object.key);
        }
    }
    assert!(left_behind.is_empty(), "left behind: {left_behind:?}");
    other.delete_bucket(&bucket).await.unwrap();
}
