//! The backend contract suite: behaviour every [`Store`] must have. A backend's tests call
//! [`run_all`] (or single checks) against a fresh store; each check makes its own buckets with
//! random names, so checks may share one store and run concurrently. Checks panic on failure.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use md5::{Digest, Md5};

use crate::types::{
    Acl, BucketSettings, ByteRange, ByteStream, CompletedPart, CompletedUpload, GetObject,
    ListPage, ListQuery, ListUploadsPage, ListUploadsQuery, ObjectAttrs, ObjectMeta, PutItem,
    PutOptions, MAX_KEY_LEN, MIN_PART_SIZE,
};
use crate::{Stage, Store, StoreError};

/// CRC-64/XZ as COS computes `x-cos-hash-crc64ecma`.
static CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_XZ);

/// Smallest part S3-compatible engines accept for all but the last part.
const MIN_PART: usize = 5 * 1024 * 1024;

/// Run every check except [`large_object_streams`] (which is slow; call it separately).
pub async fn run_all(store: &dyn Store) {
    object_round_trip(store).await;
    checksums_match_known_vectors(store).await;
    ranges_return_exact_bytes(store).await;
    overwrite_replaces_body_and_attrs(store).await;
    bad_digest_keeps_the_old_object(store).await;
    failed_stream_keeps_the_old_object(store).await;
    delete_object_semantics(store).await;
    missing_bucket_and_key(store).await;
    invalid_keys_are_rejected(store).await;
    unusual_valid_keys_round_trip(store).await;
    listing_orders_keys_by_bytes(store).await;
    listing_prefix_delimiter_marker(store).await;
    paging_visits_every_key_once(store).await;
    atomic_batch_is_all_or_nothing(store).await;
    staged_writes_wait_for_publish(store).await;
    multipart_complete(store).await;
    multipart_errors_and_abort(store).await;
    multipart_with_outputs_commits_together(store).await;
    multipart_with_failing_output_commits_nothing(store).await;
    multipart_outputs_may_replace_the_original(store).await;
    listing_multipart_uploads(store).await;
    concurrent_writers_never_mix(store).await;
    bucket_lifecycle(store).await;
    bucket_settings_round_trip(store).await;
}

// ---------------------------------------------------------------------------------------
// helpers

/// A stream yielding `data` in chunks of `chunk` bytes.
pub fn chunked(data: &[u8], chunk: usize) -> ByteStream {
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

/// A one-chunk stream.
pub fn body(data: &[u8]) -> ByteStream {
    chunked(data, data.len())
}

/// Collect a stream.
pub async fn read_all(mut stream: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("body stream failed"));
    }
    out
}

/// MD5 hex.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// CRC-64/XZ.
pub fn crc64(data: &[u8]) -> u64 {
    CRC64.checksum(data)
}

/// Create a bucket named after `label` with a random part, so runs never collide.
pub async fn fresh_bucket(store: &dyn Store, label: &str) -> String {
    let salt: [u8; 4] = rand::random();
    let name = format!("ct-{label}-{}-1250000000", hex::encode(salt));
    store
        .create_bucket(&name, Acl::Private)
        .await
        .unwrap_or_else(|e| panic!("create bucket {name}: {e}"));
    name
}

async fn put(store: &dyn Store, bucket: &str, key: &str, data: &[u8]) -> ObjectMeta {
    store
        .put_object(bucket, key, body(data), PutOptions::default())
        .await
        .unwrap_or_else(|e| panic!("put {key:?}: {e}"))
}

async fn get(store: &dyn Store, bucket: &str, key: &str) -> (ObjectMeta, Vec<u8>) {
    let got = store
        .get_object(bucket, key, None)
        .await
        .unwrap_or_else(|e| panic!("get {key:?}: {e}"));
    assert_eq!(got.range, None, "a GET without a range returned one");
    (got.meta, read_all(got.body).await)
}

fn query(prefix: &str, delimiter: &str, marker: &str, max_keys: usize) -> ListQuery {
    ListQuery {
        prefix: prefix.into(),
        delimiter: delimiter.into(),
        marker: marker.into(),
        max_keys,
    }
}

async fn list(store: &dyn Store, bucket: &str, q: ListQuery) -> ListPage {
    store
        .list_objects(bucket, &q)
        .await
        .unwrap_or_else(|e| panic!("list {q:?}: {e}"))
}

fn keys(page: &ListPage) -> Vec<&str> {
    page.objects.iter().map(|o| o.key.as_str()).collect()
}

fn rich_attrs() -> ObjectAttrs {
    ObjectAttrs {
        content_type: Some("image/jpeg".into()),
        content_disposition: Some("attachment; filename=\"a b.jpg\"".into()),
        content_encoding: Some("identity".into()),
        cache_control: Some("max-age=600".into()),
        expires: Some("Thu, 01 Dec 2044 16:00:00 GMT".into()),
        user_meta: BTreeMap::from([
            ("author".to_string(), "mogr".to_string()),
            ("x-y".to_string(), "1 2 3".to_string()),
        ]),
    }
}

/// Deterministic bytes that differ per `seed` and per position.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(u32::from(seed % 31)) as u8
                ^ seed
        })
        .collect()
}

fn same_object(a: &ObjectMeta, b: &ObjectMeta) {
    assert_eq!(a.key, b.key);
    assert_eq!(a.size, b.size, "size of {}", a.key);
    assert_eq!(a.etag, b.etag, "etag of {}", a.key);
    assert_eq!(a.crc64, b.crc64, "crc64 of {}", a.key);
    assert_eq!(a.attrs, b.attrs, "attrs of {}", a.key);
}

// ---------------------------------------------------------------------------------------
// stages of in-memory objects (what Pic-Operations stores)

/// Stage each in-memory item; returns their metadata, in order.
async fn stage_items(stage: &mut dyn Stage, items: Vec<PutItem>) -> crate::Result<Vec<ObjectMeta>> {
    let mut metas = Vec::with_capacity(items.len());
    for item in items {
        let body = crate::once(item.body);
        metas.push(stage.put(&item.bucket, &item.key, body, item.opts).await?);
    }
    Ok(metas)
}

/// Stage `items` and publish them together: the whole batch or nothing.
pub async fn put_batch(store: &dyn Store, items: Vec<PutItem>) -> crate::Result<Vec<ObjectMeta>> {
    let mut stage = store.stage();
    let metas = stage_items(stage.as_mut(), items).await?;
    stage.publish().await?;
    Ok(metas)
}

/// Complete an upload together with `extra` in-memory objects, all-or-nothing: the
/// assembled object (stored under `key` only when `keep_original`), every extra item and the
/// upload's retirement are one commit.
pub async fn complete_with(
    store: &dyn Store,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: &[CompletedPart],
    keep_original: bool,
    extra: Vec<PutItem>,
) -> crate::Result<CompletedUpload> {
    let mut stage = store.stage();
    let original = stage
        .complete_upload(bucket, key, upload_id, parts, keep_original)
        .await?;
    let extra = stage_items(stage.as_mut(), extra).await?;
    stage.publish().await?;
    Ok(CompletedUpload { original, extra })
}

// ---------------------------------------------------------------------------------------
// checks

