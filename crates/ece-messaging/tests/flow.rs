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
    assert_eq!(sim.logins(), 2);
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
    // The agent is assigned and greets first; ending before that would leave nothing to see.
    let mut messages = collect_until(&mut rx, MessageType::TextHtml).await;
    channel.typing(&started.id, true).await.unwrap();
    assert_eq!(channel.send_text(&started.id, "hi").await.unwrap(), None);
    channel.end(&started.id).await.unwrap();
    messages.extend(collect_until(&mut rx, MessageType::Complete).await);
    let events: Vec<_> = messages.iter().map(ece_messaging::channel::conversation_event).collect();
    assert!(events.first().is_some_and(|e| matches!(e, cc_core::ConversationEvent::AgentJoined { .. })));
    assert!(events.last().is_some_and(|e| e.is_end()));
}

#[tokio::test]
async fn logout_frees_a_session_under_the_cap_and_force_login_evicts_the_oldest() {
    use ece_messaging::client::Logout;
    use ece_messaging::{EceClient, EceConfig};
    let mut config = sim_config();
    config.max_sessions = 2;
    let sim = EceSim::start(config).await.unwrap();
    let entry = EntryPointId::new("1001");
    let (a, b, c) = (client(&sim), client(&sim), client(&sim));
    assert_eq!(a.logout().await.unwrap(), Logout::NoSession, "nothing held: nothing sent");
    a.configuration(&entry).await.unwrap();
    b.configuration(&entry).await.unwrap();
    let refused = c.configuration(&entry).await.unwrap_err();
    assert_eq!((refused.status(), refused.code()), (Some(403), Some("403-100")), "{refused}");

    assert_eq!(a.logout().await.unwrap(), Logout::Revoked);
    c.configuration(&entry).await.unwrap();
    assert_eq!(a.logout().await.unwrap(), Logout::NoSession);
    a.configuration(&entry).await.unwrap_err();

    let mut forced = EceConfig::new(sim.base_url(), "ABCD", cc_core::Secret::from("01234"));
    forced.force_login = true;
    let forced = EceClient::new(forced).unwrap();
    forced.configuration(&entry).await.unwrap();
    assert_eq!(sim.stats().evictions, 1, "the oldest session (b) made room");
    let evicted = b.configuration(&entry).await.unwrap_err();
    assert_eq!(evicted.status(), Some(403), "b's token is dead and the cap is full again: {evicted}");

    sim.expire_tokens();
    assert_eq!(c.logout().await.unwrap(), Logout::AlreadyGone, "a 4xx: the session was gone");
    let stats = sim.stats();
    assert_eq!(stats.revocations, 1);
}

#[tokio::test]
async fn availability_is_asked_before_a_chat_without_logging_in() {
    use cc_core::conversation::Availability;
    use ece_messaging::availability::Eligibility;
    let sim = EceSim::start(sim_config()).await.unwrap();
    let client = client(&sim);
    let entry = EntryPointId::new("1001");
    assert!(client.agent_availability(&entry).await.unwrap());
    assert_eq!(client.capacity(&entry).await.unwrap(), 3);
    assert_eq!(client.eligibility(&entry).await.unwrap(), Eligibility::Eligible);
    assert!(client.chat_allowed(&entry).await.unwrap());
    let channel: Box<dyn MessagingChannel> = Box::new(EceChannel::new(client.clone(), "1001"));
    assert_eq!(channel.availability(None).await.unwrap(), Availability::Available { slots: Some(3) });

    sim.set_available_slots(&entry, 0);
    assert!(!client.agent_availability(&entry).await.unwrap());
    assert_eq!(client.eligibility(&entry).await.unwrap(), Eligibility::NoAgent);
    assert!(matches!(channel.availability(Some("1001")).await.unwrap(), Availability::Unavailable { .. }));
    assert_eq!(
        channel.availability(Some("9999")).await.unwrap(),
        Availability::Unknown,
        "404: not known here"
    );
    assert!(matches!(
        client.capacity(&EntryPointId::new("10/../01")).await,
        Err(ece_messaging::Error::Invalid { .. })
    ));
    assert_eq!(sim.stats().logins, 0, "the chat web-service API is unauthenticated");

    // An availability call is a GET: a 503 and a reset are retried.
    sim.set_available_slots(&entry, 2);
    sim.inject(Fault::Status { status: 503, retry_after: None });
    sim.inject(Fault::Reset);
    assert_eq!(client.capacity(&entry).await.unwrap(), 2);
}

