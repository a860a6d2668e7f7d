//! Ordering and de-duplication of notifications.
//!
//! LivePerson's older documentation promises neither order nor uniqueness; the newer one does,
//! but retries after a timeout still duplicate. The [`Sequencer`] makes no assumption:
//!
//! - **Messaging events with a `sequence`** (content, accept status) are keyed by
//!   `(dialogId, sequence)`: a key seen before is dropped. Per dialog, events are released in
//!   sequence order. An event after a gap waits at most [`SequencerConfig::max_hold`] (or
//!   until [`SequencerConfig::max_pending`] events wait) for the gap to fill, then the gap is
//!   skipped: the sequencer never stalls. Sequences legitimately have gaps (events of types you
//!   did not subscribe to use them too), so keep `max_hold` short. An event that arrives after
//!   its gap was skipped is still released, marked `late`: nothing is lost. The skipped gaps
//!   of a dialog are remembered in at most [`SequencerConfig::max_skipped_ranges`] ranges;
//!   past that the two ranges closest to each other are merged (never forgotten), so a late
//!   event is always released. The price of a merge: a repeat of an event delivered between
//!   the two merged gaps is released again, marked `late` (counted in
//!   [`SequencerStats::merged_gaps`]); treat a `late` event as possibly seen before.
//! - **Events without a sequence** (chat state) are released at once; the latest chat state
//!   per participant wins ([`Sequencer::chat_state`]).
//! - **Conversation snapshots** are full states: only a snapshot newer than the last one
//!   released (by `metaDataLastUpdateTs`) is released; older and equal ones are dropped.
//! - **Memory is bounded**: a conversation whose stage is CLOSE is forgotten once its closing
//!   snapshot is released (its pending events are released first); idle dialogs and
//!   conversations are evicted by [`Sequencer::poll`]; a cap on tracked dialogs evicts the
//!   least recently active. Closed conversations leave a small tombstone (bounded FIFO) so a
//!   late, older snapshot cannot reopen them.
//!
//! The sequencer does no I/O and keeps no clock of its own: pass `now` (or use the methods
//! that read `Instant::now()`), and call [`Sequencer::poll`] periodically (every few hundred
//! milliseconds) to release events whose gap timed out.
//!
//! Its state lives in memory; with feature `store`, `durable::DurableSequencer` keeps the same
//! rules on state in a store that survives restarts, for notifications from a durable inbox.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;
use std::time::{Duration, Instant};

use cc_core::webhook::Fingerprints;
use cc_core::{ConversationId, EpochMillis, ParticipantId};
use serde_json::Value;

#[cfg(feature = "store")]
pub mod durable;

use crate::model::{
    Change, ChatState, ConversationChange, DialogId, MessagingChange, MessagingEvent, Notification, SkillId,
};

/// Limits of a [`Sequencer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequencerConfig {
    /// How long an event waits for a missing earlier sequence (default 2 s).
    pub max_hold: Duration,
    /// How many events of one dialog may wait; beyond that the gap is skipped (default 64).
    pub max_pending: usize,
    /// A dialog or conversation idle this long is forgotten (default 2 h).
    pub idle_ttl: Duration,
    /// Most dialogs tracked at once; at the cap the least recently active 1/64 of it go
    /// first (default 100,000).
    pub max_dialogs: usize,
    /// Most closed conversations remembered to reject late snapshots (default 100,000).
    pub max_tombstones: usize,
    /// Ranges of skipped gaps kept per dialog to tell late events from duplicates (default
    /// 16); beyond that the closest two are merged, so no late event is ever dropped.
    pub max_skipped_ranges: usize,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        Self {
            max_hold: Duration::from_secs(2),
            max_pending: 64,
            idle_ttl: Duration::from_secs(2 * 3600),
            max_dialogs: 100_000,
            max_tombstones: 100_000,
            max_skipped_ranges: 16,
        }
    }
}

