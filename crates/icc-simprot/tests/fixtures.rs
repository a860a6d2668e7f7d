//! Snapshot tests over `fixtures/icc-simprot/`. Run through `cargo xtask test-fixtures`.
//!
//! Each fixture is `{"name": …, "payload": …}`. The snapshot holds the message as this crate
//! reads it; the test also checks it survives the (assumed) frame encoding unchanged.

use icc_simprot::catalogue::{Message, MessageName, Payload};
use icc_simprot::framing::{Decoder, Framing, LengthPrefixed};
use serde_json::{Value, json};

fn read(path: &std::path::Path) -> Message {
    let fixture: Value = cc_core::de::parse_json(&std::fs::read(path).unwrap()).unwrap();
    let name = MessageName::parse(fixture["name"].as_str().expect("fixture has a name"));
    let payload = Payload::from_json(&name, fixture["payload"].clone()).unwrap();
    Message { name, payload }
}

fn frame(message: &Message) -> Vec<u8> {
    let mut bytes = Vec::new();
    LengthPrefixed::default().encode(message, &mut bytes).unwrap();
    bytes
}

#[test]
fn simprot_fixtures() {
    insta::glob!("../../../fixtures", "icc-simprot/*.json", |path| {
        let message = read(path);
        let bytes = frame(&message);
        let mut decoder = Decoder::default();
        decoder.extend(&bytes);
        assert_eq!(decoder.next_message().unwrap().as_ref(), Some(&message), "frame round trip");
        decoder.finish().unwrap();
        insta::assert_json_snapshot!(json!({
            "name": message.name.as_str(),
            "payload_kind": message.name.payload_kind().map(|k| format!("{k:?}")),
            "payload": message.payload,
            "frame_bytes": bytes.len(),
        }));
    });
}

/// The bytes of one frame, to compare with a capture of the real server.
#[test]
fn built_frame() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/icc-simprot/cs_chat_typing.json");
    let hex: Vec<String> = frame(&read(&path))
        .chunks(16)
        .map(|line| line.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "))
        .collect();
    insta::assert_snapshot!(hex.join("\n"));
}
