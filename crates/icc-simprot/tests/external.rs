//! The external chat application against the simulator over loopback: request cache, echo
//! wait, retry without duplicates, reconnect and resync.
#![cfg(feature = "sim")]

use std::time::Duration;

use icc_simprot::catalogue::{Message, MessageName, Payload};
use icc_simprot::connection::Connection;
use icc_simprot::external::{AppError, AppEvent, ExternalApp, ExternalAppConfig};
use icc_simprot::model::{ChatCommandInfo, ChatSentenceInfo, ChatServiceInfo, Signal, Status};
use icc_simprot::sim::{SimConfig, SimServer};
use tokio::sync::mpsc::Receiver;

const PEER: &str = "10.0.0.5";

async fn setup(tweak: impl FnOnce(&mut ExternalAppConfig)) -> (SimServer, ExternalApp, Receiver<AppEvent>) {
    let sim = SimServer::start(SimConfig::default()).await.unwrap();
    let mut config = ExternalAppConfig::new(sim.addr().to_string(), PEER);
    tweak(&mut config);
    let (app, events) = ExternalApp::connect(config).await.unwrap();
    (sim, app, events)
}

async fn next(events: &mut Receiver<AppEvent>) -> AppEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event within 5 s")
        .expect("open")
}

fn start(tracking_id: &str) -> Message {
    let info = ChatServiceInfo {
        peer: Some(PEER.into()),
        tracking_id: Some(tracking_id.into()),
        ..Default::default()
    };
    Message { name: MessageName::EsChatStart, payload: Payload::ChatServiceInfo(Box::new(info)) }
}

fn sentence(tracking_id: &str, id: &str) -> ChatSentenceInfo {
    ChatSentenceInfo {
        tracking_id: Some(tracking_id.into()),
        id: Some(id.into()),
        text: Some("Hi".into()),
        ..Default::default()
    }
}

/// Starts a chat and reads its two status events; returns the ChatId.
async fn started(app: &ExternalApp, events: &mut Receiver<AppEvent>, tracking_id: &str) -> String {
    app.send(start(tracking_id)).await.unwrap();
    let mut chat_id = String::new();
    for expected in [Status::Waiting, Status::Answered] {
        let AppEvent::Message(Message { payload: Payload::ChatStatusInfo(s), .. }) = next(events).await
        else {
            panic!("expected a status")
        };
        assert_eq!(s.status, Some(expected));
        chat_id = s.chat_id.unwrap().to_string();
    }
    chat_id
}

#[tokio::test]
async fn request_answers_are_cached_per_parameters() {
    let (sim, app, mut events) = setup(|c| c.reconnect_initial = Duration::from_secs(30)).await;
    let request = ChatServiceInfo { tracking_id: Some("t-1".into()), ..Default::default() };
    let first = app.request_chat(request.clone()).await.unwrap();
    assert_eq!(first.signal, Some(Signal::Free));
    sim.drop_connections();
    assert!(matches!(next(&mut events).await, AppEvent::Disconnected(_)));
    let cached =
        app.request_chat(ChatServiceInfo { tracking_id: Some("t-2".into()), ..request.clone() }).await;
    assert_eq!(
        cached.unwrap().tracking_id.as_deref(),
        Some("t-2"),
        "served from the cache while disconnected"
    );
    let other = ChatServiceInfo { user_token: Some("vip".into()), ..request };
    assert!(
        matches!(app.request_chat(other).await, Err(AppError::Disconnected(_))),
        "another parameter set is asked"
    );
    let missing = app.request_chat(ChatServiceInfo::default()).await.unwrap_err();
    assert_eq!(missing.to_string(), "not sent: TrackingId");
}

#[tokio::test]
async fn a_sentence_returns_its_echo_and_the_agent_reply_is_an_event() {
    let (_sim, app, mut events) = setup(|_| {}).await;
    started(&app, &mut events, "t-1").await;
    let echo = app.send_sentence(sentence("t-1", "m-1")).await.unwrap();
    assert_eq!((echo.id.as_deref(), echo.counter, echo.is_outbound), (Some("m-1"), 1, false));
    let mut seen = Vec::new();
    for _ in 0..2 {
        let AppEvent::Message(m) = next(&mut events).await else { panic!() };
        seen.push(m.name);
    }
    assert_eq!(seen, [MessageName::SeChatConfirm, MessageName::SeChatSentence]);
    let long = ChatSentenceInfo { id: Some("x".repeat(65)), ..sentence("t-1", "") };
    assert_eq!(
        app.send_sentence(long).await.unwrap_err().to_string(),
        "not sent: ID is 65 characters; at most 64"
    );
}

#[tokio::test]
async fn a_lost_sentence_times_out_and_the_retry_is_stored_once() {
    let (sim, app, mut events) = setup(|c| c.echo_timeout = Duration::from_millis(300)).await;
    started(&app, &mut events, "t-1").await;
    sim.withhold_echoes(1);
    let err = app.send_sentence(sentence("t-1", "m-1")).await.unwrap_err();
    assert!(matches!(err, AppError::NoEcho { ref id, .. } if id == "m-1"), "{err}");
    let echo = app.send_sentence(sentence("t-1", "m-1")).await.unwrap();
    assert_eq!(echo.counter, 1, "the lost attempt left nothing behind");
    let AppEvent::Message(confirm) = next(&mut events).await else { panic!() };
    assert_eq!(confirm.name, MessageName::SeChatConfirm);
    let AppEvent::Message(reply) = next(&mut events).await else { panic!() };
    let Payload::ChatSentenceInfo(reply) = reply.payload else { panic!() };
    assert!(reply.is_outbound, "the agent's reply, not a second echo");
}

#[tokio::test]
async fn after_a_drop_it_reconnects_and_reports_what_changed() {
    let (sim, app, mut events) = setup(|c| c.reconnect_initial = Duration::from_millis(1000)).await;
    let kept = started(&app, &mut events, "t-1").await;
    let closed = started(&app, &mut events, "t-2").await;

    sim.drop_connections();
    assert!(matches!(next(&mut events).await, AppEvent::Disconnected(_)));
    // While the app is away, t-2 ends (stopped here through a second connection).
    let mut other = Connection::connect(sim.addr()).await.unwrap();
    let stop =
        ChatCommandInfo { peer: Some(PEER.into()), tracking_id: Some("t-2".into()), ..Default::default() };
    other
        .send(&Message { name: MessageName::EsChatStop, payload: Payload::ChatCommandInfo(Box::new(stop)) })
        .await
        .unwrap();
    other.recv().await.unwrap().unwrap();
    let sent = app.send(start("t-3")).await;
    assert!(matches!(sent, Err(AppError::Disconnected(_))), "calls fail fast while away: {sent:?}");

    let AppEvent::Resynced { chats, changed, ended } = next(&mut events).await else {
        panic!("expected the resync")
    };
    let ids = |list: &[icc_simprot::model::ChatStatusInfo]| -> Vec<String> {
        list.iter().map(|c| c.chat_id.as_ref().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&chats), vec![kept.clone()]);
    assert!(changed.is_empty(), "t-1 is still Answered");
    assert_eq!(ids(&ended), vec![closed]);
    let echo = app.send_sentence(sentence("t-1", "m-9")).await.unwrap();
    assert_eq!(echo.chat_id.unwrap().to_string(), kept);
}
