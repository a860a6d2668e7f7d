//! # wxcc-api
//!
//! Webex Contact Center APIs (the "new" API on developer.webex-cx.com): OAuth2, tasks,
//! queue and agent statistics, agent activities, captures, sites, search; and a simulator.
//!
//! - [`auth`] (feature `client`, default): the integration (authorization-code) flow with
//!   `state` checked, refresh with rotated refresh tokens saved through a [`TokenStore`](auth::TokenStore)
//!   (file-backed one included), one refresh however many callers wait, service-app tokens,
//!   regions, and the org id read from the token.
//! - [`api`] (feature per area, `reporting` by default, `full` for all): every operation of
//!   the official spec as a typed request value, generated, sent with [`WxccClient::call`].
//! - [`client`] (feature `client`): calls through cc-core's executor — client-side rate
//!   limit (300/min by default), 429 `Retry-After`, a `TrackingId` on every request (surfaced
//!   in errors), lenient error bodies, gzip, retries by idempotency. On the reporting
//!   operations (feature `reporting`): streams over all tasks of a window (deduplicated) and
//!   all agent activities (aware of the 10,000-record cap); statistics windows split into
//!   valid chunks; captures chunked by 10 ids and downloads without `Authorization`; sites
//!   CRUD, bulk (207 per item), export, CSV upload; GraphQL search with typed errors and
//!   cursor pages.
//! - [`model`]: the spec's schemas; unknown fields and enum values never fail.
//! - [`webhook`]: subscription deliveries verified on their raw bytes (HMAC-SHA256 per
//!   subscription, several secrets for rotation, the V2 timestamp within a replay window),
//!   parsed into [`model::events::Event`]; with feature `server`, an axum route that drops
//!   redeliveries by event id and acknowledges once your handler took the event.
//! - [`tracking`]: the latest state per agent and task from unordered, repeated events, and
//!   the tasks the API has that no event named (reconciliation).
//! - `notification` (feature `notification`): the notification and realtime WebSocket —
//!   subscribe, Welcome, keepalives, lost-connection detection and reconnect with a fresh
//!   subscribe, as the vendor's SDK does — as a stream of typed messages.
//! - [`query`]: validated parameters and window splitting, usable without the client.
//! - [`csv`]: a sites CSV into a bulk request, with every bad row named by line.
//! - `sim` (feature `sim`): a fake WxCC on loopback, with OAuth rotation, generated data,
//!   version conflicts, a rate limit answering 429, and faults on demand.
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod api;
#[cfg(feature = "client")]
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
pub mod csv;
pub mod error;
pub mod model;
#[cfg(feature = "notification")]
pub mod notification;
pub mod query;
#[cfg(feature = "sim")]
pub mod sim;
pub mod tracking;
pub mod webhook;

#[cfg(feature = "client")]
pub use client::{WxccClient, WxccConfig};
pub use error::Error;
pub use webhook::WxccWebhook;
