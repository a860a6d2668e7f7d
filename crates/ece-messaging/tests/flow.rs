//! The client, the webhook route and the simulator over loopback.
#![cfg(feature = "sim")]

use std::time::Duration;

use axum::Router;
use cc_core::conversation::StartConversation as NeutralStart;
use cc_core::http::{Body, Executor, Request, RetryPolicy};
use cc_core::{ConversationId, MessagingChannel, Secret};
use ece_messaging::channel::EceChannel;
use ece_messaging::model::{CallbackMessage, EntryPointId, MessageType};
use ece_messaging::sim::{EceSim, Fault, SimConfig, Simulator};
use ece_messaging::start::{CustomerLookup, StartConversation};
use ece_messaging::{EceClient, EceConfig, EceWebhook, WebhookAuth};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(5);

fn sim_config() -> SimConfig {
    SimConfig::new("ABCD", Secret::from("01234"), "MyWebhookUsername", Secret::from("MyWebhookPassword"))
}

fn client(sim: &EceSim) -> EceClient {
    EceClient::new(EceConfig::new(sim.base_url(), "ABCD", Secret::from("01234"))).unwrap()
}

/// A receiver on loopback; the simulator posts to it. Returns the queue and the URL.
async fn receiver(
    password: &str,
    capacity: usize,
) -> (mpsc::Receiver<ece_messaging::model::CallbackBatch>, String) {
    let (tx, rx) = mpsc::channel(capacity);
    let hook = EceWebhook::new(WebhookAuth::basic("MyWebhookUsername", Secret::new(password.to_owned())));
    let app = Router::new().route("/webhook1", hook.into_route(tx));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()));
    (rx, format!("http://{addr}/webhook1"))
}

/// Collects callback messages until one of type `until` arrives.
async fn collect_until(
    rx: &mut mpsc::Receiver<ece_messaging::model::CallbackBatch>,
    until: MessageType,
) -> Vec<CallbackMessage> {
    let mut all = Vec::new();
    loop {
        let batch = tokio::time::timeout(WAIT, rx.recv()).await.expect("callbacks in time").expect("open");
        let done = batch.message.iter().any(|m| m.kind.value == until);
        all.extend(batch.message);
        if done {
            return all;
        }
    }
}

fn kinds(messages: &[CallbackMessage]) -> Vec<String> {
    messages.iter().map(|m| m.kind.value.to_string()).collect()
}

#[tokio::test]
async fn the_whole_flow_with_a_409_first() {
    let sim = EceSim::start(sim_config()).await.unwrap();
    let (mut rx, url) = receiver("MyWebhookPassword", 64).await;
    sim.set_callback_url(url);
    let client = client(&sim);

    let config = client.configuration(&EntryPointId::new("1001")).await.unwrap();
    assert_eq!(config.masking_configuration.unwrap().enable_off_record_messages, Some(false));
    // The entry point changes after we cached its date: the first start gets 409-100.
    sim.touch_entry_point(&EntryPointId::new("1001"));
    let start = StartConversation::new("1001", CustomerLookup::Email("charlie@example.com".into()))
        .names("Charlie", "Cheeze")
        .subject("Hello this is a summary")
        .attribute("activity_test_string1", "Test String Value")
        .referrer("TestReferrerName", "https://example.com/chat/")
        .typing_notifications(true);
    let started = client.start(&start).await.unwrap();
    assert_eq!(sim.stats().conflicts, 1, "one 409, then a transparent retry");

    let greeting = collect_until(&mut rx, MessageType::TextHtml).await;
    assert_eq!(kinds(&greeting), ["assigned", "startTyping", "endTyping", "text/html"]);
    assert!(greeting.iter().all(|m| m.conversation.id == started.conversation));
    assert_eq!(greeting[0].kind.user.as_ref().unwrap().screen_name.as_deref(), Some("Banana Man"));

    client.start_typing(&started.conversation).await.unwrap();
    client.end_typing(&started.conversation).await.unwrap();
    client.send_text(&started.conversation, "I want to discuss bananas").await.unwrap();
    let reply = collect_until(&mut rx, MessageType::TextHtml).await;
    assert_eq!(reply.last().unwrap().content.as_deref(), Some("You wrote: I want to discuss bananas"));

    client.end(&started.conversation).await.unwrap();
    let end = collect_until(&mut rx, MessageType::Complete).await;
    assert_eq!(end.last().unwrap().kind.value, MessageType::Complete);
    assert_eq!(
        sim.stats().sent,
        vec![
            ("startTyping".to_string(), None),
            ("endTyping".to_string(), None),
            ("text/plain".to_string(), Some("I want to discuss bananas".to_string())),
        ]
    );
    assert_eq!(sim.stats().logins, 1);
}

