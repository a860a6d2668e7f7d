//! The external chat application against the simulator over loopback: request cache, echo
//! wait, retry without duplicates, reconnect and resync.

use std::time::Duration;

use icc_simprot::Error;
use icc_simprot::catalogue::{Message, MessageName, Payload};
use icc_simprot::client::{SimProtConfig, SimProtEvent};
use icc_simprot::connection::Connection;
use icc_simprot::external::ExternalApp;
use icc_simprot::model::{
    ChatCommandInfo, ChatSentenceInfo, ChatServiceInfo, Guid, MessageContentInfo, Signal, Status,
};
use icc_simprot::sim::{SimConfig, SimProtSim};
use tokio::sync::mpsc::Receiver;

use super::next;

const PEER: &str = "10.0.0.5";

async fn setup(tweak: impl FnOnce(&mut SimProtConfig)) -> (SimProtSim, ExternalApp, Receiver<SimProtEvent>) {
    setup_with(SimConfig::default(), tweak).await
}

async fn setup_with(
    sim: SimConfig,
    tweak: impl FnOnce(&mut SimProtConfig),
) -> (SimProtSim, ExternalApp, Receiver<SimProtEvent>) {
    let sim = SimProtSim::start(sim).await.unwrap();
    let mut config = SimProtConfig::new(sim.addr().to_string(), PEER);
    tweak(&mut config);
    let (app, events) = ExternalApp::connect(config).await.unwrap();
    (sim, app, events)
}

