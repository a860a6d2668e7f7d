//! A durable inbox of verified webhook deliveries (feature `inbox`): a receiver answers 2xx
//! only after [`Inbox::append`] committed the raw body, and consumers take deliveries out
//! under a lease, so nothing acknowledged is lost when the process dies.
//!
//! - **Dedupe in the same commit.** Each delivery names its keys (event or message ids; the
//!   body's SHA-256 when the vendor gives none). Keys are remembered for the vendor's TTL
//!   ([`InboxConfig::ttl`]). A delivery whose keys were all seen is [`Appended::Duplicate`]
//!   (acknowledge it, nothing is stored); one with some new keys is stored with those
//!   ([`Leased::keys`]), so the consumer skips the parts delivered before.
//! - **Leases.** [`Inbox::claim`] hands deliveries out for a lease; [`Inbox::ack`] removes
//!   one after processing; one not acked by the end of its lease (the consumer died) is
//!   handed out again. A [`LeaseToken`] fences: an ack after the lease passed to another
//!   consumer returns `false`. Processing is therefore at least once: give downstream the
//!   delivery's id so it can drop a repeat.
//! - **Order per conversation.** Deliveries of one conversation key go out one at a time, by
//!   the vendor's order (`order`, e.g. LivePerson's sequence) and then arrival; the next is
//!   handed out once the previous was acked (or released, or its lease ended) — also when a
//!   delivery of a lower order arrived while one was out. A delivery after a gap in the vendor's order waits
//!   at most [`InboxConfig::max_hold`] for the gap to fill, then goes out (late ones follow:
//!   nothing waits forever). Deliveries without a conversation go out in arrival order,
//!   concurrently. The order survives restarts and several consumers, because it is state of
//!   the store, not of a process.
//!
//! [`SqliteInbox`] is the embedded default (WAL, group commit); [`MemoryInbox`] keeps the same
//! rules in memory, for tests. Both keep wall-clock times (leases and TTLs survive restarts).

use std::time::Duration;

use async_trait::async_trait;

use crate::EpochMillis;

mod memory;
#[cfg(feature = "redis")]
pub mod redis;
mod sqlite;

pub use self::memory::MemoryInbox;
pub use self::sqlite::{SqliteInbox, Synchronous};

/// One verified request, as a receiver commits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// The vendor (`ece`, `lp`…): keys and conversations are per vendor.
    pub vendor: String,
    /// The ids of what it carries (an event id, a batch's message ids). Empty: the body's
    /// SHA-256 is the key.
    pub keys: Vec<String>,
    /// The conversation it belongs to, when one orders it.
    pub conversation: Option<String>,
    /// The vendor's order within the conversation (a sequence number).
    pub order: Option<i64>,
    /// The request's `Content-Type` (some vendors send XML or JSON).
    pub content_type: Option<String>,
    /// The raw, verified body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub received_at: EpochMillis,
}

impl NewDelivery {
    /// A delivery of `body` from `vendor`, received now, with no keys yet.
    pub fn new(vendor: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self {
            vendor: vendor.into(),
            keys: Vec::new(),
            conversation: None,
            order: None,
            content_type: None,
            body: body.into(),
            received_at: EpochMillis::now(),
        }
    }

    /// The keys dedupe uses: [`NewDelivery::keys`] without empty and repeated ones, or the
    /// body's SHA-256 (`sha256:<hex>`) when none is left.
    pub fn dedupe_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            if !key.is_empty() && !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        if keys.is_empty() {
            keys.push(format!("sha256:{}", crate::auth::sha256_hex(&self.body)));
        }
        keys
    }
}

/// What [`Inbox::append`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Appended {
    /// Committed as delivery `seq`, carrying these keys not seen before.
    Stored {
        /// The delivery's number (increasing).
        seq: u64,
        /// Its keys that were new.
        fresh: Vec<String>,
    },
    /// Every key was seen within its TTL: acknowledge, nothing stored.
    Duplicate,
}

/// Proof of a lease: [`Inbox::ack`] and [`Inbox::release`] succeed only while it is current.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseToken {
    /// The delivery.
    pub seq: u64,
    /// Which hand-out of it (1 for the first).
    pub attempt: u32,
}

/// A delivery handed out under a lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leased {
    /// Ack or release with this.
    pub token: LeaseToken,
    /// The vendor.
    pub vendor: String,
    /// The keys that were new when it was stored: process only these parts.
    pub keys: Vec<String>,
    /// Its conversation.
    pub conversation: Option<String>,
    /// The vendor's order.
    pub order: Option<i64>,
    /// The request's `Content-Type`.
    pub content_type: Option<String>,
    /// The raw body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub received_at: EpochMillis,
}

impl Leased {
    /// A stable id of the delivery for downstream dedupe: `<vendor>:<seq>`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.vendor, self.token.seq)
    }
}

/// Counts, for status lines and health checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InboxStats {
    /// Stored and not acked.
    pub pending: u64,
    /// Of those, under a live lease.
    pub leased: u64,
    /// Keys remembered for dedupe.
    pub remembered: u64,
}

/// A store failure. The receiver answers 503 (the vendor retries).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InboxError {
    /// The storage failed (I/O, a full disk, corruption).
    #[error("inbox storage failed: {0}")]
    Storage(String),
    /// The inbox was shut down.
    #[error("inbox closed")]
    Closed,
}

