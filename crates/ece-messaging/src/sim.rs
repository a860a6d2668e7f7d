//! A fake ECE web server with a scripted agent, on loopback (feature `sim`).
//!
//! As the seed documents: the token endpoint checks Basic `client_key:client_secret` and
//! `grant_type=client_credentials`; configuration returns the entry point with its
//! `lastModified` and the seed's masking patterns; start answers 409 with the seed's exact
//! body when the date is stale, else the conversation, activity and case ids; sendmessage and
//! end answer 204. Calls with an unknown or expired token get 401.
//!
//! The agent ("Banana Man") POSTs callbacks to the URL you set, with Basic credentials, in
//! `{"message":[…]}` batches: `assigned`, then a greeting; a reply to every text (a text with
//! "transfer" gets a `transfer` and a greeting from Billing, with "file" an `uploadAttachment`
//! of its own, with "page" a `pagePush`); thanks for an uploaded attachment or a location
//! (refused with 400 without a `contentUrl` or a valid location); typing
//! before each of its messages only when the conversation was started with
//! `sendTypingNotification=yes`; `complete` when you end the conversation or call
//! [`EceSim::agent_completes`]. Refused callbacks are retried a few times.
//!
//! Logins are capped at `max_sessions` live tokens (ECE: about 10); `forceLogin=yes` ends the
//! oldest session instead; `…/oauth2/revoke` ends one (204).
//!
//! **The simulator's own choices** (ECE documents no other codes): an unknown conversation
//! gets 400 `{"code":"400-101", …}`, an unknown entry point 404 `{"code":"404-100", …}`, a
//! login beyond the cap 403 `{"code":"403-100", …}`, a revocation of a token that is not live
//! 400 `{"code":"400-102", …}`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use cc_core::auth::{basic_authorization, parse_basic_authorization};
use cc_core::http::{Body as RequestBody, Executor, Request, RetryPolicy};
use cc_core::{ConversationId, EpochMillis, Secret};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::client::API_PATH;
use crate::model::{
    CallbackBatch, CallbackMessage, EntryPointId, IdRef, MessageId, MessageType, SendMessage, Sender,
    SenderType, StartRequest, TypeField, User,
};

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Client key it accepts.
    pub client_key: String,
    /// Client secret it accepts.
    pub client_secret: Secret<String>,
    /// Basic user it sends to your webhook.
    pub webhook_user: String,
    /// Basic password it sends to your webhook.
    pub webhook_password: Secret<String>,
    /// Entry points and their `lastModified` dates.
    pub entry_points: Vec<(EntryPointId, String)>,
    /// Token lifetime (ECE: 24 hours).
    pub token_lifetime: Duration,
    /// Delay before each agent action.
    pub agent_delay: Duration,
    /// Where callbacks go (also settable with [`EceSim::set_callback_url`]).
    pub callback_url: Option<String>,
    /// Send every callback batch twice, as if the first 2xx had been lost.
    pub duplicate_deliveries: bool,
    /// Concurrent sessions (live tokens) per application (ECE: about 10). A login beyond it
    /// is refused unless it says `forceLogin=yes`, which ends the oldest session.
    pub max_sessions: usize,
    /// Free chat slots per entry point, as the availability calls report them (default 3).
    pub available_slots: u32,
}

impl SimConfig {
    /// Entry point 1001 as in the seed, fast agent timings.
    pub fn new(
        client_key: impl Into<String>,
        client_secret: Secret<String>,
        webhook_user: impl Into<String>,
        webhook_password: Secret<String>,
    ) -> Self {
        Self {
            client_key: client_key.into(),
            client_secret,
            webhook_user: webhook_user.into(),
            webhook_password,
            entry_points: vec![(EntryPointId::new("1001"), "2023-06-16T10:25:13.000Z".into())],
            token_lifetime: Duration::from_secs(86_400),
            agent_delay: Duration::from_millis(10),
            callback_url: None,
            duplicate_deliveries: false,
            max_sessions: 10,
            available_slots: 3,
        }
    }
}

