//! The XML request bodies: CompleteMultipartUpload, DeleteObjects (Delete) and PutBucketAcl.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mogr_cos::xml::{parse_acl_body, parse_complete, parse_delete, MAX_DELETE_KEYS};

fuzz_target!(|data: &[u8]| {
    if let Ok(parts) = parse_complete(data) {
        assert!(!parts.is_empty(), "no parts");
        assert!(
            parts.windows(2).all(|w| w[0].0 < w[1].0),
            "parts out of order"
        );
    }
    if let Ok(request) = parse_delete(data) {
        assert!(
            request.keys.len() <= MAX_DELETE_KEYS,
            "{} keys",
            request.keys.len()
        );
        assert!(request.keys.iter().all(|k| !k.is_empty()), "an empty key");
    }
    let _ = parse_acl_body(data);
});
