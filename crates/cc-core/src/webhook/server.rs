//! axum building blocks for webhook receivers (feature `server`).
//!
//! A vendor crate implements [`Inbound`] (verify raw bytes, then parse); the user supplies an
//! [`EventHandler`] (usually a queue). [`receiver`] turns both into a route that answers:
//!
//! | situation | answer |
//! |---|---|
//! | body larger than the limit | 413, handler not called |
//! | verification fails | 401 naming the failed check, handler not called |
//! | payload does not parse | 400 naming the field path, handler not called |
//! | handler refuses (queue full or closed) | 503, so the vendor redelivers |
//! | handler accepted | the configured success status (default 200) |
//!
//! The success answer is sent only after the handler accepted the event, so nothing that
//! was acknowledged is lost.

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{ParseError, VerifyError};

/// The vendor side of a receiver: how to verify and parse one request.
pub trait Inbound: Send + Sync + 'static {
    /// What a request parses into (one event or a batch).
    type Event: Send + 'static;

    /// Checks the request's credentials or signature over the raw body bytes.
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError>;

    /// Parses a verified body.
    fn parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<Self::Event, ParseError>;
}

/// Why a handler did not accept an event. The receiver answers 503 so the vendor retries.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event not accepted: {0}")]
pub struct HandlerError(pub String);

/// Takes verified, parsed events. Accept quickly (enqueue) and process later: vendors give
/// receivers a few seconds at most.
#[async_trait]
pub trait EventHandler<E>: Send + Sync + 'static {
    /// Takes ownership of `event`. `Ok` means it will not be lost.
    async fn accept(&self, event: E) -> Result<(), HandlerError>;
}

#[async_trait]
impl<E: Send + 'static> EventHandler<E> for tokio::sync::mpsc::Sender<E> {
    async fn accept(&self, event: E) -> Result<(), HandlerError> {
        self.try_send(event).map_err(|e| match e {
            tokio::sync::mpsc::error::TrySendError::Full(_) => HandlerError("queue full".into()),
            tokio::sync::mpsc::error::TrySendError::Closed(_) => HandlerError("queue closed".into()),
        })
    }
}

#[async_trait]
impl<E: Send + 'static> EventHandler<E> for tokio::sync::mpsc::UnboundedSender<E> {
    async fn accept(&self, event: E) -> Result<(), HandlerError> {
        self.send(event).map_err(|_| HandlerError("queue closed".into()))
    }
}

/// Drops redeliveries before they reach `inner`: an event whose key was accepted before is
/// acknowledged (so the vendor stops retrying) without calling `inner` again. A key is
/// remembered from the moment its event is handed over; if `inner` refuses the event, the key
/// is forgotten so the vendor's retry is processed.
pub struct Deduplicate<H, F, K> {
    inner: H,
    key: F,
    seen: std::sync::Mutex<super::DuplicateFilter<K>>,
}

impl<H, F, K> Deduplicate<H, F, K> {
    /// Wraps `inner`; `key` names each event (`None`: never treated as a duplicate);
    /// `filter` bounds what is remembered.
    pub fn new(inner: H, key: F, filter: super::DuplicateFilter<K>) -> Self {
        Self { inner, key, seen: std::sync::Mutex::new(filter) }
    }
}

#[async_trait]
impl<E, H, F, K> EventHandler<E> for Deduplicate<H, F, K>
where
    E: Send + 'static,
    H: EventHandler<E>,
    F: Fn(&E) -> Option<K> + Send + Sync + 'static,
    K: std::hash::Hash + Eq + Clone + Send + 'static,
{
    async fn accept(&self, event: E) -> Result<(), HandlerError> {
        let key = (self.key)(&event);
        if let Some(k) = &key {
            let first = self.seen.lock().unwrap_or_else(|p| p.into_inner()).first_time(k.clone());
            if !first {
                tracing::debug!("duplicate webhook delivery dropped");
                return Ok(());
            }
        }
        let result = self.inner.accept(event).await;
        if let (Err(_), Some(k)) = (&result, &key) {
            self.seen.lock().unwrap_or_else(|p| p.into_inner()).forget(k);
        }
        result
    }
}

/// Receiver settings.
#[derive(Clone, Copy, Debug)]
pub struct ReceiverConfig {
    /// Largest accepted body in bytes.
    pub body_limit: usize,
    /// Status of a successful answer (LivePerson and Alvaria want 200).
    pub success_status: StatusCode,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self { body_limit: 1024 * 1024, success_status: StatusCode::OK }
    }
}

/// A rejected webhook request, as an HTTP answer.
#[derive(Debug)]
pub enum Rejection {
    /// 413.
    TooLarge(usize),
    /// 401.
    Unauthorized(VerifyError),
    /// 400.
    Malformed(ParseError),
    /// 503.
    NotAccepted(HandlerError),
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            Self::TooLarge(limit) => {
                (StatusCode::PAYLOAD_TOO_LARGE, format!("payload exceeds {limit} bytes"))
            }
            Self::Unauthorized(e) => (StatusCode::UNAUTHORIZED, format!("unauthorized: {e}")),
            Self::Malformed(e) => (StatusCode::BAD_REQUEST, e.to_string()),
            Self::NotAccepted(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        };
        (status, text).into_response()
    }
}