use cc_core::sim::{Admitted, BearerTokens, Faults, SimServer, lock, record};
pub use cc_core::sim::{Fault, Simulator};

/// What the simulator saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Successful logins.
    pub logins: u64,
    /// Tokens revoked by a logout.
    pub revocations: u64,
    /// Sessions ended by a `forceLogin`.
    pub evictions: u64,
    /// Start requests answered 409.
    pub conflicts: u64,
    /// Messages received: `(type, content)` (the first [`LOG_LIMIT`](cc_core::sim::LOG_LIMIT)).
    pub sent: Vec<(String, Option<String>)>,
    /// The same messages' bodies as received (for snapshots of built requests; the first
    /// [`LOG_LIMIT`](cc_core::sim::LOG_LIMIT)).
    pub bodies: Vec<Value>,
    /// Callback POSTs made.
    pub callback_posts: u64,
}

struct Conversation {
    typing: bool,
    ended: bool,
}

struct Shared {
    config: SimConfig,
    callback_url: Mutex<Option<String>>,
    dates: Mutex<HashMap<EntryPointId, String>>,
    slots: Mutex<HashMap<EntryPointId, u32>>,
    tokens: BearerTokens,
    conversations: Mutex<HashMap<ConversationId, Conversation>>,
    faults: Faults,
    stats: Mutex<SimStats>,
    counter: AtomicU64,
    outbox: mpsc::UnboundedSender<CallbackMessage>,
}

impl Shared {
    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn agent(&self) -> User {
        User { name: Some("eir support1".into()), screen_name: Some("Banana Man".into()) }
    }

    fn message(
        &self,
        conversation: &ConversationId,
        kind: MessageType,
        content: Option<String>,
        system: bool,
    ) -> CallbackMessage {
        let n = self.next();
        let (sender, type_user) = if system {
            let type_user = (kind == MessageType::Assigned).then(|| self.agent());
            (Sender { kind: SenderType::System, user: None }, type_user)
        } else {
            (Sender { kind: SenderType::User, user: Some(self.agent()) }, None)
        };
        // The agent's file: the one shape of attachment this simulator knows (assumed).
        let attachments = (kind == MessageType::UploadAttachment).then(|| {
            json!({"attachment": [{"id": format!("att-{n}"), "fileName": "offer.pdf", "contentType": "application/pdf",
                "size": "32", "contentUrl": format!("https://ece-webserver.example.com/files/{n}/offer.pdf")}]})
        });
        CallbackMessage {
            id: MessageId::new(format!("{}", 7_000_000_000 + n)),
            conversation: IdRef { id: conversation.clone() },
            sender,
            kind: TypeField { value: kind, user: type_user },
            attachments,
            geolocation: None,
            content,
            time_stamp: Some(EpochMillis::now()),
        }
    }

    /// The agent's scripted actions, after `agent_delay` each.
    fn agent_says(
        self: &Arc<Self>,
        conversation: ConversationId,
        steps: Vec<(MessageType, Option<String>, bool)>,
    ) {
        let shared = self.clone();
        tokio::spawn(async move {
            for (kind, content, system) in steps {
                tokio::time::sleep(shared.config.agent_delay).await;
                // Nothing follows `complete`: a reply still scheduled when the chat ended is
                // dropped (checked and queued without an await between, so none slips after).
                let ended = lock(&shared.conversations).get(&conversation).is_some_and(|c| c.ended);
                if ended && kind != MessageType::Complete {
                    continue;
                }
                let message = shared.message(&conversation, kind, content, system);
                let _ = shared.outbox.send(message);
            }
        });
    }

    /// The agent types (when the conversation asked for typing notifications), then writes.
    fn reply_steps(
        &self,
        conversation: &ConversationId,
        text: String,
    ) -> Vec<(MessageType, Option<String>, bool)> {
        let typing = lock(&self.conversations).get(conversation).is_some_and(|c| c.typing);
        let mut steps = Vec::new();
        if typing {
            steps.push((MessageType::StartTyping, None, false));
            steps.push((MessageType::EndTyping, None, false));
        }
        steps.push((MessageType::TextHtml, Some(text), false));
        steps
    }
}

