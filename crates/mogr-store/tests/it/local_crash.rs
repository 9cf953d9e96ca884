//! Crashes in the middle of a multi-record commit of the local backend: the commit is stopped
//! at every point a dying process could stop it (`LocalStore::crash_at`), the store is
//! reopened as after a restart, and the batch must be there whole or not at all, with the
//! staging area and the journal empty and a completed upload gone for good.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use mogr_store::contract::{body, md5_hex, read_all};
use mogr_store::local::CrashPoint;
use mogr_store::{
    Acl, CompletedPart, ListQuery, ListUploadsQuery, LocalStore, PutItem, PutOptions, Store,
    StoreError,
};

const BUCKET: &str = "photos-1250000000";
const OTHER: &str = "thumbs-1250000000";

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// What a restart finds: the staging area swept, no intent left.
fn assert_clean(root: &Path) {
    assert_eq!(entries(&root.join("tmp")), Vec::<PathBuf>::new(), "staging");
    assert_eq!(
        entries(&root.join("journal")),
        Vec::<PathBuf>::new(),
        "journal"
    );
}

async fn bytes_of(store: &LocalStore, bucket: &str, key: &str) -> Option<Vec<u8>> {
    match store.get_object(bucket, key, None).await {
        Ok(got) => Some(read_all(got.body).await),
        Err(StoreError::NoSuchKey) => None,
        Err(e) => panic!("get {key}: {e}"),
    }
}

async fn listed(store: &LocalStore, bucket: &str) -> Vec<(String, String)> {
    let query = ListQuery {
        max_keys: 1000,
        ..ListQuery::default()
    };
    let page = store.list_objects(bucket, &query).await.unwrap();
    page.objects.into_iter().map(|o| (o.key, o.etag)).collect()
}

async fn uploads(store: &LocalStore, bucket: &str) -> Vec<String> {
    let query = ListUploadsQuery {
        max_uploads: 1000,
        ..ListUploadsQuery::default()
    };
    let page = store.list_multipart_uploads(bucket, &query).await.unwrap();
    page.uploads.into_iter().map(|u| u.upload_id).collect()
}

fn item(bucket: &str, key: &str, data: &'static [u8]) -> PutItem {
    PutItem {
        bucket: bucket.to_string(),
        key: key.to_string(),
        body: Bytes::from_static(data),
        opts: PutOptions::default(),
    }
}

/// A store with both buckets and an old version of `orig.jpg`.
async fn seeded(root: &Path) -> LocalStore {
    let store = LocalStore::open(root).unwrap();
    for bucket in [BUCKET, OTHER] {
        store.create_bucket(bucket, Acl::Private).await.unwrap();
    }
    store
        .put_object(
            BUCKET,
            "orig.jpg",
            body(b"old original"),
            PutOptions::default(),
        )
        .await
        .unwrap();
    store
}

