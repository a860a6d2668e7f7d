//! The client against the simulator over loopback: a whole conversation — open, send, the
//! agent answers through signed webhooks, files both ways, receipts, typing, close — through
//! the vendor-neutral `MessagingChannel`, with the built requests snapshotted.

mod common;

use cc_core::conversation::{ReceiptKind, Role, StartConversation};
use cc_core::{ConversationEvent, ConversationId, MessageId, MessagingChannel};
use common::{agent_text, client, start, until};
use lp_connector::channel::{EXT_CONSUMER_ID, LpChannel};
use lp_connector::model::{AcceptStatus, DialogId, FileUpload, OpenConversation};
use lp_connector::sim::AGENT_PNG;

/// A small valid PNG from the consumer (not the agent's).
fn consumer_png() -> Vec<u8> {
    let mut png = AGENT_PNG.to_vec();
    png.extend_from_slice(b"consumer");
    png
}

#[tokio::test]
async fn a_conversation_runs_end_to_end_through_the_neutral_channel() {
    let mut lp = start().await;
    let client = client(&lp.sim);
    let channel = LpChannel::new(client.clone());
    let neutral: &dyn MessagingChannel = &channel;

    let started = neutral
        .start(
            StartConversation::new()
                .customer_name("Ada Lovelace")
                .customer_email("ada@example.com")
                .attribute(EXT_CONSUMER_ID, "ada-1"),
        )
        .await
        .unwrap();
    let conversation = started.id.clone();
    assert_eq!(started.vendor_ids.get(EXT_CONSUMER_ID).map(String::as_str), Some("ada-1"));
    assert_eq!(started.vendor_ids.get("lp_consumer_id").map(String::len), Some(64));

    // The agent's greeting arrives as signed webhooks, in order.
    let first = until(&mut lp.events, |e| agent_text(e).is_some()).await;
    let first = channel.own_events(first);
    let kinds: Vec<&str> = first.iter().map(kind).collect();
    assert_eq!(kinds, ["started", "agent_joined", "typing", "message"], "{first:#?}");
    assert_eq!(agent_text(&first[3]), Some("Hi, this is Sam. How can I help?"));

    // Our message: its id is the one LivePerson's receipts name; the echo is not ours to see.
    neutral.typing(&conversation, true).await.unwrap();
    neutral.typing(&conversation, false).await.unwrap();
    let sent = neutral.send_text(&conversation, "My parcel is late.").await.unwrap().expect("a sequence");
    let reply = until(&mut lp.events, |e| agent_text(e) == Some("You wrote: My parcel is late.")).await;
    let echoes = reply.iter().filter(|e| sender_role(e) == Some(Role::Customer)).count();
    assert_eq!(echoes, 3, "LivePerson echoes the two chat states and the message: {reply:#?}");
    let reply = channel.own_events(reply);
    assert!(reply.iter().all(|e| sender_role(e) != Some(Role::Customer)), "echoes dropped: {reply:#?}");
    let receipts: Vec<(&ReceiptKind, &Vec<MessageId>)> = reply
        .iter()
        .filter_map(|e| match e {
            ConversationEvent::Receipt { kind, messages, .. } => Some((kind, messages)),
            _ => None,
        })
        .collect();
    assert_eq!(receipts, [(&ReceiptKind::Delivered, &vec![sent.clone()]), (&ReceiptKind::Read, &vec![sent])]);

    // A file up; the agent's file down, by the relativePath its webhook named.
    let consumer = channel.consumer_of(&conversation).unwrap();
    let png = consumer_png();
    let uploaded = consumer
        .upload(&conversation, &FileUpload::image(png.clone()).unwrap().caption("receipt.png"))
        .await
        .unwrap();
    assert_eq!(lp.sim.file(&uploaded.relative_path), Some(png), "the bytes reached Swift");
    let back = until(&mut lp.events, |e| attachment(e).is_some()).await;
    let path = back.iter().find_map(attachment).unwrap().to_owned();
    assert_ne!(path, uploaded.relative_path, "the agent's own file");
    assert_eq!(consumer.download(&path).await.unwrap(), AGENT_PNG);

    consumer.receipt(&conversation, AcceptStatus::Read, vec![1]).await.unwrap();
    neutral.end(&conversation).await.unwrap();
    let end = channel.own_events(until(&mut lp.events, ConversationEvent::is_end).await);
    assert!(matches!(end.last(), Some(ConversationEvent::Ended { .. })), "{end:#?}");
    assert!(channel.consumer_of(&conversation).is_none(), "forgotten once ended");
    assert!(
        matches!(neutral.send_text(&conversation, "still there?").await, Err(e) if e.kind == cc_core::ChannelErrorKind::InvalidInput)
    );

    let stats = lp.sim.stats();
    assert_eq!((stats.app_jwts, stats.consumer_jwss, stats.conversations), (1, 1, 1));
    assert_eq!((stats.uploads, stats.downloads), (1, 1));
    assert_eq!(stats.notifications.1, 0, "every notification delivered");
    insta::assert_json_snapshot!("built_requests", stats.requests);
}

#[tokio::test]
async fn closing_the_main_dialog_opens_the_survey_and_csat_is_recorded() {
    let mut lp = start().await;
    let consumer = client(&lp.sim).consumer("survey-1");
    let conversation = consumer.open(&OpenConversation::new().skill("12")).await.unwrap();
    until(&mut lp.events, |e| agent_text(e).is_some()).await;
    let main = DialogId::new(conversation.as_str());
    consumer.close_dialog(&conversation, &main, "Closed by consumer").await.unwrap();
    consumer.csat(&conversation, 5, true).await.unwrap();
    consumer.close(&conversation).await.unwrap();
    until(&mut lp.events, ConversationEvent::is_end).await;
    let stats = lp.sim.stats();
    assert_eq!(stats.csat, vec![(conversation.to_string(), 5)]);
    let updates: Vec<&str> = stats.published.iter().map(|(_, kind)| kind.as_str()).collect();
    assert_eq!(updates, ["DialogChange:CLOSE", "ConversationStateField:CLOSE"]);
    assert!(matches!(consumer.csat(&conversation, 6, true).await, Err(lp_connector::Error::Invalid { .. })));
}

