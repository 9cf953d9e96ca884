//! What only the local-disk backend promises: state survives a reopen, on-disk names never
//! come from keys, failed writes leave nothing behind, and open sweeps dead writers' files.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use mogr_store::contract::{body, md5_hex, read_all};
use mogr_store::{
    Acl, CompletedPart, ListQuery, ListUploadsQuery, LocalStore, ObjectAttrs, PutOptions, Store,
    StoreError,
};

const BUCKET: &str = "photos-1250000000";

fn all_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out
}

fn staging_entries(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

fn all_keys() -> ListQuery {
    ListQuery {
        max_keys: 1000,
        ..ListQuery::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut attrs = ObjectAttrs {
        content_type: Some("image/png".into()),
        ..ObjectAttrs::default()
    };
    attrs.user_meta.insert("owner".into(), "ann".into());
    let (upload, part_etag) = {
        let store = LocalStore::open(dir.path()).unwrap();
        store.create_bucket(BUCKET, Acl::PublicRead).await.unwrap();
        let opts = PutOptions {
            attrs: attrs.clone(),
            content_md5: None,
            length: None,
        };
        store
            .put_object(BUCKET, "a/b.png", body(b"png bytes"), opts)
            .await
            .unwrap();
        store
            .put_object(BUCKET, "z", body(b"zzz"), PutOptions::default())
            .await
            .unwrap();
        store
            .put_object(BUCKET, "gone", body(b"x"), PutOptions::default())
            .await
            .unwrap();
        store.delete_object(BUCKET, "gone").await.unwrap();
        let upload = store
            .create_multipart(BUCKET, "mp", PutOptions::default())
            .await
            .unwrap();
        let part = store
            .upload_part(BUCKET, "mp", &upload, 1, body(b"part one"), None)
            .await
            .unwrap();
        (upload, part.etag)
    };

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(
        store.head_bucket(BUCKET).await.unwrap().acl,
        Acl::PublicRead
    );
    let page = store.list_objects(BUCKET, &all_keys()).await.unwrap();
    let listed: Vec<(&str, u64, &str)> = page
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o.size, o.etag.as_str()))
        .collect();
    let (png, zzz) = (md5_hex(b"png bytes"), md5_hex(b"zzz"));
    assert_eq!(
        listed,
        [("a/b.png", 9, png.as_str()), ("z", 3, zzz.as_str())]
    );
    let got = store.get_object(BUCKET, "a/b.png", None).await.unwrap();
    assert_eq!(got.meta.attrs, attrs);
    assert_eq!(read_all(got.body).await, b"png bytes");

    let listed = store
        .list_multipart_uploads(
            BUCKET,
            &ListUploadsQuery {
                max_uploads: 1000,
                ..ListUploadsQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        listed
            .uploads
            .iter()
            .map(|u| (u.key.as_str(), u.upload_id.as_str()))
            .collect::<Vec<_>>(),
        [("mp", upload.as_str())]
    );
    let parts = store.list_parts(BUCKET, "mp", &upload).await.unwrap();
    assert_eq!(parts.parts.len(), 1);
    let done = [CompletedPart {
        part_number: 1,
        etag: part_etag,
    }];
    store
        .complete_multipart(BUCKET, "mp", &upload, &done)
        .await
        .unwrap();
    let got = store.get_object(BUCKET, "mp", None).await.unwrap();
    assert_eq!(read_all(got.body).await, b"part one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_disk_names_never_contain_key_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    store.create_bucket(BUCKET, Acl::Private).await.unwrap();
    for key in ["canary", "canary/..canary", "dir/canary.txt", "..canary"] {
        store
            .put_object(BUCKET, key, body(b"x"), PutOptions::default())
            .await
            .unwrap();
    }
    let upload = store
        .create_multipart(BUCKET, "canary-mp", PutOptions::default())
        .await
        .unwrap();
    store
        .upload_part(BUCKET, "canary-mp", &upload, 1, body(b"p"), None)
        .await
        .unwrap();
    let files = all_files(dir.path());
    assert!(
        files.len() > 8,
        "expected object and upload files, found {files:?}"
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(
            !name.contains("canary"),
            "{} is named after a key",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_writes_leave_no_staged_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    store.create_bucket(BUCKET, Acl::Private).await.unwrap();
    let wrong = PutOptions {
        content_md5: Some([7; 16]),
        ..PutOptions::default()
    };
    let err = store.put_object(BUCKET, "k", body(b"data"), wrong).await;
    assert!(matches!(err, Err(StoreError::BadDigest)));
    let broken = Box::pin(futures::stream::iter(vec![
        Ok(Bytes::from_static(b"half")),
        Err(std::io::Error::other("cut")),
    ]));
    assert!(store
        .put_object(BUCKET, "k", broken, PutOptions::default())
        .await
        .is_err());
    let mut item = mogr_store::PutItem {
        bucket: BUCKET.into(),
        key: "b".into(),
        body: Bytes::from_static(b"b"),
        opts: PutOptions::default(),
    };
    let good = item.clone();
    item.opts.content_md5 = Some([0; 16]);
    assert!(mogr_store::contract::put_batch(&store, vec![good, item])
        .await
        .is_err());
    let upload = store
        .create_multipart(BUCKET, "m", PutOptions::default())
        .await
        .unwrap();
    let err = store
        .upload_part(BUCKET, "m", &upload, 1, body(b"p"), Some([1; 16]))
        .await;
    assert!(matches!(err, Err(StoreError::BadDigest)));
    assert_eq!(staging_entries(dir.path()), Vec::<PathBuf>::new());

    // Successful writes, deletes and aborts leave the staging area empty as well.
    store
        .put_object(BUCKET, "k", body(b"data"), PutOptions::default())
        .await
        .unwrap();
    store.abort_multipart(BUCKET, "m", &upload).await.unwrap();
    store.delete_object(BUCKET, "k").await.unwrap();
    store.delete_bucket(BUCKET).await.unwrap();
    assert_eq!(staging_entries(dir.path()), Vec::<PathBuf>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_sweeps_all_staging_and_skips_damaged_records() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = LocalStore::open(dir.path()).unwrap();
        store.create_bucket(BUCKET, Acl::Private).await.unwrap();
        store
            .put_object(BUCKET, "good", body(b"fine"), PutOptions::default())
            .await
            .unwrap();
        store
            .put_object(BUCKET, "bad", body(b"soon damaged"), PutOptions::default())
            .await
            .unwrap();
    }
    let tmp = dir.path().join("tmp");
    let old = tmp.join("0123.tmp");
    std::fs::write(&old, b"from a writer that died").unwrap();
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    // Written a moment ago, yet no writer can be alive: the data root has one process.
    let fresh = tmp.join("4567.tmp");
    std::fs::write(&fresh, b"left by a writer that died just now").unwrap();
    std::fs::create_dir_all(tmp.join("89ab.gone/objects")).unwrap();
    // Cut the trailer off one record, as a damaged disk might.
    let damaged = all_files(dir.path())
        .into_iter()
        .find(|p| {
            p.extension().is_some_and(|e| e == "obj")
                && std::fs::read(p).unwrap().starts_with(b"soon damaged")
        })
        .unwrap();
    std::fs::write(&damaged, b"soon damaged").unwrap();

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(staging_entries(dir.path()), Vec::<PathBuf>::new());
    let page = store.list_objects(BUCKET, &all_keys()).await.unwrap();
    assert_eq!(
        page.objects
            .iter()
            .map(|o| o.key.as_str())
            .collect::<Vec<_>>(),
        ["good"]
    );
    assert!(store.head_object(BUCKET, "bad").await.is_err());
    // The damaged key can be written again.
    store
        .put_object(BUCKET, "bad", body(b"new"), PutOptions::default())
        .await
        .unwrap();
    let got = store.get_object(BUCKET, "bad", None).await.unwrap();
    assert_eq!(read_all(got.body).await, b"new");
}

/// Hundreds of writes and deletes racing into one bucket while its index is compacted (the
/// compaction holds the bucket's gate and needs a blocking thread) all finish, on a blocking
/// pool barely larger than the number of writers allowed to wait for a gate: waiting writers
/// can never take every thread. Afterwards the listing, the bodies and a reopen agree.
#[test]
fn writers_waiting_for_a_gate_never_starve_its_holder() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(72)
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    runtime.block_on(async {
        use futures::StreamExt;
        let store = LocalStore::open(root.path()).unwrap();
        store.create_bucket(BUCKET, Acl::Private).await.unwrap();
        // 1,400 changes: past the 1,024 that start a compaction, 200 at a time.
        let work = futures::stream::iter(0..1400u32)
            .map(|i| {
                let store = &store;
                async move {
                    let key = format!("k{:03}", i % 300);
                    if i % 7 == 6 {
                        store.delete_object(BUCKET, &key).await
                    } else {
                        let data = format!("body {i}");
                        store
                            .put_object(BUCKET, &key, body(data.as_bytes()), PutOptions::default())
                            .await
                            .map(|_| ())
                    }
                }
            })
            .buffer_unordered(200)
            .collect::<Vec<_>>();
        let results = tokio::time::timeout(Duration::from_secs(120), work)
            .await
            .expect("writers and the compaction stalled each other");
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let listed = store.list_objects(BUCKET, &all_keys()).await.unwrap();
        for object in &listed.objects {
            let got = store.get_object(BUCKET, &object.key, None).await.unwrap();
            let bytes = read_all(got.body).await;
            assert_eq!(md5_hex(&bytes), object.etag, "{}", object.key);
            assert!(bytes.starts_with(b"body "));
        }
        drop(store);
        let reopened = LocalStore::open(root.path()).unwrap();
        let again = reopened.list_objects(BUCKET, &all_keys()).await.unwrap();
        let keys = |page: &mogr_store::ListPage| {
            page.objects
                .iter()
                .map(|o| (o.key.clone(), o.etag.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&listed), keys(&again));
    });
}
