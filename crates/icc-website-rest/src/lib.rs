//! # icc-website-rest
//!
//! The visitor-facing JSON/HTTP API of the Atlantis iCC WebSite module: Routing (is the
//! application configured for this page, and the visitor's running chat), AgentImage, and the
//! models of the seed, with a per-visitor tracking cookie and a chat poller.
//!
//! - [`model`]: RoutingModel, ScenarioModel, ControlModel, ParameterModel, ResultModel,
//!   ValueModel, ChatModel, SentenceModel (PascalCase, GUIDs as typed ids, open enums).
//! - [`client`] (feature `client`): [`client::Visitor`]s, each owning its TrackingId cookie
//!   (export it with `tracking_id()`, resume with `resume()`); typed calls to configured paths
//!   for the chat operations, which are not documented publicly.
//! - [`diff`]: [`diff::ChatDiff`] turns successive `ChatRunning` states into events (none
//!   missed, none repeated), without I/O.
//! - `poller` (feature `client`): `ChatPoller` polls with an adaptive interval and backoff.
//! - [`channel`]: the chat events as cc-core `ConversationEvent`s.
//! - `sim` (feature `sim`): a fake WebSite with scripted chats.
#![deny(missing_docs)]

pub mod channel;
#[cfg(feature = "client")]
pub mod client;
pub mod diff;
pub mod error;
pub mod model;
#[cfg(feature = "client")]
pub mod poller;
#[cfg(feature = "sim")]
pub mod sim;

#[cfg(feature = "client")]
pub use client::{WebSiteClient, WebSiteConfig};
pub use error::Error;
