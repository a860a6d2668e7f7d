//! Visitors, cookies, the poller and AgentImage against the simulator over loopback.
#![cfg(feature = "sim")]

use std::time::Duration;

use cc_core::ConversationId;
use cc_core::http::Method;
use icc_website_rest::Error;
use icc_website_rest::channel::conversation_event;
use icc_website_rest::client::{WebSiteClient, WebSiteConfig};
use icc_website_rest::diff::ChatEvent;
use icc_website_rest::model::{ChatStatus, ControlType, Signal, WebApp};
use icc_website_rest::poller::{ChatPoller, PollerConfig};
use icc_website_rest::sim::{Fault, SimConfig, Simulator, WebSiteSim};

async fn setup() -> (WebSiteSim, WebSiteClient) {
    let sim = WebSiteSim::start(SimConfig::default()).await.unwrap();
    // No executor retries: failed polls reach the poller, whose own backoff is under test.
    let config = WebSiteConfig {
        retry: cc_core::http::RetryPolicy::no_retries(),
        ..WebSiteConfig::new(sim.base_url())
    };
    let client = WebSiteClient::new(config).unwrap();
    (sim, client)
}

fn fast() -> PollerConfig {
    PollerConfig {
        fast: Duration::from_millis(10),
        slow: Duration::from_millis(15),
        max_backoff: Duration::from_millis(80),
    }
}

#[tokio::test]
async fn each_visitor_keeps_its_own_cookie_and_chat() {
    let (_sim, client) = setup().await;
    let (ada, bob) = (client.visitor(), client.visitor());
    assert!(ada.tracking_id().is_none());
    let a1 = ada.routing(&WebApp::WebChat, None, false).await.unwrap().unwrap();
    let b1 = bob.routing(&WebApp::WebChat, None, false).await.unwrap().unwrap();
    let (ada_id, bob_id) = (ada.tracking_id().unwrap(), bob.tracking_id().unwrap());
    assert_ne!(ada_id, bob_id, "two visitors, two tracking ids");
    assert_ne!(
        a1.chat_running.unwrap().chat_id,
        b1.chat_running.as_ref().unwrap().chat_id,
        "never a shared chat"
    );
    let a2 = ada.routing(&WebApp::WebChat, None, false).await.unwrap().unwrap();
    assert_eq!(ada.tracking_id().unwrap(), ada_id, "the cookie persists");

    // Resume after a "restart" from the exported id: the same chat.
    let resumed = client.resume(ada_id.clone());
    let again = resumed.routing(&WebApp::WebChat, None, false).await.unwrap().unwrap();
    assert_eq!(again.chat_running.unwrap().chat_id, a2.chat_running.unwrap().chat_id);
    assert_eq!(resumed.tracking_id().unwrap(), ada_id);
}

#[tokio::test]
async fn routing_rules_settings_and_blocked_apps() {
    let (_sim, client) = setup().await;
    let v = client.visitor();
    assert!(v.routing(&WebApp::WebClick, None, false).await.unwrap().is_none(), "blocked: JSON null");
    assert!(v.routing(&WebApp::WebMsg, Some("logged-in"), false).await.unwrap().is_none(), "not configured");
    let bare = v.routing(&WebApp::WebCback, None, false).await.unwrap().unwrap();
    assert_eq!(bare.signal, Some(Signal::Busy));
    assert!(bare.settings.is_none() && bare.literals.is_none());
    let full = v.routing(&WebApp::WebForm, Some("vip"), true).await.unwrap().unwrap();
    assert_eq!(full.literals.unwrap()["Title"], "Chat with us");
    let kinds: Vec<ControlType> =
        full.scenario.unwrap().controls.into_iter().map(|c| c.control_type).collect();
    assert_eq!(kinds.len(), 9, "one control of every type");
    let long = "x".repeat(321);
    assert!(matches!(
        v.routing(&WebApp::WebChat, Some(&long), false).await,
        Err(Error::Invalid { field: "UserToken", .. })
    ));
}

#[tokio::test]
async fn the_poller_reports_every_change_once_despite_failures() {
    let (sim, client) = setup().await;
    let visitor = client.visitor();
    // A few failed polls along the way: 503s and a broken connection.
    sim.inject(Fault::Status { status: 503, retry_after: None });
    let (tx, mut rx) = tokio::sync::mpsc::channel(100);
    let poller = ChatPoller::new(visitor.clone(), WebApp::WebChat, fast());
    let run = tokio::spawn(poller.run(tx, 10));
    tokio::time::sleep(Duration::from_millis(120)).await;
    sim.inject(Fault::Status { status: 500, retry_after: None });
    sim.inject(Fault::Reset);
    run.await.unwrap().unwrap();
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    let statuses: Vec<ChatStatus> = events
        .iter()
        .filter_map(|e| if let ChatEvent::Status { to, .. } = e { Some(to.clone()) } else { None })
        .collect();
    // Each status at most once, in the chat's order (a failed poll may skip one), Closed last.
    let order = [
        ChatStatus::Pilot,
        ChatStatus::Icr,
        ChatStatus::Waiting,
        ChatStatus::Alerting,
        ChatStatus::Answered,
        ChatStatus::Closed,
    ];
    let positions: Vec<usize> = statuses.iter().map(|s| order.iter().position(|o| o == s).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&ChatStatus::Closed));
    let counters: Vec<i64> = events
        .iter()
        .filter_map(|e| if let ChatEvent::Sentence(s) = e { Some(s.counter) } else { None })
        .collect();
    assert_eq!(counters, [1, 2], "every sentence once, in order: {events:?}");
    assert!(events.iter().any(|e| matches!(e, ChatEvent::Agent { name: Some(n), .. } if n == "Eva")));
    let first_sentence =
        events.iter().find_map(|e| if let ChatEvent::Sentence(s) = e { Some(s) } else { None }).unwrap();
    assert_eq!(first_sentence.decoded_text(), "Hello, I'm Eva & I'm here to help.");
    let neutral: Vec<_> = events.iter().map(|e| conversation_event(&ConversationId::from("c"), e)).collect();
    assert!(neutral.last().unwrap().is_end());
    assert!(sim.routing_calls() >= 4, "three failed polls and at least one good one");
}

