//! Snapshot tests over `fixtures/lp/`: every payload parses into the typed model (or fails
//! naming the field), and maps to neutral conversation events. Run through
//! `cargo xtask test-fixtures`.

use lp_notifications::channel::{conversation_events, messaging_event};
use lp_notifications::model::{Change, Content, MessagingEvent, parse_notification};
use serde_json::{Value, json};

/// Which Rust variants a change parsed into: the part a JSON dump does not show.
fn shape(change: &Change) -> String {
    match change {
        Change::Messaging(m) => {
            let event = match &m.event {
                MessagingEvent::ContentEvent(c) => format!(
                    "ContentEvent/{}",
                    match &c.message {
                        Content::Text(_) => "Text",
                        Content::File(_) => "File",
                        Content::SecureInvitation(_) => "SecureInvitation",
                        Content::SecureSubmission(_) => "SecureSubmission",
                        Content::Other(_) => "Other",
                    }
                ),
                MessagingEvent::RichContentEvent(_) => "RichContentEvent".into(),
                MessagingEvent::ChatStateEvent(s) => format!("ChatStateEvent/{:?}", s.chat_state),
                MessagingEvent::AcceptStatusEvent(s) => format!("AcceptStatusEvent/{:?}", s.status),
                MessagingEvent::Unknown(_) => format!("Unknown({})", m.event.type_name()),
            };
            format!("Messaging/{event}")
        }
        Change::Conversation(c) => {
            format!("Conversation/{:?}/final={}", c.change_type, c.is_final())
        }
        Change::Unknown(_) => "Unknown".into(),
    }
}

#[test]
fn notifications() {
    insta::glob!("../../../fixtures", "lp/*.json", |path| {
        let bytes = std::fs::read(path).unwrap();
        let report: Value = match parse_notification(&bytes) {
            Ok(notification) => {
                let events: Vec<Value> = notification
                    .changes
                    .iter()
                    .flat_map(|c| match c {
                        Change::Messaging(m) => vec![messaging_event(m)],
                        Change::Conversation(c) => conversation_events(c, None),
                        Change::Unknown(_) => vec![],
                    })
                    .map(|e| serde_json::to_value(e).unwrap())
                    .collect();
                json!({
                    "shapes": notification.changes.iter().map(shape).collect::<Vec<_>>(),
                    "notification": notification,
                    "conversation_events": events,
                })
            }
            Err(err) => json!({ "error": err.to_string(), "path": err.path }),
        };
        insta::assert_json_snapshot!(report);
    });
}
