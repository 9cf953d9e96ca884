//! The mogr HTTP server: the COS object API over hyper/axum, with exact COS header spellings.
//!
//! Entry points for the CLI: [`ServerConfig`], [`serve`], [`serve_with_shutdown`], [`spawn`].

pub mod addressing;
pub mod authn;
pub mod body;
pub mod conditional;
pub mod config;
pub mod context;
pub mod dispatch;
pub mod error_map;
pub mod handlers;
pub mod header_case;
pub mod object_headers;
pub mod operation;
pub mod processing;
pub mod range;
pub mod request_id;
pub mod respond;
pub mod server;
pub mod state;
pub mod styles;
pub mod unread_body;

pub use body::BodyTimeouts;
pub use config::{ServerConfig, DEFAULT_MAX_OBJECT_SIZE};
pub use server::{router, serve, serve_state, serve_with_shutdown, spawn, spawn_state};
pub use state::AppState;
