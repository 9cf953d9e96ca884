//! Bucket settings (styles) on the local disk: they survive a reopen, a damaged file fails the
//! open instead of silently dropping the styles, and no staged file is left behind.

use mogr_store::{Acl, BucketSettings, LocalStore, Store};

const BUCKET: &str = "styled-1250000000";

fn settings() -> BucketSettings {
    let mut s = BucketSettings::default();
    s.styles
        .insert("thumb".into(), "imageMogr2/thumbnail/64x".into());
    s.style_separators = "!".into();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = LocalStore::open(dir.path()).unwrap();
        store.create_bucket(BUCKET, Acl::Private).await.unwrap();
        store.put_bucket_settings(BUCKET, settings()).await.unwrap();
    }
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.bucket_settings(BUCKET).await.unwrap(), settings());
    let staged: Vec<_> = std::fs::read_dir(dir.path().join("tmp")).unwrap().collect();
    assert!(staged.is_empty(), "{staged:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_settings_file_fails_the_open_loudly() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = LocalStore::open(dir.path()).unwrap();
        store.create_bucket(BUCKET, Acl::Private).await.unwrap();
        store.put_bucket_settings(BUCKET, settings()).await.unwrap();
    }
    let file = dir
        .path()
        .join("buckets")
        .join(BUCKET)
        .join("settings.json");
    std::fs::write(&file, b"{\"styles\": {\"thumb\": ").unwrap();
    let err = LocalStore::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains("settings.json"), "{err}");
}