/// Inbox settings.
#[derive(Clone, Debug)]
pub struct InboxConfig {
    /// How long keys are remembered (default 24 h).
    pub dedupe_ttl: Duration,
    /// Per-vendor TTLs overriding `dedupe_ttl` (default: `alvaria` 24 h, above its 4-hour
    /// retry window, stated so it is not lowered by accident).
    pub vendor_ttl: Vec<(String, Duration)>,
    /// How long a delivery after a gap in its conversation's order waits for the gap to fill
    /// (default 2 s, as LivePerson's sequencer).
    pub max_hold: Duration,
    /// Rows cleaned per commit: expired keys (default 1,000; the rest in later commits).
    pub sweep_batch: usize,
}

impl Default for InboxConfig {
    fn default() -> Self {
        Self {
            dedupe_ttl: Duration::from_secs(24 * 3600),
            vendor_ttl: vec![("alvaria".into(), Duration::from_secs(24 * 3600))],
            max_hold: Duration::from_secs(2),
            sweep_batch: 1_000,
        }
    }
}

impl InboxConfig {
    /// The dedupe TTL of `vendor`.
    pub fn ttl(&self, vendor: &str) -> Duration {
        self.vendor_ttl.iter().find(|(v, _)| v == vendor).map_or(self.dedupe_ttl, |(_, ttl)| *ttl)
    }
}

/// A durable store of verified deliveries; see the [module](self) for the rules. Small on
/// purpose: an implementation on another store (Redis) provides these five operations.
#[async_trait]
pub trait Inbox: Send + Sync + 'static {
    /// Commits `delivery` and its keys in one transaction; returns once it is durable.
    async fn append(&self, delivery: NewDelivery) -> Result<Appended, InboxError>;

    /// Hands out at most `max` deliveries that are ready (see the module), each under a
    /// lease of `lease`.
    async fn claim(&self, max: usize, lease: Duration) -> Result<Vec<Leased>, InboxError>;

    /// Done with it: removes the delivery. `false`: the lease was no longer this token's
    /// (it expired and the delivery went to another consumer, or it was acked already).
    async fn ack(&self, token: LeaseToken) -> Result<bool, InboxError>;

    /// Not done: hands it out again after `delay` (its conversation waits meanwhile).
    /// `false` as for [`Inbox::ack`].
    async fn release(&self, token: LeaseToken, delay: Duration) -> Result<bool, InboxError>;

    /// Counts.
    async fn stats(&self) -> Result<InboxStats, InboxError>;
}

/// Small durable state beside the inbox (the same file for SQLite): sequencer positions,
/// session tables, tokens. Values are opaque bytes (JSON by convention) under a scope (one
/// per user of the store, `alvaria.sessions`) and a key; `ttl` makes a value disappear.
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// The value, unless absent or expired.
    async fn get(&self, scope: &str, key: &str) -> Result<Option<Vec<u8>>, InboxError>;
    /// Stores `value`, replacing what was there; returns once it is durable.
    async fn put(
        &self,
        scope: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), InboxError>;
    /// Removes the value (absent is fine).
    async fn delete(&self, scope: &str, key: &str) -> Result<(), InboxError>;
    /// Every live value of `scope`, by key.
    async fn scan(&self, scope: &str) -> Result<Vec<(String, Vec<u8>)>, InboxError>;
}

/// A [`TokenStore`](crate::auth::TokenStore) on a [`StateStore`]: the token as JSON under
/// `tokens` / `name`, so tokens live in the same file as the inbox.
pub struct StateTokenStore {
    store: std::sync::Arc<dyn StateStore>,
    name: String,
}

impl StateTokenStore {
    /// The token called `name` (one per integration) in `store`.
    pub fn new(store: std::sync::Arc<dyn StateStore>, name: impl Into<String>) -> Self {
        Self { store, name: name.into() }
    }
}

impl std::fmt::Debug for StateTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateTokenStore").field("name", &self.name).finish_non_exhaustive()
    }
}

#[async_trait]
impl crate::auth::TokenStore for StateTokenStore {
    async fn load(&self) -> Result<Option<crate::auth::Token>, crate::auth::AuthError> {
        match self.store.get("tokens", &self.name).await.map_err(auth_store)? {
            None => Ok(None),
            Some(bytes) => crate::auth::stored::decode(&bytes, &format!("token `{}`", self.name)).map(Some),
        }
    }

    async fn save(&self, token: &crate::auth::Token) -> Result<(), crate::auth::AuthError> {
        let bytes = crate::auth::stored::encode(token)?;
        self.store.put("tokens", &self.name, bytes, None).await.map_err(auth_store)
    }
}

/// A store failure seen by a token store.
fn auth_store(e: InboxError) -> crate::auth::AuthError {
    crate::auth::AuthError::Store(e.to_string())
}

/// Whether the head of a conversation may go out: no vendor order, nothing done yet, the
/// next in order, or held long enough.
fn ready(order: Option<i64>, last_done: Option<i64>, received_at: i64, now: i64, max_hold: Duration) -> bool {
    match (order, last_done) {
        (Some(order), Some(done)) => {
            order <= done.saturating_add(1) || now >= received_at.saturating_add(max_hold.as_millis() as i64)
        }
        _ => true,
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
