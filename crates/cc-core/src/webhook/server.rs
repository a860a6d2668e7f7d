//! axum building blocks for webhook receivers (feature `server`).
//!
//! A vendor crate implements [`Inbound`] (check headers, verify raw bytes, then parse); the
//! user supplies an [`EventHandler`] (usually a queue). [`receiver`] turns both into a route
//! that answers:
//!
//! | situation | answer |
//! |---|---|
//! | header credentials wrong ([`Inbound::verify_headers`]) | 401 before the body is read |
//! | body larger than the limit | 413, handler not called |
//! | body not complete within [`ReceiverConfig::body_read_timeout`] | 408, handler not called |
//! | verification fails | 401 naming the failed check, handler not called |
//! | payload does not parse | 400 naming the field path, handler not called |
//! | handler refuses (queue full or closed), or a redelivery of an event still in flight | 503, so the vendor redelivers |
//! | handler accepted | the configured success status (default 200) |
//!
//! The success answer is sent only after the handler accepted the event, so nothing that
//! was acknowledged is lost.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::claim::DeliveryGate;
use super::{ParseError, VerifyError};

/// The vendor side of a receiver: how to verify and parse one request.
pub trait Inbound: Send + Sync + 'static {
    /// What a request parses into (one event or a batch).
    type Event: Send + 'static;

    /// Checks what the headers alone can tell (Basic or bearer credentials, a JWT, sender
    /// ids) before the body is read, so an unauthenticated request costs no body read.
    /// Default: nothing to check.
    fn verify_headers(&self, headers: &HeaderMap) -> Result<(), VerifyError> {
        let _ = headers;
        Ok(())
    }

    /// Checks what needs the raw body bytes (a body signature). Runs after
    /// [`Inbound::verify_headers`]. Default: nothing more to check.
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        let _ = (headers, body);
        Ok(())
    }

    /// Parses a verified body.
    fn parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<Self::Event, ParseError>;

    /// How a parsed request is filed in an inbox ([`durable_receiver`]): its ids, its
    /// conversation and the vendor's order. Default: no ids (the body's hash dedupes), no
    /// conversation.
    fn keys(&self, event: &Self::Event) -> DeliveryKeys {
        let _ = event;
        DeliveryKeys::default()
    }
}

/// What identifies and orders one request in an inbox.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryKeys {
    /// The ids of what it carries (empty ones are ignored).
    pub ids: Vec<String>,
    /// The conversation whose order it keeps.
    pub conversation: Option<String>,
    /// The vendor's order within the conversation.
    pub order: Option<i64>,
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

impl From<super::claim::Busy> for HandlerError {
    fn from(busy: super::claim::Busy) -> Self {
        Self(busy.to_string())
    }
}

/// Drops redeliveries before they reach `inner`, through a [`DeliveryGate`]: a key is *in
/// flight* while `inner` runs (a concurrent redelivery waits for the outcome, or gets 503),
/// *committed* only after `inner` returned `Ok` (redeliveries are then acknowledged without
/// calling `inner`), and *released* when `inner` fails or its future is dropped (the client
/// closed the connection): then the redelivery is handled as new. A key of `None` is never
/// treated as a duplicate; key functions return `None` for empty ids.
pub struct Deduplicate<H, F, K> {
    inner: H,
    key: F,
    gate: Arc<DeliveryGate<K>>,
}

impl<H, F, K: std::hash::Hash + Eq + Clone> Deduplicate<H, F, K> {
    /// Wraps `inner`; `key` names each event (`None`: never treated as a duplicate);
    /// `filter` bounds what is remembered as committed.
    pub fn new(inner: H, key: F, filter: super::DuplicateFilter<K>) -> Self {
        Self::with_gate(inner, key, DeliveryGate::new(filter))
    }

    /// Wraps `inner` with a gate of yours (another in-flight wait, or a gate shared by routes).
    pub fn with_gate(inner: H, key: F, gate: Arc<DeliveryGate<K>>) -> Self {
        Self { inner, key, gate }
    }
}

#[async_trait]
impl<E, H, F, K> EventHandler<E> for Deduplicate<H, F, K>
where
    E: Send + 'static,
    H: EventHandler<E>,
    F: Fn(&E) -> Option<K> + Send + Sync + 'static,
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
{
    async fn accept(&self, event: E) -> Result<(), HandlerError> {
        let Some(key) = (self.key)(&event) else {
            return self.inner.accept(event).await;
        };
        let claim = self.gate.claim(vec![key]).await?;
        if claim.fresh().is_empty() {
            tracing::debug!("duplicate webhook delivery dropped");
            return Ok(());
        }
        // Dropped here on error or cancellation: the key is released.
        self.inner.accept(event).await?;
        claim.commit();
        Ok(())
    }
}

