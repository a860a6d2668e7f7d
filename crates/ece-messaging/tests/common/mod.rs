//! Helpers the ECE suites share: the simulator's settings, a client for it, a receiver on
//! loopback.
#![allow(dead_code)] // each suite uses part of it

use std::time::Duration;

use axum::Router;
use cc_core::Secret;
use ece_messaging::model::{CallbackMessage, MessageType};
use ece_messaging::sim::{EceSim, SimConfig, Simulator};
use ece_messaging::webhook::WebhookAuth;
use ece_messaging::{EceClient, EceConfig, EceWebhook};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub const WAIT: Duration = Duration::from_secs(5);

pub fn sim_config() -> SimConfig {
    SimConfig::new("ABCD", Secret::from("01234"), "MyWebhookUsername", Secret::from("MyWebhookPassword"))
}

pub fn client(sim: &EceSim) -> EceClient {
    EceClient::new(EceConfig::new(sim.base_url(), "ABCD", Secret::from("01234"))).unwrap()
}

/// A receiver on loopback; the simulator posts to it. Returns the queue and the URL.
pub async fn receiver(
    password: &str,
    capacity: usize,
) -> (mpsc::Receiver<ece_messaging::model::CallbackBatch>, String) {
    let (tx, rx) = mpsc::channel(capacity);
    let hook = EceWebhook::new(WebhookAuth::basic("MyWebhookUsername", Secret::new(password.to_owned())));
    let app = Router::new().route("/webhook1", hook.into_route(tx));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()));
    (rx, format!("http://{addr}/webhook1"))
}

/// Collects callback messages until one of type `until` arrives.
pub async fn collect_until(
    rx: &mut mpsc::Receiver<ece_messaging::model::CallbackBatch>,
    until: MessageType,
) -> Vec<CallbackMessage> {
    let mut all = Vec::new();
    loop {
        let batch = tokio::time::timeout(WAIT, rx.recv()).await.expect("callbacks in time").expect("open");
        let done = batch.message.iter().any(|m| m.kind.value == until);
        all.extend(batch.message);
        if done {
            return all;
        }
    }
}

pub fn kinds(messages: &[CallbackMessage]) -> Vec<String> {
    messages.iter().map(|m| m.kind.value.to_string()).collect()
}
