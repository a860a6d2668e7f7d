//! Ordering, de-duplication, snapshots and memory bounds of the sequencer.

use std::time::{Duration, Instant};

use lp_notifications::model::{Change, ChatState, DialogId, parse_notification};
use lp_notifications::sequencer::{Delivery, Sequencer, SequencerConfig};
use serde_json::json;

fn content(dialog: &str, seq: u64) -> Change {
    let body = json!({"kind":"notification","type":"ms.MessagingEventNotification","body":{"changes":[{
        "sequence": seq, "originatorId": "c", "originatorMetadata": {"id": "c", "role": "CONSUMER"},
        "serverTimestamp": 1_700_000_000_000u64 + seq, "dialogId": dialog, "conversationId": dialog,
        "event": {"type": "ContentEvent", "contentType": "text/plain", "message": format!("m{seq}")}}]}});
    parse_notification(body.to_string().as_bytes()).unwrap().changes.remove(0)
}

fn chat_state(dialog: &str, who: &str, state: &str) -> Change {
    let body = json!({"kind":"notification","type":"ms.MessagingEventNotification","body":{"changes":[{
        "originatorId": who, "originatorMetadata": {"id": who, "role": "CONSUMER"}, "dialogId": dialog,
        "event": {"type": "ChatStateEvent", "chatState": state}}]}});
    parse_notification(body.to_string().as_bytes()).unwrap().changes.remove(0)
}

fn snapshot(conv: &str, updated: i64, stage: &str, survey_open: bool) -> Change {
    let mut dialogs = vec![
        json!({"dialogId": conv, "dialogType": "MAIN", "state": if stage == "CLOSE" || survey_open { "CLOSE" } else { "OPEN" }}),
    ];
    if survey_open || stage == "CLOSE" {
        dialogs.push(json!({"dialogId": format!("{conv}-survey"), "dialogType": "POST_SURVEY", "state": if survey_open { "OPEN" } else { "CLOSE" }}));
    }
    let body = json!({"kind":"notification","type":"cqm.ExConversationChangeNotification","body":{"changes":[{
        "type": "UPSERT", "result": {"convId": conv, "conversationDetails": {
            "participants": [{"id": "c", "role": "CONSUMER"}, {"id": "a", "role": "ASSIGNED_AGENT"}],
            "dialogs": dialogs, "state": if stage == "CLOSE" || survey_open { "CLOSE" } else { "OPEN" },
            "stage": stage, "closeReason": "AGENT", "metaDataLastUpdateTs": updated, "startTs": 1}}}]}});
    parse_notification(body.to_string().as_bytes()).unwrap().changes.remove(0)
}

fn push(s: &mut Sequencer, change: Change, now: Instant) -> Vec<Delivery> {
    let mut out = Vec::new();
    s.push_at(change, now, &mut out);
    out
}

/// `(sequence, late)` of messaging deliveries.
fn seqs(deliveries: &[Delivery]) -> Vec<(u64, bool)> {
    deliveries
        .iter()
        .filter_map(|d| match d {
            Delivery::Messaging { change, late } => change.sequence.map(|s| (s, *late)),
            _ => None,
        })
        .collect()
}

#[test]
fn in_order_events_pass_through_at_once() {
    let mut s = Sequencer::default();
    let t = Instant::now();
    for i in 0..5 {
        assert_eq!(seqs(&push(&mut s, content("d", i), t)), vec![(i, false)]);
    }
}

#[test]
fn duplicates_are_dropped_by_dialog_and_sequence() {
    let mut s = Sequencer::default();
    let t = Instant::now();
    assert_eq!(seqs(&push(&mut s, content("d", 0), t)).len(), 1);
    assert!(push(&mut s, content("d", 0), t).is_empty());
    // The same sequence in another dialog is another event.
    assert_eq!(seqs(&push(&mut s, content("e", 0), t)).len(), 1);
    // A duplicate of a pending event is dropped too.
    assert!(push(&mut s, content("d", 2), t).is_empty());
    assert!(push(&mut s, content("d", 2), t).is_empty());
    assert_eq!(seqs(&push(&mut s, content("d", 1), t)), vec![(1, false), (2, false)]);
    assert_eq!(s.stats().duplicates, 2);
}

#[test]
fn reordered_events_come_out_in_sequence_order() {
    let mut s = Sequencer::default();
    let t = Instant::now();
    let mut out = Vec::new();
    for i in [3, 1, 4, 0, 2] {
        out.extend(push(&mut s, content("d", i), t));
    }
    assert_eq!(seqs(&out), vec![(0, false), (1, false), (2, false), (3, false), (4, false)]);
}

