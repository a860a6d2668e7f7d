//! A fake LivePerson on loopback (feature `sim`): domain discovery, Sentinel, the IdP, the
//! Send API and Swift on one port, a scripted agent, and webhook notifications signed and
//! retried by `lp-notifications`' sender — a whole connector loop, offline.
//!
//! As documented (see `docs/vendors/liveperson.md`): CSDS lists `asyncMessagingEnt`,
//! `sentinel`, `idp` and `swift`; Sentinel takes `v` and `grant_type` in the query and the
//! client id and secret as a form, and answers an RS256-shaped JWT with `exp − iat` = the
//! lifetime and no `expires_in`; the IdP answers 201 with a JWS naming `lp_consumer_id`; the
//! Send API checks the bare AppJWT and the `X-LP-ON-BEHALF` JWS and refuses with LivePerson's
//! 401 body and codes (40102 invalid or expired AppJWT, 40103 invalid JWS, 40104 JWS missing,
//! 40105 AppJWT missing); answers carry `reqId`, `code: "OK"` and a per-dialog `sequence`
//! for content and receipts; Swift takes PUT and GET on temporary URLs signed for one
//! method and one minute.
//!
//! The agent ("Sam", `sim-agent-1`): after an open, a snapshot of the new conversation, then
//! one with the agent assigned, typing, and a greeting; to every consumer text, ACCEPT and
//! READ receipts, typing, and `You wrote: …`; to a consumer file, a thank-you and a file of
//! its own (downloadable). Like LivePerson, it echoes the consumer's own events back to the
//! webhook. Closing the conversation (or [`LpSim::agent_closes`]) sends the CLOSE snapshot;
//! closing the main dialog opens a post-survey dialog.
//!
//! **The simulator's own choices** (LivePerson documents no other bodies): an unknown account
//! gets 404 from CSDS, the IdP and the Send API; refused Sentinel credentials get 401 `invalid_client`; a call on an
//! unknown or closed conversation gets 400 without an `errorCode`; a JWS that does not own
//! the conversation gets 401 without an `errorCode`; an injected fault's body has the status
//! as its `code`.

// Handlers' helpers return the refusal to answer with: a response, sent at once, never kept.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use cc_core::Secret;
use cc_core::auth::{HmacAlgorithm, SignatureEncoding, hmac};
use lp_notifications::sim::{LpSim as Sender, RetryMode, SimConfig as SenderConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::model::{
    AcceptStatus, ChatState, Content, ConversationField, FileType, GenerateDownloadUrl, GenerateUploadUrl,
    MAX_FILE_BYTES, MessagingEvent, PublishEvent, Req, SERVICES, UpdateConversationField, chat_state_event,
    file_event, receipt_event, text_event,
};

use cc_core::sim::{Admitted, BearerTokens, Faults, SimServer, lock, record};
pub use cc_core::sim::{Fault, Simulator};

/// The agent's participant id.
pub const AGENT_ID: &str = "sim-agent-1";

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The account.
    pub account_id: String,
    /// The app installation's client id (also `x-liveperson-client-id` on webhooks).
    pub client_id: String,
    /// Its secret (also the webhook signing key, as LivePerson signs with the app's secret).
    pub client_secret: Secret<String>,
    /// AppJWT lifetime (LivePerson: one hour).
    pub app_jwt_lifetime: Duration,
    /// Where notifications go (also settable with [`LpSim::set_webhook_url`]).
    pub webhook_url: Option<String>,
    /// Delay before each agent action.
    pub agent_delay: Duration,
    /// How notifications are retried (default 3 retries from 20 ms).
    pub webhook_retry: RetryMode,
}

impl SimConfig {
    /// Settings for one account and app, fast agent timings.
    pub fn new(
        account_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret<String>,
    ) -> Self {
        Self {
            account_id: account_id.into(),
            client_id: client_id.into(),
            client_secret,
            app_jwt_lifetime: Duration::from_secs(3600),
            webhook_url: None,
            agent_delay: Duration::from_millis(5),
            webhook_retry: RetryMode::Count(3),
        }
    }
}

/// One request as the simulator saw it, credentials replaced by what they were
/// (`<AppJWT 1>`, `<ConsumerJWS 1>`, `<secret>`, `<signature>`): the built requests, for
/// snapshots.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query parameters.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    /// The headers that matter: `authorization`, `x-lp-on-behalf`, `client-properties`,
    /// `content-type`.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON, a form (secret replaced), or the byte count.
    pub body: Value,
}