/// What the sequencer lets through, in order.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Delivery {
    /// A messaging event.
    Messaging {
        /// The change.
        change: Box<MessagingChange>,
        /// Released after the gap before it had been skipped: earlier events of the dialog
        /// were already delivered.
        late: bool,
    },
    /// A conversation snapshot newer than any before it.
    Conversation {
        /// The change.
        change: Box<ConversationChange>,
        /// What the previous released snapshot said, to tell what changed.
        previous: Option<SnapshotSummary>,
    },
    /// A change of an unknown notification type, passed through.
    Unknown(Value),
}

/// The facts of a snapshot the sequencer keeps to compare the next one with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// `metaDataLastUpdateTs`.
    pub last_update: Option<EpochMillis>,
    /// The assigned agent.
    pub assigned_agent: Option<ParticipantId>,
    /// The skill.
    pub skill: Option<SkillId>,
    /// Whether the conversation was over.
    pub over: bool,
}

impl SnapshotSummary {
    fn of(change: &ConversationChange) -> Self {
        let details = &change.result.conversation_details;
        Self {
            last_update: details.meta_data_last_update_ts,
            assigned_agent: details.assigned_agent().cloned(),
            skill: details.skill_id.clone(),
            over: change.is_final(),
        }
    }
}

impl SnapshotSummary {
    /// Whether this snapshot is released: newer than the conversation's tombstone (the
    /// closing snapshot's time) and than the previous one released. Without a version on
    /// either side a snapshot cannot be ordered: it passes.
    fn admitted(&self, tombstone: Option<Option<EpochMillis>>, previous: Option<&SnapshotSummary>) -> bool {
        let newer_than = |seen: Option<EpochMillis>| match (self.last_update, seen) {
            (Some(new), Some(old)) => new > old,
            _ => true,
        };
        tombstone.is_none_or(newer_than) && previous.is_none_or(|p| newer_than(p.last_update))
    }
}

/// The dialogs a closing snapshot ends: the main one (its id is the conversation's) and every
/// dialog it lists.
fn dialogs_of(change: &ConversationChange) -> Vec<DialogId> {
    std::iter::once(DialogId::new(change.result.conv_id.as_str()))
        .chain(change.result.conversation_details.dialogs.iter().map(|d| d.dialog_id.clone()))
        .collect()
}

/// What was dropped or bent, for monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SequencerStats {
    /// Messaging events dropped as duplicates.
    pub duplicates: u64,
    /// Snapshots dropped as older than (or equal to) one already released.
    pub stale_snapshots: u64,
    /// Gaps skipped after waiting.
    pub gaps_skipped: u64,
    /// Events released after their gap was skipped.
    pub late: u64,
    /// Dialogs forgotten for idleness or the cap.
    pub evicted_dialogs: u64,
    /// Skipped-gap ranges merged to stay within `max_skipped_ranges`.
    pub merged_gaps: u64,
    /// Stored state that no longer decoded and was treated as absent (durable sequencer).
    pub unreadable_state: u64,
}

struct Pending {
    change: Box<MessagingChange>,
    arrived: Instant,
}

/// One dialog's state. Most tracked dialogs are idle — everything released, no gap, no chat
/// state — and hold only `next` and the time (32 bytes); the rest lives in `extra`, allocated
/// while needed.
struct DialogState {
    /// The next sequence to release.
    next: u64,
    last_activity: Instant,
    extra: Option<Box<DialogExtra>>,
}

#[derive(Default)]
struct DialogExtra {
    pending: BTreeMap<u64, Pending>,
    /// Skipped sequence ranges below `next`, sorted and disjoint: an event in one is late,
    /// not a duplicate.
    skipped: Vec<Range<u64>>,
    chat_states: Vec<(ParticipantId, ChatState)>,
}

impl DialogState {
    fn new(now: Instant) -> Self {
        Self { next: 0, last_activity: now, extra: None }
    }

    fn extra(&mut self) -> &mut DialogExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Frees `extra` once it holds nothing.
    fn compact(&mut self) {
        if self
            .extra
            .as_ref()
            .is_some_and(|e| e.pending.is_empty() && e.skipped.is_empty() && e.chat_states.is_empty())
        {
            self.extra = None;
        }
    }

