//! The axum receiver on a real loopback socket, fed by the simulated LivePerson sender.
#![cfg(all(feature = "server", feature = "sim"))]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use cc_core::Secret;
use lp_notifications::model::Notification;
use lp_notifications::sim::{AttemptOutcome, RetryMode, Sender, SenderConfig};
use lp_notifications::webhook::Webhook;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use async_trait::async_trait;
use cc_core::webhook::server::{EventHandler, HandlerError};

/// A bounded queue that reports each refusal, so the test knows when a 503 went out.
struct ObservedQueue {
    queue: mpsc::Sender<Notification>,
    refusals: mpsc::UnboundedSender<()>,
}

#[async_trait]
impl EventHandler<Notification> for ObservedQueue {
    async fn accept(&self, event: Notification) -> Result<(), HandlerError> {
        let result = self.queue.accept(event).await;
        if result.is_err() {
            let _ = self.refusals.send(());
        }
        result
    }
}

const SECRET: &str = "rl9hacst6kqilbofup64n11ga3";
const ACCOUNT: &str = "42257269";
const CLIENT: &str = "81fad476-88af-4d08-bc0e-20bc69439ed4";

async fn serve<H: EventHandler<Notification>>(queue: H) -> SocketAddr {
    let webhook = Webhook::new(ACCOUNT, CLIENT, Secret::from(SECRET));
    let app = Router::new().route("/lp", webhook.into_route(queue));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn sender(secret: &str, retries: u8) -> Sender {
    let mut config = SenderConfig::new(ACCOUNT, CLIENT, Secret::from(secret));
    config.retry = RetryMode::Count(retries);
    config.first_delay = Duration::from_millis(50);
    Sender::new(config).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../fixtures/lp/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn a_signed_notification_is_enqueued_before_the_200() {
    let (tx, mut rx) = mpsc::channel(8);
    let addr = serve(tx).await;
    let body = fixture("ms.MessagingEventNotification.ChatStateEvent.PAUSE.consumer.signed.json");
    let sender = sender(SECRET, 0);
    assert_eq!(sender.signature(&body), "sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI=", "signs exactly as LivePerson");
    let report = sender.send(&format!("http://{addr}/lp"), &body).await;
    assert_eq!(report.attempts, vec![AttemptOutcome::Status(200)]);
    assert!(report.delivered);
    let notification = rx.try_recv().expect("enqueued before the answer");
    assert_eq!(notification.changes.len(), 1);
}

#[tokio::test]
async fn a_bad_signature_is_refused_and_retried_by_the_sender() {
    let (tx, mut rx) = mpsc::channel(8);
    let addr = serve(tx).await;
    let body = fixture("ms.MessagingEventNotification.ContentEvent.text.consumer-seq6.json");
    let report = sender("wrong-secret", 2).send(&format!("http://{addr}/lp"), &body).await;
    assert_eq!(report.attempts, vec![AttemptOutcome::Status(401); 3], "first try + 2 retries");
    assert!(!report.delivered);
    assert!(rx.try_recv().is_err(), "the handler never sees an unverified request");
}

#[tokio::test]
async fn malformed_and_oversize_bodies() {
    let (tx, mut rx) = mpsc::channel(8);
    let addr = serve(tx).await;
    let client = signed_client(addr);
    let bad = br#"{"kind":"notification","type":"ms.MessagingEventNotification","body":{"changes":[{"event":{"type":"ContentEvent","message":"x"}}]}}"#;
    let (status, text) = client.post(bad).await;
    assert_eq!(status, 400);
    assert!(text.contains("body.changes[0]") && text.contains("dialogId"), "{text}");
    let huge = vec![b' '; 2 * 1024 * 1024];
    assert_eq!(client.post(&huge).await.0, 413);
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn a_full_queue_answers_503_and_the_retry_is_delivered() {
    let (tx, mut rx) = mpsc::channel(1);
    let (refused_tx, mut refused) = mpsc::unbounded_channel();
    let addr = serve(ObservedQueue { queue: tx, refusals: refused_tx }).await;
    let url = format!("http://{addr}/lp");
    let first = fixture("ms.MessagingEventNotification.ContentEvent.text.consumer-seq4.json");
    let second = fixture("ms.MessagingEventNotification.ContentEvent.text.consumer-seq6.json");
    assert!(sender(SECRET, 0).send(&url, &first).await.delivered);
    // The queue is full: not acknowledged. Drain it while the sender waits to retry.
    let retrying = tokio::spawn({
        let url = url.clone();
        async move { sender(SECRET, 3).send(&url, &second).await }
    });
    refused.recv().await.expect("the first attempt was refused");
    let drained = rx.recv().await.unwrap();
    let report = retrying.await.unwrap();
    assert_eq!(report.attempts.first(), Some(&AttemptOutcome::Status(503)));
    assert!(report.delivered, "{report:?}");
    assert_ne!(drained, rx.recv().await.unwrap(), "both notifications arrived");
}

/// A raw client that signs correctly, to send bodies the sender would not produce.
struct Raw {
    url: String,
    sender: Sender,
}

fn signed_client(addr: SocketAddr) -> Raw {
    Raw { url: format!("http://{addr}/lp"), sender: sender(SECRET, 0) }
}

impl Raw {
    async fn post(&self, body: &[u8]) -> (u16, String) {
        use cc_core::http::{Body, Executor, Request, RetryPolicy};
        let mut req = Request::post(&self.url)
            .without_auth()
            .body(Body::Bytes { content_type: "application/json".into(), data: body.to_vec() });
        for (n, v) in self.sender.headers(body) {
            req = req.header(n, v);
        }
        let exec = Executor::builder().retry_policy(RetryPolicy::no_retries()).build().unwrap();
        match exec.send(&req).await {
            Ok(r) => (r.status(), String::from_utf8_lossy(r.body()).into_owned()),
            Err(e) => {
                let api = e.as_api().expect("an HTTP answer");
                (api.status, api.body.clone())
            }
        }
    }
}
