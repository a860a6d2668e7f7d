//! An external app and an agent client chatting through the simulator, end to end, over
//! loopback: alert, answer, sentences both ways with echoes, confirm, typing, a dropped
//! connection with both sides resynchronising, hang-up.

use std::time::Duration;

use icc_simprot::agent::AgentClient;
use icc_simprot::catalogue::{Message, MessageName, Payload};
use icc_simprot::client::{SimProtConfig, SimProtEvent};
use icc_simprot::external::ExternalApp;
use icc_simprot::model::{ChatSentenceInfo, ChatServiceInfo, Guid, Status};
use icc_simprot::sim::{SimConfig, SimProtSim};
use tokio::sync::mpsc::Receiver;

use super::next;

/// The next server message, skipping nothing.
async fn next_message(events: &mut Receiver<SimProtEvent>) -> Message {
    match next(events).await {
        SimProtEvent::Message(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn status(message: &Message) -> (MessageName, Option<Status>, usize) {
    let Payload::ChatStatusInfo(s) = &message.payload else { panic!("{message:?}") };
    (message.name.clone(), s.status.clone(), s.sentences.as_ref().map_or(0, Vec::len))
}

#[tokio::test]
async fn an_app_and_an_agent_chat_through_the_simulator() {
    let sim = SimProtSim::start(SimConfig::default()).await.unwrap();
    let config = |peer: &str| {
        let mut c = SimProtConfig::new(sim.addr().to_string(), peer);
        c.reconnect_initial = Duration::from_millis(100);
        c
    };
    let agent_id = Guid::parse("0b5d9b2a-1c3e-4f60-8a7b-9c0d1e2f3a4b").unwrap();
    let (agent, mut agent_events) = AgentClient::connect(config("101"), agent_id.clone()).await.unwrap();
    let SimProtEvent::Resynced { chats, .. } = next(&mut agent_events).await else {
        panic!("the agent's first resync")
    };
    assert!(chats.is_empty());
    let (app, mut app_events) = ExternalApp::connect(config("10.0.0.5")).await.unwrap();

    // Start: the app waits, the agent is alerted and answers.
    let start = ChatServiceInfo {
        tracking_id: Some("t-1".into()),
        party_name: Some("Jana".into()),
        ..Default::default()
    };
    app.send(Message { name: MessageName::EsChatStart, payload: Payload::ChatServiceInfo(Box::new(start)) })
        .await
        .unwrap();
    assert_eq!(
        status(&next_message(&mut app_events).await),
        (MessageName::SeChatStatus, Some(Status::Waiting), 0)
    );
    let alert = next_message(&mut agent_events).await;
    assert_eq!(alert.name, MessageName::ScChatAlert);
    let Payload::ChatStatusInfo(alert) = alert.payload else { panic!() };
    assert_eq!(alert.info.as_ref().and_then(|i| i.remote_party_name.as_deref()), Some("Jana"));
    let chat_id = alert.chat_id.clone().unwrap();
    agent.answer(&chat_id).await.unwrap();
    assert_eq!(
        status(&next_message(&mut agent_events).await),
        (MessageName::ScChatStatus, Some(Status::Answered), 0)
    );
    assert_eq!(
        status(&next_message(&mut app_events).await),
        (MessageName::SeChatStatus, Some(Status::Answered), 0)
    );

    // The customer writes; the agent sees it and confirms; the app gets the confirmation.
    let hi = ChatSentenceInfo {
        tracking_id: Some("t-1".into()),
        id: Some("c-1".into()),
        text: Some("Hi".into()),
        ..Default::default()
    };
    assert_eq!(app.send_sentence(hi).await.unwrap().counter, 1);
    let seen = next_message(&mut agent_events).await;
    let Payload::ChatSentenceInfo(seen) = seen.payload else { panic!() };
    assert_eq!((seen.text.as_deref(), seen.is_outbound), (Some("Hi"), false));
    agent.confirm(&chat_id, "c-1").await.unwrap();
    let confirm = next_message(&mut app_events).await;
    assert_eq!(confirm.name, MessageName::SeChatConfirm);

    // The agent types and answers; the echo comes back, the app gets the sentence.
    agent.typing(&chat_id, true).await.unwrap();
    assert_eq!(next_message(&mut app_events).await.name, MessageName::SeChatTyping);
    let hello = ChatSentenceInfo {
        chat_id: Some(chat_id.clone()),
        id: Some("a-1".into()),
        text: Some("Hello".into()),
        ..Default::default()
    };
    let echo = agent.send_sentence(hello).await.unwrap();
    assert_eq!((echo.counter, echo.is_outbound), (2, true));
    let to_app = next_message(&mut app_events).await;
    let Payload::ChatSentenceInfo(to_app) = to_app.payload else { panic!() };
    assert_eq!(
        (to_app.text.as_deref(), to_app.is_outbound, to_app.tracking_id.as_deref()),
        (Some("Hello"), true, Some("t-1"))
    );

    // Both connections drop; both sides come back and find the chat.
    sim.drop_connections();
    for events in [&mut agent_events, &mut app_events] {
        assert!(matches!(next(events).await, SimProtEvent::Disconnected(_)));
        let SimProtEvent::Resynced { chats, changed, ended } = next(events).await else { panic!("resync") };
        assert_eq!(chats.len(), 1, "{chats:?}");
        assert!(changed.is_empty() && ended.is_empty(), "{changed:?} {ended:?}");
    }

    // The agent hangs up: it gets the closed chat with both sentences, the app the end.
    agent.hangup(&chat_id).await.unwrap();
    assert_eq!(
        status(&next_message(&mut agent_events).await),
        (MessageName::ScChatStatus, Some(Status::Closed), 2)
    );
    let closed = next(&mut app_events).await;
    let neutral = icc_simprot::channel::conversation_events(&closed);
    assert!(neutral.first().is_some_and(|e| e.is_end()), "{closed:?}");
    let missing =
        agent.send_sentence(ChatSentenceInfo { id: Some("a-2".into()), ..Default::default() }).await;
    assert_eq!(missing.unwrap_err().to_string(), "not sent: ChatId");
}