#[tokio::test]
async fn files_locations_transfers_and_page_pushes_both_ways() {
    use cc_core::ConversationEvent as E;
    use ece_messaging::model::{AttachmentId, AttachmentInfo, Coordinate, Geolocation};
    let sim = EceSim::start(sim_config()).await.unwrap();
    let (mut rx, url) = receiver("MyWebhookPassword", 64).await;
    sim.set_callback_url(url);
    let client = client(&sim);
    let start = StartConversation::new("1001", CustomerLookup::Anonymous);
    let conversation = client.start(&start).await.unwrap().conversation;
    collect_until(&mut rx, MessageType::TextHtml).await;

    // A transfer can come more than once.
    for _ in 0..2 {
        client.send_text(&conversation, "please transfer me").await.unwrap();
        let events = events_until(&mut rx, MessageType::TextHtml).await;
        let transferred = events.iter().filter(|e| matches!(e, E::Transferred { to: Some(to), .. } if to == "Transferred to the Billing queue")).count();
        assert_eq!(transferred, 1, "{events:#?}");
    }

    // The agent's file arrives as a message with an attachment; the customer accepts it.
    client.send_text(&conversation, "a file please").await.unwrap();
    let events = events_until(&mut rx, MessageType::UploadAttachment).await;
    let Some(E::Message { message, .. }) = events.last() else { panic!("{events:#?}") };
    let file = &message.attachments[0];
    assert_eq!(
        (file.name.as_deref(), file.content_type.as_deref(), file.size),
        (Some("offer.pdf"), Some("application/pdf"), Some(32))
    );
    assert!(file.url.starts_with("https://ece-webserver.example.com/files/"), "{}", file.url);
    client.answer_attachment(&conversation, &AttachmentId::new("att-1"), true).await.unwrap();

    // The customer's file and location, thanked for by the agent.
    let receipt = AttachmentInfo {
        file_name: Some("receipt.png".into()),
        content_type: Some("image/png".into()),
        size: Some(2048),
        content_url: Some("https://files.example.com/receipt.png".into()),
        ..AttachmentInfo::default()
    };
    client.send_attachments(&conversation, vec![receipt], Some("my receipt")).await.unwrap();
    let events = events_until(&mut rx, MessageType::TextHtml).await;
    assert!(events.iter().any(|e| matches!(e, E::Message { message, .. } if message.html.as_deref() == Some("Thanks, I got receipt.png"))), "{events:#?}");
    let here = Geolocation {
        coordinate: Some(Coordinate { latitude: 52.52, longitude: 13.405 }),
        ..Geolocation::default()
    };
    client.send_location(&conversation, &here).await.unwrap();
    let events = events_until(&mut rx, MessageType::TextHtml).await;
    assert!(events.iter().any(|e| matches!(e, E::Message { message, .. } if message.html.as_deref() == Some("Thanks, you are at geo:52.52,13.405"))), "{events:#?}");

    // A page push is passed on as `Other`.
    client.send_text(&conversation, "show me the page").await.unwrap();
    let events = events_until(&mut rx, MessageType::PagePush).await;
    assert!(matches!(events.last(), Some(E::Other { kind, .. }) if kind == "ece:pagePush"), "{events:#?}");

    // Refused before any call.
    let before = sim.stats().bodies.len();
    let nowhere = Geolocation::default();
    assert!(matches!(
        client.send_location(&conversation, &nowhere).await,
        Err(ece_messaging::Error::Invalid { .. })
    ));
    let off_map = Geolocation {
        coordinate: Some(Coordinate { latitude: 91.0, longitude: 0.0 }),
        ..Geolocation::default()
    };
    assert!(matches!(
        client.send_location(&conversation, &off_map).await,
        Err(ece_messaging::Error::Invalid { .. })
    ));
    assert!(matches!(
        client.send_attachments(&conversation, vec![AttachmentInfo::default()], None).await,
        Err(ece_messaging::Error::Invalid { .. })
    ));
    assert_eq!(sim.stats().bodies.len(), before);

    let built: Vec<_> = sim
        .stats()
        .bodies
        .into_iter()
        .filter(|b| !matches!(b["type"]["value"].as_str(), Some("text/plain")))
        .map(|mut b| {
            b["conversation"]["id"] = "<conversation>".into();
            b
        })
        .collect();
    insta::assert_json_snapshot!("built_attachment_and_location_requests", built);
}

async fn events_until(
    rx: &mut tokio::sync::mpsc::Receiver<ece_messaging::model::CallbackBatch>,
    kind: MessageType,
) -> Vec<cc_core::ConversationEvent> {
    collect_until(rx, kind).await.iter().map(ece_messaging::channel::conversation_event).collect()
}
