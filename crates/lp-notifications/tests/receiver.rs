//! The receiving side: signature and header checks on raw bytes with LivePerson's own
//! vectors, then (features `server` and `sim`) the axum receiver on a real loopback socket,
//! fed by the simulated LivePerson sender.

use cc_core::Secret;
use cc_core::auth::{HmacAlgorithm, SignatureEncoding, hmac};
use cc_core::webhook::VerifyError;
use lp_notifications::webhook::{LpHeaders, LpWebhook};

const SECRET: &str = "rl9hacst6kqilbofup64n11ga3";
const ACCOUNT: &str = "42257269";
const CLIENT: &str = "81fad476-88af-4d08-bc0e-20bc69439ed4";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../fixtures/lp/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn headers(signature: &str) -> LpHeaders<'_> {
    LpHeaders { account_id: Some(ACCOUNT), client_id: Some(CLIENT), signature: Some(signature) }
}

fn hook() -> LpWebhook {
    LpWebhook::new(ACCOUNT, CLIENT, Secret::from(SECRET))
}

/// The two vectors of `../shared/reference/samples/liveperson/signature-vectors.json`.
const VECTORS: [(&str, &str); 2] = [
    (
        "ms.MessagingEventNotification.ChatStateEvent.PAUSE.consumer.signed.json",
        "sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI=",
    ),
    (
        "cqm.ExConversationChangeNotification.UPSERT.close-by-consumer.signed.json",
        "sha1=CKiT6u4nb4Mpi0tdbCbgBXKAF1E=",
    ),
];

#[test]
fn reference_vectors_verify_and_parse() {
    for (file, signature) in VECTORS {
        let body = fixture(file);
        let notification = hook().verify(&headers(signature), &body).unwrap().parse().unwrap();
        assert_eq!(notification.changes.len(), 1, "{file}");
    }
}

#[test]
fn any_one_byte_change_fails() {
    for (file, signature) in VECTORS {
        let body = fixture(file);
        for i in 0..body.len() {
            let mut changed = body.clone();
            changed[i] = changed[i].wrapping_add(1);
            assert_eq!(
                hook().verify(&headers(signature), &changed).unwrap_err(),
                VerifyError::SignatureMismatch,
                "{file}: byte {i}"
            );
        }
    }
}

#[test]
fn reserialized_json_fails_the_check() {
    // The classic mistake: verifying a re-serialization of the parsed body.
    let (file, signature) = VECTORS[0];
    let body = fixture(file);
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let reserialized = serde_json::to_vec_pretty(&value).unwrap();
    assert!(hook().verify(&headers(signature), &reserialized).is_err());
}

#[test]
fn emoji_bodies_are_signed_over_utf8_bytes() {
    let body = "{\"kind\":\"notification\",\"body\":{\"changes\":[]},\"type\":\"ms.MessagingEventNotification\",\"x\":\"🙏 é\"}";
    let sig = format!(
        "sha1={}",
        SignatureEncoding::Base64.encode(&hmac(HmacAlgorithm::Sha1, SECRET.as_bytes(), body.as_bytes()))
    );
    assert!(hook().verify(&headers(&sig), body.as_bytes()).is_ok());
}

#[test]
fn sha256_and_hex_variants() {
    let (file, _) = VECTORS[1];
    let body = fixture(file);
    let sha256_hex = format!(
        "sha256={}",
        SignatureEncoding::Hex.encode(&hmac(HmacAlgorithm::Sha256, SECRET.as_bytes(), &body))
    );
    assert_eq!(
        hook().verify(&headers(&sha256_hex), &body).unwrap_err(),
        VerifyError::AlgorithmNotAccepted("sha256".into()),
        "sha256 must be enabled explicitly"
    );
    assert!(hook().accept_sha256().verify(&headers(&sha256_hex), &body).is_ok());
    let sha1_hex = format!(
        "sha1={}",
        SignatureEncoding::Hex.encode(&hmac(HmacAlgorithm::Sha1, SECRET.as_bytes(), &body))
    );
    assert!(hook().verify(&headers(&sha1_hex), &body).is_ok());
    assert!(hook().encoding(SignatureEncoding::Base64).verify(&headers(&sha1_hex), &body).is_err());
}

#[test]
fn rotated_secrets_and_identity_headers() {
    let (file, signature) = VECTORS[0];
    let body = fixture(file);
    let rotating =
        LpWebhook::with_secrets(ACCOUNT, CLIENT, vec![Secret::from("new-secret"), Secret::from(SECRET)]);
    assert!(rotating.verify(&headers(signature), &body).is_ok());

    let wrong_account = LpHeaders { account_id: Some("1"), ..headers(signature) };
    assert_eq!(
        hook().verify(&wrong_account, &body).unwrap_err(),
        VerifyError::HeaderMismatch("x-liveperson-account-id")
    );
    let wrong_client = LpHeaders { client_id: Some("other"), ..headers(signature) };
    assert_eq!(
        hook().verify(&wrong_client, &body).unwrap_err(),
        VerifyError::HeaderMismatch("x-liveperson-client-id")
    );
    let missing = LpHeaders { signature: None, ..headers(signature) };
    assert_eq!(
        hook().verify(&missing, &body).unwrap_err(),
        VerifyError::MissingHeader("x-liveperson-signature")
    );
    assert_eq!(
        hook().verify(&LpHeaders::default(), &body).unwrap_err(),
        VerifyError::MissingHeader("x-liveperson-account-id")
    );

    // Failures never show the expected signature or the secret.
    let wrong = LpWebhook::new(ACCOUNT, CLIENT, Secret::from("not-it"));
    let err = wrong.verify_and_parse(&headers(signature), &body).unwrap_err();
    for text in [err.to_string(), format!("{err:?}"), format!("{wrong:?}"), format!("{:?}", hook())] {
        assert!(
            !text.contains("e/TfS0wv1HbvEsMqcBMmFLcMslI")
                && !text.contains(SECRET)
                && !text.contains("not-it"),
            "{text}"
        );
    }
}

/// The axum receiver on loopback.
#[cfg(all(feature = "server", feature = "sim"))]
mod loopback {
    use super::{ACCOUNT, CLIENT, SECRET, fixture};

    use std::net::SocketAddr;
    use std::time::Duration;

    use axum::Router;
    use cc_core::Secret;
    use lp_notifications::model::Notification;
    use lp_notifications::sim::{AttemptOutcome, LpSim, RetryMode, SimConfig};
    use lp_notifications::webhook::LpWebhook;
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

    async fn serve<H: EventHandler<Notification>>(queue: H) -> SocketAddr {
        let webhook = LpWebhook::new(ACCOUNT, CLIENT, Secret::from(SECRET));
        let app = Router::new().route("/lp", webhook.into_route(queue));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }

    fn sender(secret: &str, retries: u8) -> LpSim {
        let mut config = SimConfig::new(ACCOUNT, CLIENT, Secret::from(secret));
        config.retry = RetryMode::Count(retries);
        config.first_delay = Duration::from_millis(50);
        LpSim::new(config).unwrap()
    }

    #[tokio::test]
    async fn a_signed_notification_is_enqueued_before_the_200() {
        let (tx, mut rx) = mpsc::channel(8);
        let addr = serve(tx).await;
        let body = fixture("ms.MessagingEventNotification.ChatStateEvent.PAUSE.consumer.signed.json");
        let sender = sender(SECRET, 0);
        assert_eq!(
            sender.signature(&body),
            "sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI=",
            "signs exactly as LivePerson"
        );
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
        sender: LpSim,
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
}