    fn has_pending(&self) -> bool {
        self.extra.as_ref().is_some_and(|e| !e.pending.is_empty())
    }

    fn oldest_pending(&self) -> Option<Instant> {
        self.extra.as_ref()?.pending.values().map(|p| p.arrived).min()
    }

    fn skipped(&self) -> &[Range<u64>] {
        self.extra.as_ref().map(|e| e.skipped.as_slice()).unwrap_or_default()
    }

    fn chat_states(&self) -> &[(ParticipantId, ChatState)] {
        self.extra.as_ref().map(|e| e.chat_states.as_slice()).unwrap_or_default()
    }
}

struct ConversationState {
    summary: SnapshotSummary,
    last_activity: Instant,
}

/// Orders and de-duplicates changes; see the [module docs](self).
pub struct Sequencer {
    config: SequencerConfig,
    /// By the dialog id's fingerprint (16 bytes, whatever the id's length; exact in practice,
    /// see `cc_core::webhook::Fingerprints`).
    dialogs: HashMap<[u64; 2], DialogState>,
    fingerprints: Fingerprints,
    conversations: HashMap<ConversationId, ConversationState>,
    tombstones: HashMap<ConversationId, Option<EpochMillis>>,
    tombstone_order: VecDeque<ConversationId>,
    stats: SequencerStats,
}

impl Default for Sequencer {
    fn default() -> Self {
        Self::new(SequencerConfig::default())
    }
}