fn start(tracking_id: &str) -> Message {
    // No Peer: `send` fills in the configured gateway, which the resync list is filtered by.
    let info = ChatServiceInfo { tracking_id: Some(tracking_id.into()), ..Default::default() };
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
async fn started(app: &ExternalApp, events: &mut Receiver<SimProtEvent>, tracking_id: &str) -> String {
    app.send(start(tracking_id)).await.unwrap();
    let mut chat_id = String::new();
    for expected in [Status::Waiting, Status::Answered] {
        let SimProtEvent::Message(Message { payload: Payload::ChatStatusInfo(s), .. }) = next(events).await
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
    assert!(matches!(next(&mut events).await, SimProtEvent::Disconnected(_)));
    let cached =
        app.request_chat(ChatServiceInfo { tracking_id: Some("t-2".into()), ..request.clone() }).await;
    assert_eq!(
        cached.unwrap().tracking_id.as_deref(),
        Some("t-2"),
        "served from the cache while disconnected"
    );
    let other = ChatServiceInfo { user_token: Some("vip".into()), ..request };
    assert!(
        matches!(app.request_chat(other).await, Err(Error::Disconnected(_))),
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
        let SimProtEvent::Message(m) = next(&mut events).await else { panic!() };
        seen.push(m.name);
    }
    assert_eq!(seen, [MessageName::SeChatConfirm, MessageName::SeChatSentence]);
    let huge = ChatSentenceInfo { text: Some("x".repeat(5 * 1024 * 1024)), ..sentence("t-1", "m-2") };
    let err = app.send_sentence(huge).await.unwrap_err();
    assert!(matches!(err, Error::NotEncodable(_)), "{err}");
    assert_eq!(app.send_sentence(sentence("t-1", "m-3")).await.unwrap().counter, 3, "still connected");
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
    assert!(matches!(err, Error::NoEcho { ref id, .. } if id == "m-1"), "{err}");
    let echo = app.send_sentence(sentence("t-1", "m-1")).await.unwrap();
    assert_eq!(echo.counter, 1, "the lost attempt left nothing behind");
    let SimProtEvent::Message(confirm) = next(&mut events).await else { panic!() };
    assert_eq!(confirm.name, MessageName::SeChatConfirm);
    let SimProtEvent::Message(reply) = next(&mut events).await else { panic!() };
    let Payload::ChatSentenceInfo(reply) = reply.payload else { panic!() };
    assert!(reply.is_outbound, "the agent's reply, not a second echo");
}

#[tokio::test]
async fn after_a_drop_it_reconnects_and_reports_what_changed() {
    let (sim, app, mut events) = setup(|c| c.reconnect_initial = Duration::from_millis(1000)).await;
    let kept = started(&app, &mut events, "t-1").await;
    let closed = started(&app, &mut events, "t-2").await;

    sim.drop_connections();
    assert!(matches!(next(&mut events).await, SimProtEvent::Disconnected(_)));
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
    assert!(matches!(sent, Err(Error::Disconnected(_))), "calls fail fast while away: {sent:?}");

    let SimProtEvent::Resynced { chats, changed, ended } = next(&mut events).await else {
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

fn inbound(request_id: Option<&str>) -> MessageContentInfo {
    MessageContentInfo {
        gateway_id: Guid::parse("a6b7c8d9-e0f1-a2b3-c4d5-e6f708192a3b"),
        request_id: request_id.map(str::to_owned),
        delivery_system_id: Some("<abc@mail.example.com>".into()),
        remote_address: Some("jana@example.com".into()),
        from_field: Some("jana@example.com".into()),
        subject_field: Some("Order".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_inbound_message_waits_for_its_acknowledgement() {
    let (_sim, app, _events) = setup(|_| {}).await;
    let ack = app.receive_message(inbound(Some("r-1"))).await.unwrap();
    assert_eq!((ack.reference.as_deref(), ack.processed()), (Some("r-1"), Some(true)));
    assert_eq!(ack.ref_id, inbound(None).gateway_id);
    assert_eq!(app.receive_message(inbound(None)).await.unwrap_err().to_string(), "not sent: RequestId");
    let anonymous = MessageContentInfo { delivery_system_id: None, ..inbound(Some("r-9")) };
    assert_eq!(app.receive_message(anonymous).await.unwrap_err().to_string(), "not sent: DeliverySystemId");
    let long = MessageContentInfo { subject_field: Some("s".repeat(321)), ..inbound(Some("r-2")) };
    assert_eq!(
        app.receive_message(long).await.unwrap_err().to_string(),
        "not sent: SubjectField is 321 characters; at most 320"
    );

    let (_sim, app, _events) =
        setup_with(SimConfig { inbound_processed: false, ..Default::default() }, |_| {}).await;
    let err = app.receive_message(inbound(Some("r-3"))).await.unwrap_err();
    assert!(matches!(err, Error::NotProcessed { ref request_id } if request_id == "r-3"), "{err}");
}

fn outbound() -> MessageContentInfo {
    MessageContentInfo {
        message_id: Guid::parse("0819a2b3-c4d5-e6f7-0819-2a3b4c5d6e7f"),
        gateway_id: Guid::parse("a6b7c8d9-e0f1-a2b3-c4d5-e6f708192a3b"),
        to_field: Some("+420777000111".into()),
        body_text: Some("Your order ships today.".into()),
        ..Default::default()
    }
}

/// A round trip on the same connection (never cached): everything sent before it has been
/// handled.
async fn barrier(app: &ExternalApp) {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let id = format!("barrier-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    app.receive_message(inbound(Some(&id))).await.unwrap();
}

#[tokio::test]
async fn an_outbound_message_is_answered_once_mirroring_its_ids() {
    let (sim, app, mut events) = setup(|_| {}).await;
    barrier(&app).await; // the simulator has accepted the connection
    assert_eq!(sim.send_outbound(outbound()), 1);
    let SimProtEvent::Sending(message) = next(&mut events).await else {
        panic!("expected SE_MESSAGE_SENDING")
    };
    assert_eq!(message.content.body_text.as_deref(), Some("Your order ships today."));
    message.sent(Some("sms-1".into())).await.unwrap();
    barrier(&app).await;
    let answers = sim.sent_answers();
    assert_eq!(answers.len(), 1);
    assert_eq!(
        (answers[0].id.clone(), answers[0].ref_id.clone()),
        (outbound().message_id, outbound().gateway_id)
    );
    assert_eq!((answers[0].reference.as_deref(), answers[0].data.as_deref()), (Some("sms-1"), None));
}

#[tokio::test]
async fn a_late_outbound_answer_is_not_sent() {
    let (sim, app, mut events) = setup(|c| c.sent_limit = Duration::from_millis(50)).await;
    barrier(&app).await;
    assert_eq!(sim.send_outbound(outbound()), 1);
    let SimProtEvent::Sending(message) = next(&mut events).await else {
        panic!("expected SE_MESSAGE_SENDING")
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = message.failed("gateway down").await.unwrap_err();
    assert!(matches!(err, Error::TooLate { .. }), "{err}");
    barrier(&app).await;
    assert!(sim.sent_answers().is_empty());
}

#[tokio::test]
async fn as_a_messaging_channel_with_neutral_events() {
    use cc_core::conversation::{ConversationEvent, MessagingChannel, ReceiptKind, Role, StartConversation};
    use icc_simprot::channel::conversation_events;

    let (_sim, app, mut events) = setup(|_| {}).await;
    let channel: &dyn MessagingChannel = &app;
    let started =
        channel.start(StartConversation::new().customer_name("Jana").attribute("TrackingId", "t-n")).await;
    let conversation = started.unwrap().id;
    assert_eq!(conversation.as_str(), "t-n");
    let mut neutral = Vec::new();
    let mut collect = async |n: usize, neutral: &mut Vec<ConversationEvent>| {
        while neutral.len() < n {
            neutral.extend(conversation_events(&next(&mut events).await));
        }
    };
    collect(2, &mut neutral).await;
    assert!(matches!(&neutral[0], ConversationEvent::Started { conversation: c, .. } if c == &conversation));
    assert!(
        matches!(&neutral[1], ConversationEvent::AgentJoined { agent, .. } if agent.name.as_deref() == Some("Sim Agent"))
    );

    let id = channel.send_text(&conversation, "Hello").await.unwrap().expect("our sentence ID");
    channel.typing(&conversation, true).await.unwrap();
    collect(4, &mut neutral).await;
    assert!(
        matches!(&neutral[2], ConversationEvent::Receipt { kind: ReceiptKind::Delivered, messages, .. } if messages == &vec![id])
    );
    let ConversationEvent::Message { message, .. } = &neutral[3] else { panic!("{:?}", neutral[3]) };
    assert_eq!(
        (message.sender.role.clone(), message.text.as_deref()),
        (Role::Agent, Some("You wrote: Hello"))
    );

    channel.end(&conversation).await.unwrap();
    collect(5, &mut neutral).await;
    assert!(neutral[4].is_end(), "{:?}", neutral[4]);
    let too_long = StartConversation::new().customer_email("x".repeat(251)).attribute("TrackingId", "t-x");
    let err = channel.start(too_long).await.unwrap_err();
    assert_eq!(err.kind, cc_core::ChannelErrorKind::InvalidInput, "{err}");
}

#[tokio::test]
async fn gateways_routing_literals_and_scenarios_are_asked_and_awaited() {
    use icc_simprot::model::{GatewayInfo, LiteralLookupInfo, ScenarioInfo, WebSiteRoutingInfo};
    let scenario_id = Guid::parse("2e3f4051-6273-8495-a6b7-c8d9e0f1a2b3").unwrap();
    let config = SimConfig {
        gateways: vec![GatewayInfo { display_name: Some("SMS".into()), ..Default::default() }],
        routing: vec![WebSiteRoutingInfo { web_app: Some("webchat".into()), ..Default::default() }],
        literals: vec![
            LiteralLookupInfo { literal_group: 3, culture: Some("cs-CZ".into()), ..Default::default() },
            LiteralLookupInfo { literal_group: 4, culture: Some("cs-CZ".into()), ..Default::default() },
        ],
        scenarios: vec![ScenarioInfo { scenario_id: Some(scenario_id.clone()), ..Default::default() }],
        ..Default::default()
    };
    let (_sim, app, _events) = setup_with(config, |c| c.response_timeout = Duration::from_millis(300)).await;
    let (gateways, routing, literals) =
        tokio::join!(app.gateways(), app.routing(), app.literals(3, Some("cs-CZ".into())));
    assert_eq!(gateways.unwrap()[0].display_name.as_deref(), Some("SMS"));
    assert_eq!(routing.unwrap()[0].web_app.as_deref(), Some("webchat"));
    assert_eq!(literals.unwrap().len(), 1);
    let scenario = app.scenario(scenario_id, Some("en-US".into())).await.unwrap();
    assert_eq!(scenario.culture.as_deref(), Some("en-US"));
    let unknown = Guid::parse("00000000-0000-4000-8000-000000000bad").unwrap();
    let err = app.scenario(unknown, None).await.unwrap_err();
    assert!(matches!(err, Error::NoReply(ref what, _) if what == "SE_SCENARIO_MODEL"), "{err}");
}

#[tokio::test]
async fn a_garbage_frame_from_the_server_drops_the_connection_and_the_app_comes_back() {
    let (sim, app, mut events) = setup(|c| c.reconnect_initial = Duration::from_millis(50)).await;
    started(&app, &mut events, "t-1").await;
    assert_eq!(sim.send_garbage(), 1);
    let SimProtEvent::Disconnected(why) = next(&mut events).await else { panic!("expected the drop") };
    assert!(why.contains("not a MessagePack [name, payload] array"), "{why}");
    let SimProtEvent::Resynced { chats, .. } = next(&mut events).await else { panic!("expected the resync") };
    assert_eq!(chats.len(), 1);
    assert_eq!(app.send_sentence(sentence("t-1", "m-1")).await.unwrap().counter, 1);
}

/// The next agent sentence (SE_CHAT_SENTENCE, outbound) among the events.
async fn agent_sentence(events: &mut Receiver<SimProtEvent>) -> ChatSentenceInfo {
    loop {
        if let SimProtEvent::Message(Message {
            name: MessageName::SeChatSentence,
            payload: Payload::ChatSentenceInfo(s),
        }) = next(events).await
            && s.is_outbound
        {
            return *s;
        }
    }
}

#[tokio::test]
async fn agent_sentences_are_confirmed_once_handed_on_or_when_told() {
    use icc_simprot::client::Confirm;
    let (sim, app, mut events) = setup(|_| {}).await;
    started(&app, &mut events, "t-1").await;
    app.send_sentence(sentence("t-1", "m-1")).await.unwrap();
    let agent = agent_sentence(&mut events).await;
    barrier(&app).await;
    assert_eq!(sim.confirmed(), vec![agent.id.clone().expect("the agent's sentence has an ID")]);

    let (sim, app, mut events) = setup(|c| c.confirm = Confirm::Manual).await;
    started(&app, &mut events, "t-2").await;
    app.send_sentence(sentence("t-2", "m-1")).await.unwrap();
    let agent = agent_sentence(&mut events).await;
    barrier(&app).await;
    assert!(sim.confirmed().is_empty(), "manual: nothing confirmed by itself");
    app.confirm(&agent).await.unwrap();
    barrier(&app).await;
    assert_eq!(sim.confirmed(), vec![agent.id.clone().unwrap()]);
    assert!(matches!(app.confirm(&ChatSentenceInfo::default()).await, Err(Error::Missing("ID"))));
}

#[tokio::test]
async fn form_data_is_saved_typed_and_checked_first() {
    use icc_simprot::model::{ScenarioResultInfo, ScenarioResultValueInfo};
    let (sim, app, _events) = setup(|_| {}).await;
    let scenario = Guid::parse("2e3f4051-6273-8495-a6b7-c8d9e0f1a2b3").unwrap();
    let value = ScenarioResultValueInfo { result_text: Some("Prague".into()), ..Default::default() };
    let save = ScenarioResultInfo {
        scenario_id: Some(scenario.clone()),
        values: Some(vec![value.clone()]),
        ..Default::default()
    };
    app.save_scenario(save.clone()).await.unwrap();
    barrier(&app).await;
    assert_eq!(sim.saved_forms(), vec![save]);
    let no_scenario = ScenarioResultInfo { values: Some(vec![value]), ..Default::default() };
    assert!(matches!(app.save_scenario(no_scenario).await, Err(Error::Missing("ScenarioId"))));
    let no_values = ScenarioResultInfo { scenario_id: Some(scenario), ..Default::default() };
    assert!(matches!(app.save_scenario(no_values).await, Err(Error::Missing("Values"))));
    barrier(&app).await;
    assert_eq!(sim.saved_forms().len(), 1, "the refused ones were not sent");
}
