//! # lp-notifications
//!
//! LivePerson Connector API webhook notifications: verify, parse, order, receive.
//!
//! LivePerson POSTs one notification per request, signed with HMAC over the raw body, with
//! headers naming the account and the app. This crate:
//!
//! 1. verifies the raw bytes ([`webhook::LpWebhook::verify`]: signature, account id, client id),
//! 2. parses them into typed models ([`model`]) that never reject a new event type or enum
//!    value,
//! 3. orders and de-duplicates them ([`sequencer::Sequencer`]),
//! 4. maps them to cc-core's vendor-neutral `ConversationEvent` ([`channel`]).
//!
//! With default features it depends on no HTTP stack and no async runtime. Feature `server`
//! adds an axum route; feature `sim` a sender that signs and retries like LivePerson; feature
//! `store` the sequencer's state in a cc-core store, so it survives restarts
//! (`sequencer::durable`).
//!
//! ```
//! use lp_notifications::{channel, model, sequencer::Sequencer};
//! let body = br#"{"kind":"notification","body":{"changes":[{"sequence":0,"originatorId":"c1","originatorMetadata":{"id":"c1","role":"CONSUMER"},"serverTimestamp":1528371161893,"event":{"type":"ContentEvent","message":"Hello","contentType":"text/plain"},"dialogId":"d1"}]},"type":"ms.MessagingEventNotification"}"#;
//! let notification = model::parse_notification(body).unwrap();
//! let mut sequencer = Sequencer::default();
//! for delivery in sequencer.push_notification(notification) {
//!     for event in channel::delivery_events(&delivery) {
//!         println!("{}", serde_json::to_string(&event).unwrap());
//!     }
//! }
//! ```
#![deny(missing_docs)]

pub mod channel;
pub mod error;
pub mod model;
pub mod sequencer;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;

pub use error::Error;
pub use webhook::LpWebhook;
