//! # lp-notifications
//!
//! LivePerson Connector API webhook notifications: verify, parse, order, receive.
//!
//! **Status: skeleton.** The module layout below is in place; the contents arrive with
//! issue 7 (see the workspace README). Nothing here talks to the vendor yet.
//!
//! | module | role |
//! |---|---|
//! | `model` | Wire types: every payload of the contract as Rust types, lenient where the vendor varies. |
//! | `error` | The crate's error type: vendor status, code and message, never a secret. |
//! | `webhook` | The inbound side: verify the raw request, parse, drop duplicates, hand over events. |
//! | `sim` | A webhook sender that signs notifications as LivePerson does (feature `sim`). |
#![deny(missing_docs)]

pub mod error;
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;