cc_core::simulator! {
    /// A running simulator; stops when dropped. Start it, reach it and inject faults through
    /// [`Simulator`] (re-exported here): `Sim::start(config)`, `sim.base_url()`, `sim.inject(fault)`.
    pub struct EceSim { state: Shared, config: SimConfig }
}

impl EceSim {
    async fn launch(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let (outbox, inbox) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            callback_url: Mutex::new(config.callback_url.clone()),
            dates: Mutex::new(config.entry_points.iter().cloned().collect()),
            slots: Mutex::new(
                config.entry_points.iter().map(|(id, _)| (id.clone(), config.available_slots)).collect(),
            ),
            tokens: BearerTokens::new(config.token_lifetime),
            config,
            conversations: Mutex::default(),
            faults: Faults::default(),
            stats: Mutex::default(),
            counter: AtomicU64::new(0),
            outbox,
        });
        let api = Router::new()
            .route("/authentication/oauth2/token", post(token))
            .route("/authentication/oauth2/revoke", post(revoke))
            .route("/messaging/configuration", get(configuration))
            .route("/messaging/conversation/start", post(start))
            .route("/messaging/sendmessage", post(send_message))
            .route("/messaging/conversation/{id}/end", put(end))
            .with_state(shared.clone());
        let legacy = Router::new().route("/{call}/{id}", get(legacy_chat)).with_state(shared.clone());
        let app = Router::new().nest(API_PATH, api).nest(crate::availability::LEGACY_CHAT_PATH, legacy);
        let mut server = SimServer::bind(addr, app).await?;
        server.spawn(deliver(shared.clone(), inbox));
        Ok(Self { server, shared })
    }

    /// Sets where callbacks go.
    pub fn set_callback_url(&self, url: impl Into<String>) {
        *lock(&self.shared.callback_url) = Some(url.into());
    }

    /// Changes an entry point's `lastModified`: starts with the old date now get 409.
    pub fn touch_entry_point(&self, id: &EntryPointId) {
        let stamp = format!("2024-01-01T00:00:{:02}.000Z", self.shared.next() % 60);
        lock(&self.shared.dates).insert(id.clone(), stamp);
    }

    /// Sets an entry point's free chat slots (0: no agent can take a chat).
    pub fn set_available_slots(&self, id: &EntryPointId, slots: u32) {
        lock(&self.shared.slots).insert(id.clone(), slots);
    }

    /// Invalidates every token: the next call gets 401.
    pub fn expire_tokens(&self) {
        self.shared.tokens.expire_all();
    }

    /// The agent ends the chat: `complete`.
    pub fn agent_completes(&self, conversation: &ConversationId) {
        if let Some(c) = lock(&self.shared.conversations).get_mut(conversation) {
            c.ended = true;
        }
        self.shared.agent_says(
            conversation.clone(),
            vec![(MessageType::Complete, Some("Banana Man has ended the chat".into()), true)],
        );
    }

    /// What the simulator saw.
    pub fn stats(&self) -> SimStats {
        lock(&self.shared.stats).clone()
    }

    /// Successful logins so far: [`SimStats::logins`] without copying every message the
    /// simulator recorded (which [`EceSim::stats`] does).
    pub fn logins(&self) -> u64 {
        lock(&self.shared.stats).logins
    }
}

fn ece_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({"code": code, "developerMessage": message}))).into_response()
}

