//! The inbox's rules in memory (for tests; nothing survives the process).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use super::{
    Appended, Inbox, InboxConfig, InboxError, InboxStats, LeaseToken, Leased, NewDelivery, StateStore,
    millis, ready,
};
use crate::EpochMillis;

/// [`Inbox`] in memory: the same dedupe, lease and order rules as [`super::SqliteInbox`],
/// lost with the process.
pub struct MemoryInbox {
    config: InboxConfig,
    state: Mutex<State>,
}

struct Row {
    delivery: NewDelivery,
    fresh: Vec<String>,
    order_key: i64,
    lease_until: Option<i64>,
    attempt: u32,
    available_at: i64,
}

#[derive(Default)]
struct Conversation {
    last_done: Option<i64>,
    max_order: i64,
    queue: BTreeSet<(i64, u64)>,
    touched: i64,
}

#[derive(Default)]
struct State {
    next: u64,
    rows: BTreeMap<u64, Row>,
    seen: HashMap<(String, String), i64>,
    expiry: VecDeque<(i64, (String, String))>,
    conversations: HashMap<(String, String), Conversation>,
    values: BTreeMap<(String, String), (Vec<u8>, Option<i64>)>,
}

impl MemoryInbox {
    /// An empty inbox.
    pub fn new(config: InboxConfig) -> Self {
        Self { config, state: Mutex::default() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for MemoryInbox {
    fn default() -> Self {
        Self::new(InboxConfig::default())
    }
}

impl State {
    fn sweep(&mut self, now: i64, batch: usize, ttl: Duration) {
        for _ in 0..batch {
            match self.expiry.front() {
                Some((expires, _)) if *expires <= now => {
                    let (expires, key) = self.expiry.pop_front().expect("a front");
                    if self.seen.get(&key) == Some(&expires) {
                        self.seen.remove(&key);
                    }
                }
                _ => break,
            }
        }
        // Conversations with nothing pending, idle for a TTL, are forgotten.
        let idle = now.saturating_sub(millis(ttl));
        self.conversations.retain(|_, c| !c.queue.is_empty() || c.touched > idle);
    }
}

#[async_trait]
impl Inbox for MemoryInbox {
    async fn append(&self, delivery: NewDelivery) -> Result<Appended, InboxError> {
        let now = EpochMillis::now().as_i64();
        let ttl = millis(self.config.ttl(&delivery.vendor));
        let mut state = self.lock();
        state.sweep(now, self.config.sweep_batch, self.config.dedupe_ttl);
        let mut fresh = Vec::new();
        for key in delivery.dedupe_keys() {
            let id = (delivery.vendor.clone(), key.clone());
            if state.seen.get(&id).is_some_and(|expires| *expires > now) {
                continue;
            }
            let expires = now.saturating_add(ttl);
            state.seen.insert(id.clone(), expires);
            state.expiry.push_back((expires, id));
            fresh.push(key);
        }
        if fresh.is_empty() {
            return Ok(Appended::Duplicate);
        }
        state.next += 1;
        let seq = state.next;
        let mut order_key = 0;
        if let Some(conversation) = &delivery.conversation {
            let c = state.conversations.entry((delivery.vendor.clone(), conversation.clone())).or_default();
            order_key = delivery.order.unwrap_or(c.max_order);
            c.max_order = c.max_order.max(order_key);
            c.queue.insert((order_key, seq));
            c.touched = now;
        }
        let row =
            Row { delivery, fresh: fresh.clone(), order_key, lease_until: None, attempt: 0, available_at: 0 };
        state.rows.insert(seq, row);
        Ok(Appended::Stored { seq, fresh })
    }

    async fn claim(&self, max: usize, lease: Duration) -> Result<Vec<Leased>, InboxError> {
        let now = EpochMillis::now().as_i64();
        let mut state = self.lock();
        let State { rows, conversations, .. } = &mut *state;
        // Conversations with a delivery out: nothing else of theirs goes (a lower order that
        // arrived meanwhile waits for the ack).
        let busy: std::collections::HashSet<(String, String)> = rows
            .values()
            .filter(|r| r.lease_until.is_some_and(|until| until > now))
            .filter_map(|r| Some((r.delivery.vendor.clone(), r.delivery.conversation.clone()?)))
            .collect();
        let mut out = Vec::new();
        for (seq, row) in rows.iter_mut() {
            if out.len() >= max {
                break;
            }
            if row.lease_until.is_some_and(|until| until > now) || row.available_at > now {
                continue;
            }
            let d = &row.delivery;
            if let Some(conversation) = &d.conversation {
                let key = (d.vendor.clone(), conversation.clone());
                if busy.contains(&key) {
                    continue;
                }
                let Some(c) = conversations.get(&key) else { continue };
                if c.queue.first() != Some(&(row.order_key, *seq)) {
                    continue;
                }
                if !ready(d.order, c.last_done, d.received_at.as_i64(), now, self.config.max_hold) {
                    continue;
                }
            }
            row.attempt += 1;
            row.lease_until = Some(now.saturating_add(millis(lease)));
            out.push(Leased {
                token: LeaseToken { seq: *seq, attempt: row.attempt },
                vendor: d.vendor.clone(),
                keys: row.fresh.clone(),
                conversation: d.conversation.clone(),
                order: d.order,
                content_type: d.content_type.clone(),
                body: d.body.clone(),
                received_at: d.received_at,
            });
        }
        Ok(out)
    }

    async fn ack(&self, token: LeaseToken) -> Result<bool, InboxError> {
        let now = EpochMillis::now().as_i64();
        let mut state = self.lock();
        if state.rows.get(&token.seq).is_none_or(|row| row.attempt != token.attempt) {
            return Ok(false);
        }
        let row = state.rows.remove(&token.seq).expect("checked above");
        if let Some(conversation) = &row.delivery.conversation
            && let Some(c) = state.conversations.get_mut(&(row.delivery.vendor.clone(), conversation.clone()))
        {
            c.queue.remove(&(row.order_key, token.seq));
            if let Some(order) = row.delivery.order {
                c.last_done = Some(c.last_done.map_or(order, |done| done.max(order)));
            }
            c.touched = now;
        }
        Ok(true)
    }

    async fn release(&self, token: LeaseToken, delay: Duration) -> Result<bool, InboxError> {
        let now = EpochMillis::now().as_i64();
        let mut state = self.lock();
        match state.rows.get_mut(&token.seq) {
            Some(row) if row.attempt == token.attempt => {
                row.lease_until = None;
                row.available_at = now.saturating_add(millis(delay));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn stats(&self) -> Result<InboxStats, InboxError> {
        let now = EpochMillis::now().as_i64();
        let state = self.lock();
        let leased = state.rows.values().filter(|r| r.lease_until.is_some_and(|until| until > now)).count();
        Ok(InboxStats {
            pending: state.rows.len() as u64,
            leased: leased as u64,
            remembered: state.seen.values().filter(|expires| **expires > now).count() as u64,
        })
    }
}

#[async_trait]
impl StateStore for MemoryInbox {
    async fn get(&self, scope: &str, key: &str) -> Result<Option<Vec<u8>>, InboxError> {
        let now = EpochMillis::now().as_i64();
        let state = self.lock();
        let live = state
            .values
            .get(&(scope.to_owned(), key.to_owned()))
            .filter(|(_, exp)| exp.is_none_or(|e| e > now));
        Ok(live.map(|(value, _)| value.clone()))
    }

    async fn put(
        &self,
        scope: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), InboxError> {
        let now = EpochMillis::now().as_i64();
        let expires = ttl.map(|ttl| now.saturating_add(millis(ttl)));
        let mut state = self.lock();
        // Expired values go when their scope is written to again.
        state.values.retain(|(s, _), (_, exp)| s != scope || exp.is_none_or(|e| e > now));
        state.values.insert((scope.to_owned(), key.to_owned()), (value, expires));
        Ok(())
    }

    async fn delete(&self, scope: &str, key: &str) -> Result<(), InboxError> {
        self.lock().values.remove(&(scope.to_owned(), key.to_owned()));
        Ok(())
    }

    async fn scan(&self, scope: &str) -> Result<Vec<(String, Vec<u8>)>, InboxError> {
        let now = EpochMillis::now().as_i64();
        let state = self.lock();
        let live = state.values.iter().filter(|((s, _), (_, exp))| s == scope && exp.is_none_or(|e| e > now));
        Ok(live.map(|((_, key), (value, _))| (key.clone(), value.clone())).collect())
    }
}
