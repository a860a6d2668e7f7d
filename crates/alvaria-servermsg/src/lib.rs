//! # alvaria-servermsg
//!
//! Alvaria Server Messaging: client, JWT-verified callback receiver, simulator.
//!
//! **Status: skeleton.** The module layout below is in place; the contents arrive with
//! issue 4 (see the workspace README). Nothing here talks to the vendor yet.
//!
//! | module | role |
//! |---|---|
//! | `model` | Wire types: every payload of the contract as Rust types, lenient where the vendor varies. |
//! | `error` | The crate's error type: vendor status, code and message, never a secret. |
//! | `client` | The outbound client (feature `client`): typed calls run through cc-core's executor. |
//! | `webhook` | The inbound side: verify the raw request, parse, drop duplicates, hand over events. |
//! | `channel` | The crate's `cc_core::MessagingChannel` implementation and its `ConversationEvent` mapping. |
//! | `sim` | An in-process simulator of the vendor (feature `sim`), faithful to the documented behaviour, with fault injection. |
#![deny(missing_docs)]

pub mod channel;
#[cfg(feature = "client")]
pub mod client;
pub mod error;
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;
