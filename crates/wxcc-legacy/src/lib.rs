//! # wxcc-legacy
//!
//! Webex Contact Center legacy v1 reporting API: HMAC auth, CSR/CAR/ASR/AAR records, simulator.
//!
//! **Status: skeleton.** The module layout below is in place; the contents arrive with
//! issue 9 (see the workspace README). Nothing here talks to the vendor yet.
//!
//! | module | role |
//! |---|---|
//! | `model` | Wire types: every payload of the contract as Rust types, lenient where the vendor varies. |
//! | `error` | The crate's error type: vendor status, code and message, never a secret. |
//! | `client` | The outbound client (feature `client`): typed calls run through cc-core's executor. |
//! | `sim` | An in-process simulator of the vendor (feature `sim`), faithful to the documented behaviour, with fault injection. |
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod client;
pub mod error;
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;
