//! The client and the callback receiver against the simulator over loopback.
#![cfg(feature = "sim")]

use std::time::Duration;

use alvaria_servermsg::channel::AlvariaChannel;
use alvaria_servermsg::client::{SessionState, TokenHost};
use alvaria_servermsg::model::{AttachmentType, Callback, Message, NewSession, WorkTypeId};
use alvaria_servermsg::sim::{AlvariaSim, Fault, PUBLIC_KEY_PEM, SimConfig, Simulator};
use alvaria_servermsg::{AlvariaClient, AlvariaConfig, AlvariaWebhook, Error};
use axum::Router;
use cc_core::conversation::StartConversation;
use cc_core::{MessagingChannel, Secret};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(5);

fn sim_config() -> SimConfig {
    SimConfig::new("acme", Secret::from("api-key-1"), "client-1", Secret::from("client-secret-1"))
}

fn client_config(sim: &AlvariaSim) -> AlvariaConfig {
    AlvariaConfig::new(
        "acme",
        Secret::from("api-key-1"),
        "client-1",
        Secret::from("client-secret-1"),
        TokenHost::Url(sim.token_url()),
    )
    .api_base(sim.base_url())
}

/// Starts a receiver for `client` and points the simulator at it.
async fn wire(sim: &AlvariaSim, client: &AlvariaClient, capacity: usize) -> mpsc::Receiver<Callback> {
    let (tx, rx) = mpsc::channel(capacity);
    let verifier = AlvariaWebhook::from_public_keys([PUBLIC_KEY_PEM]).unwrap();
    let app = Router::new().route("/alvaria", client.callback_route(verifier, tx));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    sim.set_callback_url(format!("http://{addr}/alvaria"));
    rx
}

async fn next(rx: &mut mpsc::Receiver<Callback>) -> Callback {
    tokio::time::timeout(WAIT, rx.recv()).await.expect("a callback in time").expect("receiver open")
}

async fn next_named(rx: &mut mpsc::Receiver<Callback>, name: &str) -> Callback {
    loop {
        let cb = next(rx).await;
        if cb.event_name() == name {
            return cb;
        }
    }
}

fn new_session() -> NewSession {
    NewSession {
        work_type_id: WorkTypeId::new("32"),
        contact_name: "Ada".into(),
        integration: Some("SMS".into()),
    }
}

#[tokio::test]
async fn the_whole_flow() {
    let sim = AlvariaSim::start(sim_config()).await.unwrap();
    let client = AlvariaClient::new(client_config(&sim)).unwrap();
    let mut rx = wire(&sim, &client, 64).await;

    let session = client.create_session(&new_session()).await.unwrap();
    assert_eq!(session.state(), SessionState::Provisional);
    let refused = client.send_message(&session, &Message::text("too early")).await.unwrap_err();
    assert!(matches!(refused, Error::NotConfirmed { .. }), "{refused}");
    session.wait_confirmed(WAIT).await.unwrap();
    assert_eq!(session.state(), SessionState::Active);

    let joined = next_named(&mut rx, "AGENT_JOINED").await;
    assert!(matches!(joined, Callback::AgentJoined { ref agent_alias, .. } if agent_alias == "John"));
    let Callback::Message { message, .. } = next_named(&mut rx, "MESSAGE").await else { unreachable!() };
    assert_eq!(message.text.as_deref(), Some("Hi Ada, this is John. How can I help?"));
    assert_eq!(session.agent().as_deref(), Some("John"));

    let sent = Message::text("My order is late")
        .with_attachment(AttachmentType::Image, "https://example.com/receipt.jpg");
    client.send_message(&session, &sent).await.unwrap();
    let Callback::Message { message, .. } = next_named(&mut rx, "MESSAGE").await else { unreachable!() };
    assert_eq!(message.text.as_deref(), Some("You said: My order is late"));

    sim.reroute(session.id(), "Maria");
    next_named(&mut rx, "SESSION_REROUTE").await;
    assert_eq!(session.agent().as_deref(), Some("Maria"));

    client.delete_session(&session).await.unwrap();
    assert!(matches!(
        client.send_message(&session, &Message::text("x")).await,
        Err(Error::SessionEnded { .. })
    ));
    next_named(&mut rx, "SESSION_END").await;
    assert_eq!(session.wait_ended(WAIT).await, Some(SessionState::Ended { from: None }));
    assert!(client.session(session.id()).is_none(), "ended sessions are forgotten");
    assert_eq!(sim.stats().messages, vec!["My order is late".to_string()]);
    assert_eq!(sim.stats().tokens_issued, 1);
}

