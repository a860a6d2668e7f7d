//! # ece-messaging
//!
//! Cisco Enterprise Chat and Email (ECE) asynchronous messaging for client applications
//! (API v19, ECE 12.0 ES1 and later): a bot or app starts chats with ECE agents, sends the
//! customer's messages, and receives the agents' messages on a webhook.
//!
//! - [`client`] (feature `client`, default): login with the client key and secret (24-hour
//!   bearer token, one re-login on 401), entry-point configuration with cached `lastModified`,
//!   [`start::StartConversation`] (validated; a 409 `409-100` re-reads the configuration and
//!   retries once), messages of every type, end.
//! - [`webhook`]: Basic (constant time) or bearer checks, JSON and XML callbacks, envelope or
//!   bare message; with feature `server`, an axum route that drops redeliveries by message id.
//! - [`availability`]: the chat web-service API's agent availability, capacity, eligibility
//!   and chat-allowed answers (the calls are on the client: `EceClient::capacity`, …).
//! - [`channel`]: callbacks as `ConversationEvent`s, and the `MessagingChannel` impl.
//! - `sim` (feature `sim`): a fake ECE web server with a scripted agent, on loopback.
#![deny(missing_docs)]

pub mod availability;
pub mod channel;
#[cfg(feature = "client")]
pub mod client;
pub mod error;
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;
pub mod start;
pub mod webhook;

#[cfg(feature = "client")]
pub use client::{EceClient, EceConfig};
pub use error::Error;
pub use webhook::EceWebhook;