/// What the simulator saw and did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimStats {
    /// AppJWTs issued.
    pub app_jwts: u64,
    /// ConsumerJWSs issued.
    pub consumer_jwss: u64,
    /// Conversations opened.
    pub conversations: u64,
    /// Publishes accepted: `(dialog, event type[:detail])`; the first [`LOG_LIMIT`](cc_core::sim::LOG_LIMIT).
    pub published: Vec<(String, String)>,
    /// CSAT answers: `(conversation, rate)`; the first [`LOG_LIMIT`](cc_core::sim::LOG_LIMIT).
    pub csat: Vec<(String, u8)>,
    /// Files stored through Swift.
    pub uploads: u64,
    /// Files read through Swift.
    pub downloads: u64,
    /// Notifications delivered (200/201) and not delivered.
    pub notifications: (u64, u64),
    /// Every request, in order; the first [`LOG_LIMIT`](cc_core::sim::LOG_LIMIT).
    pub requests: Vec<Seen>,
}

struct Conversation {
    consumer: String,
    open: bool,
    next_sequence: u64,
    survey: Option<String>,
    started: i64,
    /// The last snapshot's `metaDataLastUpdateTs`: each one is later than the one before, as
    /// receivers drop a snapshot that is not newer than the last (two in one millisecond
    /// would lose the second).
    last_update: i64,
}

struct Consumer {
    ext: String,
    lp_id: String,
}

struct Shared {
    config: SimConfig,
    base: String,
    webhook_url: Mutex<Option<String>>,
    app_jwts: BearerTokens,
    consumers: Mutex<HashMap<String, Consumer>>,
    generation: Mutex<HashMap<String, u64>>,
    conversations: Mutex<HashMap<String, Conversation>>,
    files: Mutex<HashMap<String, Vec<u8>>>,
    faults: Faults,
    stats: Mutex<SimStats>,
    counter: AtomicU64,
    outbox: mpsc::UnboundedSender<Value>,
}

fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A JWT-shaped token: Base64url header and claims, and a signature over `signed` that only
/// the simulator can make (it checks tokens by the set it issued, not by their signature).
fn jwt(header: &Value, claims: &Value, key: &str, signed: &str) -> String {
    let b64url = |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.{}", b64url(header), b64url(claims), hex_hmac(key, signed, HmacAlgorithm::Sha256))
}

fn hex_hmac(key: &str, message: &str, algorithm: HmacAlgorithm) -> String {
    SignatureEncoding::Hex.encode(&hmac(algorithm, key.as_bytes(), message.as_bytes()))
}

/// LivePerson's error body: `{"kind":"resp","code":N,"body":{"title","details","errorCode"?},"type":".ReqBody$ErrorResp"}`.
fn lp_error(status: StatusCode, title: &str, details: &str, code: Option<u32>) -> Response {
    let mut body = json!({"title": title, "details": details});
    if let Some(code) = code {
        body["errorCode"] = code.into();
    }
    let answer = json!({"kind": "resp", "code": status.as_u16(), "body": body, "type": ".ReqBody$ErrorResp"});
    (status, axum::Json(answer)).into_response()
}