/// Whether `headers` carry Basic `client_key:client_secret`.
fn client_authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let basic =
        headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(parse_basic_authorization);
    basic.is_some_and(|(key, secret)| {
        key == shared.config.client_key
            && secret.expose_secret() == shared.config.client_secret.expose_secret()
    })
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !client_authorized(&shared, &headers) {
        return ece_error(StatusCode::UNAUTHORIZED, "401-101", "Invalid client credentials");
    }
    if !String::from_utf8_lossy(&body).split('&').any(|p| p == "grant_type=client_credentials") {
        return ece_error(StatusCode::BAD_REQUEST, "400-100", "grant_type must be client_credentials");
    }
    let live = shared.tokens.live();
    if live.len() >= shared.config.max_sessions {
        if query.get("forceLogin").map(String::as_str) != Some("yes") {
            // The simulator's choice: ECE documents the cap, not the refusal.
            return ece_error(
                StatusCode::FORBIDDEN,
                "403-100",
                "Maximum number of concurrent sessions reached; log in with forceLogin=yes",
            );
        }
        let oldest = live.len() + 1 - shared.config.max_sessions;
        for token in &live[..oldest] {
            shared.tokens.revoke(token);
        }
        lock(&shared.stats).evictions += oldest as u64;
    }
    let access_token = format!("{:08x}-dc21-44c8-a50b-{:012x}", shared.next(), shared.next());
    shared.tokens.issue(access_token.clone());
    lock(&shared.stats).logins += 1;
    axum::Json(json!({"access_token": access_token, "expires_in": shared.config.token_lifetime.as_secs(), "token_type": "Bearer"}))
        .into_response()
}