/// Every point of a three-record batch: before the intent nothing is published; from the
/// intent on, everything is, byte for byte and in the index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_atomic_batch_survives_a_crash_whole_or_not_at_all() {
    let points = [CrashPoint::BeforeIntent]
        .into_iter()
        .chain((0..=3).map(CrashPoint::AfterSteps));
    for point in points {
        let dir = tempfile::tempdir().unwrap();
        let store = seeded(dir.path()).await;
        store.crash_at(point);
        // One record is one atomic rename: it takes no intent, so the crash point stays armed.
        store
            .put_object(BUCKET, "single", body(b"one"), PutOptions::default())
            .await
            .unwrap();
        let batch = vec![
            item(BUCKET, "orig.jpg", b"new original"),
            item(BUCKET, "thumb.png", b"thumb"),
            item(OTHER, "copy.webp", b"copy"),
        ];
        let crashed = mogr_store::contract::put_batch(&store, batch).await;
        assert!(crashed.is_err(), "{point:?}: the commit did not stop");
        drop(store);

        let store = LocalStore::open(dir.path()).unwrap();
        let published = point != CrashPoint::BeforeIntent;
        let (orig, thumb, copy) = match published {
            true => (
                &b"new original"[..],
                Some(&b"thumb"[..]),
                Some(&b"copy"[..]),
            ),
            false => (&b"old original"[..], None, None),
        };
        let got = (
            bytes_of(&store, BUCKET, "orig.jpg").await,
            bytes_of(&store, BUCKET, "thumb.png").await,
            bytes_of(&store, OTHER, "copy.webp").await,
        );
        let want = (
            Some(orig.to_vec()),
            thumb.map(<[u8]>::to_vec),
            copy.map(<[u8]>::to_vec),
        );
        assert_eq!(got, want, "{point:?}");
        let mut index = vec![
            ("orig.jpg".to_string(), md5_hex(orig)),
            ("single".to_string(), md5_hex(b"one")),
        ];
        if published {
            index.push(("thumb.png".to_string(), md5_hex(b"thumb")));
        }
        assert_eq!(listed(&store, BUCKET).await, index, "{point:?}");
        let other: Vec<(String, String)> = copy
            .map(|c| ("copy.webp".to_string(), md5_hex(c)))
            .into_iter()
            .collect();
        assert_eq!(listed(&store, OTHER).await, other, "{point:?}");
        assert_clean(dir.path());
    }
}

/// An upload of `photo.jpg` with one part, and its completion list.
async fn upload(store: &LocalStore, data: &[u8]) -> (String, Vec<CompletedPart>) {
    let id = store
        .create_multipart(BUCKET, "photo.jpg", PutOptions::default())
        .await
        .unwrap();
    let part = store
        .upload_part(BUCKET, "photo.jpg", &id, 1, body(data), None)
        .await
        .unwrap();
    let parts = vec![CompletedPart {
        part_number: 1,
        etag: part.etag,
    }];
    (id, parts)
}

/// Complete Multipart with two outputs crashes at every point (steps: the original, two
/// outputs, the upload's retirement). Before the intent the upload survives intact and can be
/// completed after the restart; from the intent on the original and both outputs are there
/// and the upload is gone, so a retried completion is `NoSuchUpload` and cannot overwrite a
/// newer PUT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_with_outputs_survives_a_crash_whole_or_not_at_all() {
    let points = [CrashPoint::BeforeIntent]
        .into_iter()
        .chain((0..=4).map(CrashPoint::AfterSteps));
    for point in points {
        let dir = tempfile::tempdir().unwrap();
        let store = seeded(dir.path()).await;
        let (id, parts) = upload(&store, b"assembled photo").await;
        let outputs = || {
            vec![
                item(BUCKET, "photo-small.png", b"small"),
                item(OTHER, "photo.webp", b"webp"),
            ]
        };
        store.crash_at(point);
        let crashed = mogr_store::contract::complete_with(
            &store,
            BUCKET,
            "photo.jpg",
            &id,
            &parts,
            true,
            outputs(),
        )
        .await;
        assert!(crashed.is_err(), "{point:?}: the commit did not stop");
        drop(store);

        let store = LocalStore::open(dir.path()).unwrap();
        let got = (
            bytes_of(&store, BUCKET, "photo.jpg").await,
            bytes_of(&store, BUCKET, "photo-small.png").await,
            bytes_of(&store, OTHER, "photo.webp").await,
        );
        if point == CrashPoint::BeforeIntent {
            assert_eq!(got, (None, None, None), "{point:?}");
            assert_eq!(uploads(&store, BUCKET).await, [id.as_str()], "{point:?}");
            let kept = store.list_parts(BUCKET, "photo.jpg", &id).await.unwrap();
            assert_eq!(kept.parts.len(), 1, "{point:?}: the parts must survive");
            // The client's retry after the restart succeeds.
            mogr_store::contract::complete_with(
                &store,
                BUCKET,
                "photo.jpg",
                &id,
                &parts,
                true,
                outputs(),
            )
            .await
            .unwrap();
        } else {
            let want = (
                Some(b"assembled photo".to_vec()),
                Some(b"small".to_vec()),
                Some(b"webp".to_vec()),
            );
            assert_eq!(got, want, "{point:?}");
            let keys: Vec<String> = listed(&store, BUCKET)
                .await
                .into_iter()
                .map(|e| e.0)
                .collect();
            assert_eq!(
                keys,
                ["orig.jpg", "photo-small.png", "photo.jpg"],
                "{point:?}"
            );
            assert_eq!(
                uploads(&store, BUCKET).await,
                Vec::<String>::new(),
                "{point:?}"
            );
        }
        assert!(matches!(
            store.list_parts(BUCKET, "photo.jpg", &id).await,
            Err(StoreError::NoSuchUpload)
        ));
        assert_clean(dir.path());

        // A newer PUT, then the client retries the completion it never saw answered.
        store
            .put_object(BUCKET, "photo.jpg", body(b"newer"), PutOptions::default())
            .await
            .unwrap();
        let retry = mogr_store::contract::complete_with(
            &store,
            BUCKET,
            "photo.jpg",
            &id,
            &parts,
            true,
            outputs(),
        )
        .await;
        assert!(
            matches!(retry, Err(StoreError::NoSuchUpload)),
            "{point:?}: {retry:?}"
        );
        drop(store);
        let store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(
            bytes_of(&store, BUCKET, "photo.jpg").await.as_deref(),
            Some(&b"newer"[..]),
            "{point:?}"
        );
        assert_clean(dir.path());
    }
}