#[tokio::test]
async fn the_interval_adapts_and_backs_off() {
    let (sim, client) = setup().await;
    let mut poller = ChatPoller::new(client.visitor(), WebApp::WebChat, fast());
    poller.poll().await.unwrap();
    assert_eq!(poller.interval(), Duration::from_millis(15), "slow while routing");
    sim.inject(Fault::Status { status: 502, retry_after: None });
    sim.inject(Fault::Status { status: 502, retry_after: None });
    assert!(poller.poll().await.is_err());
    assert_eq!(poller.interval(), Duration::from_millis(20), "doubling after a failure");
    assert!(poller.poll().await.is_err());
    assert_eq!(poller.interval(), Duration::from_millis(40));
    poller.poll().await.unwrap();
    while !poller.is_closed() {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = poller.poll().await.unwrap();
        if !poller.is_closed() && poller.interval() == Duration::from_millis(10) {
            break;
        }
    }
    assert!(poller.is_closed() || poller.interval() == Duration::from_millis(10), "fast once answered");
}

#[tokio::test]
async fn agent_images_come_in_the_requested_size() {
    let (_sim, client) = setup().await;
    let visitor = client.visitor();
    visitor.routing(&WebApp::WebChat, None, false).await.unwrap();
    let agent = "5f0c6a2e-8d1b-4c3a-9e7f-1a2b3c4d5e6f".into();
    for (w, h) in [(32, 32), (120, 80), (1, 1)] {
        let image = visitor.agent_image(&agent, Some(w), Some(h)).await.unwrap();
        assert_eq!(image.content_type.as_deref(), Some("image/png"));
        assert_eq!(&image.bytes[12..16], b"IHDR");
        let dim = |o: usize| u32::from_be_bytes(image.bytes[o..o + 4].try_into().unwrap());
        assert_eq!((dim(16), dim(20)), (w, h));
    }
    let default = visitor.agent_image(&agent, None, None).await.unwrap();
    assert_eq!(u32::from_be_bytes(default.bytes[16..20].try_into().unwrap()), 64);
}

/// Collects everything a `tracing` subscriber writes, at every level.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_visitor_cookie_never_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (_sim, client) = setup().await;
    let visitor = client.visitor();
    visitor.routing(&WebApp::WebChat, None, false).await.unwrap();
    visitor.routing(&WebApp::WebChat, None, false).await.unwrap(); // sends the cookie
    let id = visitor.tracking_id().unwrap();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("cookie: [redacted]"), "the header log ran: {logs}");
    assert!(!logs.contains(id.as_str()), "the visitor's tracking id leaked: {logs}");
}

#[tokio::test]
async fn configured_paths_reuse_the_cookie() {
    let (_sim, client) = setup().await;
    let visitor = client.visitor();
    visitor.routing(&WebApp::WebChat, None, false).await.unwrap();
    let echoed: serde_json::Value =
        visitor.call_json(Method::Post, "/sim/echo", Some(&serde_json::json!({"Text": "hi"}))).await.unwrap();
    assert_eq!(echoed["trackingId"], visitor.tracking_id().unwrap().as_str());
    assert_eq!(echoed["body"]["Text"], "hi");
    let err = visitor.call_json::<(), serde_json::Value>(Method::Post, "/sim/echo", None).await.unwrap_err();
    assert!(matches!(&err, Error::Http(e) if e.status() == Some(400)), "{err}");
}

/// The fault matrix of docs/reliability.md. Routing is a GET: 429 (after `Retry-After`), 503,
/// a reset and a read timeout are retried. The WebSite API has no credentials to expire.
#[tokio::test]
async fn fault_matrix() {
    let sim = WebSiteSim::start(SimConfig::default()).await.unwrap();
    let config = WebSiteConfig {
        attempt_timeout: Duration::from_millis(200),
        retry: cc_core::http::RetryPolicy { base_delay: Duration::from_millis(5), ..Default::default() },
        ..WebSiteConfig::new(sim.base_url())
    };
    let visitor = WebSiteClient::new(config).unwrap().visitor();
    for fault in Fault::survivable(Duration::from_millis(400)) {
        sim.inject(fault.clone());
        let routing =
            visitor.routing(&WebApp::WebChat, None, false).await.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(routing.unwrap().signal, Some(Signal::Free), "{fault:?}");
    }
    // Beyond the retry limit the status is surfaced.
    for _ in 0..4 {
        sim.inject(Fault::Status { status: 500, retry_after: None });
    }
    let err = visitor.routing(&WebApp::WebChat, None, false).await.unwrap_err();
    assert!(err.to_string().contains("500"), "{err}");
}