#[tokio::test]
async fn redelivered_callbacks_reach_the_handler_once() {
    let mut config = sim_config();
    config.duplicate_deliveries = true;
    let sim = AlvariaSim::start(config).await.unwrap();
    let client = AlvariaClient::new(client_config(&sim)).unwrap();
    let mut rx = wire(&sim, &client, 64).await;
    let session = client.create_session(&new_session()).await.unwrap();
    session.wait_confirmed(WAIT).await.unwrap();
    client.delete_session(&session).await.unwrap();
    next_named(&mut rx, "SESSION_END").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut seen = std::collections::HashSet::new();
    while let Ok(cb) = rx.try_recv() {
        assert!(seen.insert(cb.event_id()), "duplicate delivered: {cb:?}");
    }
    assert!(sim.stats().callback_posts >= 8, "each of 4+ callbacks was posted twice: {:?}", sim.stats());
}

#[tokio::test]
async fn a_refused_callback_is_redelivered_until_accepted() {
    let sim = AlvariaSim::start(sim_config()).await.unwrap();
    let client = AlvariaClient::new(client_config(&sim)).unwrap();
    let mut rx = wire(&sim, &client, 1).await;
    let session = client.create_session(&new_session()).await.unwrap();
    session.wait_confirmed(WAIT).await.unwrap();
    // The queue holds one callback; the next ones are refused with 503 until we read.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut names = Vec::new();
    while names.len() < 3 {
        names.push(next(&mut rx).await.event_name().to_owned());
    }
    assert_eq!(names, ["NEW_SESSION", "AGENT_JOINED", "MESSAGE"]);
    assert!(sim.stats().callback_posts > 3, "refused callbacks were posted again: {:?}", sim.stats());
}

#[tokio::test]
async fn sessions_past_their_lifetime_are_refused_locally_and_ended_by_alvaria() {
    let mut config = sim_config();
    config.session_lifetime = Duration::from_millis(400);
    let sim = AlvariaSim::start(config).await.unwrap();
    let mut local = client_config(&sim);
    local.session_lifetime = Duration::from_millis(300);
    let client = AlvariaClient::new(local).unwrap();
    let mut rx = wire(&sim, &client, 64).await;
    let session = client.create_session(&new_session()).await.unwrap();
    session.wait_confirmed(WAIT).await.unwrap();
    tokio::time::sleep(Duration::from_millis(320)).await;
    let err = client.send_message(&session, &Message::text("late")).await.unwrap_err();
    assert!(matches!(err, Error::SessionExpired { .. }), "{err}");
    assert!(sim.stats().messages.is_empty(), "refused locally, nothing sent");
    let Callback::SessionEnd { from, .. } = next_named(&mut rx, "SESSION_END").await else { unreachable!() };
    assert_eq!(from.as_deref(), Some("SYSTEM"));
}

#[tokio::test]
async fn a_message_to_a_dead_session_is_reported_against_its_id() {
    let sim = AlvariaSim::start(sim_config()).await.unwrap();
    let client = AlvariaClient::new(client_config(&sim)).unwrap();
    let mut rx = wire(&sim, &client, 64).await;
    let session = client.create_session(&new_session()).await.unwrap();
    session.wait_confirmed(WAIT).await.unwrap();
    sim.end_silently(session.id());
    let message_id = client.send_message(&session, &Message::text("anyone?")).await.unwrap();
    next_named(&mut rx, "MESSAGE_STATUS").await;
    let failure = session.message_failure(&message_id).expect("reported");
    assert_eq!(failure.status_message.as_deref(), Some("Session does not exist"));
}

#[tokio::test]
async fn a_failed_new_session_surfaces_its_status_message() {
    let sim = AlvariaSim::start(sim_config()).await.unwrap();
    let client = AlvariaClient::new(client_config(&sim)).unwrap();
    let _rx = wire(&sim, &client, 64).await;
    let bad = NewSession { work_type_id: WorkTypeId::new("0"), ..new_session() };
    let session = client.create_session(&bad).await.unwrap();
    let err = session.wait_confirmed(WAIT).await.unwrap_err();
    assert!(
        matches!(&err, Error::SessionFailed { status_message: Some(m), .. } if m == "Invalid work type"),
        "{err}"
    );
    assert!(err.to_string().contains("Invalid work type"));
}