impl std::fmt::Debug for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("dialogs", &self.dialogs.len())
            .field("conversations", &self.conversations.len())
            .field("tombstones", &self.tombstones.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Sequencer {
    /// A sequencer with `config`.
    pub fn new(config: SequencerConfig) -> Self {
        Self {
            config,
            dialogs: HashMap::new(),
            fingerprints: Fingerprints::default(),
            conversations: HashMap::new(),
            tombstones: HashMap::new(),
            tombstone_order: VecDeque::new(),
            stats: SequencerStats::default(),
        }
    }

    /// Feeds every change of a notification; returns what can be released now.
    pub fn push_notification(&mut self, notification: Notification) -> Vec<Delivery> {
        self.push_notification_at(notification, Instant::now())
    }

    /// [`Sequencer::push_notification`] at a given instant.
    pub fn push_notification_at(&mut self, notification: Notification, now: Instant) -> Vec<Delivery> {
        let mut out = Vec::new();
        for change in notification.changes {
            self.push_at(change, now, &mut out);
        }
        out
    }

    /// Feeds one change; appends what can be released now to `out`.
    pub fn push_at(&mut self, change: Change, now: Instant, out: &mut Vec<Delivery>) {
        match change {
            Change::Messaging(change) => self.push_messaging(change, now, out),
            Change::Conversation(change) => self.push_conversation(change, now, out),
            Change::Unknown(raw) => out.push(Delivery::Unknown(raw)),
        }
    }

    /// Releases events whose gap waited long enough and forgets idle state.
    pub fn poll(&mut self) -> Vec<Delivery> {
        self.poll_at(Instant::now())
    }

    /// [`Sequencer::poll`] at a given instant.
    pub fn poll_at(&mut self, now: Instant) -> Vec<Delivery> {
        let mut out = Vec::new();
        let Self { config, dialogs, conversations, stats, .. } = self;
        dialogs.retain(|_, dialog| {
            while let Some(oldest) = dialog.oldest_pending() {
                if now.saturating_duration_since(oldest) < config.max_hold {
                    break;
                }
                dialog.skip_gap(config, stats, &mut out);
            }
            dialog.compact();
            let idle = !dialog.has_pending()
                && now.saturating_duration_since(dialog.last_activity) >= config.idle_ttl;
            if idle {
                stats.evicted_dialogs += 1;
            }
            !idle
        });
        conversations.retain(|_, c| now.saturating_duration_since(c.last_activity) < config.idle_ttl);
        out
    }

    /// The latest chat state of `participant` in `dialog` (last write wins).
    pub fn chat_state(&self, dialog: &DialogId, participant: &ParticipantId) -> Option<&ChatState> {
        let key = self.fingerprints.of(dialog);
        self.dialogs.get(&key)?.chat_states().iter().find(|(p, _)| p == participant).map(|(_, s)| s)
    }

    /// Counters of what was dropped or bent.
    pub fn stats(&self) -> SequencerStats {
        self.stats
    }

    /// Dialogs and conversations currently tracked.
    pub fn tracked(&self) -> (usize, usize) {
        (self.dialogs.len(), self.conversations.len())
    }

    fn push_messaging(&mut self, change: Box<MessagingChange>, now: Instant, out: &mut Vec<Delivery>) {
        let key = self.fingerprints.of(&change.dialog_id);
        if !self.dialogs.contains_key(&key) {
            self.make_room(out);
        }
        let dialog = self.dialogs.entry(key).or_insert_with(|| DialogState::new(now));
        dialog.last_activity = now;
        dialog.accept(change, now, &self.config, &mut self.stats, out);
        dialog.compact();
    }
}

impl DialogState {
    /// The rules for one messaging change of this dialog: duplicates dropped, late events
    /// released, the rest held until their turn (or until `max_pending` is exceeded).
    fn accept(
        &mut self,
        change: Box<MessagingChange>,
        now: Instant,
        config: &SequencerConfig,
        stats: &mut SequencerStats,
        out: &mut Vec<Delivery>,
    ) {
        let Some(seq) = change.sequence else {
            if let (MessagingEvent::ChatStateEvent(state), Some(who)) = (&change.event, change.originator()) {
                let chat_states = &mut self.extra().chat_states;
                match chat_states.iter_mut().find(|(p, _)| p == who) {
                    Some(entry) => entry.1 = state.chat_state.clone(),
                    None => chat_states.push((who.clone(), state.chat_state.clone())),
                }
            }
            out.push(Delivery::Messaging { change, late: false });
            return;
        };

        if seq < self.next {
            // Below the release point: a late event if its slot was skipped, else a duplicate.
            match self.skipped().iter().position(|r| r.contains(&seq)) {
                Some(i) => {
                    let skipped = &mut self.extra().skipped;
                    let range = skipped.remove(i);
                    let halves = [range.start..seq, seq + 1..range.end];
                    let kept: Vec<Range<u64>> = halves.into_iter().filter(|r| !r.is_empty()).collect();
                    skipped.splice(i..i, kept);
                    if skipped.len() > config.max_skipped_ranges.max(1) {
                        Self::merge_closest(skipped);
                        stats.merged_gaps += 1;
                    }
                    stats.late += 1;
                    out.push(Delivery::Messaging { change, late: true });
                }
                None => stats.duplicates += 1,
            }
            return;
        }
        if seq == self.next && !self.has_pending() {
            // The common case: in order, nothing waiting.
            self.next += 1;
            out.push(Delivery::Messaging { change, late: false });
            return;
        }
        if self.extra.as_ref().is_some_and(|e| e.pending.contains_key(&seq)) {
            stats.duplicates += 1;
            return;
        }
        self.extra().pending.insert(seq, Pending { change, arrived: now });
        self.release_ready(out);
        while self.extra.as_ref().is_some_and(|e| e.pending.len() > config.max_pending) {
            self.skip_gap(config, stats, out);
        }
    }

    /// Releases consecutive pending events from `next` on.
    fn release_ready(&mut self, out: &mut Vec<Delivery>) {
        let Some(extra) = self.extra.as_mut() else { return };
        while let Some(p) = extra.pending.remove(&self.next) {
            self.next += 1;
            out.push(Delivery::Messaging { change: p.change, late: false });
        }
    }

    /// Gives up on the gap before the lowest pending event, then releases what follows.
    fn skip_gap(&mut self, config: &SequencerConfig, stats: &mut SequencerStats, out: &mut Vec<Delivery>) {
        let next = self.next;
        let Some(extra) = self.extra.as_mut() else { return };
        let Some(&lowest) = extra.pending.keys().next() else { return };
        if lowest > next {
            extra.skipped.push(next..lowest);
            while extra.skipped.len() > config.max_skipped_ranges.max(1) {
                Self::merge_closest(&mut extra.skipped);
                stats.merged_gaps += 1;
            }
            stats.gaps_skipped += 1;
            self.next = lowest;
        }
        self.release_ready(out);
    }

    /// Releases everything held, skipping the gaps before it.
    fn flush(&mut self, config: &SequencerConfig, stats: &mut SequencerStats, out: &mut Vec<Delivery>) {
        while self.has_pending() {
            self.skip_gap(config, stats, out);
        }
    }

    /// Merges the two neighbouring ranges with the fewest delivered sequences between them:
    /// memory stays bounded and no skipped sequence is forgotten.
    fn merge_closest(ranges: &mut Vec<Range<u64>>) {
        let closest = (1..ranges.len()).min_by_key(|&i| ranges[i].start - ranges[i - 1].end);
        if let Some(i) = closest {
            let right = ranges.remove(i);
            ranges[i - 1].end = right.end;
        }
    }
}

impl Sequencer {
    fn push_conversation(&mut self, change: Box<ConversationChange>, now: Instant, out: &mut Vec<Delivery>) {
        let conv = change.result.conv_id.clone();
        let summary = SnapshotSummary::of(&change);
        let previous = self.conversations.get(&conv).map(|c| c.summary.clone());
        if !summary.admitted(self.tombstones.get(&conv).copied(), previous.as_ref()) {
            self.stats.stale_snapshots += 1;
            return;
        }
        if summary.over {
            // Release what its dialogs still hold before the closing snapshot, then forget them.
            for id in dialogs_of(&change) {
                if let Some(mut dialog) = self.dialogs.remove(&self.fingerprints.of(&id)) {
                    dialog.flush(&self.config, &mut self.stats, out);
                }
            }
            self.conversations.remove(&conv);
            self.add_tombstone(conv, summary.last_update);
        } else {
            self.tombstones.remove(&conv);
            self.conversations.insert(conv, ConversationState { summary, last_activity: now });
        }
        out.push(Delivery::Conversation { change, previous });
    }

    fn add_tombstone(&mut self, conv: ConversationId, last_update: Option<EpochMillis>) {
        if self.tombstones.insert(conv.clone(), last_update).is_none() {
            self.tombstone_order.push_back(conv);
        }
        while self.tombstones.len() > self.config.max_tombstones {
            match self.tombstone_order.pop_front() {
                Some(old) => {
                    self.tombstones.remove(&old);
                }
                None => break,
            }
        }
        // Entries removed when a conversation reopened leave names behind; drop them.
        if self.tombstone_order.len() > 2 * self.config.max_tombstones.max(1) {
            let live = &self.tombstones;
            self.tombstone_order.retain(|c| live.contains_key(c));
        }
    }

    /// Evicts the least recently active dialogs when the cap is reached (their pending
    /// events are released first): the oldest 1/64 of the cap in one scan, so that a stream
    /// of new dialogs at the cap costs one scan per cap/64 dialogs, not one per dialog (one
    /// per dialog took 100,000 steps per new dialog at the default cap).
    fn make_room(&mut self, out: &mut Vec<Delivery>) {
        let cap = self.config.max_dialogs.max(1);
        if self.dialogs.len() < cap {
            return;
        }
        let batch = (cap / 64).max(1).min(self.dialogs.len());
        let mut by_age: Vec<_> = self.dialogs.iter().map(|(id, d)| (d.last_activity, *id)).collect();
        by_age.select_nth_unstable_by_key(batch - 1, |(at, _)| *at);
        for (_, id) in by_age.into_iter().take(batch) {
            if let Some(mut dialog) = self.dialogs.remove(&id) {
                dialog.flush(&self.config, &mut self.stats, out);
                self.stats.evicted_dialogs += 1;
            }
        }
    }
}
