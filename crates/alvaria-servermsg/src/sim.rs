//! A fake Alvaria on loopback (feature `sim`): token service, Server Messaging API, and
//! callbacks POSTed to your URL with RS256 JWTs signed by a test key, redelivered with
//! growing delays until your receiver answers 200.
//!
//! Behaviour, as the API reference documents it:
//! - token: Basic `client_id:client_secret`, form `grant_type=client_credentials`,
//!   `scope` containing `servermessagingapi`, `realm` = the org id;
//! - every API call needs `Authorization: Bearer` (a live token) and `x-api-key`; 401 without
//!   a body otherwise;
//! - create session → 202 `{sessionId}`, then NEW_SESSION SUCCESS (FAILED for work type `0`),
//!   AGENT_JOINED and an agent greeting; send message → 202 `{messageId}` and an agent reply,
//!   or MESSAGE_STATUS FAILED "Session does not exist" for an unknown or ended session;
//!   delete → 202 and SESSION_END; a session older than its lifetime gets SESSION_END from
//!   SYSTEM;
//! - errors use `{code, message, errors[{scope, reason, message}]}`.
//!
//! Faults ([`Fault`]) apply to the next API calls: a status (429 with `Retry-After`, 5xx), a
//! delay, or a connection broken in the middle of the response.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cc_core::Secret;
use cc_core::auth::parse_basic_authorization;
use cc_core::http::{Body as RequestBody, Executor, Request, RetryPolicy};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::model::{Callback, EventId, Message, MessageId, NewSession, SessionId, Status};

/// The simulator's signing key (a test key: it protects nothing).
const PRIVATE_KEY: &str = include_str!("sim_key.pem");
/// Its public half: give it to [`AlvariaWebhook`](crate::AlvariaWebhook).
pub const PUBLIC_KEY_PEM: &str = include_str!("sim_key.pub.pem");

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The org id (token `realm`, API path).
    pub org_id: String,
    /// The `x-api-key` it accepts.
    pub api_key: Secret<String>,
    /// OAuth2 client id it accepts.
    pub client_id: String,
    /// OAuth2 client secret it accepts.
    pub client_secret: Secret<String>,
    /// `expires_in` of its tokens (default 3599 s).
    pub token_lifetime: Duration,
    /// Sessions end (SESSION_END from SYSTEM) after this (default 4 h).
    pub session_lifetime: Duration,
    /// Where callbacks go (also settable later with [`AlvariaSim::set_callback_url`]).
    pub callback_url: Option<String>,
    /// The agent's alias.
    pub agent_alias: String,
    /// Delay before the agent joins and answers.
    pub agent_delay: Duration,
    /// Delay before the first redelivery of a refused callback; it doubles each time.
    pub first_redelivery: Duration,
    /// Redeliveries before giving up on a callback (Alvaria keeps trying for 4 hours).
    pub max_redeliveries: u32,
    /// Deliver every callback twice, as if the first 200 had been lost.
    pub duplicate_deliveries: bool,
}

impl SimConfig {
    /// Settings for `org_id` with the given credentials and fast timings for tests.
    pub fn new(
        org_id: impl Into<String>,
        api_key: Secret<String>,
        client_id: impl Into<String>,
        client_secret: Secret<String>,
    ) -> Self {
        Self {
            org_id: org_id.into(),
            api_key,
            client_id: client_id.into(),
            client_secret,
            token_lifetime: Duration::from_secs(3599),
            session_lifetime: Duration::from_secs(4 * 3600),
            callback_url: None,
            agent_alias: "John".into(),
            agent_delay: Duration::from_millis(20),
            first_redelivery: Duration::from_millis(50),
            max_redeliveries: 6,
            duplicate_deliveries: false,
        }
    }
}

use cc_core::sim::{Admitted, BearerTokens, Faults, SimServer, lock, record};
pub use cc_core::sim::{Fault, Simulator};

/// What the simulator saw, for assertions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Token requests answered with a token.
    pub tokens_issued: u64,
    /// Messages received from the client, by text (or attachment URL); the first
    /// [`LOG_LIMIT`](cc_core::sim::LOG_LIMIT).
    pub messages: Vec<String>,
    /// Callback POSTs made (first deliveries and redeliveries).
    pub callback_posts: u64,
}