#[test]
fn a_gap_is_skipped_after_max_hold_and_a_late_event_still_arrives() {
    let config = SequencerConfig { max_hold: Duration::from_millis(500), ..SequencerConfig::default() };
    let mut s = Sequencer::new(config);
    let t = Instant::now();
    assert_eq!(seqs(&push(&mut s, content("d", 0), t)).len(), 1);
    // 1 and 2 are missing; 3 waits.
    assert!(push(&mut s, content("d", 3), t).is_empty());
    assert!(s.poll_at(t + Duration::from_millis(499)).is_empty(), "still inside the window");
    assert_eq!(seqs(&s.poll_at(t + Duration::from_millis(500))), vec![(3, false)]);
    assert_eq!(s.stats().gaps_skipped, 1);
    // 2 shows up after all: released, marked late; again: a duplicate.
    assert_eq!(seqs(&push(&mut s, content("d", 2), t + Duration::from_secs(1))), vec![(2, true)]);
    assert!(push(&mut s, content("d", 2), t + Duration::from_secs(1)).is_empty());
    assert_eq!(seqs(&push(&mut s, content("d", 1), t + Duration::from_secs(1))), vec![(1, true)]);
    assert!(push(&mut s, content("d", 3), t + Duration::from_secs(1)).is_empty());
    assert_eq!(s.stats().late, 2);
    assert_eq!(s.stats().duplicates, 2);
}

#[test]
fn late_events_are_delivered_however_many_gaps_were_skipped() {
    let config = SequencerConfig { max_hold: Duration::from_millis(10), ..SequencerConfig::default() };
    let mut s = Sequencer::new(config);
    let t = Instant::now();
    // 40 gaps (more than the 16 ranges kept): even sequences arrive, odd ones are missing.
    let mut released = Vec::new();
    for (i, seq) in (0..80).step_by(2).enumerate() {
        let at = t + Duration::from_millis(20 * i as u64);
        released.extend(seqs(&push(&mut s, content("d", seq), at)));
        released.extend(seqs(&s.poll_at(at + Duration::from_millis(15))));
    }
    assert_eq!(released.len(), 40);
    assert!(s.stats().gaps_skipped >= 39);
    // Every odd one turns up late: each is delivered, marked late, none dropped.
    let later = t + Duration::from_secs(5);
    let mut late = Vec::new();
    for seq in (1..80).step_by(2) {
        late.extend(seqs(&push(&mut s, content("d", seq), later)));
    }
    // 79 comes after the last released event (78): in order, not late.
    let mut expected: Vec<(u64, bool)> = (1..79).step_by(2).map(|q| (q, true)).collect();
    expected.push((79, false));
    assert_eq!(late, expected);
    assert_eq!(s.stats().late, 39);
    assert_eq!(s.stats().duplicates, 0);
    assert!(s.stats().merged_gaps > 0, "the bound was reached and ranges merged");
}

#[test]
fn a_full_window_skips_the_gap_without_waiting() {
    let config =
        SequencerConfig { max_pending: 3, max_hold: Duration::from_secs(3600), ..SequencerConfig::default() };
    let mut s = Sequencer::new(config);
    let t = Instant::now();
    let mut out = Vec::new();
    for i in 10..14 {
        out.extend(push(&mut s, content("d", i), t));
    }
    assert_eq!(seqs(&out), vec![(10, false), (11, false), (12, false), (13, false)]);
}

#[test]
fn chat_state_is_last_write_wins_and_never_waits() {
    let mut s = Sequencer::default();
    let t = Instant::now();
    assert!(push(&mut s, content("d", 5), t).is_empty(), "waiting for 0..4");
    assert_eq!(push(&mut s, chat_state("d", "c", "COMPOSING"), t).len(), 1);
    assert_eq!(push(&mut s, chat_state("d", "c", "PAUSE"), t).len(), 1);
    let dialog = DialogId::from("d");
    assert_eq!(s.chat_state(&dialog, &"c".into()), Some(&ChatState::Pause));
    assert_eq!(s.chat_state(&dialog, &"x".into()), None);
}