impl Shared {
    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Records a request, credentials named by what they are, with `body` as shown.
    fn see(&self, call: &Call, body: Value) {
        let mut shown = BTreeMap::new();
        for name in ["authorization", "x-lp-on-behalf", "client-properties", "content-type"] {
            if let Some(value) = call.headers.get(name).and_then(|v| v.to_str().ok()) {
                let value = match name {
                    "authorization" => self.name_app_jwt(value),
                    "x-lp-on-behalf" => self.name_jws(value),
                    _ => value.to_owned(),
                };
                shown.insert(name.to_owned(), value);
            }
        }
        let query = call
            .query
            .iter()
            .map(|(k, v)| {
                let v = match k.as_str() {
                    "temp_url_sig" => "<signature>".to_owned(),
                    "temp_url_expires" => "<expires>".to_owned(),
                    _ => v.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        record(
            &mut lock(&self.stats).requests,
            Seen { method: call.method.to_string(), path: call.path.clone(), query, headers: shown, body },
        );
    }

    fn name_app_jwt(&self, value: &str) -> String {
        let jti = crate::model::jwt_claims(value).and_then(|c| c.get("jti").and_then(Value::as_u64));
        match (value.starts_with("Bearer "), jti) {
            (true, _) => "Bearer <…>".into(),
            (false, Some(n)) => format!("<AppJWT {n}>"),
            (false, None) => "<not an AppJWT>".into(),
        }
    }

    fn name_jws(&self, value: &str) -> String {
        match lock(&self.consumers).get(value) {
            Some(c) => format!("<ConsumerJWS of {}>", c.ext),
            None => "<unknown JWS>".into(),
        }
    }

    /// The AppJWT check every call but CSDS and Sentinel takes.
    fn check_app_jwt(&self, headers: &HeaderMap) -> Result<(), Response> {
        match headers.get("authorization").and_then(|v| v.to_str().ok()) {
            None => Err(lp_error(
                StatusCode::UNAUTHORIZED,
                "AppJWT is missing",
                "AUTHORIZATION header is not present",
                Some(40105),
            )),
            Some(token) if self.app_jwts.is_live(token) => Ok(()),
            Some(_) => Err(lp_error(
                StatusCode::UNAUTHORIZED,
                "Invalid AppJWT",
                "AppJWT has expired or is invalid",
                Some(40102),
            )),
        }
    }

    /// The AppJWT and JWS checks of the Send API; the consumer's LivePerson id.
    fn check_consumer(&self, headers: &HeaderMap) -> Result<String, Response> {
        self.check_app_jwt(headers)?;
        let Some(jws) = headers.get("x-lp-on-behalf").and_then(|v| v.to_str().ok()) else {
            return Err(lp_error(
                StatusCode::UNAUTHORIZED,
                "ConsumerJWS is missing",
                "X_ON_BEHALF_HEADER is not present",
                Some(40104),
            ));
        };
        lock(&self.consumers).get(jws).map(|c| c.lp_id.clone()).ok_or_else(|| {
            lp_error(StatusCode::UNAUTHORIZED, "Invalid ConsumerJWS", "ConsumerJWS is invalid", Some(40103))
        })
    }

    /// What every Send API call does first: record it, check the account, the AppJWT and the
    /// JWS. The body as JSON and the consumer's LivePerson id.
    fn consumer_call(&self, account: &str, call: &Call) -> Result<(Value, String), Response> {
        let json_body = call.json();
        self.see(call, json_body.clone());
        if account != self.config.account_id {
            return Err(unknown_account());
        }
        Ok((json_body, self.check_consumer(&call.headers)?))
    }

    async fn admit(&self) -> Result<Admitted, Response> {
        let injected = |status: StatusCode| lp_error(status, "fault injected by the simulator", "", None);
        self.faults.admit(injected).await
    }

    fn notify(&self, notification: Value) {
        let _ = self.outbox.send(notification);
    }

    /// A messaging notification of one change.
    fn messaging(
        &self,
        conversation: &str,
        dialog: &str,
        who: &str,
        role: &str,
        sequence: Option<u64>,
        event: &MessagingEvent,
    ) {
        let mut change = json!({
            "originatorId": who, "originatorMetadata": {"id": who, "role": role},
            "event": event, "conversationId": conversation, "dialogId": dialog,
        });
        if let Some(sequence) = sequence {
            change["sequence"] = sequence.into();
            change["serverTimestamp"] = now_millis().into();
        }
        self.notify(json!({"kind": "notification", "body": {"changes": [change]}, "type": "ms.MessagingEventNotification"}));
    }

    /// A conversation snapshot.
    fn snapshot(&self, conversation: &str, agent: bool, close_reason: Option<&str>) {
        let (consumer, survey, started, updated) = match lock(&self.conversations).get_mut(conversation) {
            // A snapshot scheduled before the close would reopen the conversation.
            Some(c) if !c.open && close_reason.is_none() => return,
            Some(c) => {
                c.last_update = now_millis().max(c.last_update + 1);
                (c.consumer.clone(), c.survey.clone(), c.started, c.last_update)
            }
            None => return,
        };
        let stage = if close_reason.is_some() { "CLOSE" } else { "OPEN" };
        let mut participants = vec![json!({"id": consumer, "role": "CONSUMER"})];
        if agent {
            participants.push(json!({"id": AGENT_ID, "role": "ASSIGNED_AGENT"}));
        }
        let main_state = if survey.is_some() || close_reason.is_some() { "CLOSE" } else { "OPEN" };
        let mut dialogs = vec![json!({"dialogId": conversation, "dialogType": "MAIN", "state": main_state})];
        if let Some(survey) = &survey {
            dialogs.push(json!({"dialogId": survey, "dialogType": "POST_SURVEY", "state": stage}));
        }
        let mut details = json!({
            "participants": participants, "dialogs": dialogs, "state": main_state, "stage": stage,
            "startTs": started, "metaDataLastUpdateTs": updated, "brandId": self.config.account_id,
        });
        if let Some(reason) = close_reason {
            details["closeReason"] = reason.into();
            details["endTs"] = updated.into();
        }
        self.notify(json!({"kind": "notification", "type": "cqm.ExConversationChangeNotification",
            "body": {"changes": [{"type": "UPSERT", "result": {"convId": conversation, "conversationDetails": details}}]}}));
    }

    /// The next sequence of a conversation's dialogs.
    fn sequence(&self, conversation: &str) -> u64 {
        let mut conversations = lock(&self.conversations);
        match conversations.get_mut(conversation) {
            Some(c) => {
                let n = c.next_sequence;
                c.next_sequence += 1;
                n
            }
            None => 0,
        }
    }

    /// The agent's part, each step after `agent_delay`.
    fn agent(self: &Arc<Self>, conversation: String, steps: Vec<AgentStep>) {
        let shared = self.clone();
        tokio::spawn(async move {
            for step in steps {
                tokio::time::sleep(shared.config.agent_delay).await;
                let c = conversation.as_str();
                match step {
                    AgentStep::Snapshot { agent } => shared.snapshot(c, agent, None),
                    AgentStep::Say(event) => {
                        let sequence = match &event {
                            MessagingEvent::ChatStateEvent(_) => None,
                            _ => Some(shared.sequence(c)),
                        };
                        shared.messaging(c, c, AGENT_ID, "ASSIGNED_AGENT", sequence, &event);
                    }
                    AgentStep::Close(reason) => {
                        if let Some(conv) = lock(&shared.conversations).get_mut(c) {
                            conv.open = false;
                        }
                        shared.snapshot(c, true, Some(reason));
                    }
                }
            }
        });
    }

    /// A file the agent shares: stored, its path returned.
    fn store_file(&self, bytes: Vec<u8>, file_type: &str) -> String {
        let path = format!(
            "/v1/AUTH_async-images/{}/{:08x}-6be5-4c2b-9b1f-agent.{}",
            self.config.account_id,
            self.next(),
            file_type
        );
        lock(&self.files).insert(path.clone(), bytes);
        path
    }

    fn temp_url(&self, method: &str, path: &str) -> Value {
        let expires = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) + 60;
        let sig = hex_hmac(
            self.config.client_secret.expose_secret(),
            &format!("{method}\n{expires}\n{path}"),
            HmacAlgorithm::Sha1,
        );
        json!({"relativePath": path, "queryParams": {"temp_url_sig": sig, "temp_url_expires": expires.to_string()}})
    }
}

enum AgentStep {
    Snapshot { agent: bool },
    Say(MessagingEvent),
    Close(&'static str),
}

/// A 1×1 PNG: the file the agent sends back.
pub const AGENT_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00,
    0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05,
    0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42,
    0x60, 0x82,
];

cc_core::simulator! {
    /// A running simulator; stops when dropped. Start it, reach it and inject faults through
    /// [`Simulator`] (re-exported here): `LpSim::start(config)`, `sim.base_url()`,
    /// `sim.inject(fault)`. Point the client's `csds_url` at `base_url()`.
    pub struct LpSim { state: Shared, config: SimConfig }
}

impl LpSim {
    async fn launch(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let (outbox, inbox) = mpsc::unbounded_channel();
        let mut sender_config = SenderConfig::new(
            config.account_id.clone(),
            config.client_id.clone(),
            config.client_secret.clone(),
        );
        sender_config.retry = config.webhook_retry;
        sender_config.first_delay = Duration::from_millis(20);
        sender_config.max_delay = Duration::from_millis(500);
        let sender = Sender::new(sender_config).map_err(std::io::Error::other)?;
        let (mut server, shared) = SimServer::bind_with(addr, |bound| {
            let shared = Arc::new(Shared {
                base: format!("http://{bound}"),
                webhook_url: Mutex::new(config.webhook_url.clone()),
                app_jwts: BearerTokens::new(config.app_jwt_lifetime),
                config,
                consumers: Mutex::default(),
                generation: Mutex::default(),
                conversations: Mutex::default(),
                files: Mutex::default(),
                faults: Faults::default(),
                stats: Mutex::default(),
                counter: AtomicU64::new(0),
                outbox,
            });
            let app = Router::new()
                .route("/api/account/{account}/service/baseURI.json", get(csds_all))
                .route("/api/account/{account}/service/{service}/baseURI.json", get(csds_one))
                .route("/sentinel/api/account/{account}/app/token", post(sentinel))
                .route("/api/account/{account}/consumer", post(idp))
                .route("/api/account/{account}/messaging/consumer/conversation", post(open))
                .route("/api/account/{account}/messaging/consumer/conversation/send", post(send))
                .route(
                    "/v1/AUTH_async-images/{account}/{file}",
                    put(swift).get(swift).layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 1024)),
                )
                .with_state(shared.clone());
            (app, shared)
        })
        .await?;
        server.spawn(deliver(shared.clone(), sender, inbox));
        Ok(Self { server, shared })
    }

