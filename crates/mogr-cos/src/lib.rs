//! Tencent COS wire protocol pieces for mogr: the q-sign signature, query parsing, XML bodies,
//! error codes and the `Pic-Operations` header. Pure functions, no I/O.

#![warn(missing_docs)]

pub mod auth;
pub mod encode;
pub mod error;
pub mod pic_ops;
pub mod query;
pub mod time_fmt;
pub mod xml;

pub use error::{CosError, ErrorCode};
