//! The mogr HTTP server: the COS object API over hyper/axum, with exact COS header spellings.
//!
//! Entry points for the CLI: [`ServerConfig`], [`serve`], [`serve_with_shutdown`],
//! [`serve_with_admin`] (with the admin listener: metrics, health, playground), [`spawn`].

pub mod addressing;
pub mod admin;
pub mod authn;
pub mod body;
pub mod conditional;
pub mod config;
pub mod connection;
pub mod context;
pub mod dispatch;
pub mod error_map;
pub mod fonts;
pub mod handlers;
pub mod header_case;
pub mod lifecycle;
pub mod object_headers;
pub mod operation;
pub mod processing;
pub mod range;
pub mod request_id;
pub mod respond;
pub mod server;
pub mod state;
pub mod styles;
pub mod telemetry;
pub mod unread_body;
pub mod variant_cache;

pub use body::BodyTimeouts;
pub use config::{
    CacheSettings, ConnectionLimits, ServerConfig, StoreBackend, DEFAULT_MAX_OBJECT_SIZE,
};
pub use server::{
    router, serve, serve_state, serve_with_admin, serve_with_shutdown, spawn, spawn_state,
};
pub use state::AppState;