/// The plain completion, crashed after publishing the object but before retiring the
/// upload: the restart finishes the retirement, so the retried Complete cannot write the old
/// parts over a newer PUT of the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_publishing_and_retiring_cannot_resurrect_the_upload() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path()).await;
    let (id, parts) = upload(&store, b"from the parts").await;
    store.crash_at(CrashPoint::AfterSteps(1));
    assert!(store
        .complete_multipart(BUCKET, "photo.jpg", &id, &parts)
        .await
        .is_err());
    drop(store);

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(
        bytes_of(&store, BUCKET, "photo.jpg").await.as_deref(),
        Some(&b"from the parts"[..])
    );
    assert_eq!(uploads(&store, BUCKET).await, Vec::<String>::new());
    assert_clean(dir.path());
    store
        .put_object(BUCKET, "photo.jpg", body(b"newer"), PutOptions::default())
        .await
        .unwrap();
    let retry = store
        .complete_multipart(BUCKET, "photo.jpg", &id, &parts)
        .await;
    assert!(matches!(retry, Err(StoreError::NoSuchUpload)), "{retry:?}");
    assert_eq!(
        bytes_of(&store, BUCKET, "photo.jpg").await.as_deref(),
        Some(&b"newer"[..])
    );
}

/// Commits that run to the end leave no intent behind, and an intent that cannot be read
/// stops the open rather than applying part of a batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_commits_leave_no_intent_and_a_damaged_one_stops_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path()).await;
    mogr_store::contract::put_batch(
        &store,
        vec![item(BUCKET, "a", b"a"), item(OTHER, "b", b"b")],
    )
    .await
    .unwrap();
    let (id, parts) = upload(&store, b"p").await;
    mogr_store::contract::complete_with(
        &store,
        BUCKET,
        "photo.jpg",
        &id,
        &parts,
        true,
        vec![item(BUCKET, "c", b"c")],
    )
    .await
    .unwrap();
    assert_clean(dir.path());
    drop(store);

    std::fs::write(dir.path().join("journal/0000.json"), b"{\"renames\": [").unwrap();
    let err = LocalStore::open(dir.path()).map(drop);
    assert!(
        matches!(&err, Err(StoreError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData),
        "{err:?}"
    );
}
