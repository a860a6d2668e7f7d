//! Flows against the simulator over real loopback sockets, and connection faults.
#![cfg(feature = "sim")]

use std::time::Duration;

use icc_simprot::catalogue::{Message, MessageName, Payload};
use icc_simprot::connection::{Connection, ConnectionError};
use icc_simprot::framing::FrameError;
use icc_simprot::model::{
    ChatCommandInfo, ChatSentenceInfo, ChatServiceInfo, Guid, MessageContentInfo, Signal, Status,
};
use icc_simprot::sim::{SimConfig, SimProtSim};
use tokio::io::AsyncWriteExt;

const PEER: &str = "10.0.0.5";

async fn recv(connection: &mut Connection) -> Message {
    tokio::time::timeout(Duration::from_secs(5), connection.recv())
        .await
        .expect("a reply within 5 s")
        .expect("a good frame")
        .expect("connection open")
}

fn service(tracking_id: &str) -> ChatServiceInfo {
    ChatServiceInfo { peer: Some(PEER.into()), tracking_id: Some(tracking_id.into()), ..Default::default() }
}

fn sentence(tracking_id: &str, id: &str, text: &str) -> ChatSentenceInfo {
    ChatSentenceInfo {
        peer: Some(PEER.into()),
        tracking_id: Some(tracking_id.into()),
        id: Some(id.into()),
        party_name: Some("Jana".into()),
        text: Some(text.into()),
        ..Default::default()
    }
}

fn status_of(message: &Message) -> (Option<Status>, usize) {
    match &message.payload {
        Payload::ChatStatusInfo(s) => (s.status.clone(), s.sentences.as_ref().map_or(0, Vec::len)),
        other => panic!("expected ChatStatusInfo, got {other:?}"),
    }
}

fn sentence_of(message: &Message) -> &ChatSentenceInfo {
    match &message.payload {
        Payload::ChatSentenceInfo(s) => s,
        other => panic!("expected ChatSentenceInfo, got {other:?}"),
    }
}

async fn send(connection: &mut Connection, name: MessageName, payload: Payload) {
    connection.send(&Message { name, payload }).await.unwrap();
}

#[tokio::test]
async fn chat_from_request_to_stop() {
    let sim = SimProtSim::start(SimConfig { signal: Signal::Busy, ..Default::default() }).await.unwrap();
    let mut c = Connection::connect(sim.addr()).await.unwrap();

    send(&mut c, MessageName::EsChatRequest, Payload::ChatServiceInfo(Box::new(service("t-1")))).await;
    let response = recv(&mut c).await;
    assert_eq!(response.name, MessageName::SeChatResponse);
    let Payload::ChatServiceInfo(r) = response.payload else { panic!("{response:?}") };
    assert_eq!((r.signal, r.tracking_id.as_deref()), (Some(Signal::Busy), Some("t-1")));

    send(&mut c, MessageName::EsChatStart, Payload::ChatServiceInfo(Box::new(service("t-1")))).await;
    assert_eq!(status_of(&recv(&mut c).await), (Some(Status::Waiting), 0));
    assert_eq!(status_of(&recv(&mut c).await), (Some(Status::Answered), 0));

    send(
        &mut c,
        MessageName::EsChatSentence,
        Payload::ChatSentenceInfo(Box::new(sentence("t-1", "m-1", "Hi"))),
    )
    .await;
    let echo = recv(&mut c).await;
    assert_eq!(echo.name, MessageName::SeChatSentence);
    let echo = sentence_of(&echo);
    assert_eq!((echo.id.as_deref(), echo.counter, echo.is_outbound), (Some("m-1"), 1, false));
    let confirm = recv(&mut c).await;
    let Payload::ChatCommandInfo(confirm) = confirm.payload else { panic!("{confirm:?}") };
    assert_eq!(confirm.id.as_deref(), Some("m-1"));
    let reply = recv(&mut c).await;
    let reply = sentence_of(&reply);
    assert_eq!((reply.text.as_deref(), reply.counter, reply.is_outbound), (Some("You wrote: Hi"), 2, true));

    let stop =
        ChatCommandInfo { peer: Some(PEER.into()), tracking_id: Some("t-1".into()), ..Default::default() };
    send(&mut c, MessageName::EsChatStop, Payload::ChatCommandInfo(Box::new(stop))).await;
    assert_eq!(status_of(&recv(&mut c).await).0, Some(Status::Closed));
}