/// PUT (streamed in chunks) then HEAD and GET return the same bytes, digests and attributes.
pub async fn object_round_trip(store: &dyn Store) {
    let bucket = fresh_bucket(store, "roundtrip").await;
    let data = pattern(300_000, 1);
    let before = SystemTime::now() - Duration::from_secs(60);
    let opts = PutOptions {
        attrs: rich_attrs(),
        content_md5: Some(Md5::digest(&data).into()),
        length: None,
    };
    let stored = store
        .put_object(&bucket, "photos/cat.jpg", chunked(&data, 7_777), opts)
        .await
        .unwrap();
    assert_eq!(stored.key, "photos/cat.jpg");
    assert_eq!(stored.size, data.len() as u64);
    assert_eq!(stored.etag, md5_hex(&data));
    assert_eq!(stored.crc64, crc64(&data));
    assert_eq!(stored.attrs, rich_attrs());

    let head = store.head_object(&bucket, "photos/cat.jpg").await.unwrap();
    same_object(&head, &stored);
    assert!(
        head.last_modified >= before,
        "last_modified is before the put"
    );
    let (meta, bytes) = get(store, &bucket, "photos/cat.jpg").await;
    same_object(&meta, &stored);
    assert_eq!(meta.last_modified, head.last_modified);
    assert!(bytes == data, "GET returned different bytes");

    let empty = put(store, &bucket, "empty", b"").await;
    assert_eq!(empty.size, 0);
    assert_eq!(empty.etag, "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(empty.crc64, 0);
    let (meta, bytes) = get(store, &bucket, "empty").await;
    assert_eq!(meta.size, 0);
    assert!(bytes.is_empty());
}

/// ETag and CRC-64 equal the values COS reports for reference inputs.
pub async fn checksums_match_known_vectors(store: &dyn Store) {
    let bucket = fresh_bucket(store, "vectors").await;
    let check = put(store, &bucket, "check", b"123456789").await;
    assert_eq!(check.crc64, 11_051_210_869_376_104_954);
    assert_eq!(check.etag, "25f9e794323b453885f5181f1b624d0b");
    let doc = put(store, &bucket, "doc", b"[Object Content]").await;
    assert_eq!(doc.etag, "ee8de918d05640145b18f70f4c3aa602");
    assert_eq!(doc.crc64, 16_749_565_679_157_681_890);
    let head = store.head_object(&bucket, "doc").await.unwrap();
    assert_eq!(
        (head.etag.as_str(), head.crc64),
        (
            "ee8de918d05640145b18f70f4c3aa602",
            16_749_565_679_157_681_890
        )
    );
}

/// Ranges in every request form are resolved against the object's size and return exactly
/// those bytes, with the whole object's metadata; ranges that select nothing are
/// `InvalidRange` carrying the object's size and validators.
pub async fn ranges_return_exact_bytes(store: &dyn Store) {
    let bucket = fresh_bucket(store, "ranges").await;
    let data = pattern(200_000, 2);
    let stored = put(store, &bucket, "r", &data).await;
    let size = data.len() as u64;
    let last = size - 1;
    for (asked, want) in [
        (ByteRange::FromTo(0, 0), (0, 0)),
        (ByteRange::FromTo(0, last), (0, last)),
        (ByteRange::FromTo(10, 19), (10, 19)),
        (ByteRange::FromTo(last, last), (last, last)),
        (ByteRange::FromTo(65_530, 131_080), (65_530, 131_080)),
        (ByteRange::FromTo(1, last), (1, last)),
        (
            ByteRange::FromTo(150_000, size + 1_000_000),
            (150_000, last),
        ),
        (ByteRange::From(199_990), (199_990, last)),
        (ByteRange::From(0), (0, last)),
        (ByteRange::Suffix(100), (size - 100, last)),
        (ByteRange::Suffix(size + 5), (0, last)),
    ] {
        let got = store
            .get_object(&bucket, "r", Some(asked))
            .await
            .unwrap_or_else(|e| panic!("{asked:?}: {e}"));
        same_object(&got.meta, &stored);
        assert_eq!(got.range, Some(want), "{asked:?} resolved");
        let bytes = read_all(got.body).await;
        let (first, end) = want;
        let expected = data.get(first as usize..=end as usize).unwrap();
        assert!(
            bytes == expected,
            "{asked:?}: wrong bytes ({} returned)",
            bytes.len()
        );
    }
    for asked in [
        ByteRange::From(size),
        ByteRange::FromTo(size, size + 10),
        ByteRange::FromTo(20, 10),
        ByteRange::Suffix(0),
    ] {
        match store.get_object(&bucket, "r", Some(asked)).await {
            Err(StoreError::InvalidRange {
                size: got_size,
                etag,
                last_modified,
            }) => {
                assert_eq!(got_size, size, "{asked:?}");
                assert_eq!(etag, stored.etag, "{asked:?}");
                assert_eq!(last_modified, stored.last_modified, "{asked:?}");
            }
            other => panic!("{asked:?}: {other:?}"),
        }
    }
    put(store, &bucket, "empty", b"").await;
    for asked in [
        ByteRange::FromTo(0, 0),
        ByteRange::From(0),
        ByteRange::Suffix(1),
    ] {
        let err = store.get_object(&bucket, "empty", Some(asked)).await;
        assert!(
            matches!(err, Err(StoreError::InvalidRange { size: 0, .. })),
            "empty object, {asked:?}: {err:?}"
        );
    }
}

/// A second PUT replaces body, digests and attributes (old attributes do not linger).
pub async fn overwrite_replaces_body_and_attrs(store: &dyn Store) {
    let bucket = fresh_bucket(store, "overwrite").await;
    let first = PutOptions {
        attrs: rich_attrs(),
        content_md5: None,
        length: None,
    };
    store
        .put_object(&bucket, "k", body(b"first version"), first)
        .await
        .unwrap();
    let mut attrs = ObjectAttrs {
        content_type: Some("text/plain".into()),
        ..ObjectAttrs::default()
    };
    attrs.user_meta.insert("v".into(), "2".into());
    let second = PutOptions {
        attrs: attrs.clone(),
        content_md5: None,
        length: None,
    };
    let meta = store
        .put_object(&bucket, "k", body(b"2nd"), second)
        .await
        .unwrap();
    let (got, bytes) = get(store, &bucket, "k").await;
    same_object(&got, &meta);
    assert_eq!(bytes, b"2nd");
    assert_eq!(got.etag, md5_hex(b"2nd"));
    assert_eq!(got.attrs, attrs);
    let page = list(store, &bucket, query("", "", "", 1000)).await;
    assert_eq!(keys(&page), ["k"]);
    assert_eq!(page.objects.first().map(|o| o.size), Some(3));
}

/// A Content-MD5 mismatch is `BadDigest` and stores nothing: the old object stays whole.
pub async fn bad_digest_keeps_the_old_object(store: &dyn Store) {
    let bucket = fresh_bucket(store, "baddigest").await;
    let old = put(store, &bucket, "k", b"old body").await;
    let wrong = PutOptions {
        attrs: rich_attrs(),
        content_md5: Some(Md5::digest(b"something else").into()),
        length: None,
    };
    let err = store
        .put_object(
            &bucket,
            "k",
            chunked(b"new body that is longer", 5),
            wrong.clone(),
        )
        .await;
    assert!(matches!(err, Err(StoreError::BadDigest)), "{err:?}");
    let (meta, bytes) = get(store, &bucket, "k").await;
    same_object(&meta, &old);
    assert_eq!(bytes, b"old body");

    let err = store.put_object(&bucket, "fresh", body(b"x"), wrong).await;
    assert!(matches!(err, Err(StoreError::BadDigest)), "{err:?}");
    let err = store.head_object(&bucket, "fresh").await;
    assert!(matches!(err, Err(StoreError::NoSuchKey)), "{err:?}");
    assert_eq!(
        keys(&list(store, &bucket, query("", "", "", 1000)).await),
        ["k"]
    );
}

/// A body stream that fails part-way is an error and stores nothing.
pub async fn failed_stream_keeps_the_old_object(store: &dyn Store) {
    let bucket = fresh_bucket(store, "brokenstream").await;
    put(store, &bucket, "k", b"old body").await;
    let broken = || -> ByteStream {
        Box::pin(futures::stream::iter(vec![
            Ok(Bytes::from_static(b"partial ")),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "client went away",
            )),
            Ok(Bytes::from_static(b"never read")),
        ]))
    };
    let err = store
        .put_object(&bucket, "k", broken(), PutOptions::default())
        .await;
    assert!(err.is_err(), "a broken body was stored");
    let err = store
        .put_object(&bucket, "new", broken(), PutOptions::default())
        .await;
    assert!(err.is_err(), "a broken body was stored");
    assert_eq!(get(store, &bucket, "k").await.1, b"old body");
    assert!(matches!(
        store.head_object(&bucket, "new").await,
        Err(StoreError::NoSuchKey)
    ));
    assert_eq!(
        keys(&list(store, &bucket, query("", "", "", 10)).await),
        ["k"]
    );
    let id = store
        .create_multipart(&bucket, "m", PutOptions::default())
        .await
        .unwrap();
    assert!(store
        .upload_part(&bucket, "m", &id, 1, broken(), None)
        .await
        .is_err());
    assert!(store
        .list_parts(&bucket, "m", &id)
        .await
        .unwrap()
        .parts
        .is_empty());
    store.abort_multipart(&bucket, "m", &id).await.unwrap();
}

/// Deleting removes the object from GET, HEAD and listings; deleting a missing key succeeds.
pub async fn delete_object_semantics(store: &dyn Store) {
    let bucket = fresh_bucket(store, "delete").await;
    put(store, &bucket, "a", b"1").await;
    put(store, &bucket, "b", b"2").await;
    store.delete_object(&bucket, "a").await.unwrap();
    assert!(matches!(
        store.head_object(&bucket, "a").await,
        Err(StoreError::NoSuchKey)
    ));
    assert!(matches!(
        store.get_object(&bucket, "a", None).await,
        Err(StoreError::NoSuchKey)
    ));
    assert_eq!(
        keys(&list(store, &bucket, query("", "", "", 1000)).await),
        ["b"]
    );
    store.delete_object(&bucket, "a").await.unwrap();
    store.delete_object(&bucket, "never-existed").await.unwrap();
    // A deleted key can be written again.
    put(store, &bucket, "a", b"again").await;
    assert_eq!(get(store, &bucket, "a").await.1, b"again");
}