/// The chat web-service API's availability calls (unauthenticated), answered in XML from
/// the entry point's free slots: availability and chat allowed when there is one, capacity
/// the count, eligibility `0` with a slot and `1` (no agent) without. An unknown entry point or
/// call gets 404 (the simulator's choice).
async fn legacy_chat(
    State(shared): State<Arc<Shared>>,
    Path((call, id)): Path<(String, String)>,
) -> Response {
    let Some(slots) = lock(&shared.slots).get(&EntryPointId::new(id)).copied() else {
        return (StatusCode::NOT_FOUND, "entry point not found").into_response();
    };
    let admitted = match shared.faults.admit(|status| status.into_response()).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let ns = r#"xmlns:ns2="http://bindings.egain.com/chat""#;
    let paths = crate::availability::LegacyChatPaths::default();
    let body = if call == paths.agent_availability {
        format!(r#"<agentAvailability available="{}" {ns}/>"#, slots > 0)
    } else if call == paths.capacity {
        format!("<availableSlots {ns}><ns2:count>{slots}</ns2:count></availableSlots>")
    } else if call == paths.eligibility {
        format!(r#"<checkEligibility responseType="{}" {ns}/>"#, u8::from(slots == 0))
    } else if call == paths.chat_allowed {
        format!(r#"<chatAllowed allowed="{}" {ns}/>"#, slots > 0)
    } else {
        return (StatusCode::NOT_FOUND, "no such call").into_response();
    };
    admitted.respond(([("content-type", "application/xml")], body))
}

/// `POST …/oauth2/revoke` (Basic client credentials, form `token=`): 204, or 400 for a token
/// that is not live (the simulator's choice of code).
async fn revoke(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if !client_authorized(&shared, &headers) {
        return ece_error(StatusCode::UNAUTHORIZED, "401-101", "Invalid client credentials");
    }
    let token = form_urlencoded::parse(&body).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned());
    match token {
        Some(token) if shared.tokens.revoke(&token) => {
            lock(&shared.stats).revocations += 1;
            StatusCode::NO_CONTENT.into_response()
        }
        _ => ece_error(StatusCode::BAD_REQUEST, "400-102", "Invalid token"),
    }
}

/// Checks the bearer token, then takes the admission step (`cc_core::sim::Faults::admit`).
async fn admit(shared: &Shared, headers: &HeaderMap) -> Result<Admitted, Response> {
    if !shared.tokens.authorized(headers) {
        return Err(ece_error(StatusCode::UNAUTHORIZED, "401-100", "No valid session"));
    }
    let injected = |status: StatusCode| {
        ece_error(status, &format!("{}-999", status.as_u16()), "fault injected by the simulator")
    };
    shared.faults.admit(injected).await
}

async fn configuration(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let admitted = match admit(&shared, &headers).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let Some(id) = query.get("entrypoint").map(|s| EntryPointId::new(s.as_str())) else {
        return ece_error(StatusCode::BAD_REQUEST, "400-100", "entrypoint is required");
    };
    let Some(date) = lock(&shared.dates).get(&id).cloned() else {
        return ece_error(StatusCode::NOT_FOUND, "404-100", "Entry point not found");
    };
    let numeric: Value =
        id.as_str().parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(id.as_str()));
    let body = json!({"entryPointConfiguration": [{
        "entryPoint": {"id": numeric},
        "lastModified": {"date": date},
        "maskingConfiguration": {
            "patterns": {"pattern": [{
                "name": "Visa Credit Card 16 Digits", "maskingCharacter": "*",
                "javascriptRegularExpression": "4(((\\r)?\\n){0,2}[0-9]){15}",
                "javaRegularExpression": "4(((\\r)?\\n){0,2}[0-9]){15}",
                "numOfCharsToUnmaskFromLeft": 0, "numOfCharsToUnmaskFromRight": 0, "applyLuhnAlgorithm": false
            }]},
            "enableOffRecordMessages": false
        },
        "attachmentPolicies": {"restrictionType": {"value": "block_specific"}, "fileExtensions": ".csv", "chatPolicy": {"isEnabled": true, "attachmentSize": 3}}
    }]});
    admitted.respond(axum::Json(body))
}

async fn start(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let admitted = match admit(&shared, &headers).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let request: StartRequest = match cc_core::de::parse_json(&body) {
        Ok(r) => r,
        Err(e) => return ece_error(StatusCode::BAD_REQUEST, "400-100", &e.to_string()),
    };
    let id = &request.entry_point_configuration.entry_point.id;
    let current = lock(&shared.dates).get(id).cloned();
    match current {
        None => return ece_error(StatusCode::NOT_FOUND, "404-100", "Entry point not found"),
        Some(date) if date != request.entry_point_configuration.last_modified.date => {
            lock(&shared.stats).conflicts += 1;
            // The seed's exact body.
            return ece_error(
                StatusCode::CONFLICT,
                "409-100",
                "Last modified date provided in the request body for the following  do not match : conversation.entryPointConfiguration.",
            );
        }
        Some(_) => {}
    }
    let n = shared.next();
    let conversation = ConversationId::new(format!("{n:08x}-7520-4daa-b95c-{:012x}", n * 7919));
    let typing = query.get("sendTypingNotification").is_some_and(|v| v == "yes");
    lock(&shared.conversations).insert(conversation.clone(), Conversation { typing, ended: false });
    let mut steps = vec![(MessageType::Assigned, Some("You are now chatting with Banana Man".into()), true)];
    steps.extend(
        shared.reply_steps(&conversation, "Hello, this is <b>Banana Man</b>. How can I help?".into()),
    );
    shared.agent_says(conversation.clone(), steps);
    let activity = 4000 + n;
    admitted.respond(axum::Json(
        json!({"activity": {"case": {"id": activity}, "id": activity}, "id": conversation}),
    ))
}

async fn send_message(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let admitted = match admit(&shared, &headers).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let message: SendMessage = match cc_core::de::parse_json(&body) {
        Ok(m) => m,
        Err(_) => return ece_error(StatusCode::BAD_REQUEST, "400-100", "Illegal Unquoted Character"),
    };
    let conversation = message.conversation.id.clone();
    let known = lock(&shared.conversations).get(&conversation).is_some_and(|c| !c.ended);
    if !known {
        return ece_error(StatusCode::BAD_REQUEST, "400-101", "Invalid conversation id");
    }
    let reply = match message.kind.value {
        MessageType::TextPlain | MessageType::TextHtml => {
            let text = message.content.clone().unwrap_or_default();
            let lower = text.to_lowercase();
            if lower.contains("transfer") {
                let mut steps =
                    vec![(MessageType::Transfer, Some("Transferred to the Billing queue".into()), true)];
                steps.extend(shared.reply_steps(&conversation, "Billing here. How can I help?".into()));
                Some(steps)
            } else if lower.contains("file") {
                Some(vec![(MessageType::UploadAttachment, Some("Here is our offer".into()), false)])
            } else if lower.contains("page") {
                Some(vec![(MessageType::PagePush, Some("https://example.com/offers".into()), false)])
            } else {
                Some(shared.reply_steps(&conversation, format!("You wrote: {text}")))
            }
        }
        MessageType::UploadAttachment => {
            let files = message.attachments.as_ref().map(|a| a.attachment.as_slice()).unwrap_or_default();
            if files.is_empty() || files.iter().any(|f| f.content_url.is_none()) {
                return ece_error(
                    StatusCode::BAD_REQUEST,
                    "400-100",
                    "attachments with a contentUrl are required",
                );
            }
            let names: Vec<&str> = files.iter().map(|f| f.file_name.as_deref().unwrap_or("a file")).collect();
            Some(shared.reply_steps(&conversation, format!("Thanks, I got {}", names.join(", "))))
        }
        MessageType::Geolocation => match message.geolocation.as_ref().filter(|g| g.validate().is_ok()) {
            Some(location) => Some(shared.reply_steps(
                &conversation,
                format!("Thanks, you are at {}", location.as_text().unwrap_or_default()),
            )),
            None => {
                return ece_error(
                    StatusCode::BAD_REQUEST,
                    "400-100",
                    "one of coordinate, address or url must be provided",
                );
            }
        },
        MessageType::AcceptAttachment | MessageType::RejectAttachment => {
            if message.attachments.as_ref().is_none_or(|a| a.attachment.iter().all(|f| f.id.is_none())) {
                return ece_error(StatusCode::BAD_REQUEST, "400-100", "the attachment id is required");
            }
            None
        }
        _ => None,
    };
    {
        let mut stats = lock(&shared.stats);
        record(&mut stats.sent, (message.kind.value.to_string(), message.content.clone()));
        record(&mut stats.bodies, serde_json::to_value(&message).unwrap_or_default());
    }
    if let Some(steps) = reply {
        shared.agent_says(conversation, steps);
    }
    admitted.respond(StatusCode::NO_CONTENT)
}

async fn end(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let admitted = match admit(&shared, &headers).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let conversation = ConversationId::new(id);
    let first_end = match lock(&shared.conversations).get_mut(&conversation) {
        Some(c) => !std::mem::replace(&mut c.ended, true),
        None => return ece_error(StatusCode::BAD_REQUEST, "400-101", "Invalid conversation id"),
    };
    if first_end {
        shared
            .agent_says(conversation, vec![(MessageType::Complete, Some("The chat has ended".into()), true)]);
    }
    admitted.respond(StatusCode::NO_CONTENT)
}

/// Delivers callbacks in batches: whatever is pending goes out in one envelope.
async fn deliver(shared: Arc<Shared>, mut inbox: mpsc::UnboundedReceiver<CallbackMessage>) {
    let Ok(http) = Executor::builder()
        .retry_policy(RetryPolicy::no_retries())
        .user_agent("Apache-HttpClient/4.5.14 (Java/11.0.17)")
        .build()
    else {
        return;
    };
    let authorization = basic_authorization(&shared.config.webhook_user, &shared.config.webhook_password);
    while let Some(first) = inbox.recv().await {
        let mut message = vec![first];
        while let Ok(more) = inbox.try_recv() {
            message.push(more);
        }
        let Some(url) = lock(&shared.callback_url).clone() else { continue };
        let body = serde_json::to_vec(&CallbackBatch { message }).unwrap_or_default();
        let copies = if shared.config.duplicate_deliveries { 2 } else { 1 };
        for _ in 0..copies {
            for attempt in 0..4u32 {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                lock(&shared.stats).callback_posts += 1;
                let request = Request::post(url.as_str())
                    .without_auth()
                    .secret_header("authorization", authorization.clone())
                    .body(RequestBody::Bytes { content_type: "application/json".into(), data: body.clone() });
                if matches!(http.send(&request).await, Ok(r) if (200..300).contains(&r.status())) {
                    break;
                }
            }
        }
    }
}
