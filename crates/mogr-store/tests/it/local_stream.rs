//! A 100 MB object streams through `LocalStore` chunk by chunk.

use mogr_store::{contract, LocalStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_megabytes_stream_in_and_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    contract::large_object_streams(&store, 100 * 1024 * 1024).await;
}