/// Missing buckets and keys give `NoSuchBucket` / `NoSuchKey` on every operation.
pub async fn missing_bucket_and_key(store: &dyn Store) {
    let bucket = fresh_bucket(store, "missing").await;
    let nobucket = "ct-absent-00000000-1250000000";
    assert!(matches!(
        store.head_object(&bucket, "nope").await,
        Err(StoreError::NoSuchKey)
    ));
    assert!(matches!(
        store.get_object(&bucket, "nope", None).await,
        Err(StoreError::NoSuchKey)
    ));
    assert!(matches!(
        store
            .get_object(&bucket, "nope", Some(ByteRange::FromTo(0, 0)))
            .await,
        Err(StoreError::NoSuchKey)
    ));
    assert!(matches!(
        store.head_bucket(nobucket).await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        store.head_object(nobucket, "k").await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        store.get_object(nobucket, "k", None).await,
        Err(StoreError::NoSuchBucket)
    ));
    let err = store
        .put_object(nobucket, "k", body(b"x"), PutOptions::default())
        .await;
    assert!(matches!(err, Err(StoreError::NoSuchBucket)), "{err:?}");
    assert!(matches!(
        store.delete_object(nobucket, "k").await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        store.list_objects(nobucket, &query("", "", "", 10)).await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        store.delete_bucket(nobucket).await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        store.set_bucket_acl(nobucket, Acl::PublicRead).await,
        Err(StoreError::NoSuchBucket)
    ));
    let err = store
        .create_multipart(nobucket, "k", PutOptions::default())
        .await;
    assert!(matches!(err, Err(StoreError::NoSuchBucket)), "{err:?}");
}

/// Keys that could escape the data root, or are malformed (control characters, which no
/// XML listing could carry), or too long, are refused by every operation and never stored.
pub async fn invalid_keys_are_rejected(store: &dyn Store) {
    let bucket = fresh_bucket(store, "badkeys").await;
    let bad = [
        "",
        "..",
        ".",
        "../escape",
        "a/../../b",
        "a/..",
        "a/./b",
        "/abs",
        "//abs",
        "a\0b",
        "a\u{1}b",
        "line\nbreak",
        "cr\r",
        "\ttab",
        "del\u{7f}",
        "a\\..\\b",
        "../../../../../../etc/passwd",
    ];
    let too_long = "k".repeat(MAX_KEY_LEN + 1);
    let refused = |r: &Result<(), StoreError>| {
        matches!(
            r,
            Err(StoreError::InvalidKey(_) | StoreError::KeyTooLong(_))
        )
    };
    for key in bad.iter().copied().chain([too_long.as_str()]) {
        let put = store
            .put_object(&bucket, key, body(b"x"), PutOptions::default())
            .await
            .map(drop);
        assert!(refused(&put), "put {key:?}: {put:?}");
        let head = store.head_object(&bucket, key).await.map(drop);
        assert!(refused(&head), "head {key:?}: {head:?}");
        let get = store.get_object(&bucket, key, None).await.map(drop);
        assert!(refused(&get), "get {key:?}: {get:?}");
        let del = store.delete_object(&bucket, key).await;
        assert!(refused(&del), "delete {key:?}: {del:?}");
        let mp = store
            .create_multipart(&bucket, key, PutOptions::default())
            .await
            .map(drop);
        assert!(refused(&mp), "create_multipart {key:?}: {mp:?}");
        let item = PutItem {
            bucket: bucket.clone(),
            key: key.to_string(),
            body: Bytes::from_static(b"x"),
            opts: PutOptions::default(),
        };
        let batch = put_batch(store, vec![item]).await.map(drop);
        assert!(refused(&batch), "batch {key:?}: {batch:?}");
    }
    let err = store
        .put_object(&bucket, &too_long, body(b"x"), PutOptions::default())
        .await;
    assert!(
        matches!(err, Err(StoreError::KeyTooLong(n)) if n == MAX_KEY_LEN + 1),
        "{err:?}"
    );
    let longest = "k".repeat(MAX_KEY_LEN);
    put(store, &bucket, &longest, b"ok").await;
    let page = list(store, &bucket, query("", "", "", 1000)).await;
    assert_eq!(keys(&page), [longest.as_str()]);
}

/// Keys with spaces, percent signs, multi-byte text, doubled or trailing slashes and dots
/// inside segments are ordinary keys.
pub async fn unusual_valid_keys_round_trip(store: &dyn Store) {
    let bucket = fresh_bucket(store, "oddkeys").await;
    let odd = [
        "dir/文件 name+%20?#&=.txt",
        "a//b",
        "trailing/",
        " leading space",
        "..hidden",
        "a/..b/c..",
        "~!@$'()*,;:",
        "emoji/😀.png",
        "exampleobject(腾讯云)",
    ];
    for (i, key) in odd.iter().enumerate() {
        let data = format!("body {i}");
        put(store, &bucket, key, data.as_bytes()).await;
        let (meta, bytes) = get(store, &bucket, key).await;
        assert_eq!(meta.key, *key);
        assert_eq!(bytes, data.as_bytes(), "{key:?}");
    }
    let page = list(store, &bucket, query("", "", "", 1000)).await;
    let want: Vec<&str> = odd
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(keys(&page), want);
}

/// Listings are ordered by the keys' UTF-8 bytes (not UTF-16, not case-folded).
pub async fn listing_orders_keys_by_bytes(store: &dyn Store) {
    let bucket = fresh_bucket(store, "order").await;
    let mixed = [
        "a", "a/b", "a0", "A", "~", "\u{80}", "é", "ÿ", "Ā", "中", "a b", "a!", "Z", "a-", "a/",
        "\u{ff61}", "😀", "0", "-",
    ];
    let items = mixed
        .iter()
        .map(|k| PutItem {
            bucket: bucket.clone(),
            key: k.to_string(),
            body: Bytes::copy_from_slice(k.as_bytes()),
            opts: PutOptions::default(),
        })
        .collect();
    put_batch(store, items).await.unwrap();
    let mut want: Vec<&str> = mixed.to_vec();
    want.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    // Spot-check the byte order itself: U+FF61 (EF BD A1) sorts before U+1F600 (F0 9F 98 80),
    // the reverse of UTF-16 order.
    let pos = |k: &str| want.iter().position(|w| *w == k).unwrap();
    assert!(pos("\u{ff61}") < pos("😀") && pos("~") < pos("\u{80}") && pos("Z") < pos("a"));
    let page = list(store, &bucket, query("", "", "", 1000)).await;
    assert_eq!(keys(&page), want);
    assert!(!page.is_truncated);
    // One key per page walks the same order.
    let mut walked = Vec::new();
    let mut marker = String::new();
    loop {
        let page = list(store, &bucket, query("", "", &marker, 1)).await;
        walked.extend(page.objects.iter().map(|o| o.key.clone()));
        match page.next_marker {
            Some(next) if page.is_truncated => marker = next,
            _ => break,
        }
    }
    assert_eq!(walked, want);
}

