//! Snapshot tests over `fixtures/icc-simprot/`. Run through `cargo xtask test-fixtures`.
//!
//! Every message is stored twice: `<case>.json` (`{"name": …, "payload": …}`) and
//! `<case>.frame`, the bytes of the (assumed) framing. The JSON snapshot holds the message as this
//! crate reads it, the frame snapshot the bytes; each test checks the other form agrees, so the
//! two directions cannot drift apart.

use std::path::{Path, PathBuf};

use icc_simprot::catalogue::{Message, MessageName, Payload};
use icc_simprot::framing::{Decoder, Framing, LengthPrefixed};
use serde_json::{Value, json};

fn read_json(path: &Path) -> Message {
    let fixture: Value = cc_core::de::parse_json(&std::fs::read(path).unwrap()).unwrap();
    let name = MessageName::parse(fixture["name"].as_str().expect("fixture has a name"));
    let payload = Payload::from_json(&name, fixture["payload"].clone()).unwrap();
    Message { name, payload }
}

fn decode_frame(bytes: &[u8]) -> Message {
    let mut decoder = Decoder::default();
    decoder.extend(bytes);
    let message = decoder.next_message().unwrap().expect("one whole frame");
    decoder.finish().expect("exactly one frame");
    message
}

fn encode(message: &Message) -> Vec<u8> {
    let mut bytes = Vec::new();
    LengthPrefixed::default().encode(message, &mut bytes).unwrap();
    bytes
}

fn sibling(path: &Path, extension: &str) -> PathBuf {
    path.with_extension(extension)
}

#[test]
fn simprot_json_fixtures() {
    insta::glob!("../../../fixtures", "icc-simprot/*.json", |path| {
        let message = read_json(path);
        let stored = std::fs::read(sibling(path, "frame")).expect("every JSON fixture has its .frame");
        assert_eq!(encode(&message), stored, "encoding the JSON gives the stored frame");
        insta::assert_json_snapshot!(json!({
            "name": message.name.as_str(),
            "payload_kind": message.name.payload_kind().map(|k| format!("{k:?}")),
            "payload": message.payload,
        }));
    });
}

#[test]
fn simprot_frame_fixtures() {
    insta::glob!("../../../fixtures", "icc-simprot/*.frame", |path| {
        let bytes = std::fs::read(path).unwrap();
        let message = decode_frame(&bytes);
        assert_eq!(message, read_json(&sibling(path, "json")), "decoding the frame gives the JSON message");
        let hex: Vec<String> = bytes
            .chunks(16)
            .map(|line| line.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "))
            .collect();
        insta::assert_snapshot!(format!("{} ({} bytes)\n{}", message.name, bytes.len(), hex.join("\n")));
    });
}

#[test]
fn every_message_name_has_a_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/icc-simprot");
    let covered: Vec<MessageName> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| read_json(&p).name)
        .collect();
    let missing: Vec<MessageName> = MessageName::all().into_iter().filter(|n| !covered.contains(n)).collect();
    assert!(missing.is_empty(), "no fixture for {missing:?}");
}