#[tokio::test]
async fn an_expired_token_is_replaced_once() {
    let sim = AlvariaSim::start(sim_config()).await.unwrap();
    let client = AlvariaClient::new(client_config(&sim)).unwrap();
    let _rx = wire(&sim, &client, 64).await;
    let session = client.create_session(&new_session()).await.unwrap();
    session.wait_confirmed(WAIT).await.unwrap();
    sim.expire_tokens();
    client.send_message(&session, &Message::text("after expiry")).await.unwrap();
    assert_eq!(sim.stats().tokens_issued, 2);
    assert_eq!(sim.stats().messages, vec!["after expiry".to_string()]);
}

#[tokio::test]
async fn faults_are_retried_without_sending_a_message_twice() {
    let sim = AlvariaSim::start(sim_config()).await.unwrap();
    let client = AlvariaClient::new(client_config(&sim)).unwrap();
    let _rx = wire(&sim, &client, 64).await;
    let session = client.create_session(&new_session()).await.unwrap();
    session.wait_confirmed(WAIT).await.unwrap();

    // 429 with Retry-After: retried, delivered once.
    sim.inject(Fault::Status { status: 429, retry_after: Some(0) });
    client.send_message(&session, &Message::text("one")).await.unwrap();
    // 500: the message may have been processed, so it is not repeated; the error says why.
    sim.inject(Fault::Status { status: 500, retry_after: None });
    let err = client.send_message(&session, &Message::text("two")).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    let details = err.vendor_errors();
    assert_eq!(details[0].reason.as_deref(), Some("injected"));
    assert_eq!(err.error_response().unwrap().code, Some(500));
    // A connection broken after the server processed the message: not repeated either.
    sim.inject(Fault::Reset);
    assert!(client.send_message(&session, &Message::text("three")).await.is_err());
    assert_eq!(sim.stats().messages, vec!["one".to_string(), "three".to_string()]);
    // A slow answer is waited for.
    sim.inject(Fault::Delay(Duration::from_millis(100)));
    client.send_message(&session, &Message::text("four")).await.unwrap();
    // Deleting is idempotent: a 503 is retried.
    sim.inject(Fault::Status { status: 503, retry_after: None });
    client.delete_session(&session).await.unwrap();
}

#[tokio::test]
async fn the_messaging_channel_drives_a_session() {
    let sim = AlvariaSim::start(sim_config()).await.unwrap();
    let client = AlvariaClient::new(client_config(&sim)).unwrap();
    let mut rx = wire(&sim, &client, 64).await;
    let channel: Box<dyn MessagingChannel> = Box::new(AlvariaChannel::new(client.clone(), "32"));
    let started = channel.start(StartConversation::new().customer_name("Grace")).await.unwrap();
    assert!(channel.send_text(&started.id, "hello").await.unwrap().is_some());
    channel.typing(&started.id, true).await.unwrap();
    channel.end(&started.id).await.unwrap();
    next_named(&mut rx, "SESSION_END").await;
    let err = channel.send_text(&started.id, "gone").await.unwrap_err();
    assert_eq!(err.kind, cc_core::ChannelErrorKind::ConversationClosed);
}

/// The fault matrix of docs/reliability.md: sending (POST, not idempotent) and ending (DELETE,
/// idempotent) under 429, 503, reset, read timeout and an expired token.
#[tokio::test]
async fn fault_matrix() {
    let sim = AlvariaSim::start(sim_config()).await.unwrap();
    let mut config = client_config(&sim);
    config.retry = cc_core::http::RetryPolicy { base_delay: Duration::from_millis(5), ..Default::default() };
    config.attempt_timeout = Duration::from_millis(200);
    let client = AlvariaClient::new(config).unwrap();
    // Not read: room for every callback of the test, so none is refused and redelivered.
    let _rx = wire(&sim, &client, 4096).await;
    let confirmed = || async {
        let session = client.create_session(&new_session()).await.unwrap();
        session.wait_confirmed(WAIT).await.unwrap();
        session
    };
    let session = confirmed().await;
    let send = |text: &'static str| {
        let (client, session) = (&client, &session);
        async move { client.send_message(session, &Message::text(text)).await }
    };
    let timeout = Fault::Delay(Duration::from_millis(400));

    sim.inject(Fault::Status { status: 429, retry_after: Some(0) });
    send("after 429").await.unwrap();
    sim.inject(Fault::Status { status: 503, retry_after: None });
    assert_eq!(send("after 503").await.unwrap_err().status(), Some(503));
    sim.inject(Fault::Reset);
    assert!(send("reset").await.unwrap_err().status().is_none());
    sim.inject(timeout);
    assert!(send("slow").await.is_err());
    let tokens = sim.stats().tokens_issued;
    sim.expire_tokens();
    send("after 401").await.unwrap();
    assert_eq!(sim.stats().tokens_issued, tokens + 1, "one new token");

    for fault in Fault::survivable(Duration::from_millis(400)) {
        let session = confirmed().await;
        sim.inject(fault.clone());
        client.delete_session(&session).await.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
    }
    // A send that timed out may or may not have been processed (the simulator drops it with the
    // connection); either way nothing is sent twice and the 503 was not repeated.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages: Vec<_> = sim.stats().messages.into_iter().filter(|m| m != "slow").collect();
    assert_eq!(messages, ["after 429", "reset", "after 401"], "nothing sent twice");
}

