//! # lp-connector
//!
//! The LivePerson Connector API's sending side, paired with `lp-notifications` (the webhooks
//! LivePerson sends back): a connector opens a conversation as a consumer, publishes messages,
//! typing, receipts and files, and closes it.
//!
//! - [`domains`]: domain discovery (CSDS), cached per account.
//! - [`auth`] (feature `client`): the AppJWT from Sentinel (expiry read from the JWT,
//!   refreshed ahead), the ConsumerJWS from the IdP (per consumer; it never expires).
//! - [`client`] (feature `client`, default): [`LpClient`] and its [`client::Consumer`]s —
//!   open (the batch; the id found by `conversationId`), publish text, typing, receipts,
//!   close, close the main dialog, CSAT, upload and download files (limits checked first).
//!   Retries as LivePerson advises; a publish is never sent twice.
//! - [`channel`] (feature `client`): the `MessagingChannel` impl, and the join of
//!   `lp-notifications`' events to the conversations opened here.
//! - [`model`]: the wire types, no I/O.
//! - `sim` (feature `sim`): a fake LivePerson on loopback — CSDS, Sentinel, IdP, the Send API,
//!   Swift — with a scripted agent whose notifications are signed and POSTed to your webhook.
//!
//! ```no_run
//! # async fn run() -> Result<(), lp_connector::Error> {
//! use lp_connector::{LpClient, LpConfig, model::OpenConversation};
//! let client = LpClient::new(LpConfig::new("12345678", "app-installation-id", "secret".into()))?;
//! let consumer = client.consumer("customer-42");
//! let conversation = consumer.open(&OpenConversation::new()).await?;
//! consumer.send_text(&conversation, "Hello!").await?;
//! consumer.close(&conversation).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod auth;
#[cfg(feature = "client")]
pub mod channel;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "client")]
pub mod domains;
pub mod error;
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;

#[cfg(feature = "client")]
pub use client::{LpClient, LpConfig};
pub use error::Error;
