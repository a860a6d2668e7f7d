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
    assert_eq!(s.tracked().0, 1000, "capped");
    assert!(s.poll_at(t + Duration::from_secs(61)).is_empty());
    assert_eq!(s.tracked(), (0, 0), "idle state evicted");
    for i in 0..1000 {
        push(&mut s, snapshot(&format!("c{i}"), 10, "CLOSE", false), t);
    }
    assert_eq!(s.tracked(), (0, 0));
    assert!(format!("{s:?}").contains("tombstones: 100"), "{s:?}");
}
