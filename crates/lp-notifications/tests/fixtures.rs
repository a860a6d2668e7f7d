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

/// The one-pass parse (which guesses the type from the bytes) and the two-pass one give the
/// same notification, or the same error, for every fixture: each is parsed with `type`
/// first, with `body` first, with a decoy field naming the other type (a wrong guess), and
/// with an escaped key (`"\u006bind"`) that the one-pass parse leaves to the other.
#[test]
fn key_order_does_not_change_the_parse() {
    insta::glob!("../../../fixtures", "lp/*.json", |path| {
        let bytes = std::fs::read(path).unwrap();
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&bytes) else { return };
        let reordered = |first: &str| {
            let mut out = serde_json::Map::new();
            if let Some(v) = fields.get(first) {
                out.insert(first.to_owned(), v.clone());
            }
            for (k, v) in &fields {
                out.entry(k.clone()).or_insert_with(|| v.clone());
            }
            serde_json::to_vec(&out).unwrap()
        };
        let (type_first, body_first) = (reordered("type"), reordered("body"));
        let decoy = {
            let text = String::from_utf8(body_first.clone()).unwrap();
            let other = if text.contains("\"ms.MessagingEventNotification\"") {
                "cqm.ExConversationChangeNotification"
            } else {
                "ms.MessagingEventNotification"
            };
            text.replacen('{', &format!("{{\"decoy\":\"{other}\","), 1)
        };
        let escaped =
            String::from_utf8(type_first.clone()).unwrap().replacen("\"kind\"", "\"\\u006bind\"", 1);
        // Bytes that are not UTF-8, in a field nobody reads, change nothing.
        let not_utf8 =
            String::from_utf8(body_first.clone()).unwrap().split_once("\"changes\"").map(|(head, rest)| {
                [head.as_bytes(), b"\"junk\":\"\xFF\",\"changes\"", rest.as_bytes()].concat()
            });
        let outcome = |bytes: &[u8]| match parse_notification(bytes) {
            Ok(n) => serde_json::to_value(n).unwrap(),
            Err(e) => json!({"error": e.to_string(), "path": e.path}),
        };
        let expected = outcome(&type_first);
        // As sent, events put `type` first; re-serialized (keys sorted) they put it last: the
        // typed read and the held-whole read agree, and an error names the same place (the
        // typed read, the field inside the event too).
        let as_sent = outcome(&bytes);
        if let Some(held) = expected["path"].as_str() {
            let typed = as_sent["path"].as_str().unwrap_or_default();
            assert!(typed.starts_with(held), "{}: {typed} is not within {held}", path.display());
        } else {
            assert_eq!(as_sent, expected, "{}", path.display());
        }
        assert_eq!(outcome(&body_first), expected, "{}", path.display());
        assert_eq!(outcome(escaped.as_bytes()), expected, "{}", path.display());
        assert_eq!(outcome(decoy.as_bytes()), expected, "{}", path.display());
        // A known type parses past them; a notification kept as raw JSON (unknown type) or
        // failing anyway may name the bad byte instead, which is also true.
        let known = ["ms.MessagingEventNotification", "cqm.ExConversationChangeNotification"]
            .contains(&expected["type"].as_str().unwrap_or_default());
        match not_utf8 {
            Some(not_utf8) if known => assert_eq!(outcome(&not_utf8), expected, "{}", path.display()),
            Some(not_utf8) => assert!(outcome(&not_utf8).get("error").is_some(), "{}", path.display()),
            None => {}
        }
    });
}
