//! Snapshot tests over `fixtures/icc-website-rest/`. Run through `cargo xtask test-fixtures`.

use cc_core::de::parse_json;
use icc_website_rest::diff::ChatDiff;
use icc_website_rest::model::{ResultModel, RoutingModel};
use serde_json::json;

#[test]
fn website_fixtures() {
    insta::glob!("../../../fixtures", "icc-website-rest/*.json", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        let report = if name.starts_with("result.") {
            json!({ "parsed": parse_json::<ResultModel>(&bytes).unwrap() })
        } else {
            match parse_json::<Option<RoutingModel>>(&bytes).unwrap() {
                None => {
                    json!({ "routing": null, "meaning": "not configured for this page, or blocked: render nothing" })
                }
                Some(routing) => {
                    // What a poller seeing this chat for the first time reports.
                    let events = routing
                        .chat_running
                        .as_ref()
                        .map(|chat| format!("{:?}", ChatDiff::new().apply(chat)));
                    let decoded: Vec<String> = routing
                        .chat_running
                        .iter()
                        .flat_map(|c| c.sentences.iter().map(|s| s.decoded_text()))
                        .collect();
                    json!({ "routing": routing, "first_poll_events": events, "decoded_sentences": decoded })
                }
            }
        };
        insta::assert_json_snapshot!(report);
    });
}

/// The Routing request the client builds (fixed time, no cookie yet).
#[cfg(feature = "client")]
#[test]
fn built_routing_request() {
    use icc_website_rest::client::{WebSiteClient, WebSiteConfig};
    use icc_website_rest::model::WebApp;
    let client = WebSiteClient::new(WebSiteConfig::new("https://chat.example.com/WebSite/")).unwrap();
    let request = client
        .routing_request(
            &WebApp::WebChat,
            Some("logged in: yes & vip"),
            true,
            cc_core::EpochMillis::new(1_714_557_600_000),
        )
        .unwrap();
    insta::assert_snapshot!(request.describe());
}