    /// Sets where notifications go.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        *lock(&self.shared.webhook_url) = Some(url.into());
    }

    /// Invalidates every AppJWT: the next call gets 401 `40102`.
    pub fn expire_app_jwts(&self) {
        self.shared.app_jwts.expire_all();
    }

    /// Invalidates a consumer's JWS (the next call with it gets 401 `40103`); the IdP issues
    /// a different one next time.
    pub fn revoke_consumer_jws(&self, ext_consumer_id: &str) {
        lock(&self.shared.consumers).retain(|_, c| c.ext != ext_consumer_id);
        *lock(&self.shared.generation).entry(ext_consumer_id.to_owned()).or_default() += 1;
    }

    /// The agent closes the conversation.
    pub fn agent_closes(&self, conversation: &str) {
        self.shared.agent(conversation.to_owned(), vec![AgentStep::Close("AGENT")]);
    }

    /// The bytes stored at a file path.
    pub fn file(&self, relative_path: &str) -> Option<Vec<u8>> {
        lock(&self.shared.files).get(relative_path).cloned()
    }

    /// What the simulator saw.
    pub fn stats(&self) -> SimStats {
        lock(&self.shared.stats).clone()
    }
}

/// One API call as the handlers read it: method, path, query, headers, body.
struct Call {
    method: Method,
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Call {
    /// The body as JSON (`null` when it is not JSON: the handler refuses it).
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        let query =
            form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
        let (method, path, headers) =
            (parts.method.clone(), parts.uri.path().to_owned(), parts.headers.clone());
        let body = Bytes::from_request(axum::extract::Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self { method, path, query, headers, body })
    }
}