#[tokio::test]
async fn many_consumers_at_once_share_one_app_jwt_and_fetch_one_jws_each() {
    let lp = start().await;
    let client = client(&lp.sim);
    let mut tasks = Vec::new();
    for n in 0..40 {
        let consumer = client.consumer(format!("consumer-{}", n % 10));
        tasks.push(tokio::spawn(async move {
            let conversation: ConversationId = consumer.open(&OpenConversation::new()).await?;
            consumer.send_text(&conversation, "hello").await
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_some());
    }
    let stats = lp.sim.stats();
    assert_eq!(stats.app_jwts, 1, "one AppJWT for every caller");
    assert_eq!(stats.consumer_jwss, 10, "one JWS per consumer, however many callers");
    assert_eq!(stats.conversations, 40);
    assert_eq!(client.app_jwt_fetches(), 1);
}

fn kind(event: &ConversationEvent) -> &'static str {
    match event {
        ConversationEvent::Started { .. } => "started",
        ConversationEvent::AgentJoined { .. } => "agent_joined",
        ConversationEvent::Typing { .. } => "typing",
        ConversationEvent::Message { .. } => "message",
        ConversationEvent::Receipt { .. } => "receipt",
        ConversationEvent::Ended { .. } => "ended",
        _ => "other",
    }
}

fn sender_role(event: &ConversationEvent) -> Option<Role> {
    match event {
        ConversationEvent::Message { message, .. } => Some(message.sender.role.clone()),
        ConversationEvent::Typing { who, .. } => Some(who.role.clone()),
        ConversationEvent::Receipt { by, .. } => by.as_ref().map(|p| p.role.clone()),
        _ => None,
    }
}

fn attachment(event: &ConversationEvent) -> Option<&str> {
    match event {
        ConversationEvent::Message { message, .. } if message.sender.role == Role::Agent => {
            message.attachments.first().map(|a| a.url.as_str())
        }
        _ => None,
    }
}

#[tokio::test]
async fn client_properties_go_on_the_open_and_every_send_only() {
    let lp = start().await;
    let mut config = common::config(&lp.sim);
    config.features = vec!["AUTO_MESSAGES".into(), "RICH_CONTENT".into()];
    let consumer = lp_connector::LpClient::new(config).unwrap().consumer("props-1");
    let conversation = consumer.open(&OpenConversation::new()).await.unwrap();
    consumer.send_text(&conversation, "hi").await.unwrap();
    let expected = r#"{"features":["AUTO_MESSAGES","RICH_CONTENT"],"type":".ClientProperties"}"#;
    for seen in lp.sim.stats().requests {
        let sent = seen.headers.get("client-properties").map(String::as_str);
        let wanted = seen.path.contains("/messaging/consumer/conversation").then_some(expected);
        assert_eq!(sent, wanted, "{} {}", seen.method, seen.path);
    }
}

/// The survey's snapshot and the close's are scheduled at the same moment: whichever runs
/// first, the snapshots a receiver gets must only move forward (`metaDataLastUpdateTs`
/// strictly increasing, as receivers drop one that is not newer) and the last must be the
/// close. Repeated, since the two race.
#[tokio::test]
async fn snapshots_move_forward_when_the_survey_and_the_close_race() {
    use axum::routing::post;
    use cc_core::sim::Simulator as _;
    let (tx, mut raw) = tokio::sync::mpsc::unbounded_channel::<serde_json::Value>();
    let app = axum::Router::new().route(
        "/raw",
        post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(serde_json::from_slice(&body).unwrap());
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/raw", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sim = lp_connector::sim::LpSim::start(lp_connector::sim::SimConfig::new(
        common::ACCOUNT,
        common::CLIENT_ID,
        cc_core::Secret::from(common::SECRET),
    ))
    .await
    .unwrap();
    sim.set_webhook_url(url);
    let client = client(&sim);
    for round in 0..20 {
        let consumer = client.consumer(format!("racer-{round}"));
        let conversation = consumer.open(&OpenConversation::new()).await.unwrap();
        let main = DialogId::new(conversation.as_str());
        consumer.close_dialog(&conversation, &main, "Closed by consumer").await.unwrap();
        consumer.close(&conversation).await.unwrap();
        // Snapshots of this conversation until the close, then a while longer for a late one.
        let mut snapshots = Vec::new();
        let mut deadline = tokio::time::Instant::now() + common::WAIT;
        while let Ok(Some(notification)) = tokio::time::timeout_at(deadline, raw.recv()).await {
            let Some(result) = notification.pointer("/body/changes/0/result") else { continue };
            if result["convId"] != conversation.as_str() {
                continue;
            }
            let details = &result["conversationDetails"];
            snapshots.push((details["metaDataLastUpdateTs"].as_i64().unwrap(), details["stage"].clone()));
            if details["stage"] == "CLOSE" {
                deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(50);
            }
        }
        assert!(snapshots.windows(2).all(|w| w[0].0 < w[1].0), "round {round}: {snapshots:?}");
        assert_eq!(
            snapshots.last().map(|s| s.1.clone()),
            Some("CLOSE".into()),
            "round {round}: {snapshots:?}"
        );
    }
}