#[test]
fn stale_snapshots_are_dropped() {
    let mut s = Sequencer::default();
    let t = Instant::now();
    let first = push(&mut s, snapshot("conv", 100, "OPEN", false), t);
    assert!(matches!(&first[..], [Delivery::Conversation { previous: None, .. }]));
    assert!(push(&mut s, snapshot("conv", 90, "OPEN", false), t).is_empty(), "older");
    assert!(push(&mut s, snapshot("conv", 100, "OPEN", false), t).is_empty(), "same version");
    let newer = push(&mut s, snapshot("conv", 110, "OPEN", false), t);
    match &newer[..] {
        [Delivery::Conversation { previous: Some(prev), .. }] => {
            assert_eq!(prev.last_update.map(|t| t.as_i64()), Some(100))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.stats().stale_snapshots, 2);
}

#[test]
fn a_survey_after_the_main_dialog_closes_does_not_end_the_conversation() {
    let mut s = Sequencer::default();
    let t = Instant::now();
    push(&mut s, snapshot("conv", 100, "OPEN", false), t);
    let survey = push(&mut s, snapshot("conv", 200, "OPEN", true), t);
    let Delivery::Conversation { change, .. } = &survey[0] else { panic!() };
    assert!(!change.is_final());
    let events = lp_notifications::channel::delivery_events(&survey[0]);
    assert!(events.iter().all(|e| !e.is_end()), "{events:?}");
    assert_eq!(s.tracked().1, 1, "still tracked");
    let closed = push(&mut s, snapshot("conv", 300, "CLOSE", false), t);
    let events = lp_notifications::channel::delivery_events(&closed[0]);
    assert!(events.iter().any(|e| e.is_end()), "{events:?}");
}

#[test]
fn closing_releases_pending_events_first_and_forgets_the_conversation() {
    let mut s = Sequencer::default();
    let t = Instant::now();
    push(&mut s, snapshot("conv", 100, "OPEN", false), t);
    assert!(push(&mut s, content("conv", 4), t).is_empty());
    let out = push(&mut s, snapshot("conv", 200, "CLOSE", false), t);
    assert!(matches!(&out[..], [Delivery::Messaging { .. }, Delivery::Conversation { .. }]), "{out:?}");
    assert_eq!(s.tracked(), (0, 0));
    // A late, older snapshot cannot reopen it.
    assert!(push(&mut s, snapshot("conv", 150, "OPEN", false), t).is_empty());
    assert_eq!(s.tracked(), (0, 0));
}

#[test]
fn memory_is_bounded_by_idle_eviction_and_caps() {
    let config = SequencerConfig {
        idle_ttl: Duration::from_secs(60),
        max_dialogs: 1000,
        max_tombstones: 100,
        ..SequencerConfig::default()
    };
    let mut s = Sequencer::new(config);
    let t = Instant::now();
    for i in 0..5000 {
        push(&mut s, content(&format!("d{i}"), 0), t);
    }
    // At the cap the oldest 1/64 of it go at once (15 of 1000).
    let tracked = s.tracked().0;
    assert!((985..=1000).contains(&tracked), "capped: {tracked}");
    assert!(s.poll_at(t + Duration::from_secs(61)).is_empty());
    assert_eq!(s.tracked(), (0, 0), "idle state evicted");
    for i in 0..1000 {
        push(&mut s, snapshot(&format!("c{i}"), 10, "CLOSE", false), t);
    }
    assert_eq!(s.tracked(), (0, 0));
    assert!(format!("{s:?}").contains("tombstones: 100"), "{s:?}");
}

/// The durable sequencer: the same rules on state in a store that outlives the process.
#[cfg(feature = "store")]
mod durable {
    use std::path::PathBuf;
    use std::sync::Arc;

    use cc_core::ConversationEvent;
    use cc_core::inbox::{InboxConfig, SqliteInbox, StateStore};
    use lp_notifications::channel::delivery_events;
    use lp_notifications::model::{Change, ChatState, DialogId, Notification, NotificationType};
    use lp_notifications::sequencer::durable::{DIALOG_SCOPE, DurableSequencer, Step};
    use lp_notifications::sequencer::{Delivery, SequencerConfig};

    use super::{chat_state, content, seqs, snapshot};

    fn store_path(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("lp-seq-{}-{name}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("state.db")
    }

    /// A sequencer on the file at `path`, as a freshly started process makes it.
    fn start(path: &PathBuf) -> (Arc<SqliteInbox>, DurableSequencer) {
        let store = Arc::new(SqliteInbox::open(path, InboxConfig::default()).unwrap());
        let sequencer = DurableSequencer::new(store.clone(), SequencerConfig::default());
        (store, sequencer)
    }

    fn notification(changes: Vec<Change>) -> Notification {
        Notification { kind: None, notification_type: NotificationType::from("test"), sent_ts: None, changes }
    }

    /// Pushes, hands on (returns the deliveries) and commits.
    async fn run(s: &DurableSequencer, changes: Vec<Change>) -> Vec<Delivery> {
        let mut step: Step = s.push(notification(changes)).await.unwrap();
        let out = std::mem::take(&mut step.deliveries);
        s.commit(step).await.unwrap();
        out
    }

    fn kinds(deliveries: &[Delivery]) -> Vec<&'static str> {
        deliveries
            .iter()
            .flat_map(delivery_events)
            .map(|e| match e {
                ConversationEvent::Started { .. } => "started",
                ConversationEvent::AgentJoined { .. } => "agent-joined",
                ConversationEvent::Ended { .. } => "ended",
                ConversationEvent::Message { .. } => "message",
                _ => "other",
            })
            .collect()
    }

    #[tokio::test]
    async fn snapshots_and_sequences_survive_a_restart() {
        let path = store_path("restart");
        {
            let (_store, s) = start(&path);
            let first = run(&s, vec![snapshot("conv", 100, "OPEN", false)]).await;
            assert_eq!(kinds(&first), ["started", "agent-joined"]);
            assert_eq!(seqs(&run(&s, vec![content("conv", 0)]).await), [(0, false)]);
            assert_eq!(seqs(&run(&s, vec![content("conv", 1)]).await), [(1, false)]);
        }
        {
            let (_store, s) = start(&path);
            assert!(run(&s, vec![snapshot("conv", 100, "OPEN", false)]).await.is_empty(), "same version");
            let newer = run(&s, vec![snapshot("conv", 110, "OPEN", false)]).await;
            match &newer[..] {
                [Delivery::Conversation { previous: Some(prev), .. }] => {
                    assert_eq!(prev.last_update.map(|t| t.as_i64()), Some(100));
                    assert_eq!(prev.assigned_agent.as_ref().map(|a| a.as_str()), Some("a"));
                }
                other => panic!("{other:?}"),
            }
            assert!(kinds(&newer).is_empty(), "neither started nor joined again: {newer:?}");
            assert!(run(&s, vec![content("conv", 1)]).await.is_empty(), "a repeat after the restart");
            assert_eq!(
                seqs(&run(&s, vec![content("conv", 3)]).await),
                [(3, false)],
                "the inbox held already"
            );
            assert_eq!(seqs(&run(&s, vec![content("conv", 2)]).await), [(2, true)], "late, not lost");
            assert_eq!(kinds(&run(&s, vec![snapshot("conv", 200, "CLOSE", false)]).await), ["ended"]);
            let stats = s.stats();
            assert_eq!(
                (stats.stale_snapshots, stats.duplicates, stats.gaps_skipped, stats.late),
                (1, 1, 1, 1)
            );
        }
        let (_store, s) = start(&path);
        assert!(run(&s, vec![snapshot("conv", 150, "OPEN", false)]).await.is_empty(), "the tombstone holds");
        assert!(run(&s, vec![content("conv", 2)]).await.is_empty(), "the filled gap is remembered");
        let reopened = run(&s, vec![snapshot("conv", 300, "OPEN", false)]).await;
        assert_eq!(kinds(&reopened), ["started", "agent-joined"], "newer than the close: a new life");
    }

    #[tokio::test]
    async fn an_uncommitted_step_comes_out_again_and_a_committed_one_does_not() {
        let path = store_path("commit");
        let (_store, s) = start(&path);
        let step =
            s.push(notification(vec![content("d", 0), chat_state("d", "c", "COMPOSING")])).await.unwrap();
        assert_eq!(seqs(&step.deliveries), [(0, false)]);
        drop(step); // the process died while handing on
        let step = s.push(notification(vec![content("d", 0)])).await.unwrap();
        assert_eq!(seqs(&step.deliveries), [(0, false)], "handed on again");
        assert_eq!(s.chat_state(&DialogId::from("d"), &"c".into()).await.unwrap(), None);
        s.commit(step).await.unwrap();
        assert!(s.push(notification(vec![content("d", 0)])).await.unwrap().deliveries.is_empty());
        run(&s, vec![chat_state("d", "c", "COMPOSING")]).await;
        drop((_store, s));
        let (_store, s) = start(&path);
        assert_eq!(
            s.chat_state(&DialogId::from("d"), &"c".into()).await.unwrap(),
            Some(ChatState::Composing)
        );
    }

    #[tokio::test]
    async fn changes_of_one_notification_come_out_in_sequence_order() {
        let path = store_path("order");
        let (_store, s) = start(&path);
        let out = run(&s, vec![content("d", 2), content("d", 0), content("d", 1), content("d", 1)]).await;
        assert_eq!(seqs(&out), [(0, false), (1, false), (2, false)]);
        assert_eq!(s.stats().duplicates, 1);
    }

    #[tokio::test]
    async fn unreadable_state_counts_as_absent_and_is_repaired() {
        let path = store_path("unreadable");
        let (store, s) = start(&path);
        store.put(DIALOG_SCOPE, "d", b"{not json".to_vec(), None).await.unwrap();
        assert_eq!(seqs(&run(&s, vec![content("d", 0)]).await), [(0, false)], "released, not lost");
        assert_eq!(s.stats().unreadable_state, 1);
        assert!(run(&s, vec![content("d", 0)]).await.is_empty(), "the state was rewritten");
        assert_eq!(s.stats().unreadable_state, 1);
    }
}