#[tokio::test]
async fn an_expired_token_mid_flow_causes_one_relogin() {
    let sim = EceSim::start(sim_config()).await.unwrap();
    let client = client(&sim);
    let started = client.start(&StartConversation::new("1001", CustomerLookup::Anonymous)).await.unwrap();
    sim.expire_tokens();
    client.send_text(&started.conversation, "still there?").await.unwrap();
    assert_eq!(sim.stats().logins, 2);
    assert_eq!(sim.stats().sent.len(), 1);
}

#[tokio::test]
async fn faults_never_duplicate_a_sent_message() {
    let sim = EceSim::start(sim_config()).await.unwrap();
    let client = client(&sim);
    let conversation =
        client.start(&StartConversation::new("1001", CustomerLookup::Anonymous)).await.unwrap().conversation;
    sim.inject(Fault::Status { status: 429, retry_after: Some(0) });
    client.send_text(&conversation, "one").await.unwrap();
    sim.inject(Fault::Status { status: 500, retry_after: None });
    let err = client.send_text(&conversation, "two").await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(500), Some("500-999")));
    sim.inject(Fault::Reset);
    assert!(client.send_text(&conversation, "three").await.is_err());
    sim.inject(Fault::Delay(Duration::from_millis(50)));
    client.send_text(&conversation, "four").await.unwrap();
    let texts: Vec<_> = sim.stats().sent.into_iter().filter_map(|(_, c)| c).collect();
    assert_eq!(texts, ["one", "three", "four"], "nothing sent twice; the 500 was not repeated");
    // Ending is idempotent: a 503 is retried.
    sim.inject(Fault::Status { status: 503, retry_after: None });
    client.end(&conversation).await.unwrap();
    // Vendor errors surface code and developerMessage.
    let err = client.send_text(&ConversationId::new("no-such-conversation"), "x").await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(400), Some("400-101")));
    assert!(err.to_string().contains("Invalid conversation id"), "{err}");
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let sim = EceSim::start(sim_config()).await.unwrap();
    let client = client(&sim);
    let bad =
        StartConversation::new("1001", CustomerLookup::Anonymous).attribute("activity_test_string1", "1+1");
    let err = client.start(&bad).await.unwrap_err();
    assert!(err.to_string().contains("'+'"), "{err}");
    assert_eq!(sim.stats().logins, 0, "nothing was sent, not even a login");
}

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
async fn the_messaging_channel_runs_a_conversation() {
    let sim = EceSim::start(sim_config()).await.unwrap();
    let (mut rx, url) = receiver("MyWebhookPassword", 64).await;
    sim.set_callback_url(url);
    let channel: Box<dyn MessagingChannel> = Box::new(EceChannel::new(client(&sim), "1001"));
    let started = channel
        .start(
            NeutralStart::new()
                .customer_name("Ada King Lovelace")
                .customer_email("ada@example.com")
                .subject("Help"),
        )
        .await
        .unwrap();
    assert!(started.vendor_ids.contains_key("activity"));
    channel.typing(&started.id, true).await.unwrap();
    assert_eq!(channel.send_text(&started.id, "hi").await.unwrap(), None);
    channel.end(&started.id).await.unwrap();
    let events: Vec<_> = collect_until(&mut rx, MessageType::Complete)
        .await
        .iter()
        .map(ece_messaging::channel::conversation_event)
        .collect();
    assert!(events.first().is_some_and(|e| matches!(e, cc_core::ConversationEvent::AgentJoined { .. })));
    assert!(events.last().is_some_and(|e| e.is_end()));
}