/// Reads the body, refusing more than `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, Rejection> {
    axum::body::to_bytes(body, limit).await.map_err(|_| Rejection::TooLarge(limit))
}

/// Verifies, parses and hands over one request: the whole receiver pipeline without the
/// routing, for vendor crates that need to add steps (dedupe) around it.
pub async fn handle<I, H>(inbound: &I, handler: &H, headers: &HeaderMap, body: &[u8]) -> Result<(), Rejection>
where
    I: Inbound,
    H: EventHandler<I::Event>,
{
    inbound.verify(headers, body).map_err(|e| {
        tracing::warn!(error = %e, "webhook refused");
        Rejection::Unauthorized(e)
    })?;
    let event = inbound.parse(headers, body).map_err(|e| {
        tracing::warn!(error = %e, "webhook payload malformed");
        Rejection::Malformed(e)
    })?;
    handler.accept(event).await.map_err(Rejection::NotAccepted)
}

/// A POST route running [`handle`] with `config`. Mount it at the callback path:
/// `Router::new().route("/callback", receiver(inbound, queue, ReceiverConfig::default()))`.
pub fn receiver<I, H, S>(inbound: I, handler: H, config: ReceiverConfig) -> axum::routing::MethodRouter<S>
where
    I: Inbound,
    H: EventHandler<I::Event>,
    S: Clone + Send + Sync + 'static,
{
    let shared = Arc::new((inbound, handler));
    axum::routing::post(move |headers: HeaderMap, body: Body| {
        let shared = Arc::clone(&shared);
        async move {
            let bytes = read_body(body, config.body_limit).await?;
            handle(&shared.0, &shared.1, &headers, &bytes).await?;
            Ok::<_, Rejection>(config.success_status)
        }
    })
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;
    use crate::de::parse_json;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Ping {
        id: u32,
    }

    struct Pings;

    impl Inbound for Pings {
        type Event = Ping;
        fn verify(&self, headers: &HeaderMap, _body: &[u8]) -> Result<(), VerifyError> {
            match headers.get("x-token").map(|v| v.as_bytes()) {
                Some(b"ok") => Ok(()),
                Some(_) => Err(VerifyError::CredentialsMismatch),
                None => Err(VerifyError::MissingHeader("x-token")),
            }
        }
        fn parse(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Ping, ParseError> {
            Ok(parse_json(body)?)
        }
    }

    async fn call(app: &Router, token: Option<&str>, body: &str) -> (StatusCode, String) {
        let mut req = Request::post("/hook");
        if let Some(t) = token {
            req = req.header("x-token", t);
        }
        let resp = app.clone().oneshot(req.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
        let status = resp.status();
        let text = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(text.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn duplicates_are_acknowledged_without_reaching_the_handler() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let filter = crate::webhook::DuplicateFilter::new(100, std::time::Duration::from_secs(60));
        let dedupe = Deduplicate::new(tx, |p: &Ping| Some(p.id), filter);
        let app = Router::new().route("/hook", receiver(Pings, dedupe, ReceiverConfig::default()));
        assert_eq!(call(&app, Some("ok"), r#"{"id":1}"#).await.0, StatusCode::OK);
        assert_eq!(call(&app, Some("ok"), r#"{"id":1}"#).await.0, StatusCode::OK);
        assert_eq!(rx.try_recv().unwrap(), Ping { id: 1 });
        assert!(rx.try_recv().is_err(), "the redelivery was dropped");
        // A refused event is not remembered: its retry goes through.
        assert_eq!(call(&app, Some("ok"), r#"{"id":2}"#).await.0, StatusCode::OK);
        assert_eq!(call(&app, Some("ok"), r#"{"id":3}"#).await.0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(rx.try_recv().unwrap(), Ping { id: 2 });
        assert_eq!(call(&app, Some("ok"), r#"{"id":3}"#).await.0, StatusCode::OK);
        assert_eq!(rx.try_recv().unwrap(), Ping { id: 3 });
    }

    #[tokio::test]
    async fn answers_by_the_table() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let app = Router::new()
            .route("/hook", receiver(Pings, tx, ReceiverConfig { body_limit: 32, ..Default::default() }));

        assert_eq!(call(&app, Some("ok"), r#"{"id":1}"#).await.0, StatusCode::OK);
        assert_eq!(rx.try_recv().unwrap(), Ping { id: 1 });

        let (status, text) = call(&app, None, r#"{"id":2}"#).await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized: missing `x-token` header")
        );
        assert_eq!(call(&app, Some("bad"), r#"{"id":2}"#).await.0, StatusCode::UNAUTHORIZED);

        let (status, text) = call(&app, Some("ok"), r#"{"id":"x"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.starts_with("malformed payload at `id`:"), "{text}");

        let (status, _) = call(&app, Some("ok"), &format!(r#"{{"id":1,"pad":"{}"}}"#, "x".repeat(64))).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(rx.try_recv().is_err(), "rejected requests never reach the handler");

        // Queue full: not acknowledged, so the vendor will redeliver.
        assert_eq!(call(&app, Some("ok"), r#"{"id":3}"#).await.0, StatusCode::OK);
        assert_eq!(call(&app, Some("ok"), r#"{"id":4}"#).await.0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(rx.try_recv().unwrap(), Ping { id: 3 });
    }
}
