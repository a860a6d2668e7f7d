//! # cc-core
//!
//! Shared foundations of the contact-center toolkit: the pieces every vendor crate needs and
//! should not write again.
//!
//! | module | what | feature |
//! |---|---|---|
//! | [`secret`] | [`Secret`]: redacted in `Debug`/`Display`, read explicitly | – |
//! | [`ids`], [`time`], [`enums`] | typed ids, [`EpochMillis`], open wire enums | – |
//! | [`de`] | lenient numbers, JSON parsing with field-path errors | – |
//! | [`auth`] | Basic, HMAC, OAuth2 grants (described, no I/O), token cache with single-flight refresh, token stores | cache: `cache`, file store: `file-store` |
//! | `http` | request executor: auth, retries, timeouts, tracing; OAuth2 grants over the wire | `client` |
//! | [`webhook`] | Basic/HMAC/JWT verification on raw bytes, duplicate filter, axum blocks | JWT: `jwt`, axum: `server` |
//! | [`error`] | [`VendorError`]: status, vendor code, message, tracking id and [`ChannelErrorKind`] of any vendor error | – |
//! | [`conversation`] | vendor-neutral [`ConversationEvent`] and [`MessagingChannel`] | – |
//! | `serve` | serving a router with connection limits (slow clients, idle and stalled connections) | `server` |
//! | `inbox` | durable inbox of verified deliveries and state beside it: SQLite, in memory, Redis | `inbox`, Redis: `redis` |
//! | `sim` | fault injection shared by the vendor simulators | `sim` |
//!
//! With no features, cc-core depends on no HTTP stack and no async runtime. Modules import
//! only from lower layers (`secret` → `de` → `ids`/`time`/`enums` → `error` →
//! `conversation` → `auth` → `http` → `serve` → `webhook` → `sim`; `cargo xtask shape` checks it).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
pub mod conversation;
pub mod de;
pub mod enums;
pub mod error;
#[cfg(feature = "client")]
pub mod http;
pub mod ids;
#[cfg(feature = "inbox")]
pub mod inbox;
pub mod secret;
#[cfg(feature = "server")]
pub mod serve;
#[cfg(feature = "sim")]
pub mod sim;
pub mod time;
pub mod webhook;

pub use conversation::{ChannelError, ChannelErrorKind, ConversationEvent, MessagingChannel};
pub use error::VendorError;
pub use ids::{ConversationId, MessageId, ParticipantId};
pub use secret::Secret;
pub use time::EpochMillis;

/// Re-exports for the macros; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
}