struct SimSession {
    created: Instant,
    ended: bool,
}

struct Shared {
    config: SimConfig,
    callback_url: Mutex<Option<String>>,
    tokens: BearerTokens,
    sessions: Mutex<HashMap<SessionId, SimSession>>,
    faults: Faults,
    stats: Mutex<SimStats>,
    counter: AtomicU64,
    outbox: mpsc::UnboundedSender<Callback>,
    key: EncodingKey,
}

impl Shared {
    fn next_id(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}-{n:08X}-0000-4000-8000-{n:012X}")
    }

    fn emit(&self, callback: Callback) {
        let _ = self.outbox.send(callback);
    }

    fn event_id(&self) -> EventId {
        EventId::new(self.next_id("EVT"))
    }
}

cc_core::simulator! {
    /// A running simulator; stops when dropped. Start it, reach it and inject faults through
    /// [`Simulator`] (re-exported here): `Sim::start(config)`, `sim.base_url()`, `sim.inject(fault)`.
    pub struct AlvariaSim { state: Shared, config: SimConfig }
}

impl AlvariaSim {
    async fn launch(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let key = EncodingKey::from_rsa_pem(PRIVATE_KEY.as_bytes()).map_err(std::io::Error::other)?;
        let (outbox, inbox) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            callback_url: Mutex::new(config.callback_url.clone()),
            tokens: BearerTokens::new(config.token_lifetime),
            config,
            sessions: Mutex::default(),
            faults: Faults::default(),
            stats: Mutex::default(),
            counter: AtomicU64::new(0),
            outbox,
            key,
        });
        let app = Router::new()
            .route("/tokenservice/oauth2/access_token", post(token))
            .route(
                "/via/v2/organizations/{org}/serverMessaging/session",
                post(create_session).delete(delete_session),
            )
            .route("/via/v2/organizations/{org}/serverMessaging/message", post(send_message))
            .with_state(shared.clone());
        let mut server = SimServer::bind(addr, app).await?;
        server.spawn(deliver(shared.clone(), inbox));
        server.spawn(expire_sessions(shared.clone()));
        Ok(Self { server, shared })
    }

    /// The token URL for `TokenHost::Url`.
    pub fn token_url(&self) -> String {
        format!("{}/tokenservice/oauth2/access_token", self.server.base_url())
    }

    /// Sets where callbacks go.
    pub fn set_callback_url(&self, url: impl Into<String>) {
        *lock(&self.shared.callback_url) = Some(url.into());
    }

    /// Invalidates every token issued so far: the next API call gets 401.
    pub fn expire_tokens(&self) {
        self.shared.tokens.expire_all();
    }

    /// Sends SESSION_REROUTE to another agent.
    pub fn reroute(&self, session: &SessionId, agent_alias: &str) {
        self.shared.emit(Callback::SessionReroute {
            session_id: session.clone(),
            agent_alias: Some(agent_alias.into()),
            worktype_id: None,
            event_id: self.shared.event_id(),
        });
    }

    /// The agent sends `text`.
    pub fn agent_says(&self, session: &SessionId, text: &str) {
        self.shared.emit(agent_message(&self.shared, session, text));
    }

    /// Ends a session on the simulator's side without sending SESSION_END, as if that
    /// callback had been lost: the client still believes the session is active.
    pub fn end_silently(&self, session: &SessionId) {
        if let Some(s) = lock(&self.shared.sessions).get_mut(session) {
            s.ended = true;
        }
    }

    /// What the simulator saw so far.
    pub fn stats(&self) -> SimStats {
        lock(&self.shared.stats).clone()
    }
}

fn agent_message(shared: &Shared, session: &SessionId, text: &str) -> Callback {
    Callback::Message {
        session_id: session.clone(),
        sender_id: shared.config.agent_alias.to_lowercase(),
        message: Message::text(text),
        event_id: shared.event_id(),
    }
}