/// ListObjects v1: prefix, delimiter roll-up into CommonPrefixes, marker strictly after,
/// max-keys counting contents and prefixes, NextMarker on truncation.
pub async fn listing_prefix_delimiter_marker(store: &dyn Store) {
    let bucket = fresh_bucket(store, "listing").await;
    let all = ["a/1", "a/2", "a/b/3", "b", "c/1", "c/2", "d"];
    for key in all {
        put(store, &bucket, key, key.as_bytes()).await;
    }
    let page = list(store, &bucket, query("", "", "", 1000)).await;
    assert_eq!(keys(&page), all);
    assert!(!page.is_truncated && page.next_marker.is_none() && page.common_prefixes.is_empty());
    assert_eq!(
        page.objects.first().map(|o| (o.size, o.etag.clone())),
        Some((3, md5_hex(b"a/1")))
    );

    let page = list(store, &bucket, query("", "/", "", 1000)).await;
    assert_eq!(keys(&page), ["b", "d"]);
    assert_eq!(page.common_prefixes, ["a/", "c/"]);

    let page = list(store, &bucket, query("a/", "/", "", 1000)).await;
    assert_eq!(keys(&page), ["a/1", "a/2"]);
    assert_eq!(page.common_prefixes, ["a/b/"]);

    let page = list(store, &bucket, query("a/", "", "", 1000)).await;
    assert_eq!(keys(&page), ["a/1", "a/2", "a/b/3"]);

    let page = list(store, &bucket, query("a/", "b", "", 1000)).await;
    assert_eq!(keys(&page), ["a/1", "a/2"]);
    assert_eq!(page.common_prefixes, ["a/b"]);

    // Contents and prefixes share max-keys; NextMarker is the last entry returned.
    let page = list(store, &bucket, query("", "/", "", 2)).await;
    assert_eq!(
        (keys(&page), page.common_prefixes.clone()),
        (vec!["b"], vec!["a/".to_string()])
    );
    assert!(page.is_truncated);
    assert_eq!(page.next_marker.as_deref(), Some("b"));
    let page = list(store, &bucket, query("", "/", "b", 2)).await;
    assert_eq!(
        (keys(&page), page.common_prefixes.clone()),
        (vec!["d"], vec!["c/".to_string()])
    );
    assert!(!page.is_truncated && page.next_marker.is_none());

    // A common prefix as marker skips every key under it.
    let page = list(store, &bucket, query("", "/", "", 1)).await;
    assert_eq!(page.common_prefixes, ["a/"]);
    assert_eq!(page.next_marker.as_deref(), Some("a/"));
    let page = list(store, &bucket, query("", "/", "a/", 1)).await;
    assert_eq!(keys(&page), ["b"]);
    assert!(page.common_prefixes.is_empty());
    assert_eq!(page.next_marker.as_deref(), Some("b"));

    let page = list(store, &bucket, query("", "", "a/2", 1000)).await;
    assert_eq!(keys(&page), ["a/b/3", "b", "c/1", "c/2", "d"]);
    let page = list(store, &bucket, query("", "", "d", 1000)).await;
    assert!(page.objects.is_empty() && !page.is_truncated);
    let page = list(store, &bucket, query("x", "/", "", 1000)).await;
    assert!(page.objects.is_empty() && page.common_prefixes.is_empty() && !page.is_truncated);
    let page = list(store, &bucket, query("", "", "", all.len())).await;
    assert_eq!(page.objects.len(), all.len());
    assert!(
        !page.is_truncated,
        "a page holding exactly the rest is not truncated"
    );
    let page = list(store, &bucket, query("c", "", "", 1000)).await;
    assert_eq!(keys(&page), ["c/1", "c/2"]);

    let mut pages = Vec::new();
    let mut marker = String::new();
    loop {
        let page = list(store, &bucket, query("", "", &marker, 3)).await;
        pages.push(
            keys(&page)
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>(),
        );
        match page.next_marker {
            Some(next) if page.is_truncated => marker = next,
            _ => break,
        }
    }
    assert_eq!(
        pages,
        [
            vec!["a/1", "a/2", "a/b/3"],
            vec!["b", "c/1", "c/2"],
            vec!["d"]
        ]
    );
}

/// Paging a bucket of 10,050 keys returns each key exactly once, in order, at most
/// max-keys per page.
pub async fn paging_visits_every_key_once(store: &dyn Store) {
    const KEYS: usize = 10_050;
    let bucket = fresh_bucket(store, "paging").await;
    let all: Vec<String> = (0..KEYS)
        .map(|i| format!("p{}/{:05}{}", i % 7, i, if i % 10 == 0 { "é" } else { "" }))
        .collect();
    let batches: Vec<Vec<PutItem>> = all
        .chunks(250)
        .map(|chunk| {
            chunk
                .iter()
                .map(|key| PutItem {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    body: Bytes::copy_from_slice(key.as_bytes()),
                    opts: PutOptions::default(),
                })
                .collect()
        })
        .collect();
    let results: Vec<_> = futures::stream::iter(batches)
        .map(|batch| put_batch(store, batch))
        .buffer_unordered(4)
        .collect()
        .await;
    for result in results {
        result.unwrap();
    }
    let want: Vec<String> = all
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    for max_keys in [1000, 333] {
        let mut seen = Vec::with_capacity(KEYS);
        let mut marker = String::new();
        loop {
            let page = list(store, &bucket, query("", "", &marker, max_keys)).await;
            assert!(page.objects.len() <= max_keys);
            seen.extend(page.objects.iter().map(|o| o.key.clone()));
            match page.next_marker {
                Some(next) if page.is_truncated => {
                    assert_eq!(
                        Some(&next),
                        seen.last(),
                        "NextMarker is the last key returned"
                    );
                    marker = next;
                }
                _ => break,
            }
        }
        assert_eq!(seen.len(), KEYS, "max-keys {max_keys}");
        assert!(
            seen == want,
            "max-keys {max_keys}: keys out of order or repeated"
        );
    }

    let page = list(store, &bucket, query("", "/", "", 1000)).await;
    assert!(page.objects.is_empty() && !page.is_truncated);
    assert_eq!(
        page.common_prefixes,
        (0..7).map(|i| format!("p{i}/")).collect::<Vec<_>>()
    );

    let in_p3: Vec<&String> = want.iter().filter(|k| k.starts_with("p3/")).collect();
    let mut seen = Vec::new();
    let mut marker = String::new();
    loop {
        let page = list(store, &bucket, query("p3/", "/", &marker, 250)).await;
        seen.extend(page.objects.iter().map(|o| o.key.clone()));
        match page.next_marker {
            Some(next) if page.is_truncated => marker = next,
            _ => break,
        }
    }
    assert_eq!(seen.iter().collect::<Vec<_>>(), in_p3);
}

