//! The local backend's persisted key index and upload index: a restart loads the snapshot and
//! its log instead of reading every record, a damaged snapshot falls back to the records,
//! listings are the same before and after, and unfinished uploads expire.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mogr_store::contract::body;
use mogr_store::{
    Acl, ListQuery, ListUploadsQuery, LocalStore, PutOptions, Store, StoreError, UploadSummary,
};

const BUCKET: &str = "scale-1250000000";

/// Every page of a listing, as (keys, common prefixes), following the markers.
async fn all_pages(store: &LocalStore, prefix: &str, delimiter: &str, max: usize) -> Vec<String> {
    let mut query = ListQuery {
        prefix: prefix.into(),
        delimiter: delimiter.into(),
        marker: String::new(),
        max_keys: max,
    };
    let mut seen = Vec::new();
    loop {
        let page = store.list_objects(BUCKET, &query).await.unwrap();
        for object in &page.objects {
            seen.push(format!("{} {} {}", object.key, object.size, object.etag));
        }
        seen.extend(page.common_prefixes.iter().map(|p| format!("prefix {p}")));
        match page.next_marker {
            Some(marker) => query.marker = marker,
            None => return seen,
        }
    }
}

/// Several listings a user would make, for comparing before and after a restart.
async fn listings(store: &LocalStore) -> Vec<Vec<String>> {
    vec![
        all_pages(store, "", "", 1000).await,
        all_pages(store, "", "/", 7).await,
        all_pages(store, "photos/", "/", 3).await,
        all_pages(store, "photos/a/", "", 5).await,
    ]
}

/// A store with objects in folders, some overwritten and some deleted.
async fn filled(root: &Path) -> LocalStore {
    let store = LocalStore::open(root).unwrap();
    store.create_bucket(BUCKET, Acl::Private).await.unwrap();
    for i in 0..60u32 {
        let key = format!("photos/{}/{i:03}.jpg", ["a", "b", "c"][i as usize % 3]);
        let data = format!("body {i}");
        store
            .put_object(BUCKET, &key, body(data.as_bytes()), PutOptions::default())
            .await
            .unwrap();
    }
    for i in 0..10u32 {
        let key = format!("top-{i}");
        store
            .put_object(BUCKET, &key, body(b"x"), PutOptions::default())
            .await
            .unwrap();
    }
    store
        .put_object(BUCKET, "top-3", body(b"replaced"), PutOptions::default())
        .await
        .unwrap();
    store.delete_object(BUCKET, "top-4").await.unwrap();
    store
        .delete_object(BUCKET, "photos/b/001.jpg")
        .await
        .unwrap();
    store
}

fn index_dir(root: &Path) -> PathBuf {
    root.join("buckets").join(BUCKET).join("index")
}

/// A record placed behind the store's back: only a rebuild from the records lists it.
async fn plant_stray_record(root: &Path) {
    let other = tempfile::tempdir().unwrap();
    let store = LocalStore::open(other.path()).unwrap();
    store.create_bucket(BUCKET, Acl::Private).await.unwrap();
    store
        .put_object(BUCKET, "stray", body(b"s"), PutOptions::default())
        .await
        .unwrap();
    drop(store);
    let from = other.path().join("buckets").join(BUCKET).join("objects");
    let to = root.join("buckets").join(BUCKET).join("objects");
    copy_tree(&from, &to);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_restart_loads_the_persisted_index_and_lists_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled(dir.path()).await;
    let before = listings(&store).await;
    assert_eq!(before[0].len(), 68);
    drop(store);

    plant_stray_record(dir.path()).await;
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(listings(&store).await, before);
    // Loaded from the snapshot and log, not from the records, which now hold one more.
    assert!(store.head_object(BUCKET, "stray").await.is_ok());
    assert!(!before[0].iter().any(|line| line.starts_with("stray ")));
    drop(store);

    // Opened again without any change in between: still the same.
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(listings(&store).await, before);
}

#[tokio::test]
async fn a_torn_or_missing_snapshot_is_rebuilt_from_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled(dir.path()).await;
    let before = listings(&store).await;
    drop(store);
    let snapshot = index_dir(dir.path()).join("snapshot");
    let bytes = std::fs::read(&snapshot).unwrap();
    std::fs::write(&snapshot, &bytes[..bytes.len() / 2]).unwrap();

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(listings(&store).await, before);
    // The rebuild wrote a whole snapshot again.
    assert!(std::fs::read(&snapshot).unwrap().len() > bytes.len() / 2);
    drop(store);

    std::fs::remove_dir_all(index_dir(dir.path())).unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(listings(&store).await, before);
}

#[tokio::test]
async fn a_process_that_died_loses_nothing_from_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled(dir.path()).await;
    let before = listings(&store).await;
    // As a killed process: no clean close, so the log is neither synced nor sealed...
    std::mem::forget(store);
    // ...and its last line may be cut short.
    let (_, log) = std::fs::read_dir(index_dir(dir.path()))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            name.starts_with("log-").then_some((name, p))
        })
        .max()
        .unwrap();
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(b"{\"put\":[{\"k\":\"half");
    std::fs::write(&log, bytes).unwrap();

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(listings(&store).await, before);
    let got = store.get_object(BUCKET, "top-3", None).await.unwrap();
    assert_eq!(mogr_store::contract::read_all(got.body).await, b"replaced");
}

