//! The backend contract suite against `LocalStore`, one test per check so failures point at
//! the behaviour and checks run in parallel.

use mogr_store::{contract, LocalStore};

macro_rules! contract_test {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::open(dir.path()).unwrap();
            contract::$name(&store).await;
        }
    )*};
}

contract_test!(
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

/// All checks sharing one store, as a backend with a single shared namespace runs them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_on_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    contract::run_all(&store).await;
}