/// A batch is all-or-nothing: a bad digest, a bad key or a missing bucket anywhere leaves
/// every target as it was.
pub async fn atomic_batch_is_all_or_nothing(store: &dyn Store) {
    let one = fresh_bucket(store, "batch-a").await;
    let two = fresh_bucket(store, "batch-b").await;
    let item = |bucket: &str, key: &str, data: &'static [u8]| PutItem {
        bucket: bucket.to_string(),
        key: key.to_string(),
        body: Bytes::from_static(data),
        opts: PutOptions::default(),
    };
    let mut typed = item(&one, "orig.jpg", b"original");
    typed.opts.attrs.content_type = Some("image/jpeg".into());
    typed.opts.content_md5 = Some(Md5::digest(b"original").into());
    let metas = put_batch(
        store,
        vec![
            typed,
            item(&one, "thumb.png", b"thumb"),
            item(&two, "copy.webp", b"copy"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        metas.iter().map(|m| m.etag.clone()).collect::<Vec<_>>(),
        [md5_hex(b"original"), md5_hex(b"thumb"), md5_hex(b"copy")]
    );
    assert_eq!(get(store, &one, "orig.jpg").await.1, b"original");
    assert_eq!(
        store
            .head_object(&one, "orig.jpg")
            .await
            .unwrap()
            .attrs
            .content_type
            .as_deref(),
        Some("image/jpeg")
    );
    assert_eq!(get(store, &one, "thumb.png").await.1, b"thumb");
    assert_eq!(get(store, &two, "copy.webp").await.1, b"copy");

    let mut bad_digest = item(&two, "z-last", b"z");
    bad_digest.opts.content_md5 = Some([0; 16]);
    let mut bad_key = item(&one, "fine", b"f");
    bad_key.key = "../escape".into();
    let failing = [
        (bad_digest, "bad digest"),
        (bad_key, "bad key"),
        (
            item("ct-absent-00000000-1250000000", "k", b"k"),
            "missing bucket",
        ),
    ];
    for (bad, why) in failing {
        let batch = vec![
            item(&one, "orig.jpg", b"overwritten?"),
            item(&one, "new-1", b"n1"),
            item(&two, "new-2", b"n2"),
            bad,
        ];
        assert!(
            put_batch(store, batch).await.is_err(),
            "{why}: batch succeeded"
        );
        assert_eq!(get(store, &one, "orig.jpg").await.1, b"original", "{why}");
        assert_eq!(
            keys(&list(store, &one, query("", "", "", 100)).await),
            ["orig.jpg", "thumb.png"],
            "{why}"
        );
        assert_eq!(
            keys(&list(store, &two, query("", "", "", 100)).await),
            ["copy.webp"],
            "{why}"
        );
    }
}

/// Staged objects are readable through the stage and invisible to everyone else until it
/// is published; a refused object leaves the stage usable; a dropped stage publishes
/// nothing; publishing keeps staging order (the later object for a key wins).
pub async fn staged_writes_wait_for_publish(store: &dyn Store) {
    let one = fresh_bucket(store, "stage-a").await;
    let two = fresh_bucket(store, "stage-b").await;
    put(store, &one, "kept", b"old").await;
    let data = pattern(70_000, 9);
    let mut stage = store.stage();
    let first = stage
        .put(&one, "kept", chunked(&data, 4096), PutOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (first.size, first.etag.as_str()),
        (70_000, md5_hex(&data).as_str())
    );
    let refused = PutOptions {
        content_md5: Some([0; 16]),
        ..PutOptions::default()
    };
    let err = stage.put(&two, "bad", body(b"x"), refused).await;
    assert!(matches!(err, Err(StoreError::BadDigest)), "{err:?}");
    for data in [&b"second"[..], b"third wins"] {
        stage
            .put(&two, "new", body(data), PutOptions::default())
            .await
            .unwrap();
    }
    assert!(read_all(stage.read(0).await.unwrap()).await == data);
    assert_eq!(read_all(stage.read(2).await.unwrap()).await, b"third wins");
    assert!(stage.read(3).await.is_err(), "read past the staged objects");
    assert_eq!(
        get(store, &one, "kept").await.1,
        b"old",
        "visible before publish"
    );
    assert!(matches!(
        store.head_object(&two, "new").await,
        Err(StoreError::NoSuchKey)
    ));
    assert!(keys(&list(store, &two, query("", "", "", 10)).await).is_empty());
    stage.publish().await.unwrap();
    assert!(get(store, &one, "kept").await.1 == data);
    assert_eq!(get(store, &two, "new").await.1, b"third wins");
    assert_eq!(
        keys(&list(store, &two, query("", "", "", 10)).await),
        ["new"]
    );

    let mut dropped = store.stage();
    for (bucket, key) in [(&one, "kept"), (&two, "never")] {
        dropped
            .put(bucket, key, body(b"dropped"), PutOptions::default())
            .await
            .unwrap();
    }
    drop(dropped);
    assert!(get(store, &one, "kept").await.1 == data);
    assert_eq!(
        keys(&list(store, &two, query("", "", "", 10)).await),
        ["new"]
    );
    // An empty stage publishes nothing, successfully.
    store.stage().publish().await.unwrap();
}

fn part_md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// Multipart: parts replace by number, list in order, assemble without committing, and
/// complete into one object whose ETag is `md5(md5s)-N`; the upload is then gone.
pub async fn multipart_complete(store: &dyn Store) {
    let bucket = fresh_bucket(store, "multipart").await;
    let key = "big/video.bin";
    let opts = PutOptions {
        attrs: rich_attrs(),
        content_md5: None,
        length: None,
    };
    let id = store.create_multipart(&bucket, key, opts).await.unwrap();
    let parts = [
        pattern(MIN_PART, 11),
        pattern(MIN_PART + 3, 12),
        pattern(1234, 13),
    ];
    // Part 2 first gets other bytes, then is replaced.
    store
        .upload_part(&bucket, key, &id, 2, body(b"stale part"), None)
        .await
        .unwrap();
    for (i, data) in parts.iter().enumerate().rev() {
        let number = i as u32 + 1;
        let info = store
            .upload_part(
                &bucket,
                key,
                &id,
                number,
                chunked(data, 65_536),
                Some(part_md5(data)),
            )
            .await
            .unwrap();
        assert_eq!((info.part_number, info.size), (number, data.len() as u64));
        assert_eq!(info.etag, md5_hex(data));
        assert_eq!(info.crc64, crc64(data));
    }
    let upload = store.list_parts(&bucket, key, &id).await.unwrap();
    assert_eq!(upload.upload_id, id);
    assert_eq!(upload.key, key);
    assert_eq!(upload.opts.attrs, rich_attrs());
    let listed: Vec<(u32, String, u64)> = upload
        .parts
        .iter()
        .map(|p| (p.part_number, p.etag.clone(), p.size))
        .collect();
    let expected: Vec<(u32, String, u64)> = parts
        .iter()
        .enumerate()
        .map(|(i, d)| (i as u32 + 1, md5_hex(d), d.len() as u64))
        .collect();
    assert_eq!(listed, expected);

    let whole: Vec<u8> = parts.concat();
    let completed: Vec<CompletedPart> = parts
        .iter()
        .enumerate()
        .map(|(i, d)| CompletedPart {
            part_number: i as u32 + 1,
            etag: format!("\"{}\"", md5_hex(d)),
        })
        .collect();
    // A staged completion is readable and changes nothing until published; dropped, it
    // leaves the upload as it was.
    {
        let mut stage = store.stage();
        let staged = stage
            .complete_upload(&bucket, key, &id, &completed, true)
            .await
            .unwrap();
        assert_eq!(staged.size, whole.len() as u64);
        let assembled = read_all(stage.read(0).await.unwrap()).await;
        assert!(
            assembled == whole,
            "the staged upload differs from the parts"
        );
        assert!(
            matches!(
                store.head_object(&bucket, key).await,
                Err(StoreError::NoSuchKey)
            ),
            "a staged completion is visible"
        );
    }
    assert_eq!(
        store
            .list_parts(&bucket, key, &id)
            .await
            .unwrap()
            .parts
            .len(),
        3
    );

    let meta = store
        .complete_multipart(&bucket, key, &id, &completed)
        .await
        .unwrap();
    let mut md5s = Md5::new();
    for data in &parts {
        md5s.update(Md5::digest(data));
    }
    let etag = format!("{}-3", hex::encode(md5s.finalize()));
    assert_eq!(meta.etag, etag);
    assert_eq!(meta.size, whole.len() as u64);
    assert_eq!(meta.crc64, crc64(&whole));
    assert_eq!(meta.attrs, rich_attrs());
    let (got, bytes) = get(store, &bucket, key).await;
    same_object(&got, &meta);
    assert!(bytes == whole, "completed object differs from the parts");
    let page = list(store, &bucket, query("", "", "", 10)).await;
    assert_eq!(page.objects.first().map(|o| o.etag.clone()), Some(etag));
    assert!(matches!(
        store.list_parts(&bucket, key, &id).await,
        Err(StoreError::NoSuchUpload)
    ));
    assert!(matches!(
        store
            .upload_part(&bucket, key, &id, 1, body(b"late"), None)
            .await,
        Err(StoreError::NoSuchUpload)
    ));
}

/// Multipart errors: unknown or foreign uploads, part numbers out of range, bad digests,
/// misordered, missing or mismatched parts; abort removes the upload and stores nothing.
pub async fn multipart_errors_and_abort(store: &dyn Store) {
    let bucket = fresh_bucket(store, "mperrors").await;
    let key = "k";
    let id = store
        .create_multipart(&bucket, key, PutOptions::default())
        .await
        .unwrap();
    let other = store
        .create_multipart(&bucket, key, PutOptions::default())
        .await
        .unwrap();
    assert_ne!(id, other, "upload ids must be unique");
    for bad_id in ["0123456789abcdef0123456789abcdef", "../../x", ""] {
        let err = store
            .upload_part(&bucket, key, bad_id, 1, body(b"x"), None)
            .await;
        assert!(
            matches!(err, Err(StoreError::NoSuchUpload)),
            "{bad_id:?}: {err:?}"
        );
        assert!(matches!(
            store.list_parts(&bucket, key, bad_id).await,
            Err(StoreError::NoSuchUpload)
        ));
        assert!(matches!(
            store.abort_multipart(&bucket, key, bad_id).await,
            Err(StoreError::NoSuchUpload)
        ));
    }
    let err = store
        .upload_part(&bucket, "another-key", &id, 1, body(b"x"), None)
        .await;
    assert!(
        matches!(err, Err(StoreError::NoSuchUpload)),
        "upload used under another key: {err:?}"
    );
    for number in [0, 10_001] {
        let err = store
            .upload_part(&bucket, key, &id, number, body(b"x"), None)
            .await;
        assert!(
            matches!(err, Err(StoreError::InvalidArgument(_))),
            "part {number}: {err:?}"
        );
    }
    let err = store
        .upload_part(&bucket, key, &id, 3, body(b"x"), Some([0; 16]))
        .await;
    assert!(matches!(err, Err(StoreError::BadDigest)), "{err:?}");
    let one = store
        .upload_part(&bucket, key, &id, 1, body(b"one"), None)
        .await
        .unwrap();
    let two = store
        .upload_part(&bucket, key, &id, 2, body(b"two"), None)
        .await
        .unwrap();
    let numbers: Vec<u32> = store
        .list_parts(&bucket, key, &id)
        .await
        .unwrap()
        .parts
        .iter()
        .map(|p| p.part_number)
        .collect();
    assert_eq!(numbers, [1, 2], "a part with a bad digest was kept");

    let part = |n: u32, etag: &str| CompletedPart {
        part_number: n,
        etag: etag.to_string(),
    };
    let cases: Vec<(Vec<CompletedPart>, &str)> = vec![
        (vec![part(2, &two.etag), part(1, &one.etag)], "order"),
        (vec![part(1, &one.etag), part(1, &one.etag)], "order"),
        (vec![part(1, &one.etag), part(5, &two.etag)], "part"),
        (vec![part(1, &one.etag), part(2, &one.etag)], "part"),
        (
            vec![part(1, "\"0123456789abcdef0123456789abcdef\"")],
            "part",
        ),
        // Both parts exist and match, but the first is under the minimum.
        (vec![part(1, &one.etag), part(2, &two.etag)], "small"),
        // A missing part is reported as missing even when an earlier part is small.
        (vec![part(1, &one.etag), part(3, &two.etag)], "part"),
    ];
    for (list, want) in cases {
        let numbers: Vec<u32> = list.iter().map(|p| p.part_number).collect();
        let err = store.complete_multipart(&bucket, key, &id, &list).await;
        let ok = match want {
            "order" => matches!(err, Err(StoreError::InvalidPartOrder)),
            "small" => matches!(
                err,
                Err(StoreError::EntityTooSmall {
                    part_number: 1,
                    size: 3,
                    min: MIN_PART_SIZE
                })
            ),
            _ => matches!(err, Err(StoreError::InvalidPart(_))),
        };
        assert!(ok, "complete {numbers:?}: {err:?}");
        let mut stage = store.stage();
        let staged = stage.complete_upload(&bucket, key, &id, &list, true).await;
        assert!(staged.is_err(), "staged completion {numbers:?} accepted");
    }
    assert!(matches!(
        store.head_object(&bucket, key).await,
        Err(StoreError::NoSuchKey)
    ));
    assert_eq!(
        store
            .list_parts(&bucket, key, &id)
            .await
            .unwrap()
            .parts
            .len(),
        2,
        "failed completes must keep the upload"
    );

    store.abort_multipart(&bucket, key, &id).await.unwrap();
    assert!(matches!(
        store.list_parts(&bucket, key, &id).await,
        Err(StoreError::NoSuchUpload)
    ));
    assert!(matches!(
        store.abort_multipart(&bucket, key, &id).await,
        Err(StoreError::NoSuchUpload)
    ));
    let err = store
        .complete_multipart(&bucket, key, &id, &[part(1, &one.etag)])
        .await;
    assert!(matches!(err, Err(StoreError::NoSuchUpload)), "{err:?}");
    assert!(matches!(
        store.head_object(&bucket, key).await,
        Err(StoreError::NoSuchKey)
    ));
    // The other upload of the same key is untouched.
    assert!(store.list_parts(&bucket, key, &other).await.is_ok());
    store.abort_multipart(&bucket, key, &other).await.unwrap();
}

/// An upload of `key` with two uploaded parts (the first of the minimum size), the
/// completion list naming them, and the assembled body.
async fn two_part_upload(
    store: &dyn Store,
    bucket: &str,
    key: &str,
    seed: u8,
) -> (String, Vec<CompletedPart>, Vec<u8>) {
    let opts = PutOptions {
        attrs: rich_attrs(),
        content_md5: None,
        length: None,
    };
    let id = store.create_multipart(bucket, key, opts).await.unwrap();
    let parts = [
        pattern(MIN_PART_SIZE as usize, seed),
        pattern(777, seed ^ 0x55),
    ];
    let mut completed = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let number = i as u32 + 1;
        let info = store
            .upload_part(bucket, key, &id, number, body(data), None)
            .await
            .unwrap();
        completed.push(CompletedPart {
            part_number: number,
            etag: format!("\"{}\"", info.etag),
        });
    }
    (id, completed, parts.concat())
}

