//! The client, the webhook route and the simulator over loopback.
#![cfg(feature = "sim")]

mod common;

use std::time::Duration;

use cc_core::conversation::StartConversation as NeutralStart;
use cc_core::{ConversationId, MessagingChannel};
use ece_messaging::channel::EceChannel;
use ece_messaging::model::{EntryPointId, MessageType};
use ece_messaging::sim::{EceSim, Fault, Simulator};
use ece_messaging::start::{CustomerLookup, StartConversation};

use common::{client, collect_until, kinds, receiver, sim_config};

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