async fn csds_all(State(shared): State<Arc<Shared>>, Path(account): Path<String>, call: Call) -> Response {
    shared.see(&call, Value::Null);
    if account != shared.config.account_id {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"error": "account not found"}))).into_response();
    }
    let admitted = match shared.admit().await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    let uris: Vec<Value> =
        SERVICES.iter().map(|s| json!({"service": s, "account": account, "baseURI": shared.base})).collect();
    admitted.respond(axum::Json(json!({"baseURIs": uris})))
}

async fn csds_one(
    State(shared): State<Arc<Shared>>,
    Path((account, service)): Path<(String, String)>,
    call: Call,
) -> Response {
    shared.see(&call, Value::Null);
    if account != shared.config.account_id || !SERVICES.contains(&service.as_str()) {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"error": "not found"}))).into_response();
    }
    axum::Json(json!({"service": service, "account": account, "baseURI": shared.base})).into_response()
}

async fn sentinel(State(shared): State<Arc<Shared>>, Path(account): Path<String>, call: Call) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&call.body).into_owned().collect();
    let mut shown: BTreeMap<&str, &str> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if shown.contains_key("client_secret") {
        shown.insert("client_secret", "<secret>");
    }
    shared.see(&call, json!({ "form": shown }));
    let q = &call.query;
    if q.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "unsupported_grant_type"})))
            .into_response();
    }
    let config = &shared.config;
    let valid = account == config.account_id
        && form.get("client_id") == Some(&config.client_id)
        && form.get("client_secret").map(String::as_str)
            == Some(config.client_secret.expose_secret().as_str());
    if !valid {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client", "error_description": "Invalid client credentials"})),
        )
            .into_response();
    }
    let admitted = match shared.admit().await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    let iat = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let jti = shared.next();
    let claims = json!({"aud": account, "azp": config.client_id, "scope": "msg.consumer", "iss": "Sentinel",
        "exp": iat + config.app_jwt_lifetime.as_secs(), "iat": iat, "jti": jti});
    let header = json!({"kid": "appjwt-sim", "typ": "JWT", "alg": "RS256"});
    let token = jwt(&header, &claims, config.client_secret.expose_secret(), &jti.to_string());
    shared.app_jwts.issue(token.clone());
    lock(&shared.stats).app_jwts += 1;
    admitted.respond(axum::Json(json!({"access_token": token, "token_type": "Bearer"})))
}