/// The multipart ETag of `parts`.
fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut md5s = Md5::new();
    for data in parts {
        md5s.update(Md5::digest(data));
    }
    format!("{}-{}", hex::encode(md5s.finalize()), parts.len())
}

fn output(bucket: &str, key: &str, data: &'static [u8]) -> PutItem {
    PutItem {
        bucket: bucket.to_string(),
        key: key.to_string(),
        body: Bytes::from_static(data),
        opts: PutOptions {
            attrs: ObjectAttrs {
                content_type: Some("image/png".into()),
                ..ObjectAttrs::default()
            },
            content_md5: None,
            length: None,
        },
    }
}

/// Complete Multipart with outputs (Pic-Operations on Complete): the assembled original and
/// every output, in this and another bucket, are stored together and the upload is gone;
/// a retried completion is `NoSuchUpload` and leaves a newer write of the key alone.
pub async fn multipart_with_outputs_commits_together(store: &dyn Store) {
    let bucket = fresh_bucket(store, "mpout").await;
    let other = fresh_bucket(store, "mpout-b").await;
    let key = "in/photo.jpg";
    let (id, completed, whole) = two_part_upload(store, &bucket, key, 31).await;
    let (first, last) = whole.split_at(MIN_PART_SIZE as usize);
    let outputs = vec![
        output(&bucket, "out/small.png", b"small png"),
        output(&other, "copy.png", b"copy png"),
    ];
    let done = complete_with(store, &bucket, key, &id, &completed, true, outputs)
        .await
        .unwrap();
    let etag = multipart_etag(&[first, last]);
    assert_eq!(done.original.key, key);
    assert_eq!(done.original.etag, etag);
    assert_eq!(done.original.size, whole.len() as u64);
    assert_eq!(done.original.crc64, crc64(&whole));
    assert_eq!(done.original.attrs, rich_attrs());
    let extra: Vec<(&str, String, u64)> = done
        .extra
        .iter()
        .map(|m| (m.key.as_str(), m.etag.clone(), m.size))
        .collect();
    assert_eq!(
        extra,
        [
            ("out/small.png", md5_hex(b"small png"), 9),
            ("copy.png", md5_hex(b"copy png"), 8)
        ]
    );
    let (meta, bytes) = get(store, &bucket, key).await;
    same_object(&meta, &done.original);
    assert!(bytes == whole, "completed object differs from the parts");
    let (meta, bytes) = get(store, &bucket, "out/small.png").await;
    assert_eq!(bytes, b"small png");
    assert_eq!(meta.attrs.content_type.as_deref(), Some("image/png"));
    assert_eq!(get(store, &other, "copy.png").await.1, b"copy png");
    let page = list(store, &bucket, query("", "", "", 100)).await;
    assert_eq!(keys(&page), [key, "out/small.png"]);
    assert_eq!(page.objects.first().map(|o| o.etag.clone()), Some(etag));
    let uploads = list_uploads(store, &bucket, uploads_query("", "", "", "", 100)).await;
    assert!(uploads.uploads.is_empty(), "{uploads:?}");

    // A retry (a client that never saw the answer) cannot commit again, not even after a
    // newer write of the key.
    put(store, &bucket, key, b"newer").await;
    let retry = complete_with(
        store,
        &bucket,
        key,
        &id,
        &completed,
        true,
        vec![output(&bucket, "out/small.png", b"again")],
    )
    .await;
    assert!(matches!(retry, Err(StoreError::NoSuchUpload)), "{retry:?}");
    let retry = store
        .complete_multipart(&bucket, key, &id, &completed)
        .await;
    assert!(matches!(retry, Err(StoreError::NoSuchUpload)), "{retry:?}");
    assert_eq!(get(store, &bucket, key).await.1, b"newer");
    assert_eq!(get(store, &bucket, "out/small.png").await.1, b"small png");
}

/// Complete Multipart with outputs where one output cannot be stored (a bad key, a missing
/// bucket, a bad digest): nothing is stored, the upload stays with its parts, and the
/// client's retry with good outputs succeeds.
pub async fn multipart_with_failing_output_commits_nothing(store: &dyn Store) {
    let bucket = fresh_bucket(store, "mpfail").await;
    let key = "photo.jpg";
    let (id, completed, whole) = two_part_upload(store, &bucket, key, 41).await;
    let mut bad_key = output(&bucket, "fine.png", b"k");
    bad_key.key = "../escape".into();
    let mut bad_digest = output(&bucket, "digest.png", b"d");
    bad_digest.opts.content_md5 = Some([0; 16]);
    let failing = [
        (bad_key, "bad key"),
        (
            output("ct-absent-00000000-1250000000", "k.png", b"k"),
            "missing bucket",
        ),
        (bad_digest, "bad digest"),
    ];
    for (bad, why) in failing {
        for keep_original in [true, false] {
            let outputs = vec![output(&bucket, "good.png", b"good"), bad.clone()];
            let err =
                complete_with(store, &bucket, key, &id, &completed, keep_original, outputs).await;
            assert!(err.is_err(), "{why}: completed anyway");
            assert!(
                matches!(
                    store.head_object(&bucket, key).await,
                    Err(StoreError::NoSuchKey)
                ),
                "{why}: the original was stored"
            );
            let page = list(store, &bucket, query("", "", "", 100)).await;
            assert!(keys(&page).is_empty(), "{why}: stored {:?}", keys(&page));
            let parts = store.list_parts(&bucket, key, &id).await;
            assert_eq!(
                parts.map(|u| u.parts.len()).ok(),
                Some(2),
                "{why}: the upload must stay for a retry"
            );
        }
    }
    let done = complete_with(
        store,
        &bucket,
        key,
        &id,
        &completed,
        true,
        vec![output(&bucket, "good.png", b"good")],
    )
    .await
    .unwrap();
    assert_eq!(done.extra.len(), 1);
    assert!(get(store, &bucket, key).await.1 == whole);
    assert_eq!(get(store, &bucket, "good.png").await.1, b"good");
}

