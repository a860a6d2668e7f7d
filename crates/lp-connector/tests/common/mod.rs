//! Shared by the suites: the simulator, a webhook receiver on loopback that turns signed
//! notifications into neutral events (lp-notifications' route and sequencer), a client.

#![allow(dead_code)]

use std::time::Duration;

use axum::Router;
use cc_core::http::RetryPolicy;
use cc_core::sim::Simulator as _;
use cc_core::{ConversationEvent, Secret};
use lp_connector::sim::{LpSim, SimConfig};
use lp_connector::{LpClient, LpConfig};
use lp_notifications::channel::delivery_events;
use lp_notifications::model::Notification;
use lp_notifications::sequencer::Sequencer;
use lp_notifications::webhook::LpWebhook;
use tokio::sync::mpsc;

pub const ACCOUNT: &str = "le81823118";
pub const CLIENT_ID: &str = "75588e18-a2f3-4f2a-8d2c-4c0e1a2b3c4d";
pub const SECRET: &str = "app-secret-do-not-print";
pub const WAIT: Duration = Duration::from_secs(10);

/// The simulator, and the neutral events of the notifications it sends to our webhook.
pub struct Loop {
    pub sim: LpSim,
    pub events: mpsc::UnboundedReceiver<ConversationEvent>,
}

pub async fn start() -> Loop {
    start_with(SimConfig::new(ACCOUNT, CLIENT_ID, Secret::from(SECRET))).await
}

pub async fn start_with(config: SimConfig) -> Loop {
    let sim = LpSim::start(config).await.expect("simulator");
    let (notifications, mut inbox) = mpsc::channel::<Notification>(1024);
    let app = Router::new()
        .route("/lp", LpWebhook::new(ACCOUNT, CLIENT_ID, Secret::from(SECRET)).into_route(notifications));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/lp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    sim.set_webhook_url(url);
    let (tx, events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut sequencer = Sequencer::default();
        while let Some(notification) = inbox.recv().await {
            for delivery in sequencer.push_notification(notification) {
                for event in delivery_events(&delivery) {
                    let _ = tx.send(event);
                }
            }
        }
    });
    Loop { sim, events }
}

/// Fast retries (the vendor policy waits seconds), the simulator as CSDS.
pub fn config(sim: &LpSim) -> LpConfig {
    let mut config = LpConfig::new(ACCOUNT, CLIENT_ID, Secret::from(SECRET));
    config.csds_url = sim.base_url();
    config.retry = RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    config.login_retry = config.retry;
    config.attempt_timeout = Duration::from_secs(2);
    config
}

pub fn client(sim: &LpSim) -> LpClient {
    LpClient::new(config(sim)).expect("client")
}

/// Events until one matches `want` (those before it are returned too).
pub async fn until(
    events: &mut mpsc::UnboundedReceiver<ConversationEvent>,
    want: impl Fn(&ConversationEvent) -> bool,
) -> Vec<ConversationEvent> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(WAIT, events.recv())
            .await
            .unwrap_or_else(|_| panic!("no matching event within {WAIT:?}; saw {seen:#?}"))
            .expect("event stream open");
        let done = want(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

/// The agent's message text of an event, if it is one.
pub fn agent_text(event: &ConversationEvent) -> Option<&str> {
    match event {
        ConversationEvent::Message { message, .. }
            if message.sender.role == cc_core::conversation::Role::Agent =>
        {
            message.text.as_deref()
        }
        _ => None,
    }
}
