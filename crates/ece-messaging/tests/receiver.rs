//! The webhook route on a real loopback socket: credentials before the body, malformed,
//! oversize and hostile bodies, duplicates, a thousand-message batch.
#![cfg(feature = "sim")]

mod common;

use std::time::Duration;

use cc_core::Secret;
use cc_core::http::{Body, Executor, Request, RetryPolicy};
use ece_messaging::model::MessageType;
use ece_messaging::sim::{EceSim, SimConfig, Simulator};
use ece_messaging::start::{CustomerLookup, StartConversation};

use common::{client, collect_until, receiver, sim_config};

async fn post(url: &str, authorization: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let http = Executor::builder().retry_policy(RetryPolicy::no_retries()).build().unwrap();
    let request = Request::post(url)
        .without_auth()
        .header("authorization", authorization)
        .body(Body::Bytes { content_type: content_type.into(), data: body });
    match http.send(&request).await {
        Ok(r) => (r.status(), String::from_utf8_lossy(r.body()).into_owned()),
        Err(e) => {
            let api = e.as_api().expect("an answer");
            (api.status, api.body.clone())
        }
    }
}

const GOOD: &str = "Basic TXlXZWJob29rVXNlcm5hbWU6TXlXZWJob29rUGFzc3dvcmQ=";

#[tokio::test]
async fn the_route_checks_credentials_bodies_and_sizes() {
    let (mut rx, url) = receiver("MyWebhookPassword", 64).await;
    let single = std::fs::read(format!(
        "{}/../../fixtures/ece/seed.callback.single-message.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let wrong = cc_core::auth::basic_authorization("MyWebhookUsername", &Secret::from("nope"));
    assert_eq!(post(&url, wrong.expose_secret(), "application/json", single.clone()).await.0, 401);
    assert_eq!(post(&url, "Bearer abc", "application/json", single.clone()).await.0, 401);
    assert!(rx.try_recv().is_err(), "the handler never saw them");

    let (status, text) =
        post(&url, GOOD, "application/json", br#"{"message":[{"id":"1","conversation":{}}]}"#.to_vec()).await;
    assert_eq!(status, 400);
    assert!(text.contains("message[0].conversation"), "{text}");
    assert_eq!(post(&url, GOOD, "application/json", vec![b' '; 17 * 1024 * 1024]).await.0, 413);

    assert_eq!(post(&url, GOOD, "application/json", single.clone()).await.0, 200);
    assert_eq!(rx.try_recv().unwrap().message.len(), 1);
    assert_eq!(post(&url, GOOD, "application/json", single).await.0, 200, "a redelivery is acknowledged");
    assert!(rx.try_recv().is_err(), "and dropped");

    let xml = std::fs::read(format!(
        "{}/../../fixtures/ece/constructed.callback.batch.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(post(&url, GOOD, "application/xml", xml).await.0, 200);
    // Message 6554364198 of the XML batch already came as JSON above: only the other passes.
    let batch = rx.try_recv().unwrap();
    assert_eq!(batch.message.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["7860514302"]);
}

#[tokio::test]
async fn hostile_xml_nesting_is_refused_not_a_crash() {
    let (mut rx, url) = receiver("MyWebhookPassword", 64).await;
    // ~15,000 levels: overflowed the stack (an abort of the whole process) before the cap.
    let deep = format!("{}{}", "<a>".repeat(15_000), "</a>".repeat(15_000)).into_bytes();
    let (status, text) =
        tokio::spawn(async move { post(&url, GOOD, "application/xml", deep).await }).await.unwrap();
    assert_eq!(status, 400);
    assert!(text.contains("nested deeper than 64"), "{text}");
    assert!(rx.try_recv().is_err());
    // At the limit it still parses (and then fails on the missing fields, by name).
    let at_limit = format!("{}{}", "<a>".repeat(64), "</a>".repeat(64));
    let err =
        ece_messaging::webhook::parse_callback(Some("application/xml"), at_limit.as_bytes()).unwrap_err();
    assert!(!err.to_string().contains("nested deeper"), "{err}");
}

#[tokio::test]
async fn empty_message_ids_are_no_dedupe_key() {
    let (mut rx, url) = receiver("MyWebhookPassword", 64).await;
    for conversation in ["c-1", "c-2"] {
        let body = format!(
            r#"{{"id":"","conversation":{{"id":"{conversation}"}},"sender":{{"type":"user"}},"type":{{"value":"text/html"}},"content":"hi"}}"#
        );
        assert_eq!(post(&url, GOOD, "application/json", body.into_bytes()).await.0, 200);
    }
    let conversations: Vec<String> =
        (0..2).map(|_| rx.try_recv().unwrap().message[0].conversation.id.to_string()).collect();
    assert_eq!(conversations, ["c-1", "c-2"], "both reached the handler");
}

#[tokio::test]
async fn a_thousand_message_batch_is_admitted_and_duplicates_are_dropped() {
    let (mut rx, url) = receiver("MyWebhookPassword", 64).await;
    let batch = std::fs::read(format!(
        "{}/../../fixtures/ece/constructed.callback.batch-1000.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(post(&url, GOOD, "application/json", batch.clone()).await.0, 200);
    assert_eq!(rx.try_recv().unwrap().message.len(), 1000);
    assert_eq!(post(&url, GOOD, "application/json", batch).await.0, 200);
    assert!(rx.try_recv().is_err());

    let sim = EceSim::start(SimConfig { duplicate_deliveries: true, ..sim_config() }).await.unwrap();
    sim.set_callback_url(url);
    let client = client(&sim);
    client.start(&StartConversation::new("1001", CustomerLookup::Anonymous)).await.unwrap();
    let messages = collect_until(&mut rx, MessageType::TextHtml).await;
    let mut ids: Vec<_> = messages.iter().map(|m| m.id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), messages.len(), "no message delivered twice");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rx.try_recv().is_err(), "the duplicate batches were dropped");
    assert!(sim.stats().callback_posts >= 2);
}

#[tokio::test]
async fn the_duplicate_memory_is_sized_by_the_caller() {
    use axum::Router;
    use ece_messaging::webhook::{EceWebhook, WebhookAuth};
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let hook = EceWebhook::new(WebhookAuth::basic("MyWebhookUsername", Secret::from("MyWebhookPassword")))
        .dedupe(2, Duration::from_secs(3600));
    let app = Router::new().route("/hook", hook.into_route(tx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let message = |id: &str| {
        format!(r#"{{"message":[{{"id":"{id}","conversation":{{"id":"c-1"}},"sender":{{"type":"system"}},"type":{{"value":"text/plain"}},"content":"x"}}]}}"#)
            .into_bytes()
    };
    let mut delivered = Vec::new();
    for id in ["1", "2", "1", "3", "1"] {
        assert_eq!(post(&url, GOOD, "application/json", message(id)).await.0, 200);
        while let Ok(batch) = rx.try_recv() {
            delivered.extend(batch.message.into_iter().map(|m| m.id.to_string()));
        }
    }
    assert_eq!(delivered, ["1", "2", "3", "1"], "1 repeats once 3 pushed it out of a memory of two");
}