/// An output written over the upload's own key replaces the original in the same commit
/// (`keep_original` false: the original is not stored at all); the answer still describes
/// the assembled upload, and the upload is retired either way.
pub async fn multipart_outputs_may_replace_the_original(store: &dyn Store) {
    let bucket = fresh_bucket(store, "mpover").await;
    let key = "photo.jpg";
    let (id, completed, whole) = two_part_upload(store, &bucket, key, 51).await;
    let (first, last) = whole.split_at(MIN_PART_SIZE as usize);
    let done: CompletedUpload = complete_with(
        store,
        &bucket,
        key,
        &id,
        &completed,
        false,
        vec![output(&bucket, key, b"processed")],
    )
    .await
    .unwrap();
    assert_eq!(done.original.etag, multipart_etag(&[first, last]));
    assert_eq!(done.original.size, whole.len() as u64);
    assert_eq!(done.original.crc64, crc64(&whole));
    let (meta, bytes) = get(store, &bucket, key).await;
    assert_eq!(bytes, b"processed");
    same_object(&meta, &done.extra[0]);
    assert!(matches!(
        store.list_parts(&bucket, key, &id).await,
        Err(StoreError::NoSuchUpload)
    ));

    // Kept and replaced in one commit: the later record wins.
    let (id, completed, _) = two_part_upload(store, &bucket, "both.jpg", 52).await;
    complete_with(
        store,
        &bucket,
        "both.jpg",
        &id,
        &completed,
        true,
        vec![output(&bucket, "both.jpg", b"output wins")],
    )
    .await
    .unwrap();
    assert_eq!(get(store, &bucket, "both.jpg").await.1, b"output wins");

    // Not kept and nothing written in its place: only the upload goes.
    let (id, completed, _) = two_part_upload(store, &bucket, "dropped.jpg", 53).await;
    let done = complete_with(
        store,
        &bucket,
        "dropped.jpg",
        &id,
        &completed,
        false,
        Vec::new(),
    )
    .await
    .unwrap();
    assert!(done.extra.is_empty());
    assert!(matches!(
        store.head_object(&bucket, "dropped.jpg").await,
        Err(StoreError::NoSuchKey)
    ));
    assert!(matches!(
        store.list_parts(&bucket, "dropped.jpg", &id).await,
        Err(StoreError::NoSuchUpload)
    ));
    let page = list(store, &bucket, query("", "", "", 100)).await;
    assert_eq!(keys(&page), ["both.jpg", key]);
}

fn uploads_query(
    prefix: &str,
    delimiter: &str,
    key_marker: &str,
    upload_id_marker: &str,
    max_uploads: usize,
) -> ListUploadsQuery {
    ListUploadsQuery {
        prefix: prefix.into(),
        delimiter: delimiter.into(),
        key_marker: key_marker.into(),
        upload_id_marker: upload_id_marker.into(),
        max_uploads,
    }
}

async fn list_uploads(store: &dyn Store, bucket: &str, q: ListUploadsQuery) -> ListUploadsPage {
    store
        .list_multipart_uploads(bucket, &q)
        .await
        .unwrap_or_else(|e| panic!("list uploads {q:?}: {e}"))
}

fn upload_pairs(page: &ListUploadsPage) -> Vec<(String, String)> {
    page.uploads
        .iter()
        .map(|u| (u.key.clone(), u.upload_id.clone()))
        .collect()
}

/// Every upload of `prefix`, walking pages of `max` with both markers.
async fn walk_uploads(
    store: &dyn Store,
    bucket: &str,
    prefix: &str,
    max: usize,
) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let (mut key_marker, mut id_marker) = (String::new(), String::new());
    for _ in 0..100 {
        let page = list_uploads(
            store,
            bucket,
            uploads_query(prefix, "", &key_marker, &id_marker, max),
        )
        .await;
        assert!(page.uploads.len() <= max);
        seen.extend(upload_pairs(&page));
        if !page.is_truncated {
            return seen;
        }
        key_marker = page
            .next_key_marker
            .expect("NextKeyMarker on a truncated page");
        id_marker = page.next_upload_id_marker.unwrap_or_default();
    }
    panic!("listing uploads does not terminate");
}

/// List Multipart Uploads: every unfinished upload once, by key bytes and then by
/// initiation, with prefix, delimiter, both markers and max-uploads; completed and aborted
/// uploads leave the listing.
pub async fn listing_multipart_uploads(store: &dyn Store) {
    let bucket = fresh_bucket(store, "uploads").await;
    let page = list_uploads(store, &bucket, uploads_query("", "", "", "", 1000)).await;
    assert!(page.uploads.is_empty() && page.common_prefixes.is_empty() && !page.is_truncated);

    let before = SystemTime::now() - Duration::from_secs(60);
    let mut created = Vec::new();
    for key in ["b/2", "a", "b/1", "a", "c", "b/1", "中/x", "a"] {
        let id = store
            .create_multipart(&bucket, key, PutOptions::default())
            .await
            .unwrap();
        created.push((key.to_string(), id));
    }
    let after = SystemTime::now() + Duration::from_secs(60);
    // A stable sort keeps creation order among uploads of one key.
    let mut want = created.clone();
    want.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let page = list_uploads(store, &bucket, uploads_query("", "", "", "", 1000)).await;
    assert_eq!(
        upload_pairs(&page),
        want,
        "uploads by key, then by initiation"
    );
    assert!(!page.is_truncated && page.next_key_marker.is_none());
    for upload in &page.uploads {
        assert!(
            upload.initiated >= before && upload.initiated <= after,
            "{upload:?} initiated at an odd time"
        );
    }
    for max in [1, 2, 3] {
        assert_eq!(
            walk_uploads(store, &bucket, "", max).await,
            want,
            "max-uploads {max}"
        );
    }
    let under_b: Vec<_> = want
        .iter()
        .filter(|(k, _)| k.starts_with("b/"))
        .cloned()
        .collect();
    assert_eq!(walk_uploads(store, &bucket, "b/", 1).await, under_b);

    let page = list_uploads(store, &bucket, uploads_query("", "/", "", "", 1000)).await;
    let flat: Vec<_> = want
        .iter()
        .filter(|(k, _)| !k.contains('/'))
        .cloned()
        .collect();
    assert_eq!(upload_pairs(&page), flat);
    assert_eq!(page.common_prefixes, ["b/", "中/"]);

    // Completing and aborting take uploads out of the listing.
    let (c_key, c_id) = created.iter().find(|(k, _)| k == "c").cloned().unwrap();
    let part = store
        .upload_part(&bucket, &c_key, &c_id, 1, body(b"c"), None)
        .await
        .unwrap();
    let done = [CompletedPart {
        part_number: 1,
        etag: part.etag,
    }];
    store
        .complete_multipart(&bucket, &c_key, &c_id, &done)
        .await
        .unwrap();
    let (a_key, a_id) = created.iter().find(|(k, _)| k == "a").cloned().unwrap();
    store.abort_multipart(&bucket, &a_key, &a_id).await.unwrap();
    want.retain(|(_, id)| *id != c_id && *id != a_id);
    let page = list_uploads(store, &bucket, uploads_query("", "", "", "", 1000)).await;
    assert_eq!(upload_pairs(&page), want, "after complete and abort");

    let err = store
        .list_multipart_uploads(
            "ct-absent-00000000-1250000000",
            &uploads_query("", "", "", "", 10),
        )
        .await;
    assert!(matches!(err, Err(StoreError::NoSuchBucket)), "{err:?}");
    for (key, id) in want {
        store.abort_multipart(&bucket, &key, &id).await.unwrap();
    }
    store.delete_object(&bucket, &c_key).await.unwrap();
    store.delete_bucket(&bucket).await.unwrap();
}

/// Writers racing on one key end with exactly one writer's whole body; readers racing with
/// them always see a body matching its own ETag.
pub async fn concurrent_writers_never_mix(store: &dyn Store) {
    const WRITERS: u8 = 6;
    const CHUNK: usize = 16 * 1024;
    const CHUNKS: usize = 32;
    let bucket = fresh_bucket(store, "race").await;
    put(store, &bucket, "k", &[0xAA; CHUNK * CHUNKS]).await;
    let bodies: Vec<Vec<u8>> = (0..WRITERS).map(|w| vec![w; CHUNK * CHUNKS]).collect();
    let writers = (0..WRITERS).map(|w| {
        let bucket = bucket.clone();
        async move {
            // Yield between chunks so the writers' streams interleave.
            let stream = futures::stream::iter(0..CHUNKS).then(move |_| async move {
                tokio::task::yield_now().await;
                Ok(Bytes::from(vec![w; CHUNK]))
            });
            store
                .put_object(&bucket, "k", Box::pin(stream), PutOptions::default())
                .await
                .unwrap()
        }
    });
    let readers = (0..4).map(|_| {
        let bucket = bucket.clone();
        async move {
            for _ in 0..3 {
                let (meta, bytes) = get(store, &bucket, "k").await;
                assert_eq!(
                    meta.etag,
                    md5_hex(&bytes),
                    "a reader saw a body that is not its ETag's"
                );
                assert_eq!(bytes.len() as u64, meta.size);
                tokio::task::yield_now().await;
            }
        }
    });
    let (metas, _) = futures::join!(
        futures::future::join_all(writers),
        futures::future::join_all(readers)
    );
    for (w, meta) in metas.iter().enumerate() {
        assert_eq!(
            meta.etag,
            md5_hex(&bodies[w]),
            "writer {w} got another writer's ETag"
        );
    }
    let (meta, bytes) = get(store, &bucket, "k").await;
    let winner = bodies.iter().position(|b| *b == bytes);
    assert!(winner.is_some(), "the stored body mixes writers");
    assert_eq!(meta.etag, md5_hex(&bytes));
    let page = list(store, &bucket, query("", "", "", 10)).await;
    assert_eq!(page.objects.len(), 1);
    assert_eq!(
        page.objects.first().map(|o| o.etag.clone()),
        Some(meta.etag)
    );
}

