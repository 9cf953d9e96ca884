//! What an operator sees: Prometheus metrics and one structured log line per request.

pub mod metrics;
pub mod request_log;

pub use request_log::{RequestLogLayer, RequestRecord};
