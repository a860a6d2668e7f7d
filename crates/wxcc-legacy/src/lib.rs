//! # wxcc-legacy
//!
//! The Webex Contact Center legacy v1 reporting API (`/aws/api`): contact and agent session
//! and activity records (CSR, CAR, ASR, AAR), Analyzer-style queries, CSV results streamed
//! row by row, and activity chains.
//!
//! Authentication is static per user: `Authorization: Base64(HMAC-SHA1(API key, From));
//! tenantId=<id>` with `From: <login>`, computed once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wxcc_legacy::Error> {
//! use cc_core::{EpochMillis, Secret};
//! use wxcc_legacy::model::{Query, RecordType};
//! use wxcc_legacy::{LegacyClient, LegacyConfig};
//!
//! let client = LegacyClient::new(LegacyConfig::new(Secret::from("api-key"), "admin@example.com", "387"))?;
//! let query = Query::new("11894", EpochMillis::new(1612155600000), EpochMillis::new(1612328400000))
//!     .timezone("America/New_York");
//! let mut rows = client.query_csv(&RecordType::Csrs, &query).await?;
//! while let Some(row) = rows.next().await {
//!     let row = row?;
//!     println!("{:?} {:?}", row.sid(), row.long("talkDuration"));
//! }
//! # Ok(()) }
//! ```
//!
//! Feature `sim` adds an in-process fake of the API on loopback.
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod client;
pub mod csv;
pub mod error;
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;

#[cfg(feature = "client")]
pub use client::{LegacyClient, LegacyConfig};
pub use error::Error;