async fn idp(State(shared): State<Arc<Shared>>, Path(account): Path<String>, call: Call) -> Response {
    let json_body = call.json();
    shared.see(&call, json_body.clone());
    if account != shared.config.account_id {
        return unknown_account();
    }
    if let Err(refused) = shared.check_app_jwt(&call.headers) {
        return refused;
    }
    let Some(ext) = json_body.get("ext_consumer_id").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
        return lp_error(
            StatusCode::BAD_REQUEST,
            "Missing parameter",
            "ext_consumer_id is missing",
            Some(40001),
        );
    };
    let admitted = match shared.admit().await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    let account = &shared.config.account_id;
    let generation = lock(&shared.generation).get(ext).copied().unwrap_or(0);
    // The same external id names the same consumer; a revoked JWS is replaced by a new one.
    let lp_id = hex_hmac(account, ext, HmacAlgorithm::Sha256);
    let claims =
        json!({"account_id": account, "ext_consumer_id": ext, "lp_consumer_id": lp_id, "gen": generation});
    let header = json!({"alg": "RS256", "typ": "JWT"});
    let token =
        jwt(&header, &claims, shared.config.client_secret.expose_secret(), &format!("{ext}/{generation}"));
    lock(&shared.consumers).insert(token.clone(), Consumer { ext: ext.to_owned(), lp_id });
    lock(&shared.stats).consumer_jwss += 1;
    admitted.respond((StatusCode::CREATED, axum::Json(json!({"token": token}))))
}

/// The simulator's answer for another account (our choice: LivePerson documents none).
fn unknown_account() -> Response {
    lp_error(StatusCode::NOT_FOUND, "Not found", "unknown account", None)
}

fn bad_request(details: &str) -> Response {
    lp_error(StatusCode::BAD_REQUEST, "The input was invalid", details, None)
}