fn error_body(status: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "code": status.as_u16(),
        "message": status.canonical_reason().unwrap_or("error").to_lowercase(),
        "errors": [{"scope": "request", "reason": reason, "message": message}],
    });
    (status, axum::Json(body)).into_response()
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let config = &shared.config;
    let basic =
        headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(parse_basic_authorization);
    let client_ok = basic.is_some_and(|(id, secret)| {
        id == config.client_id && secret.expose_secret() == config.client_secret.expose_secret()
    });
    if !client_ok {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client"}))).into_response();
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "unsupported_grant_type"})))
            .into_response();
    }
    if !form.get("scope").is_some_and(|s| s.split(' ').any(|s| s == "servermessagingapi")) {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_scope"}))).into_response();
    }
    if form.get("realm") != Some(&config.org_id) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_request", "error_description": "unknown realm"})),
        )
            .into_response();
    }
    let access_token = shared.next_id("TOK");
    shared.tokens.issue(access_token.clone());
    lock(&shared.stats).tokens_issued += 1;
    axum::Json(json!({
        "access_token": access_token,
        "scope": "servermessagingapi",
        "token_type": "Bearer",
        "expires_in": config.token_lifetime.as_secs(),
    }))
    .into_response()
}

/// Checks the bearer token and the API key, then takes the admission step
/// (`cc_core::sim::Faults::admit`).
async fn admit(shared: &Shared, headers: &HeaderMap) -> Result<Admitted, Response> {
    let key_ok = headers.get("x-api-key").and_then(|v| v.to_str().ok())
        == Some(shared.config.api_key.expose_secret().as_str());
    if !shared.tokens.authorized(headers) || !key_ok {
        return Err(StatusCode::UNAUTHORIZED.into_response());
    }
    shared.faults.admit(|status| error_body(status, "injected", "fault injected by the simulator")).await
}

fn session_header(headers: &HeaderMap) -> Option<SessionId> {
    headers.get("server-messaging-session-id").and_then(|v| v.to_str().ok()).map(SessionId::from)
}

/// The 400 the API answers without a `server-messaging-session-id` header.
fn missing_session() -> Response {
    error_body(StatusCode::BAD_REQUEST, "missingHeader", "server-messaging-session-id is required")
}

