//! Snapshot tests over `fixtures/alvaria/`: every example of the API reference and the edge
//! cases, parsed into the models (requests also as the client sends them back), callbacks
//! with their neutral `ConversationEvent`. Run through `cargo xtask test-fixtures`.

use alvaria_servermsg::channel::conversation_event;
use alvaria_servermsg::model::{
    Callback, ErrorResponse, Message, MessageResponse, NewSession, SessionResponse,
};
use cc_core::de::parse_json;
use serde_json::{Value, json};

fn parsed<T: serde::de::DeserializeOwned + serde::Serialize>(bytes: &[u8]) -> Value {
    match parse_json::<T>(bytes) {
        Ok(v) => json!({ "parsed": v }),
        Err(e) => json!({ "error": e.to_string(), "path": e.path }),
    }
}

#[test]
fn alvaria_fixtures() {
    insta::glob!("../../../fixtures", "alvaria/*.json", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        let report = if name.contains("callback.") {
            match Callback::parse(&bytes) {
                Ok(cb) => json!({
                    "event": cb.event_name(),
                    "unknown": matches!(cb, Callback::Unknown(_)),
                    "wire": cb,
                    "conversation_event": conversation_event(&cb),
                }),
                Err(e) => json!({ "error": e.to_string(), "path": e.path }),
            }
        } else if name.contains("token-response") {
            let token: cc_core::auth::Token = parse_json(&bytes).unwrap();
            json!({ "expires_in_s": token.expires_in().map(|d| d.as_secs()), "scope": token.scope(), "token_type": token.token_type() })
        } else if name.contains("request.new-session") {
            // `parsed` is also exactly what the client sends: workTypeId goes out as a string.
            parsed::<NewSession>(&bytes)
        } else if name.contains("request.message") {
            parsed::<Message>(&bytes)
        } else if name.contains("response.session") {
            parsed::<SessionResponse>(&bytes)
        } else if name.contains("response.message") {
            parsed::<MessageResponse>(&bytes)
        } else if name.contains("response.error") {
            parsed::<ErrorResponse>(&bytes)
        } else {
            panic!("no model for fixture {name}")
        };
        insta::assert_json_snapshot!(report);
    });
}
