//! Request bodies: streamed to the store with a size cap, or collected when small (XML).

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use mogr_cos::ErrorCode;
use mogr_store::ByteStream;

use crate::error_map::ApiError;

/// Largest XML request body read into memory (Complete Multipart with 10,000 parts fits).
pub const MAX_XML_BODY: u64 = 4 * 1024 * 1024;

/// Why reading a request body failed; travels inside `std::io::Error` through the store.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// More bytes than allowed.
    #[error("body is larger than {0} bytes")]
    TooLarge(u64),
    /// The client stopped sending (or the framing was broken) before the end.
    #[error("incomplete body: {0}")]
    Incomplete(String),
}

impl BodyError {
    /// The COS error for this failure.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            BodyError::TooLarge(_) => ApiError::new(ErrorCode::EntityTooLarge),
            BodyError::Incomplete(_) => ApiError::new(ErrorCode::IncompleteBody),
        }
    }

    fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }
}

/// The request body as a store stream that fails with [`BodyError::TooLarge`] past `limit`.
/// Nothing is buffered beyond the chunk in flight.
pub fn limited_stream(body: Body, limit: u64) -> ByteStream {
    let mut seen: u64 = 0;
    let stream = body.into_data_stream().map(move |chunk| match chunk {
        Ok(bytes) => {
            seen = seen.saturating_add(bytes.len() as u64);
            if seen > limit {
                Err(BodyError::TooLarge(limit).into_io())
            } else {
                Ok(bytes)
            }
        }
        Err(e) => Err(BodyError::Incomplete(e.to_string()).into_io()),
    });
    Box::pin(stream)
}

/// Reads a small body whole, refusing more than `limit` bytes.
pub async fn collect_limited(body: Body, limit: u64) -> Result<Bytes, ApiError> {
    let mut stream = body.into_data_stream();
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::Incomplete(e.to_string()))?;
        if buf.len() as u64 + chunk.len() as u64 > limit {
            return Err(BodyError::TooLarge(limit).into());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stream_fails_past_the_limit_with_a_recognisable_error() {
        let body = Body::from(vec![0u8; 10]);
        let mut s = limited_stream(body, 5);
        let err = s.next().await.unwrap().unwrap_err();
        let inner = err.get_ref().unwrap().downcast_ref::<BodyError>().unwrap();
        assert!(matches!(inner, BodyError::TooLarge(5)));
        let ok: Vec<_> = limited_stream(Body::from("abc"), 3).collect().await;
        assert_eq!(ok.len(), 1);
    }

    #[tokio::test]
    async fn collect_refuses_oversized_bodies() {
        assert_eq!(
            &collect_limited(Body::from("abc"), 3).await.unwrap()[..],
            b"abc"
        );
        let err = collect_limited(Body::from("abcd"), 3).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::EntityTooLarge);
    }
}