async fn create_session(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admitted = match admit(&shared, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if org != shared.config.org_id {
        return error_body(StatusCode::NOT_FOUND, "notFound", "unknown organization");
    }
    let request: NewSession = match cc_core::de::parse_json(&body) {
        Ok(r) => r,
        Err(e) => return error_body(StatusCode::BAD_REQUEST, "invalidBody", &e.to_string()),
    };
    let session = SessionId::new(shared.next_id("SES"));
    shared
        .sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(session.clone(), SimSession { created: Instant::now(), ended: false });
    if request.work_type_id.as_str() == "0" {
        shared.emit(Callback::NewSession {
            session_id: session.clone(),
            status: Status::Failed,
            status_message: Some("Invalid work type".into()),
            event_id: shared.event_id(),
        });
    } else {
        shared.emit(Callback::NewSession {
            session_id: session.clone(),
            status: Status::Success,
            status_message: None,
            event_id: shared.event_id(),
        });
        let shared2 = shared.clone();
        let id = session.clone();
        tokio::spawn(async move {
            tokio::time::sleep(shared2.config.agent_delay).await;
            shared2.emit(Callback::AgentJoined {
                session_id: id.clone(),
                agent_alias: shared2.config.agent_alias.clone(),
                event_id: shared2.event_id(),
            });
            let greeting = format!(
                "Hi {}, this is {}. How can I help?",
                request.contact_name, shared2.config.agent_alias
            );
            shared2.emit(agent_message(&shared2, &id, &greeting));
        });
    }
    admitted.respond((StatusCode::ACCEPTED, axum::Json(json!({ "sessionId": session }))))
}

async fn send_message(
    State(shared): State<Arc<Shared>>,
    Path(_org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admitted = match admit(&shared, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let Some(session) = session_header(&headers) else { return missing_session() };
    let message: Message = match cc_core::de::parse_json(&body) {
        Ok(m) => m,
        Err(e) => return error_body(StatusCode::BAD_REQUEST, "invalidBody", &e.to_string()),
    };
    let message_id = MessageId::new(shared.next_id("MSG"));
    let alive = lock(&shared.sessions).get(&session).is_some_and(|s| !s.ended);
    if alive {
        let shown = message
            .text
            .clone()
            .or_else(|| message.attachment.as_ref().map(|a| a.url.clone()))
            .unwrap_or_default();
        record(&mut lock(&shared.stats).messages, shown.clone());
        let shared2 = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(shared2.config.agent_delay).await;
            shared2.emit(agent_message(&shared2, &session, &format!("You said: {shown}")));
        });
    } else {
        shared.emit(Callback::MessageStatus {
            session_id: session,
            status: Status::Failed,
            message_id: message_id.clone(),
            status_message: Some("Session does not exist".into()),
            event_id: shared.event_id(),
        });
    }
    admitted.respond((StatusCode::ACCEPTED, axum::Json(json!({ "messageId": message_id }))))
}

async fn delete_session(
    State(shared): State<Arc<Shared>>,
    Path(_org): Path<String>,
    headers: HeaderMap,
) -> Response {
    let admitted = match admit(&shared, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let Some(session) = session_header(&headers) else { return missing_session() };
    let existed = {
        let mut sessions = lock(&shared.sessions);
        match sessions.get_mut(&session) {
            Some(s) if !s.ended => {
                s.ended = true;
                true
            }
            _ => false,
        }
    };
    if !existed {
        return error_body(StatusCode::NOT_FOUND, "notFound", "not found");
    }
    shared.emit(Callback::SessionEnd {
        session_id: session,
        status: Status::Success,
        from: None,
        event_id: shared.event_id(),
    });
    admitted.respond((StatusCode::ACCEPTED, axum::Json(Value::Null)))
}

async fn expire_sessions(shared: Arc<Shared>) {
    let tick = (shared.config.session_lifetime / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        let expired: Vec<SessionId> = {
            let mut sessions = lock(&shared.sessions);
            sessions
                .iter_mut()
                .filter(|(_, s)| !s.ended && s.created.elapsed() >= shared.config.session_lifetime)
                .map(|(id, s)| {
                    s.ended = true;
                    id.clone()
                })
                .collect()
        };
        for session_id in expired {
            shared.emit(Callback::SessionEnd {
                session_id,
                status: Status::Success,
                from: Some("SYSTEM".into()),
                event_id: shared.event_id(),
            });
        }
    }
}

/// Delivers callbacks in order; a refused one is redelivered with doubling delays.
async fn deliver(shared: Arc<Shared>, mut inbox: mpsc::UnboundedReceiver<Callback>) {
    let Ok(http) =
        Executor::builder().retry_policy(RetryPolicy::no_retries()).user_agent("alvaria-sim").build()
    else {
        return;
    };
    while let Some(callback) = inbox.recv().await {
        let Some(url) = lock(&shared.callback_url).clone() else {
            continue;
        };
        let body = serde_json::to_vec(&callback).unwrap_or_default();
        let mut delay = shared.config.first_redelivery;
        let deliveries = if shared.config.duplicate_deliveries { 2 } else { 1 };
        for _ in 0..deliveries {
            for attempt in 0..=shared.config.max_redeliveries {
                if attempt > 0 {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                lock(&shared.stats).callback_posts += 1;
                let request = Request::post(url.as_str())
                    .without_auth()
                    .secret_header("authorization", Secret::new(format!("Bearer {}", sign(&shared))))
                    .body(RequestBody::Bytes { content_type: "application/json".into(), data: body.clone() });
                if matches!(http.send(&request).await, Ok(r) if r.status() == 200) {
                    break;
                }
            }
        }
    }
}

fn sign(shared: &Shared) -> String {
    sign_with(&shared.key, &shared.config.org_id)
}

fn sign_with(key: &EncodingKey, subject: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({"iss": "alvaria-sim", "sub": subject, "iat": now, "exp": now + 300});
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, key).unwrap_or_default()
}

/// A callback JWT (5 minutes) signed with the simulator's test key, for tools that send
/// callbacks themselves; verify it with [`PUBLIC_KEY_PEM`].
pub fn test_callback_jwt(subject: &str) -> Result<String, String> {
    let key = EncodingKey::from_rsa_pem(PRIVATE_KEY.as_bytes()).map_err(|e| e.to_string())?;
    Ok(sign_with(&key, subject))
}
