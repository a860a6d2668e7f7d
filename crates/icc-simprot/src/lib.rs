//! # icc-simprot
//!
//! Atlantis iCC SimProt: the messages external chat and messaging applications and agent
//! clients exchange with ProServer over TCP and MessagePack.
//!
//! - [`model`]: every data structure of the seed (PascalCase members, typed GUIDs, UTC times,
//!   open enums), as JSON and MessagePack;
//! - [`catalogue`]: every message name with its payload type; unknown names are kept;
//! - [`framing`]: the TCP framing. The vendor's framing is not public: this is an explicit,
//!   swappable assumption (length prefix + MessagePack `[name, payload]`, see
//!   `docs/simprot-framing.md`) with a maximum frame size, to be checked against a capture;
//! - `connection` (feature `client`, default): one TCP connection, send and a cancel-safe
//!   receive;
//! - `client` (feature `client`): [`SimProtClient`], the connection both sides keep: reconnect
//!   with backoff, resynchronisation, answers routed to their callers, the rest as events;
//! - `external` (feature `client`): the external chat application and message gateway with
//!   the 20-second echo wait, a cached chat request and the 60 s / 90 s message rules;
//! - `agent` (feature `client`): the agent client (CS/SC);
//! - `error` (feature `client`): `Error`, for every call of either side;
//! - `channel` (feature `client`): `MessagingChannel` for the external app and the mapping of
//!   its events to cc-core `ConversationEvent`s (conversation id = TrackingId);
//! - `sim` (feature `sim`): an in-process ProServer that brokers between external apps and
//!   agent clients, with faults.
//!
//! Guide: `docs/vendors/icc-simprot.md`.
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod agent;
pub mod catalogue;
#[cfg(feature = "client")]
pub mod channel;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "client")]
pub mod connection;
#[cfg(feature = "client")]
pub mod error;
#[cfg(feature = "client")]
pub mod external;
pub mod framing;
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;

#[cfg(feature = "client")]
pub use client::{SimProtClient, SimProtConfig};
#[cfg(feature = "client")]
pub use error::Error;
