//! # icc-simprot
//!
//! Atlantis iCC SimProt: the messages external chat and messaging applications and agent
//! clients exchange with ProServer over TCP. This crate has the wire layer so far:
//!
//! - [`model`]: every data structure of the seed (PascalCase members, typed GUIDs, UTC times,
//!   open enums), as JSON and MessagePack;
//! - [`catalogue`]: every message name with its payload type; unknown names are kept;
//! - [`framing`]: the TCP framing. The vendor's framing is not public: this is an explicit,
//!   swappable assumption (length prefix + MessagePack `[name, payload]`, see
//!   `docs/vendors/icc-simprot.md`) with a maximum frame size, to be checked against a capture.
//!
//! The connection with reconnect and resynchronisation, the chat/agent/gateway APIs and the
//! simulator are not implemented yet.
#![deny(missing_docs)]

pub mod catalogue;
pub mod framing;
pub mod model;