/// NEW_SESSION may reach the callback route before the create call has answered (the fault
/// matrix met it): the callback is kept and applied when the session is registered.
#[tokio::test]
async fn a_new_session_callback_that_overtakes_the_create_answer_still_confirms() {
    use alvaria_servermsg::model::{EventId, SessionId, Status};
    use axum::routing::post;

    // A stub that answers the token and the create call only; ids are fixed.
    let app = Router::new()
        .route(
            "/token",
            post(|| async { axum::Json(serde_json::json!({"access_token": "t", "expires_in": 3600})) }),
        )
        .route(
            "/via/v2/organizations/acme/serverMessaging/session",
            post(|| async {
                (axum::http::StatusCode::ACCEPTED, axum::Json(serde_json::json!({"sessionId": "S-1"})))
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = AlvariaConfig::new(
        "acme",
        Secret::from("k"),
        "c",
        Secret::from("s"),
        TokenHost::Url(format!("http://{addr}/token")),
    )
    .api_base(format!("http://{addr}"));
    let client = AlvariaClient::new(config).unwrap();

    client.observe(&Callback::NewSession {
        session_id: SessionId::new("S-1"),
        status: Status::Success,
        status_message: None,
        event_id: EventId::new("e-1"),
    });
    // A callback for a session nobody creates is kept but changes nothing.
    client.observe(&Callback::NewSession {
        session_id: SessionId::new("S-other"),
        status: Status::Success,
        status_message: None,
        event_id: EventId::new("e-2"),
    });
    let session = client.create_session(&new_session()).await.unwrap();
    assert_eq!(session.state(), SessionState::Active);
    session.wait_confirmed(Duration::from_millis(10)).await.unwrap();
}

#[cfg(feature = "store")]
#[tokio::test]
async fn a_restarted_client_re_adopts_live_sessions_from_the_store() {
    use std::sync::Arc;

    use cc_core::inbox::{InboxConfig, SqliteInbox, StateStore};
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("alvaria-store-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.db");
    let open =
        || -> Arc<dyn StateStore> { Arc::new(SqliteInbox::open(&path, InboxConfig::default()).unwrap()) };
    let sim = AlvariaSim::start(sim_config()).await.unwrap();

    let id = {
        let client = AlvariaClient::new(client_config(&sim)).unwrap().with_store(open()).await.unwrap();
        let mut rx = wire(&sim, &client, 64).await;
        let session = client.create_session(&new_session()).await.unwrap();
        session.wait_confirmed(WAIT).await.unwrap();
        next_named(&mut rx, "AGENT_JOINED").await;
        assert_eq!(session.agent().as_deref(), Some("John"));
        session.id().clone()
    };

    // A new process: a new client on the same file.
    let store = open();
    let client = AlvariaClient::new(client_config(&sim)).unwrap().with_store(store.clone()).await.unwrap();
    let session = client.session(&id).expect("re-adopted");
    assert_eq!(session.state(), SessionState::Active);
    assert_eq!(session.agent().as_deref(), Some("John"));
    let mut rx = wire(&sim, &client, 64).await;
    client.send_message(&session, &Message::text("still there?")).await.unwrap();
    sim.reroute(&id, "Maria");
    next_named(&mut rx, "SESSION_REROUTE").await;
    assert_eq!(session.agent().as_deref(), Some("Maria"), "callbacks apply to the re-adopted session");
    client.delete_session(&session).await.unwrap();
    next_named(&mut rx, "SESSION_END").await;
    assert!(client.session(&id).is_none());
    assert!(store.scan("alvaria.sessions").await.unwrap().is_empty(), "an ended session leaves the store");
    let _ = std::fs::remove_dir_all(dir);
}
