//! # alvaria-servermsg
//!
//! Alvaria Cloud Server Messaging v2: a custom server application opens sessions to Alvaria,
//! sends customer messages, and receives agent messages and events on a callback URL.
//!
//! - [`client`] (feature `client`, default): OAuth2 client-credentials token with
//!   `realm={orgId}`, cached and refreshed; sessions that are **provisional** until the
//!   NEW_SESSION callback confirms them, refused locally once ended or older than 4 hours;
//!   messages; failures reported by MESSAGE_STATUS tracked per message.
//! - [`webhook`]: RS256 JWT verification of callbacks (algorithm pinned) and, with feature
//!   `server`, an axum route that drops redeliveries by `eventId`.
//! - [`model`]: every schema of the API reference; unknown callback events parse as
//!   `Callback::Unknown`.
//! - [`channel`]: callbacks as `ConversationEvent`s, and the `MessagingChannel` impl.
//! - `sim` (feature `sim`): a fake Alvaria on loopback — token service, API, and callbacks
//!   signed with a test key — with fault injection.
#![deny(missing_docs)]

pub mod channel;
#[cfg(feature = "client")]
pub mod client;
pub mod error;
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;

#[cfg(feature = "client")]
pub use client::{AlvariaClient, AlvariaConfig};
pub use error::Error;
pub use webhook::AlvariaWebhook;