#[tokio::test]
async fn after_a_drop_resync_lists_the_chat_and_start_returns_its_sentences() {
    let sim = SimProtSim::start(SimConfig::default()).await.unwrap();
    let mut c = Connection::connect(sim.addr()).await.unwrap();
    send(&mut c, MessageName::EsChatStart, Payload::ChatServiceInfo(Box::new(service("t-2")))).await;
    let Payload::ChatStatusInfo(first) = recv(&mut c).await.payload else { panic!() };
    recv(&mut c).await;
    send(
        &mut c,
        MessageName::EsChatSentence,
        Payload::ChatSentenceInfo(Box::new(sentence("t-2", "m-1", "Hi"))),
    )
    .await;
    for _ in 0..3 {
        recv(&mut c).await;
    }
    drop(c);

    let mut c = Connection::connect(sim.addr()).await.unwrap();
    let resync = ChatCommandInfo { peer: Some(PEER.into()), ..Default::default() };
    send(&mut c, MessageName::EsChatResync, Payload::ChatCommandInfo(Box::new(resync))).await;
    let list = recv(&mut c).await;
    assert_eq!(list.name, MessageName::SeChatList);
    let Payload::ChatStatusInfoList(list) = list.payload else { panic!() };
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].chat_id.clone(), list[0].status.clone()),
        (first.chat_id.clone(), Some(Status::Answered))
    );

    send(&mut c, MessageName::EsChatStart, Payload::ChatServiceInfo(Box::new(service("t-2")))).await;
    let again = recv(&mut c).await;
    assert_eq!(status_of(&again), (Some(Status::Answered), 2));
    let Payload::ChatStatusInfo(again) = again.payload else { panic!() };
    assert_eq!(again.chat_id, first.chat_id);
}

#[tokio::test]
async fn an_inbound_message_gets_one_acknowledgement_mirroring_gateway_and_request() {
    let sim = SimProtSim::start(SimConfig::default()).await.unwrap();
    let mut c = Connection::connect(sim.addr()).await.unwrap();
    let inbound = MessageContentInfo {
        gateway_id: Guid::parse("a6b7c8d9-e0f1-a2b3-c4d5-e6f708192a3b"),
        request_id: Some("r-7".into()),
        subject_field: Some("Order".into()),
        ..Default::default()
    };
    send(&mut c, MessageName::EsMessageReceiving, Payload::MessageContentInfo(Box::new(inbound.clone())))
        .await;
    let ack = recv(&mut c).await;
    assert_eq!(ack.name, MessageName::SeMessageReceived);
    let Payload::CommandInfo(ack) = ack.payload else { panic!() };
    assert_eq!(
        (ack.ref_id.clone(), ack.reference.as_deref(), ack.processed()),
        (inbound.gateway_id, Some("r-7"), Some(true))
    );
    assert!(ack.id.is_some());
}

/// A raw peer that writes `bytes` then closes.
async fn raw_peer(bytes: Vec<u8>) -> Connection {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(&bytes).await.unwrap();
        s.shutdown().await.unwrap();
    });
    Connection::connect(addr).await.unwrap()
}

fn frame(name: MessageName, payload: serde_json::Value) -> Vec<u8> {
    let body = rmp_serde::to_vec_named(&(name.as_str(), payload)).unwrap();
    [(body.len() as u32).to_be_bytes().to_vec(), body].concat()
}

#[tokio::test]
async fn a_mistyped_payload_is_named_and_the_next_frame_still_arrives_then_clean_close() {
    let bad = frame(MessageName::SeChatStatus, serde_json::json!({"ChatId": "not-a-guid"}));
    let good = frame(MessageName::SeChatStatus, serde_json::json!({"Status": "Waiting"}));
    let mut c = raw_peer([bad, good].concat()).await;
    let err = c.recv().await.unwrap_err();
    assert!(err.to_string().contains("SE_CHAT_STATUS payload: at `ChatId`"), "{err}");
    assert_eq!(status_of(&c.recv().await.unwrap().unwrap()).0, Some(Status::Waiting));
    assert!(c.recv().await.unwrap().is_none(), "closed between frames");
}

#[tokio::test]
async fn a_garbage_frame_closes_the_connection() {
    let good = frame(MessageName::SeChatStatus, serde_json::json!({"Status": "Waiting"}));
    let mut c = raw_peer([vec![0, 0, 0, 1, 0xc1], good].concat()).await;
    let err = c.recv().await.unwrap_err();
    assert!(matches!(err, ConnectionError::Frame(FrameError::Envelope(_))), "{err}");
    let again = c.recv().await.unwrap_err();
    assert!(matches!(again, ConnectionError::Closed(_)), "{again}");
    let sent =
        c.send(&Message { name: MessageName::EsChatStatus, payload: Payload::String(String::new()) }).await;
    assert!(matches!(sent, Err(ConnectionError::Closed(_))));
}

