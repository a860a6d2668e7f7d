//! The sequencer's state in a cc-core [`StateStore`] (feature `store`), for notifications that
//! come out of a durable [`Inbox`](cc_core::inbox::Inbox).
//!
//! The in-memory [`Sequencer`](super::Sequencer) forgets everything when the process exits:
//! after a restart every snapshot looks like the first one (`Started` again, the agent joins
//! again) and a stale snapshot or a repeated event passes. [`DurableSequencer`] applies the
//! same rules to state it reads from and writes to a store, per dialog (the next sequence,
//! the skipped gaps, chat states) and per conversation (the last released snapshot's summary,
//! or the tombstone of a closed one).
//!
//! It does **not hold** events for a gap: the inbox already hands a dialog's deliveries out
//! one at a time, in sequence order, waiting up to its `max_hold` for a gap. What the inbox
//! hands out is therefore released at once; a gap left behind is recorded as skipped, and the
//! event that fills it later comes out marked `late`. Nothing waits in the sequencer, so
//! nothing is acknowledged to the inbox before it was handed on.
//!
//! Use it in two steps, so a crash never loses an event:
//!
//! 1. [`DurableSequencer::push`] reads the state and returns a [`Step`]: the deliveries to
//!    hand on and the state they leave behind (not written yet);
//! 2. hand the deliveries on, then [`DurableSequencer::commit`] the step, then ack the inbox.
//!
//! A crash before the commit hands the same deliveries on again after the restart (at least
//! once, as the inbox promises; the inbox delivery id tells repeats apart); a crash after it
//! finds them already released and drops them.
//!
//! One push per dialog (and per conversation) at a time: the inbox's order per conversation
//! key gives exactly that, across processes too. Dialog state expires
//! [`SequencerConfig::idle_ttl`] after its last change, an open conversation's likewise, and a
//! closed conversation's tombstone after [`DurableSequencer::tombstone_ttl`] (default 24 h,
//! the inbox's dedupe TTL). A stored value that no longer decodes is treated as absent (its
//! events come out again rather than being lost) and counted in
//! [`SequencerStats::unreadable_state`].

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cc_core::inbox::{InboxError, StateStore};
use cc_core::{ConversationId, EpochMillis, ParticipantId};
use serde::{Deserialize, Serialize};

use super::{DialogState, SequencerConfig, SequencerStats, SnapshotSummary};
use crate::model::{Change, ChatState, ConversationChange, DialogId, Notification, SkillId};
use crate::sequencer::Delivery;

/// Scope of per-dialog state.
pub const DIALOG_SCOPE: &str = "lp.dialogs";
/// Scope of per-conversation state.
pub const CONVERSATION_SCOPE: &str = "lp.conversations";

/// A dialog as stored. Field names are short and fixed: this is a file format.
#[derive(Serialize, Deserialize)]
struct StoredDialog {
    next: u64,
    #[serde(default)]
    skipped: Vec<(u64, u64)>,
    #[serde(default)]
    chat: Vec<(ParticipantId, ChatState)>,
}

impl StoredDialog {
    fn of(dialog: &DialogState) -> Self {
        Self {
            next: dialog.next,
            skipped: dialog.skipped().iter().map(|r| (r.start, r.end)).collect(),
            chat: dialog.chat_states().to_vec(),
        }
    }

    fn into_state(self) -> DialogState {
        let mut dialog = DialogState::new(Instant::now());
        dialog.next = self.next;
        let extra = dialog.extra();
        extra.skipped = self.skipped.into_iter().map(|(start, end)| Range { start, end }).collect();
        extra.chat_states = self.chat;
        dialog.compact();
        dialog
    }
}

/// A conversation as stored: the summary of its last released snapshot, or that it closed.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StoredConversation {
    Open { last_update: Option<EpochMillis>, agent: Option<ParticipantId>, skill: Option<SkillId> },
    Closed { last_update: Option<EpochMillis> },
}

/// What a [`DurableSequencer::push`] releases and the state it leaves behind; see the
/// [module](self) for the order of hand-on and [`DurableSequencer::commit`].
#[must_use = "hand the deliveries on, then commit the step"]
#[derive(Debug)]
pub struct Step {
    /// What to hand on, in order.
    pub deliveries: Vec<Delivery>,
    writes: Vec<Write>,
}