/// Receiver settings.
#[derive(Clone, Copy, Debug)]
pub struct ReceiverConfig {
    /// Largest accepted body in bytes.
    pub body_limit: usize,
    /// Time to receive the whole body once the head arrived (default 10 s); answered 408.
    pub body_read_timeout: Duration,
    /// Status of a successful answer (LivePerson and Alvaria want 200).
    pub success_status: StatusCode,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            body_read_timeout: Duration::from_secs(10),
            success_status: StatusCode::OK,
        }
    }
}

/// A rejected webhook request, as an HTTP answer.
#[derive(Debug)]
pub enum Rejection {
    /// 413.
    TooLarge(usize),
    /// 408: the body did not arrive in time.
    BodyTimeout(Duration),
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
            Self::BodyTimeout(limit) => {
                (StatusCode::REQUEST_TIMEOUT, format!("body not received within {} ms", limit.as_millis()))
            }
            Self::Unauthorized(e) => (StatusCode::UNAUTHORIZED, format!("unauthorized: {e}")),
            Self::Malformed(e) => (StatusCode::BAD_REQUEST, e.to_string()),
            Self::NotAccepted(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        };
        (status, text).into_response()
    }
}

/// A header's value as text; `None` when it is absent or not visible ASCII. Takes a
/// [`HeaderName`](axum::http::HeaderName) (`header::AUTHORIZATION`, or a `const` made with
/// `HeaderName::from_static`): looking up by `&str` parses the name again on every request.
pub fn header_text<'h>(headers: &'h HeaderMap, name: &axum::http::HeaderName) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads the body, refusing more than `config.body_limit` bytes or taking longer than
/// `config.body_read_timeout`.
pub async fn read_body(body: Body, config: &ReceiverConfig) -> Result<axum::body::Bytes, Rejection> {
    use std::task::Poll;
    let limit = config.body_limit;
    let read = axum::body::to_bytes(body, limit);
    tokio::pin!(read);
    // A small body has usually arrived with its headers: read it without arming a timer
    // (reading the clock and registering the deadline cost more than the read itself).
    let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
    let read = match first {
        Poll::Ready(read) => read,
        Poll::Pending => match tokio::time::timeout(config.body_read_timeout, read).await {
            Err(_) => return Err(Rejection::BodyTimeout(config.body_read_timeout)),
            Ok(read) => read,
        },
    };
    read.map_err(|_| Rejection::TooLarge(limit))
}

fn unauthorized(e: VerifyError) -> Rejection {
    tracing::warn!(error = %e, "webhook refused");
    Rejection::Unauthorized(e)
}

/// Checks the headers, reads the body, verifies and parses one request.
pub async fn verified<I: Inbound>(
    inbound: &I,
    headers: &HeaderMap,
    body: Body,
    config: &ReceiverConfig,
) -> Result<(axum::body::Bytes, I::Event), Rejection> {
    inbound.verify_headers(headers).map_err(unauthorized)?;
    let body = read_body(body, config).await?;
    inbound.verify(headers, &body).map_err(unauthorized)?;
    let event = inbound.parse(headers, &body).map_err(|e| {
        tracing::warn!(error = %e, "webhook payload malformed");
        Rejection::Malformed(e)
    })?;
    Ok((body, event))
}

/// Checks the headers, reads the body, verifies, parses and hands over one request: the
/// whole receiver pipeline without the routing.
pub async fn handle<I, H>(
    inbound: &I,
    handler: &H,
    headers: &HeaderMap,
    body: Body,
    config: &ReceiverConfig,
) -> Result<(), Rejection>
where
    I: Inbound,
    H: EventHandler<I::Event>,
{
    let (_, event) = verified(inbound, headers, body, config).await?;
    handler.accept(event).await.map_err(Rejection::NotAccepted)
}

/// Verifies and parses one request like [`handle`], then commits its raw body to `inbox`
/// (with [`Inbound::keys`], the `Content-Type` and the arrival time) before answering: 2xx
/// for a stored delivery and for a duplicate, 503 when the store failed (the vendor retries;
/// the cause is logged, not sent).
#[cfg(feature = "inbox")]
pub async fn commit<I: Inbound>(
    inbound: &I,
    inbox: &dyn crate::inbox::Inbox,
    vendor: &str,
    headers: &HeaderMap,
    body: Body,
    config: &ReceiverConfig,
) -> Result<crate::inbox::Appended, Rejection> {
    let (body, event) = verified(inbound, headers, body, config).await?;
    let keys = inbound.keys(&event);
    let mut delivery = crate::inbox::NewDelivery::new(vendor, body.to_vec());
    delivery.keys = keys.ids;
    delivery.conversation = keys.conversation;
    delivery.order = keys.order;
    delivery.content_type = header_text(headers, &axum::http::header::CONTENT_TYPE).map(str::to_owned);
    inbox.append(delivery).await.map_err(|e| {
        tracing::error!(error = %e, "webhook delivery not stored");
        Rejection::NotAccepted(HandlerError("not stored; retry".into()))
    })
}