/// Buckets: create, duplicate, head, list (ordered), ACL, refuse deleting while objects or
/// uploads remain, delete, recreate empty.
/// Settings start empty, are replaced whole, are per bucket, and go with their bucket: a
/// bucket created again under the same name starts without the old styles.
pub async fn bucket_settings_round_trip(store: &dyn Store) {
    let bucket = fresh_bucket(store, "settings").await;
    let other = fresh_bucket(store, "settings-other").await;
    assert_eq!(
        store.bucket_settings(&bucket).await.unwrap(),
        BucketSettings::default()
    );
    let mut settings = BucketSettings::default();
    settings
        .styles
        .insert("thumb".into(), "imageMogr2/thumbnail/100x".into());
    settings
        .styles
        .insert("中-x".into(), "imageMogr2/format/webp".into());
    settings.style_separators = "!-".into();
    store
        .put_bucket_settings(&bucket, settings.clone())
        .await
        .unwrap();
    assert_eq!(store.bucket_settings(&bucket).await.unwrap(), settings);
    assert_eq!(
        store.bucket_settings(&other).await.unwrap(),
        BucketSettings::default()
    );
    let mut fewer = settings.clone();
    fewer.styles.remove("thumb");
    store
        .put_bucket_settings(&bucket, fewer.clone())
        .await
        .unwrap();
    assert_eq!(store.bucket_settings(&bucket).await.unwrap(), fewer);

    assert!(matches!(
        store.bucket_settings("missing-settings-1250000000").await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        store
            .put_bucket_settings("missing-settings-1250000000", settings.clone())
            .await,
        Err(StoreError::NoSuchBucket)
    ));
    // Settings are not content: an otherwise empty bucket can still be deleted.
    store.delete_bucket(&bucket).await.unwrap();
    assert!(matches!(
        store.bucket_settings(&bucket).await,
        Err(StoreError::NoSuchBucket)
    ));
    store.create_bucket(&bucket, Acl::Private).await.unwrap();
    assert_eq!(
        store.bucket_settings(&bucket).await.unwrap(),
        BucketSettings::default()
    );
    store.delete_bucket(&bucket).await.unwrap();
    store.delete_bucket(&other).await.unwrap();
}

pub async fn bucket_lifecycle(store: &dyn Store) {
    for bad in [
        "Bad_Name-125",
        "nodash",
        "-lead-125",
        "a-b",
        "../x-125",
        "ab-12a",
    ] {
        let err = store.create_bucket(bad, Acl::Private).await;
        assert!(
            matches!(err, Err(StoreError::InvalidBucketName(_))),
            "{bad}: {err:?}"
        );
    }
    let salt = hex::encode(rand::random::<[u8; 4]>());
    let first = format!("ct-life-a{salt}-1250000000");
    let second = format!("ct-life-b{salt}-1250000000");
    store.create_bucket(&second, Acl::PublicRead).await.unwrap();
    store.create_bucket(&first, Acl::Private).await.unwrap();
    let err = store.create_bucket(&first, Acl::Private).await;
    assert!(
        matches!(err, Err(StoreError::BucketAlreadyExists)),
        "{err:?}"
    );
    let info = store.head_bucket(&second).await.unwrap();
    assert_eq!(
        (info.name.as_str(), info.acl),
        (second.as_str(), Acl::PublicRead)
    );
    assert_eq!(store.head_bucket(&first).await.unwrap().acl, Acl::Private);

    let names: Vec<String> = store
        .list_buckets()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    let ours: Vec<&String> = names.iter().filter(|n| n.contains(&salt)).collect();
    assert_eq!(ours, [&first, &second]);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "buckets are listed by name");

    store
        .set_bucket_acl(&first, Acl::PublicReadWrite)
        .await
        .unwrap();
    assert_eq!(
        store.head_bucket(&first).await.unwrap().acl,
        Acl::PublicReadWrite
    );

    put(store, &first, "k", b"v").await;
    assert!(matches!(
        store.delete_bucket(&first).await,
        Err(StoreError::BucketNotEmpty)
    ));
    store.delete_object(&first, "k").await.unwrap();
    let upload = store
        .create_multipart(&first, "m", PutOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(
            store.delete_bucket(&first).await,
            Err(StoreError::BucketNotEmpty)
        ),
        "unfinished uploads keep a bucket"
    );
    store.abort_multipart(&first, "m", &upload).await.unwrap();
    store.delete_bucket(&first).await.unwrap();
    assert!(matches!(
        store.head_bucket(&first).await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        store.delete_bucket(&first).await,
        Err(StoreError::NoSuchBucket)
    ));
    let err = store
        .put_object(&first, "k", body(b"v"), PutOptions::default())
        .await;
    assert!(matches!(err, Err(StoreError::NoSuchBucket)), "{err:?}");
    let names: Vec<String> = store
        .list_buckets()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert!(!names.contains(&first) && names.contains(&second));

    store.create_bucket(&first, Acl::Private).await.unwrap();
    let page = list(store, &first, query("", "", "", 10)).await;
    assert!(page.objects.is_empty(), "a recreated bucket starts empty");
    assert!(matches!(
        store.head_object(&first, "k").await,
        Err(StoreError::NoSuchKey)
    ));
    store.delete_bucket(&first).await.unwrap();
    store.delete_bucket(&second).await.unwrap();
}

/// A body of `size` bytes streams in and out in chunks, with the right size, MD5 and CRC-64,
/// and a range at its end reads correctly (the caller picks the size; 100 MB in the local
/// tests).
pub async fn large_object_streams(store: &dyn Store, size: u64) {
    const CHUNK: usize = 1024 * 1024;
    let bucket = fresh_bucket(store, "large").await;
    // The generator is cheap and deterministic, so the body is never held whole.
    let chunk_at = move |i: u64| -> Bytes {
        let start = i * CHUNK as u64;
        let len = (size - start).min(CHUNK as u64) as usize;
        Bytes::from(pattern(len, (i % 251) as u8))
    };
    let chunks = size.div_ceil(CHUNK as u64);
    let mut md5 = Md5::new();
    let mut crc = CRC64.digest();
    for i in 0..chunks {
        let chunk = chunk_at(i);
        md5.update(&chunk);
        crc.update(&chunk);
    }
    let (want_md5, want_crc) = (hex::encode(md5.finalize()), crc.finalize());

    let stream = futures::stream::iter(0..chunks).map(move |i| Ok(chunk_at(i)));
    let meta = store
        .put_object(
            &bucket,
            "large.bin",
            Box::pin(stream),
            PutOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        (meta.size, meta.etag.as_str(), meta.crc64),
        (size, want_md5.as_str(), want_crc)
    );

    let GetObject { meta, mut body, .. } =
        store.get_object(&bucket, "large.bin", None).await.unwrap();
    assert_eq!(meta.size, size);
    let (mut md5, mut crc, mut read) = (Md5::new(), CRC64.digest(), 0u64);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        assert!(chunk.len() <= CHUNK, "a GET chunk of {} bytes", chunk.len());
        md5.update(&chunk);
        crc.update(&chunk);
        read += chunk.len() as u64;
    }
    assert_eq!(read, size);
    assert_eq!(hex::encode(md5.finalize()), want_md5);
    assert_eq!(crc.finalize(), want_crc);

    let last_chunk = chunk_at(chunks - 1);
    let tail_len = last_chunk.len().min(100);
    let tail_start = size - tail_len as u64;
    let tail = store
        .get_object(
            &bucket,
            "large.bin",
            Some(ByteRange::Suffix(tail_len as u64)),
        )
        .await
        .unwrap();
    assert_eq!(tail.range, Some((tail_start, size - 1)));
    let tail = read_all(tail.body).await;
    assert!(
        tail == last_chunk.slice(last_chunk.len() - tail_len..),
        "tail range differs"
    );
    store.delete_object(&bucket, "large.bin").await.unwrap();
}