#[derive(Debug)]
struct Write {
    scope: &'static str,
    key: String,
    value: Vec<u8>,
    ttl: Duration,
}

/// The [`Sequencer`](super::Sequencer)'s rules on state in a store; see the [module](self).
pub struct DurableSequencer {
    store: Arc<dyn StateStore>,
    config: SequencerConfig,
    tombstone_ttl: Duration,
    stats: Mutex<SequencerStats>,
}

impl std::fmt::Debug for DurableSequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableSequencer")
            .field("config", &self.config)
            .field("tombstone_ttl", &self.tombstone_ttl)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl DurableSequencer {
    /// A sequencer keeping its state in `store`. Of `config`, `idle_ttl` and
    /// `max_skipped_ranges` apply (holding is the inbox's job; the store's TTLs bound memory).
    pub fn new(store: Arc<dyn StateStore>, config: SequencerConfig) -> Self {
        Self { store, config, tombstone_ttl: Duration::from_secs(24 * 3600), stats: Mutex::default() }
    }

    /// How long a closed conversation is remembered to reject a late, older snapshot.
    pub fn tombstone_ttl(mut self, ttl: Duration) -> Self {
        self.tombstone_ttl = ttl;
        self
    }

    /// Applies every change of `notification` to the stored state; nothing is written until
    /// [`DurableSequencer::commit`].
    pub async fn push(&self, notification: Notification) -> Result<Step, InboxError> {
        let mut stats = SequencerStats::default();
        let mut out = Vec::new();
        // Dialogs in the order first touched, with the bytes they were loaded from.
        let mut dialogs: Vec<(DialogId, Option<Vec<u8>>, DialogState)> = Vec::new();
        let mut conversations: HashMap<ConversationId, Option<StoredConversation>> = HashMap::new();
        // Conversations whose state a released snapshot changed.
        let mut touched: Vec<ConversationId> = Vec::new();
        let mut writes = Vec::new();
        let now = Instant::now();
        for change in notification.changes {
            match change {
                Change::Messaging(change) => {
                    let i = match dialogs.iter().position(|(id, ..)| *id == change.dialog_id) {
                        Some(i) => i,
                        None => {
                            let (raw, state) = self.load_dialog(&change.dialog_id, &mut stats).await?;
                            dialogs.push((change.dialog_id.clone(), raw, state));
                            dialogs.len() - 1
                        }
                    };
                    dialogs[i].2.accept(change, now, &self.config, &mut stats, &mut out);
                }
                Change::Conversation(change) => {
                    let conv = change.result.conv_id.clone();
                    let stored = match conversations.remove(&conv) {
                        Some(stored) => stored,
                        None => self.load_conversation(&conv, &mut stats).await?,
                    };
                    let released = Self::snapshot(change, stored.as_ref(), &mut stats, &mut out);
                    if released.is_some() {
                        touched.retain(|c| *c != conv);
                        touched.push(conv.clone());
                    }
                    conversations.insert(conv, released.or(stored));
                }
                Change::Unknown(raw) => out.push(Delivery::Unknown(raw)),
            }
        }
        for (id, raw, mut dialog) in dialogs {
            // The inbox held for gaps already: release what accept kept back.
            dialog.flush(&self.config, &mut stats, &mut out);
            let value = encode(&StoredDialog::of(&dialog));
            if raw.as_deref() != Some(value.as_slice()) {
                writes.push(Write {
                    scope: DIALOG_SCOPE,
                    key: id.into_string(),
                    value,
                    ttl: self.config.idle_ttl,
                });
            }
        }
        for conv in touched {
            if let Some(Some(state)) = conversations.get(&conv) {
                let ttl = match state {
                    StoredConversation::Closed { .. } => self.tombstone_ttl,
                    StoredConversation::Open { .. } => self.config.idle_ttl,
                };
                writes.push(Write {
                    scope: CONVERSATION_SCOPE,
                    key: conv.into_string(),
                    value: encode(state),
                    ttl,
                });
            }
        }
        self.add_stats(&stats);
        Ok(Step { deliveries: out, writes })
    }

    /// Writes the state `step` leaves behind: call it after its deliveries were handed on.
    pub async fn commit(&self, step: Step) -> Result<(), InboxError> {
        for w in step.writes {
            self.store.put(w.scope, &w.key, w.value, Some(w.ttl)).await?;
        }
        Ok(())
    }

    /// The latest chat state of `participant` in `dialog`, as last committed.
    pub async fn chat_state(
        &self,
        dialog: &DialogId,
        participant: &ParticipantId,
    ) -> Result<Option<ChatState>, InboxError> {
        let mut stats = SequencerStats::default();
        let (_, state) = self.load_dialog(dialog, &mut stats).await?;
        self.add_stats(&stats);
        Ok(state.chat_states().iter().find(|(p, _)| p == participant).map(|(_, s)| s.clone()))
    }

    /// Counters of what was dropped or bent, since this value was made.
    pub fn stats(&self) -> SequencerStats {
        *self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add_stats(&self, s: &SequencerStats) {
        // Every field named, so a new counter cannot be forgotten here.
        let SequencerStats {
            duplicates,
            stale_snapshots,
            gaps_skipped,
            late,
            evicted_dialogs,
            merged_gaps,
            unreadable_state,
        } = *s;
        let mut all = self.stats.lock().unwrap_or_else(PoisonError::into_inner);
        all.duplicates += duplicates;
        all.stale_snapshots += stale_snapshots;
        all.gaps_skipped += gaps_skipped;
        all.late += late;
        all.evicted_dialogs += evicted_dialogs;
        all.merged_gaps += merged_gaps;
        all.unreadable_state += unreadable_state;
    }

    async fn load_dialog(
        &self,
        id: &DialogId,
        stats: &mut SequencerStats,
    ) -> Result<(Option<Vec<u8>>, DialogState), InboxError> {
        let raw = self.store.get(DIALOG_SCOPE, id.as_str()).await?;
        let state = match raw.as_deref().map(serde_json::from_slice::<StoredDialog>) {
            Some(Ok(stored)) => stored.into_state(),
            Some(Err(_)) => {
                stats.unreadable_state += 1;
                DialogState::new(Instant::now())
            }
            None => DialogState::new(Instant::now()),
        };
        Ok((raw, state))
    }

    async fn load_conversation(
        &self,
        id: &ConversationId,
        stats: &mut SequencerStats,
    ) -> Result<Option<StoredConversation>, InboxError> {
        let Some(raw) = self.store.get(CONVERSATION_SCOPE, id.as_str()).await? else { return Ok(None) };
        match serde_json::from_slice(&raw) {
            Ok(stored) => Ok(Some(stored)),
            Err(_) => {
                stats.unreadable_state += 1;
                Ok(None)
            }
        }
    }

    /// The in-memory rules for one snapshot: `Some(state after it)` when it is released.
    fn snapshot(
        change: Box<ConversationChange>,
        stored: Option<&StoredConversation>,
        stats: &mut SequencerStats,
        out: &mut Vec<Delivery>,
    ) -> Option<StoredConversation> {
        let (tombstone, previous) = match stored {
            Some(StoredConversation::Closed { last_update }) => (Some(*last_update), None),
            Some(StoredConversation::Open { last_update, agent, skill }) => (
                None,
                Some(SnapshotSummary {
                    last_update: *last_update,
                    assigned_agent: agent.clone(),
                    skill: skill.clone(),
                    over: false,
                }),
            ),
            None => (None, None),
        };
        let summary = SnapshotSummary::of(&change);
        if !summary.admitted(tombstone, previous.as_ref()) {
            stats.stale_snapshots += 1;
            return None;
        }
        out.push(Delivery::Conversation { change, previous });
        Some(if summary.over {
            StoredConversation::Closed { last_update: summary.last_update }
        } else {
            StoredConversation::Open {
                last_update: summary.last_update,
                agent: summary.assigned_agent,
                skill: summary.skill,
            }
        })
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Plain structs of strings and numbers: serializing cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}
