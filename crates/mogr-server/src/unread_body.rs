//! Request bodies a refused request never read.
//!
//! A request refused before its handler ran (bad signature, missing bucket, no permission)
//! leaves its body unread. If the connection were closed at once, a client still sending a
//! large upload would see a broken pipe instead of the COS error, and SDKs then retry the
//! whole upload. Reading the rest in the background, within bounds, lets the answer arrive
//! first and keeps the connection usable.

use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use futures::StreamExt;
use tokio::time::Instant;

/// Most bytes read and thrown away for one refused request; past it the connection closes.
pub const MAX_DRAIN_BYTES: u64 = 64 * 1024 * 1024;

/// Longest time spent draining one refused request's body.
pub const MAX_DRAIN_TIME: Duration = Duration::from_secs(30);

/// Reads and discards `body` on a background task, stopping at [`MAX_DRAIN_BYTES`],
/// [`MAX_DRAIN_TIME`], the end of the body or the first error.
pub fn discard_in_background(body: Body) {
    discard_stream_in_background(body.into_data_stream());
}

/// As [`discard_in_background`], for a body whose reading has already begun.
pub fn discard_stream_in_background(mut stream: BodyDataStream) {
    tokio::spawn(async move {
        let deadline = Instant::now() + MAX_DRAIN_TIME;
        let mut read = 0u64;
        while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, stream.next()).await {
            read += chunk.len() as u64;
            if read > MAX_DRAIN_BYTES {
                break;
            }
        }
    });
}