#[tokio::test]
async fn many_changes_fold_into_a_new_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    store.create_bucket(BUCKET, Acl::Private).await.unwrap();
    // Past the smallest log that is folded into a snapshot.
    let keys: Vec<String> = (0..1100).map(|i| format!("k/{i:05}")).collect();
    for chunk in keys.chunks(550) {
        let items = chunk
            .iter()
            .map(|key| mogr_store::PutItem {
                bucket: BUCKET.into(),
                key: key.clone(),
                body: bytes::Bytes::from_static(b"v"),
                opts: PutOptions::default(),
            })
            .collect();
        mogr_store::contract::put_batch(&store, items)
            .await
            .unwrap();
    }
    for i in 0..20 {
        store
            .put_object(
                BUCKET,
                &format!("after/{i}"),
                body(b"a"),
                PutOptions::default(),
            )
            .await
            .unwrap();
    }
    let before = all_pages(&store, "", "", 1000).await;
    assert_eq!(before.len(), 1120);
    // The snapshot is written in the background; wait for it to be folded in.
    let deadline = Instant::now() + Duration::from_secs(30);
    while logs(dir.path()).len() != 1 || logs(dir.path())[0].ends_with("log-0000000000000000") {
        assert!(
            Instant::now() < deadline,
            "no new snapshot: {:?}",
            logs(dir.path())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::mem::forget(store);
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(all_pages(&store, "", "", 1000).await, before);
}

fn logs(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(index_dir(root))
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str().map(str::to_string))
        .filter(|n| n.starts_with("log-"))
        .collect();
    names.sort();
    names
}

async fn all_uploads(store: &LocalStore, max: usize) -> Vec<(String, String)> {
    let mut query = ListUploadsQuery {
        max_uploads: max,
        ..ListUploadsQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = store.list_multipart_uploads(BUCKET, &query).await.unwrap();
        assert!(page.common_prefixes.is_empty());
        seen.extend(
            page.uploads
                .iter()
                .map(|u: &UploadSummary| (u.key.clone(), u.upload_id.clone())),
        );
        if !page.is_truncated {
            return seen;
        }
        query.key_marker = page.next_key_marker.unwrap();
        query.upload_id_marker = page.next_upload_id_marker.unwrap_or_default();
    }
}

#[tokio::test]
async fn open_uploads_are_listed_in_pages_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    store.create_bucket(BUCKET, Acl::Private).await.unwrap();
    let mut expected = Vec::new();
    for i in 0..23 {
        let key = format!("video/{}", i % 5);
        let id = store
            .create_multipart(BUCKET, &key, PutOptions::default())
            .await
            .unwrap();
        expected.push((key, id));
    }
    // One completed and one aborted: neither is listed any more.
    let (done_key, done_id) = expected.remove(3);
    let part = store
        .upload_part(BUCKET, &done_key, &done_id, 1, body(b"p"), None)
        .await
        .unwrap();
    let parts = [mogr_store::CompletedPart {
        part_number: 1,
        etag: part.etag,
    }];
    store
        .complete_multipart(BUCKET, &done_key, &done_id, &parts)
        .await
        .unwrap();
    let (gone_key, gone_id) = expected.remove(7);
    store
        .abort_multipart(BUCKET, &gone_key, &gone_id)
        .await
        .unwrap();
    expected.sort();
    assert_eq!(all_uploads(&store, 4).await, expected);
    assert_eq!(all_uploads(&store, 1000).await, expected);
    drop(store);

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(all_uploads(&store, 6).await, expected);
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(list) => list.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn old_uploads_expire_with_their_parts_and_young_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    store.create_bucket(BUCKET, Acl::Private).await.unwrap();
    let id = store
        .create_multipart(BUCKET, "big.bin", PutOptions::default())
        .await
        .unwrap();
    store
        .upload_part(BUCKET, "big.bin", &id, 1, body(&[7u8; 4096]), None)
        .await
        .unwrap();
    // Younger than an hour: kept.
    assert_eq!(store.expire_uploads(Duration::from_secs(3600)).await, 0);
    assert_eq!(all_uploads(&store, 10).await.len(), 1);

    // The background sweep with a tiny age aborts it.
    let sweeper = store.spawn_upload_expiry(Duration::from_secs(1));
    let deadline = Instant::now() + Duration::from_secs(15);
    while !all_uploads(&store, 10).await.is_empty() {
        assert!(Instant::now() < deadline, "the upload did not expire");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sweeper.abort();
    let err = store
        .upload_part(BUCKET, "big.bin", &id, 2, body(b"late"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NoSuchUpload), "{err:?}");
    let uploads_dir = dir.path().join("buckets").join(BUCKET).join("uploads");
    assert_eq!(entries(&uploads_dir), Vec::<PathBuf>::new(), "uploads");
    // The aborted upload's tree is moved into staging and deleted just after the upload
    // leaves the listing.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !entries(&dir.path().join("tmp")).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        entries(&dir.path().join("tmp")),
        Vec::<PathBuf>::new(),
        "staging"
    );
    // Nothing of it comes back after a restart, and the bucket can now be deleted.
    drop(store);
    let store = LocalStore::open(dir.path()).unwrap();
    assert!(all_uploads(&store, 10).await.is_empty());
    store.delete_bucket(BUCKET).await.unwrap();
}
