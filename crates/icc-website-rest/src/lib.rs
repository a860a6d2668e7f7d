//! # icc-website-rest
//!
//! Atlantis iCC WebSite JSON/HTTP visitor API: client, chat poller, simulator.
//!
//! **Status: skeleton.** The module layout below is in place; the contents arrive with
//! issue 6 (see the workspace README). Nothing here talks to the vendor yet.
//!
//! | module | role |
//! |---|---|
//! | `model` | Wire types: every payload of the contract as Rust types, lenient where the vendor varies. |
//! | `error` | The crate's error type: vendor status, code and message, never a secret. |
//! | `client` | The outbound client (feature `client`): typed calls run through cc-core's executor. |
//! | `poller` | The inbound side: polling the visitor API and turning successive states into events. |
//! | `channel` | The crate's `cc_core::MessagingChannel` implementation and its `ConversationEvent` mapping. |
//! | `sim` | An in-process simulator of the vendor (feature `sim`), faithful to the documented behaviour, with fault injection. |
#![deny(missing_docs)]

pub mod channel;
#[cfg(feature = "client")]
pub mod client;
pub mod error;
pub mod model;
pub mod poller;
#[cfg(feature = "sim")]
pub mod sim;