/// A POST route running [`commit`]: the receiver that acknowledges only what is durable.
/// Mount it like [`receiver`]; consume with [`Inbox::claim`](crate::inbox::Inbox::claim).
#[cfg(feature = "inbox")]
pub fn durable_receiver<I, S>(
    inbound: I,
    inbox: Arc<dyn crate::inbox::Inbox>,
    vendor: &'static str,
    config: ReceiverConfig,
) -> axum::routing::MethodRouter<S>
where
    I: Inbound,
    S: Clone + Send + Sync + 'static,
{
    let shared = Arc::new((inbound, inbox));
    axum::routing::post(move |request: axum::extract::Request| {
        let shared = Arc::clone(&shared);
        async move {
            let (parts, body) = request.into_parts();
            commit(&shared.0, shared.1.as_ref(), vendor, &parts.headers, body, &config).await?;
            Ok::<_, Rejection>(config.success_status)
        }
    })
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
    // The request taken whole: axum's `HeaderMap` extractor would copy every header.
    axum::routing::post(move |request: axum::extract::Request| {
        let shared = Arc::clone(&shared);
        async move {
            let (parts, body) = request.into_parts();
            handle(&shared.0, &shared.1, &parts.headers, body, &config).await?;
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
        fn verify_headers(&self, headers: &HeaderMap) -> Result<(), VerifyError> {
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

    /// Over a real loopback socket: a handler whose outcome the test decides, call by call.
    mod races {
        use std::collections::VecDeque;
        use std::net::SocketAddr;
        use std::sync::Mutex;
        use std::time::Duration;

        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        use tokio::net::TcpStream;
        use tokio::sync::{mpsc, oneshot};

        use super::*;

        type Outcome = oneshot::Receiver<Result<(), HandlerError>>;

        /// Reports each call's id, then waits for the next scripted outcome (a dropped sender
        /// counts as `Ok`; an outcome never sent keeps the call pending).
        struct Scripted {
            entered: mpsc::UnboundedSender<u32>,
            outcomes: Mutex<VecDeque<Outcome>>,
        }

        #[async_trait]
        impl EventHandler<Ping> for Scripted {
            async fn accept(&self, event: Ping) -> Result<(), HandlerError> {
                let _ = self.entered.send(event.id);
                let next = self.outcomes.lock().unwrap().pop_front();
                match next {
                    Some(outcome) => outcome.await.unwrap_or(Ok(())),
                    None => Ok(()),
                }
            }
        }

        async fn start(outcomes: Vec<Outcome>) -> (SocketAddr, mpsc::UnboundedReceiver<u32>) {
            start_with(outcomes, ReceiverConfig::default()).await
        }

        async fn start_with(
            outcomes: Vec<Outcome>,
            config: ReceiverConfig,
        ) -> (SocketAddr, mpsc::UnboundedReceiver<u32>) {
            let (entered, calls) = mpsc::unbounded_channel();
            let handler = Scripted { entered, outcomes: Mutex::new(outcomes.into()) };
            let filter = crate::webhook::DuplicateFilter::new(100, Duration::from_secs(60));
            let dedupe = Deduplicate::new(handler, |p: &Ping| Some(p.id), filter);
            let app = Router::new().route("/hook", receiver(Pings, dedupe, config));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(crate::serve::serve(listener, app, crate::serve::ServerLimits::default()));
            (addr, calls)
        }

        async fn send(addr: SocketAddr, id: u32) -> TcpStream {
            let body = format!(r#"{{"id":{id}}}"#);
            let mut s = TcpStream::connect(addr).await.unwrap();
            let head = format!(
                "POST /hook HTTP/1.1\r\nhost: x\r\nx-token: ok\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            s.write_all(format!("{head}{body}").as_bytes()).await.unwrap();
            s
        }

        async fn status(mut s: TcpStream) -> u16 {
            let mut buf = vec![0u8; 1024];
            let n = s.read(&mut buf).await.unwrap();
            String::from_utf8_lossy(&buf[9..n.min(12)]).parse().unwrap()
        }

        async fn entered(calls: &mut mpsc::UnboundedReceiver<u32>) -> u32 {
            tokio::time::timeout(Duration::from_secs(5), calls.recv()).await.unwrap().unwrap()
        }

        #[tokio::test]
        async fn a_delivery_whose_client_left_is_handled_again_on_redelivery() {
            let (_never, pending) = oneshot::channel();
            let (addr, mut calls) = start(vec![pending]).await;
            let first = send(addr, 7).await;
            assert_eq!(entered(&mut calls).await, 7);
            // The vendor gives up: hyper drops the handler's future, the claim is released.
            drop(first);
            tokio::time::sleep(Duration::from_millis(50)).await;
            let again = send(addr, 7).await;
            assert_eq!(entered(&mut calls).await, 7, "the redelivery reached the handler");
            assert_eq!(status(again).await, 200);
            // Now committed: a third delivery is a duplicate.
            assert_eq!(status(send(addr, 7).await).await, 200);
            assert!(calls.try_recv().is_err());
        }

        #[tokio::test]
        async fn a_redelivery_during_a_slow_handler_waits_for_its_outcome() {
            let (fail_first, first_outcome) = oneshot::channel();
            let (addr, mut calls) = start(vec![first_outcome]).await;
            let first = send(addr, 9).await;
            assert_eq!(entered(&mut calls).await, 9);
            let redelivery = tokio::spawn(async move { status(send(addr, 9).await).await });
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(!redelivery.is_finished(), "no answer while the first delivery is in flight");
            // The first delivery is refused: 503, and the waiting redelivery is handled.
            fail_first.send(Err(HandlerError("queue full".into()))).unwrap();
            assert_eq!(status(first).await, 503);
            assert_eq!(entered(&mut calls).await, 9, "the redelivery reached the handler");
            assert_eq!(redelivery.await.unwrap(), 200);
        }

        #[tokio::test]
        async fn a_redelivery_during_a_slow_handler_that_succeeds_is_a_duplicate() {
            let (ok_first, first_outcome) = oneshot::channel();
            let (addr, mut calls) = start(vec![first_outcome]).await;
            let first = send(addr, 3).await;
            assert_eq!(entered(&mut calls).await, 3);
            let redelivery = tokio::spawn(async move { status(send(addr, 3).await).await });
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(!redelivery.is_finished());
            ok_first.send(Ok(())).unwrap();
            assert_eq!(status(first).await, 200);
            assert_eq!(redelivery.await.unwrap(), 200);
            assert!(calls.try_recv().is_err(), "the handler saw the event once");
        }

        /// The body's deadline holds whether the body came with the head, in pieces in time,
        /// or not at all.
        #[tokio::test]
        async fn a_body_that_stalls_past_its_deadline_is_answered_408() {
            let config =
                ReceiverConfig { body_read_timeout: Duration::from_millis(300), ..Default::default() };
            let (addr, mut calls) = start_with(Vec::new(), config).await;
            let head = "POST /hook HTTP/1.1\r\nhost: x\r\nx-token: ok\r\ncontent-length: 9\r\n\r\n";

            // In two pieces, the second well within the deadline.
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("{head}{{\"id\"").as_bytes()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            s.write_all(b":11}").await.unwrap();
            assert_eq!(status(s).await, 200);
            assert_eq!(entered(&mut calls).await, 11);

            // Half a body, then nothing: 408 once the deadline passes, and no event.
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("{head}{{\"id\"").as_bytes()).await.unwrap();
            let started = std::time::Instant::now();
            let answered = tokio::time::timeout(Duration::from_secs(5), status(s)).await;
            assert_eq!(answered.expect("answered once the deadline passed"), 408);
            assert!(started.elapsed() >= Duration::from_millis(250), "not before the deadline");
            assert!(calls.try_recv().is_err(), "a stalled body never reaches the handler");

            // The whole request at once (the read that arms no timer).
            assert_eq!(status(send(addr, 12).await).await, 200);
            assert_eq!(entered(&mut calls).await, 12);
        }

        #[tokio::test]
        async fn header_credentials_are_refused_before_the_body_is_read() {
            let (addr, mut calls) = start(Vec::new()).await;
            let mut s = TcpStream::connect(addr).await.unwrap();
            // A body is announced and never sent: the answer must not wait for it.
            s.write_all(b"POST /hook HTTP/1.1\r\nhost: x\r\nx-token: bad\r\ncontent-length: 100000\r\n\r\n")
                .await
                .unwrap();
            let answered = tokio::time::timeout(Duration::from_secs(2), status(s)).await;
            assert_eq!(answered.expect("answered without the body"), 401);
            assert!(calls.try_recv().is_err());
        }
    }
}

#[cfg(all(test, feature = "inbox"))]
mod durable_tests {
    use std::time::Duration;

    use axum::Router;
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;
    use crate::inbox::{
        Appended, Inbox, InboxError, InboxStats, LeaseToken, Leased, MemoryInbox, NewDelivery,
    };

    struct Ids;

    impl Inbound for Ids {
        type Event = serde_json::Value;
        fn parse(&self, _headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Value, ParseError> {
            Ok(crate::de::parse_json(body)?)
        }
        fn keys(&self, event: &serde_json::Value) -> DeliveryKeys {
            DeliveryKeys {
                ids: vec![event["id"].as_str().unwrap_or_default().to_owned()],
                conversation: event["conv"].as_str().map(str::to_owned),
                order: event["seq"].as_i64(),
            }
        }
    }

    struct Broken;

    #[async_trait]
    impl Inbox for Broken {
        async fn append(&self, _: NewDelivery) -> Result<Appended, InboxError> {
            Err(InboxError::Storage("/var/secret/path: disk full".into()))
        }
        async fn claim(&self, _: usize, _: Duration) -> Result<Vec<Leased>, InboxError> {
            Err(InboxError::Closed)
        }
        async fn ack(&self, _: LeaseToken) -> Result<bool, InboxError> {
            Err(InboxError::Closed)
        }
        async fn release(&self, _: LeaseToken, _: Duration) -> Result<bool, InboxError> {
            Err(InboxError::Closed)
        }
        async fn stats(&self) -> Result<InboxStats, InboxError> {
            Err(InboxError::Closed)
        }
    }

    async fn post(app: &Router, body: &str) -> (StatusCode, String) {
        let req = Request::post("/hook")
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()));
        let resp = app.clone().oneshot(req.unwrap()).await.unwrap();
        let status = resp.status();
        let text = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&text).into_owned())
    }

    #[tokio::test]
    async fn acknowledged_means_committed_and_a_failed_store_is_503() {
        let inbox = Arc::new(MemoryInbox::default());
        let route = durable_receiver(Ids, inbox.clone(), "test", ReceiverConfig::default());
        let app = Router::new().route("/hook", route);
        let body = r#"{"id":"e-1","conv":"c-1","seq":7}"#;
        assert_eq!(post(&app, body).await.0, StatusCode::OK);
        assert_eq!(post(&app, body).await.0, StatusCode::OK, "a redelivery is acknowledged");
        assert_eq!(post(&app, "{").await.0, StatusCode::BAD_REQUEST);
        let stored = inbox.claim(10, Duration::from_secs(30)).await.unwrap();
        assert_eq!(stored.len(), 1, "stored once");
        let d = &stored[0];
        assert_eq!((d.vendor.as_str(), d.keys.as_slice()), ("test", &["e-1".to_owned()][..]));
        assert_eq!((d.conversation.as_deref(), d.order), (Some("c-1"), Some(7)));
        assert_eq!(
            (d.content_type.as_deref(), d.body.as_slice()),
            (Some("application/json"), body.as_bytes())
        );

        let app = Router::new()
            .route("/hook", durable_receiver(Ids, Arc::new(Broken), "test", ReceiverConfig::default()));
        let (status, text) = post(&app, body).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!text.contains("/var/secret"), "the cause stays in the log: {text}");
    }
    /// Redis unreachable: 503, so the vendor retries; back: 200 again, nothing lost.
    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn redis_down_is_503_and_redis_back_is_200() {
        use crate::inbox::redis::{RedisInbox, RedisServer};
        let Some(mut server) = RedisServer::for_test("receiver on redis") else { return };
        let inbox = Arc::new(RedisInbox::open(&server.url(), crate::inbox::InboxConfig::default()).unwrap());
        let app = Router::new()
            .route("/hook", durable_receiver(Ids, inbox.clone(), "test", ReceiverConfig::default()));
        assert_eq!(post(&app, r#"{"id":"e-1"}"#).await.0, StatusCode::OK);
        server.kill();
        assert_eq!(post(&app, r#"{"id":"e-2"}"#).await.0, StatusCode::SERVICE_UNAVAILABLE);
        server.restart().unwrap();
        let mut status = StatusCode::SERVICE_UNAVAILABLE;
        for _ in 0..50 {
            status = post(&app, r#"{"id":"e-2"}"#).await.0;
            if status == StatusCode::OK {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, StatusCode::OK, "reconnected");
        assert_eq!(inbox.claim(10, Duration::from_secs(30)).await.unwrap().len(), 2);
    }
}
