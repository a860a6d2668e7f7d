//! The notification WebSocket against the simulator over loopback: Welcome, typed messages,
//! keepalives (also under a slow consumer), lost connections (drop, silence) and reconnects
//! with a fresh subscribe, multi-login, give-up, refused subscribes, expired tokens.
//! Timings are shortened on both sides; the rules are the defaults'.

mod common;

use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use wxcc_api::model::notification::MessageType;
use wxcc_api::notification::{Notice, NotificationConfig, Notifications, Subscribe};
use wxcc_api::sim::socket::{AGENT_ID, sample_message};
use wxcc_api::sim::{Fault, SimConfig, Simulator as _, WxccSim};
use wxcc_api::{Error, WxccClient};

fn sim_config() -> SimConfig {
    let mut config = SimConfig::demo();
    config.tasks = 30;
    config.activities = 10;
    config.socket_keepalive_interval = Duration::from_millis(50);
    config
}

fn quick() -> NotificationConfig {
    NotificationConfig {
        keepalive_interval: Some(Duration::from_millis(50)),
        silence_timeout: Duration::from_millis(500),
        reconnect_interval: Duration::from_millis(100),
        give_up_after: Duration::from_millis(1_500),
        welcome_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
        ..NotificationConfig::default()
    }
}

/// The next item; a hang guard, not a timing assertion.
async fn next(stream: &mut Notifications) -> Option<Result<Notice, Error>> {
    tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("an item within 10 s")
}

async fn connected(stream: &mut Notifications) -> (String, bool) {
    match next(stream).await {
        Some(Ok(Notice::Connected { agent_id, subscription_id, reconnected })) => {
            assert_eq!(agent_id.as_deref(), Some(AGENT_ID));
            (subscription_id, reconnected)
        }
        other => panic!("expected Connected, got {other:?}"),
    }
}

