//! Snapshot tests over `fixtures/ece/`, and of the requests the client builds. Run through
//! `cargo xtask test-fixtures`.

#![cfg(feature = "client")]

use cc_core::de::parse_json;
use cc_core::http::ErrorDecoder;
use ece_messaging::channel::conversation_event;
use ece_messaging::model::{ConfigurationResponse, SendMessage, StartRequest, StartResponse};
use ece_messaging::start::{CustomerLookup, StartConversation};
use ece_messaging::webhook::parse_callback;
use serde_json::{Value, json};

fn parsed<T: serde::de::DeserializeOwned + serde::Serialize>(bytes: &[u8]) -> Value {
    match parse_json::<T>(bytes) {
        Ok(v) => json!({ "parsed": v }),
        Err(e) => json!({ "error": e.to_string(), "path": e.path }),
    }
}

#[test]
fn ece_fixtures() {
    insta::glob!("../../../fixtures", "ece/*.*", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "sources.txt" {
            return;
        }
        let bytes = std::fs::read(path).unwrap();
        let report = if name.contains(".callback.") {
            let content_type = if name.ends_with(".xml") { "application/xml" } else { "application/json" };
            match parse_callback(Some(content_type), &bytes) {
                Ok(batch) if batch.message.len() > 20 => json!({
                    "messages": batch.message.len(),
                    "first": batch.message.first(),
                    "last_id": batch.message.last().map(|m| m.id.clone()),
                }),
                Ok(batch) => json!({
                    "batch": batch,
                    "events": batch.message.iter().map(conversation_event).collect::<Vec<_>>(),
                }),
                Err(e) => json!({ "error": e.to_string(), "path": e.path }),
            }
        } else if name.contains("token-response") {
            let token: cc_core::auth::Token = parse_json(&bytes).unwrap();
            json!({ "expires_in_s": token.expires_in().map(|d| d.as_secs()), "token_type": token.token_type() })
        } else if name.contains("configuration-response") {
            parsed::<ConfigurationResponse>(&bytes)
        } else if name.contains("start-request") {
            parsed::<StartRequest>(&bytes)
        } else if name.contains("start-response") {
            parsed::<StartResponse>(&bytes)
        } else if name.contains("sendmessage") {
            parsed::<SendMessage>(&bytes)
        } else if name.contains("error") {
            let vendor = ece_messaging::error::ERROR_DECODER.decode(409, &bytes);
            json!({ "code": vendor.code, "message": vendor.message })
        } else if name.contains(".availability.") {
            use ece_messaging::availability::*;
            let result = match name.split('.').nth(2) {
                Some("agent-availability") => parse_agent_availability(&bytes).map(|v| json!(v)),
                Some("capacity") => parse_capacity(&bytes).map(|v| json!(v)),
                Some("check-eligibility") => parse_eligibility(&bytes).map(|v| json!(v)),
                Some("chat-allowed") => parse_chat_allowed(&bytes).map(|v| json!(v)),
                other => panic!("no availability call {other:?}"),
            };
            match result {
                Ok(value) => json!({ "parsed": value }),
                Err(e) => json!({ "error": e.to_string() }),
            }
        } else {
            panic!("no model for fixture {name}")
        };
        insta::assert_json_snapshot!(report);
    });
}

/// The start request the builder makes from the seed's values: it must match the seed's body.
#[test]
fn built_start_request() {
    let start = StartConversation::new("1001", CustomerLookup::Email("[email\u{a0}protected]".into()))
        .names("Charlie", "Cheeze")
        .subject("Hello this is a summary - max of 255 characters")
        .attribute("activity_test_string1", "Test String Value")
        .referrer("TestReferrerName", "https://orourke.tv/chat/")
        .typing_notifications(true);
    let (query, body) = start.build("2023-06-16T10:25:13.000Z").unwrap();
    let seed: StartRequest =
        parse_json(include_bytes!("../../../fixtures/ece/seed.start-request.json")).unwrap();
    assert_eq!(body, seed, "the builder reproduces the seed's request");
    insta::assert_json_snapshot!(json!({ "query": query, "body": body }));
}