async fn open(State(shared): State<Arc<Shared>>, Path(account): Path<String>, call: Call) -> Response {
    let (json_body, consumer) = match shared.consumer_call(&account, &call) {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let requests: Vec<Req> = match serde_json::from_value(json_body) {
        Ok(r) => r,
        Err(e) => return bad_request(&format!("expected an array of requests: {e}")),
    };
    let types: Vec<&str> = requests.iter().map(|r| r.request_type.as_str()).collect();
    if types != ["userprofile.SetUserProfile", "cm.ConsumerRequestConversation"] {
        return bad_request("expected SetUserProfile, then ConsumerRequestConversation");
    }
    if requests[1].body.get("brandId").and_then(Value::as_str) != Some(shared.config.account_id.as_str()) {
        return lp_error(StatusCode::BAD_REQUEST, "Missing parameter", "Brand Id is missing", Some(40001));
    }
    let admitted = match shared.admit().await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    let n = shared.next();
    let conversation = format!("{n:08x}-dce1-446b-8445-0d51f5926a42");
    lock(&shared.conversations).insert(
        conversation.clone(),
        Conversation {
            consumer,
            open: true,
            next_sequence: 0,
            survey: None,
            started: now_millis(),
            last_update: 0,
        },
    );
    lock(&shared.stats).conversations += 1;
    shared.agent(
        conversation.clone(),
        vec![
            AgentStep::Snapshot { agent: false },
            AgentStep::Snapshot { agent: true },
            AgentStep::Say(chat_state_event(ChatState::Composing)),
            AgentStep::Say(text_event("Hi, this is Sam. How can I help?")),
        ],
    );
    admitted.respond(axum::Json(json!([
        {"code": "OK", "body": {"msg": "OK User Profile set successfully"}, "reqId": requests[0].id},
        {"code": "OK", "body": {"conversationId": conversation}, "reqId": requests[1].id},
    ])))
}

async fn send(State(shared): State<Arc<Shared>>, Path(account): Path<String>, call: Call) -> Response {
    let (json_body, consumer) = match shared.consumer_call(&account, &call) {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let req: Req = match serde_json::from_value(json_body) {
        Ok(r) => r,
        Err(e) => return bad_request(&format!("expected one request: {e}")),
    };
    let admitted = match shared.admit().await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    let answer = match req.request_type.as_str() {
        "ms.PublishEvent" => publish(&shared, &consumer, &req),
        "cm.UpdateConversationField" => update(&shared, &consumer, &req),
        "ms.GenerateURLForUploadFile" => upload_url(&shared, &req),
        "ms.GenerateURLForDownloadFile" => download_url(&shared, &req),
        other => Err(bad_request(&format!("unknown request type {other}"))),
    };
    match answer {
        Ok(body) => admitted.respond(axum::Json(json!({"reqId": req.id, "code": "OK", "body": body}))),
        Err(refused) => refused,
    }
}

/// Checks that `consumer` owns the open conversation `id`.
fn owned(shared: &Shared, consumer: &str, id: &str) -> Result<(), Response> {
    match lock(&shared.conversations).get(id) {
        Some(c) if c.consumer != consumer => Err(lp_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "the ConsumerJWS does not own this conversation",
            None,
        )),
        Some(c) if c.open => Ok(()),
        _ => Err(bad_request("the conversation does not exist or is closed")),
    }
}

fn publish(shared: &Arc<Shared>, consumer: &str, req: &Req) -> Result<Value, Response> {
    let body: PublishEvent =
        serde_json::from_value(req.body.clone()).map_err(|e| bad_request(&e.to_string()))?;
    let dialog = body.dialog_id.to_string();
    let conversation = lock(&shared.conversations)
        .iter()
        .find(|(id, c)| **id == dialog || c.survey.as_deref() == Some(dialog.as_str()))
        .map(|(id, _)| id.clone())
        .ok_or_else(|| bad_request("unknown dialog"))?;
    owned(shared, consumer, &conversation)?;
    let (kind, sequence) = match &body.event {
        MessagingEvent::ChatStateEvent(state) => (format!("ChatStateEvent:{}", state.chat_state), None),
        MessagingEvent::AcceptStatusEvent(status) => {
            (format!("AcceptStatusEvent:{}", status.status), Some(shared.sequence(&conversation)))
        }
        MessagingEvent::ContentEvent(content) => {
            if let Content::File(file) = &content.message
                && !file.relative_path.as_ref().is_some_and(|p| lock(&shared.files).contains_key(p))
            {
                return Err(bad_request("hosted/file: relativePath names no uploaded file"));
            }
            (format!("ContentEvent:{}", content.content_type), Some(shared.sequence(&conversation)))
        }
        other => (other.type_name().to_owned(), Some(shared.sequence(&conversation))),
    };
    record(&mut lock(&shared.stats).published, (dialog.clone(), kind));
    // LivePerson echoes the consumer's own events to the webhook.
    shared.messaging(&conversation, &dialog, consumer, "CONSUMER", sequence, &body.event);
    if let MessagingEvent::ContentEvent(content) = &body.event {
        let seen = receipt_event(AcceptStatus::Accept, sequence.into_iter().collect());
        let read = receipt_event(AcceptStatus::Read, sequence.into_iter().collect());
        let reply = match &content.message {
            Content::Text(text) => vec![AgentStep::Say(text_event(&format!("You wrote: {text}")))],
            Content::File(file) => {
                let path = shared.store_file(AGENT_PNG.to_vec(), "PNG");
                let caption = file.caption.clone().unwrap_or_else(|| "your file".into());
                vec![
                    AgentStep::Say(text_event(&format!("Thanks, I got {caption}. Here is ours."))),
                    AgentStep::Say(file_event(crate::model::FileContent {
                        caption: Some("sim-agent.png".into()),
                        relative_path: Some(path),
                        file_type: Some("PNG".into()),
                        preview: None,
                    })),
                ]
            }
            _ => vec![],
        };
        let mut steps = vec![
            AgentStep::Say(seen),
            AgentStep::Say(read),
            AgentStep::Say(chat_state_event(ChatState::Composing)),
        ];
        steps.extend(reply);
        shared.agent(conversation, steps);
    }
    Ok(match sequence {
        Some(sequence) => json!({"sequence": sequence}),
        None => json!({}),
    })
}

fn update(shared: &Arc<Shared>, consumer: &str, req: &Req) -> Result<Value, Response> {
    let body: UpdateConversationField =
        serde_json::from_value(req.body.clone()).map_err(|e| bad_request(&e.to_string()))?;
    let conversation = body.conversation_id.to_string();
    owned(shared, consumer, &conversation)?;
    match body.conversation_field {
        ConversationField::State { conversation_state } if conversation_state == "CLOSE" => {
            record(
                &mut lock(&shared.stats).published,
                (conversation.clone(), "ConversationStateField:CLOSE".into()),
            );
            shared.agent(conversation, vec![AgentStep::Close("CONSUMER")]);
        }
        ConversationField::Dialog { dialog, .. }
            if dialog.state == "CLOSE" && dialog.dialog_id.as_str() == conversation =>
        {
            if let Some(c) = lock(&shared.conversations).get_mut(&conversation) {
                c.survey = Some(format!("{conversation}-survey"));
            }
            record(&mut lock(&shared.stats).published, (conversation.clone(), "DialogChange:CLOSE".into()));
            shared.agent(conversation, vec![AgentStep::Snapshot { agent: true }]);
        }
        ConversationField::Csat { csat_rate, .. } => {
            record(&mut lock(&shared.stats).csat, (conversation, csat_rate));
        }
        other => return Err(bad_request(&format!("unsupported conversation field {other:?}"))),
    }
    Ok(json!({}))
}

fn upload_url(shared: &Shared, req: &Req) -> Result<Value, Response> {
    let body: GenerateUploadUrl =
        serde_json::from_value(req.body.clone()).map_err(|e| bad_request(&e.to_string()))?;
    let size: usize =
        body.file_size.parse().map_err(|_| bad_request("fileSize must be a number as a string"))?;
    if size == 0 || size > MAX_FILE_BYTES {
        return Err(lp_error(StatusCode::BAD_REQUEST, "Check your file size", "the file is too large", None));
    }
    if matches!(body.file_type, FileType::Unknown(_)) {
        return Err(bad_request("fileType must be one of JPG, PNG, GIF, JPEG"));
    }
    let path = format!(
        "/v1/AUTH_async-images/{}/{:08x}-6be5-4c2b-9b1f-upload.{}",
        shared.config.account_id,
        shared.next(),
        body.file_type
    );
    Ok(shared.temp_url("PUT", &path))
}

fn download_url(shared: &Shared, req: &Req) -> Result<Value, Response> {
    let body: GenerateDownloadUrl =
        serde_json::from_value(req.body.clone()).map_err(|e| bad_request(&e.to_string()))?;
    if !lock(&shared.files).contains_key(&body.relative_path) {
        return Err(bad_request("no file at relativePath"));
    }
    Ok(shared.temp_url("GET", &body.relative_path))
}

async fn swift(State(shared): State<Arc<Shared>>, call: Call) -> Response {
    let shown = if call.body.is_empty() { Value::Null } else { json!({ "bytes": call.body.len() }) };
    shared.see(&call, shown);
    let (q, method, path) = (&call.query, &call.method, &call.path);
    let invalid = || (StatusCode::UNAUTHORIZED, "401 Unauthorized: Temp URL invalid\n").into_response();
    let (Some(sig), Some(expires)) = (q.get("temp_url_sig"), q.get("temp_url_expires")) else {
        return invalid();
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let expected = hex_hmac(
        shared.config.client_secret.expose_secret(),
        &format!("{method}\n{expires}\n{path}"),
        HmacAlgorithm::Sha1,
    );
    if *sig != expected || expires.parse::<u64>().map_or(true, |e| e < now) {
        return invalid();
    }
    let admitted = match shared.admit().await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    if *method == Method::PUT {
        lock(&shared.files).insert(path.clone(), call.body.to_vec());
        lock(&shared.stats).uploads += 1;
        return admitted.respond(StatusCode::CREATED);
    }
    match lock(&shared.files).get(path).cloned() {
        Some(bytes) => {
            lock(&shared.stats).downloads += 1;
            admitted.respond(bytes)
        }
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

/// Delivers notifications one at a time, in order, signed, with the sender's retries.
async fn deliver(shared: Arc<Shared>, sender: Sender, mut inbox: mpsc::UnboundedReceiver<Value>) {
    while let Some(notification) = inbox.recv().await {
        let Some(url) = lock(&shared.webhook_url).clone() else {
            lock(&shared.stats).notifications.1 += 1;
            continue;
        };
        let body = serde_json::to_vec(&notification).unwrap_or_default();
        let report = sender.send(&url, &body).await;
        let mut stats = lock(&shared.stats);
        if report.delivered {
            stats.notifications.0 += 1;
        } else {
            stats.notifications.1 += 1;
        }
    }
}