async fn lost(stream: &mut Notifications) -> String {
    match next(stream).await {
        Some(Ok(Notice::Lost { cause })) => cause,
        other => panic!("expected Lost, got {other:?}"),
    }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn setup() -> (WxccSim, WxccClient) {
    common::setup(sim_config()).await
}

#[tokio::test]
async fn welcome_typed_messages_unreadable_frames_and_keepalives() {
    let (sim, client) = setup().await;
    let mut stream = client.notifications(Subscribe::notification().client_type("AgentDesktop"), quick());
    let (subscription, reconnected) = connected(&mut stream).await;
    assert!(subscription.starts_with("AgentDesktop-"), "{subscription}");
    assert!(!reconnected);

    let org = sim.config().org_id.clone();
    assert_eq!(sim.notify(&sample_message(&MessageType::AgentOfferContact, &org, "task-1")), 1);
    match next(&mut stream).await {
        Some(Ok(Notice::Message(m))) => {
            assert_eq!(m.kind, MessageType::RoutingMessage);
            assert_eq!(m.data_type(), Some(MessageType::AgentOfferContact));
            assert_eq!(m.interaction_id().map(|t| t.to_string()).as_deref(), Some("task-1"));
            assert_eq!(m.org_id.as_deref(), Some(org.as_str()));
        }
        other => panic!("expected a message, got {other:?}"),
    }
    // A frame that is not a message does not end the connection.
    sim.notify(&json!(["not", "a", "message"]));
    sim.notify(&json!({"type": "AgentStateChange", "data": {"type": "AgentStateChangeSuccess"}}));
    match next(&mut stream).await {
        Some(Ok(Notice::Unreadable { text, error })) => {
            assert_eq!(text, r#"["not","a","message"]"#);
            assert!(error.contains("expected struct Message"), "{error}");
        }
        other => panic!("expected Unreadable, got {other:?}"),
    }
    match next(&mut stream).await {
        Some(Ok(Notice::Message(m))) => assert_eq!(m.data_type(), Some(MessageType::AgentStateChangeSuccess)),
        other => panic!("expected a message, got {other:?}"),
    }
    // Keepalives go out on open and then periodically; the server's are not yielded.
    eventually("three client keepalives", || sim.stats().client_keepalives >= 3).await;
    let stats = sim.stats();
    assert_eq!((stats.socket_subscribes, stats.sockets_opened, stats.sockets_refused), (1, 1, 0));
}

#[tokio::test]
async fn a_dropped_socket_reconnects_with_a_fresh_subscribe() {
    let (sim, client) = setup().await;
    let mut stream = client.notifications(Subscribe::notification(), quick());
    let (first, _) = connected(&mut stream).await;
    assert_eq!(sim.drop_sockets(), 1);
    let cause = lost(&mut stream).await;
    assert!(cause.contains("closed") || cause.contains("socket"), "{cause}");
    let (second, reconnected) = connected(&mut stream).await;
    assert!(reconnected);
    assert_ne!(first, second, "a reconnect subscribes again");
    let stats = sim.stats();
    assert_eq!((stats.socket_subscribes, stats.sockets_opened, stats.sockets_refused), (2, 2, 0));
}

#[tokio::test]
async fn silence_is_a_lost_connection() {
    let (sim, client) = setup().await;
    let mut stream = client.notifications(Subscribe::notification(), quick());
    connected(&mut stream).await;
    assert_eq!(sim.silence_sockets(), 1);
    let cause = lost(&mut stream).await;
    assert!(cause.starts_with("no frame for"), "{cause}");
    let (_, reconnected) = connected(&mut stream).await;
    assert!(reconnected);
}

#[tokio::test]
async fn another_login_ends_the_stream_without_reconnecting() {
    let (sim, client) = setup().await;
    let mut first = client.notifications(Subscribe::notification().client_type("Desk"), quick());
    connected(&mut first).await;
    let mut second = client.notifications(Subscribe::notification().client_type("Desk"), quick());
    connected(&mut second).await;
    match next(&mut first).await {
        Some(Ok(Notice::Message(m))) => assert_eq!(m.kind, MessageType::AgentMultiLogin),
        other => panic!("expected AGENT_MULTI_LOGIN, got {other:?}"),
    }
    match next(&mut first).await {
        Some(Err(Error::Replaced { kind })) => assert_eq!(kind, MessageType::AgentMultiLogin),
        other => panic!("expected Replaced, got {other:?}"),
    }
    assert!(next(&mut first).await.is_none());
    // No reconnect followed: two subscribes in all, one socket open.
    tokio::time::sleep(quick().reconnect_interval * 4).await;
    assert_eq!(sim.stats().socket_subscribes, 2);
    assert_eq!(sim.open_sockets(), 1);

    // With allowMultiLogin both stay.
    let multi = || Subscribe::notification().client_type("Multi").allow_multi_login(true);
    let mut a = client.notifications(multi(), quick());
    let mut b = client.notifications(multi(), quick());
    connected(&mut a).await;
    connected(&mut b).await;
    assert_eq!(sim.open_sockets(), 3);
}

#[tokio::test]
async fn it_gives_up_when_subscribes_keep_failing() {
    let (sim, client) = setup().await;
    let mut stream = client.notifications(Subscribe::notification(), quick());
    connected(&mut stream).await;
    for _ in 0..50 {
        sim.inject(Fault::Status { status: 503, retry_after: None });
    }
    sim.drop_sockets();
    lost(&mut stream).await;
    match next(&mut stream).await {
        Some(Err(Error::GaveUp { after, attempts, cause })) => {
            assert!(after >= Duration::from_millis(1_000), "{after:?}");
            assert!(attempts >= 3, "{attempts}");
            assert!(cause.contains("503"), "{cause}");
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn a_subscribe_refused_for_good_ends_at_once() {
    let (sim, client) = setup().await;
    sim.inject(Fault::Status { status: 403, retry_after: None });
    let mut stream = client.notifications(Subscribe::notification(), quick());
    match next(&mut stream).await {
        Some(Err(e)) => assert_eq!(e.status(), Some(403), "{e}"),
        other => panic!("expected the 403, got {other:?}"),
    }
    assert!(next(&mut stream).await.is_none());

    // A body breaking the spec's rules is refused before any call.
    let calls = sim.stats().api_calls;
    let mut stream = client.notifications(Subscribe::realtime().client_type("ab"), quick());
    match next(&mut stream).await {
        Some(Err(Error::Invalid { field, .. })) => assert_eq!(field, "clientType"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(sim.stats().api_calls, calls);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_on_reconnect() {
    let (sim, client) = setup().await;
    let mut stream = client.notifications(Subscribe::notification(), quick());
    connected(&mut stream).await;
    sim.expire_access_tokens();
    sim.drop_sockets();
    lost(&mut stream).await;
    let (_, reconnected) = connected(&mut stream).await;
    assert!(reconnected);
    assert_eq!(sim.stats().refreshes, 1);
}

#[tokio::test]
async fn keepalives_go_out_while_the_consumer_is_slow() {
    let mut config = sim_config();
    config.client_keepalive_timeout = Some(Duration::from_millis(400));
    let (sim, client) = common::setup(config).await;
    let subscribe = || Subscribe::notification().keepalive_enabled(true);
    let mut stream = client.notifications(subscribe(), NotificationConfig { buffer: 1, ..quick() });
    connected(&mut stream).await;
    let org = sim.config().org_id.clone();
    for i in 0..20 {
        sim.notify(&sample_message(&MessageType::AgentContact, &org, &format!("t-{i}")));
    }
    // Not polled for well over the server's keepalive timeout.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    for i in 0..20 {
        match next(&mut stream).await {
            Some(Ok(Notice::Message(m))) => {
                assert_eq!(m.interaction_id().map(|t| t.to_string()), Some(format!("t-{i}")));
            }
            other => panic!("message {i}: got {other:?}"),
        }
    }
    assert_eq!(sim.stats().sockets_idle_dropped, 0);

    // The check can fail: without client keepalives the server drops the socket.
    let mut silent =
        client.notifications(subscribe(), NotificationConfig { keepalive_interval: None, ..quick() });
    connected(&mut silent).await;
    lost(&mut silent).await;
    assert_eq!(sim.stats().sockets_idle_dropped, 1);
}

#[tokio::test]
async fn dropping_the_stream_closes_the_socket() {
    let (sim, client) = setup().await;
    let mut stream = client.notifications(Subscribe::realtime(), quick());
    connected(&mut stream).await;
    assert_eq!(sim.open_sockets(), 1);
    drop(stream);
    eventually("the socket closed", || sim.open_sockets() == 0).await;
}

/// The status line of a WebSocket upgrade request for `url`.
async fn upgrade_status(url: &str) -> String {
    let rest = url.strip_prefix("ws://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0; 256];
    let n = tcp.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_socket_url_opens_once() {
    let (sim, client) = setup().await;
    let subscription = client.subscribe_socket(&Subscribe::notification()).await.unwrap();
    let url = subscription.web_socket_url.expose_secret().clone();
    assert!(url.starts_with(sim.socket_base()), "{url}");
    assert!(upgrade_status(&url).await.starts_with("HTTP/1.1 101"));
    assert!(upgrade_status(&url).await.starts_with("HTTP/1.1 404"));
    assert!(
        upgrade_status(&format!("{}/v1/notification/subscription/nope", sim.socket_base()))
            .await
            .contains("404")
    );
    assert_eq!(sim.stats().sockets_refused, 2);
}
