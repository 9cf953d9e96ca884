//! `x-cos-request-id` / `x-cos-trace-id` values.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use rand::Rng;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh request id shaped like COS's: Base64 of `<time hex>_<random hex>_<pid hex>_<counter>`.
pub fn new_request_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let random: u32 = rand::thread_rng().gen();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let raw = format!("{secs:08x}_{random:08x}_{:x}_{n}", std::process::id());
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// A fresh trace id: Base64 of 48 random bytes (COS's trace ids are long opaque Base64).
pub fn new_trace_id() -> String {
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill(&mut bytes[..]);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_base64() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        for id in [&a, &b] {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(id)
                .unwrap();
            assert_eq!(String::from_utf8(decoded).unwrap().split('_').count(), 4);
        }
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(new_trace_id())
                .unwrap()
                .len(),
            48
        );
    }
}