#[tokio::test]
async fn oversize_and_truncated_frames_are_errors() {
    let mut c = raw_peer(vec![0x7f, 0xff, 0xff, 0xff]).await;
    let err = c.recv().await.unwrap_err();
    assert!(matches!(err, ConnectionError::Frame(FrameError::TooLarge { .. })), "{err}");
    assert!(matches!(c.recv().await, Err(ConnectionError::Closed(_))));

    let mut c = raw_peer(vec![0, 0, 0, 10, 0x92]).await;
    let err = c.recv().await.unwrap_err();
    assert_eq!(err.to_string(), "SimProt connection: stream ended inside a frame: 5 of 14 bytes");
}

#[tokio::test]
async fn a_refused_connection_is_an_io_error() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let err = Connection::connect(addr).await.unwrap_err();
    assert!(matches!(err, ConnectionError::Io(_)), "{err}");
}

#[tokio::test]
async fn gateways_routing_literals_and_scenarios_are_served_and_forms_kept() {
    use icc_simprot::model::{
        CommandInfo, GatewayInfo, LiteralLookupInfo, ScenarioInfo, ScenarioResultInfo, WebSiteRoutingInfo,
    };
    let scenario_id = Guid::parse("2e3f4051-6273-8495-a6b7-c8d9e0f1a2b3");
    let literal = |culture: &str, value: i64| LiteralLookupInfo {
        literal_group: 3,
        literal_value: value,
        culture: Some(culture.into()),
        literal_text: Some(format!("{culture}-{value}")),
        ..Default::default()
    };
    let config = SimConfig {
        gateways: vec![GatewayInfo { display_name: Some("SMS".into()), ..Default::default() }],
        routing: vec![WebSiteRoutingInfo { web_app: Some("webchat".into()), rank: 1, ..Default::default() }],
        literals: vec![literal("cs-CZ", 1), literal("en-US", 1), literal("cs-CZ", 2)],
        scenarios: vec![ScenarioInfo {
            scenario_id: scenario_id.clone(),
            display_name: Some("Form".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let sim = SimProtSim::start(config).await.unwrap();
    let mut c = Connection::connect(sim.addr()).await.unwrap();

    send(&mut c, MessageName::EsSlGetGateways, Payload::String(PEER.into())).await;
    let Payload::GatewayInfoList(gateways) = recv(&mut c).await.payload else { panic!() };
    assert_eq!(gateways[0].display_name.as_deref(), Some("SMS"));

    send(&mut c, MessageName::EsWsRouting, Payload::String(PEER.into())).await;
    let Payload::WebSiteRoutingInfoList(routing) = recv(&mut c).await.payload else { panic!() };
    assert_eq!(routing[0].web_app.as_deref(), Some("webchat"));

    let query = LiteralLookupInfo { literal_group: 3, culture: Some("cs-CZ".into()), ..Default::default() };
    send(&mut c, MessageName::EsWsLiteralsGet, Payload::LiteralLookupInfo(Box::new(query))).await;
    let Payload::LiteralLookupInfoList(literals) = recv(&mut c).await.payload else { panic!() };
    let texts: Vec<_> = literals.iter().filter_map(|l| l.literal_text.as_deref()).collect();
    assert_eq!(texts, ["cs-CZ-1", "cs-CZ-2"]);

    let load = CommandInfo { id: scenario_id.clone(), reference: Some("cs-CZ".into()), ..Default::default() };
    send(&mut c, MessageName::EsScenarioLoad, Payload::CommandInfo(Box::new(load))).await;
    let model = recv(&mut c).await;
    assert_eq!(model.name, MessageName::SeScenarioModel);
    let Payload::ScenarioInfo(model) = model.payload else { panic!() };
    assert_eq!((model.display_name.as_deref(), model.culture.as_deref()), (Some("Form"), Some("cs-CZ")));

    let save = ScenarioResultInfo { scenario_id, activity: Some("chat".into()), ..Default::default() };
    send(&mut c, MessageName::EsScenarioSave, Payload::ScenarioResultInfo(Box::new(save.clone()))).await;
    send(&mut c, MessageName::EsWsRouting, Payload::String(PEER.into())).await;
    recv(&mut c).await; // a round trip: the save was handled before it
    assert_eq!(sim.saved_forms(), vec![save]);
}

#[tokio::test]
async fn dropping_the_simulator_closes_its_connections() {
    let sim = SimProtSim::start(SimConfig::default()).await.unwrap();
    let mut c = Connection::connect(sim.addr()).await.unwrap();
    send(&mut c, MessageName::EsWsRouting, Payload::String(PEER.into())).await;
    recv(&mut c).await; // the connection is being served
    drop(sim);
    let closed = tokio::time::timeout(Duration::from_secs(5), c.recv()).await.expect("closed within 5 s");
    assert!(matches!(closed, Ok(None)), "{closed:?}");
}
