//! A fake ECE web server with a scripted agent, on loopback (feature `sim`).
//!
//! As the seed documents: the token endpoint checks Basic `client_key:client_secret` and
//! `grant_type=client_credentials`; configuration returns the entry point with its
//! `lastModified` and the seed's masking patterns; start answers 409 with the seed's exact
//! body when the date is stale, else the conversation, activity and case ids; sendmessage and
//! end answer 204. Calls with an unknown or expired token get 401.
//!
//! The agent ("Banana Man") POSTs callbacks to the URL you set, with Basic credentials, in
//! `{"message":[…]}` batches: `assigned`, then a greeting; a reply to every text; typing
//! before each of its messages only when the conversation was started with
//! `sendTypingNotification=yes`; `complete` when you end the conversation or call
//! [`EceSim::agent_completes`]. Refused callbacks are retried a few times.
//!
//! **The simulator's own choices** (ECE documents no other codes): an unknown conversation
//! gets 400 `{"code":"400-101", …}`, an unknown entry point 404 `{"code":"404-100", …}`.

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
        }
    }
}

use cc_core::sim::{Admitted, BearerTokens, Faults, SimServer, lock};
pub use cc_core::sim::{Fault, Simulator};

/// What the simulator saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Successful logins.
    pub logins: u64,
    /// Start requests answered 409.
    pub conflicts: u64,
    /// Messages received: `(type, content)`.
    pub sent: Vec<(String, Option<String>)>,
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
        CallbackMessage {
            id: MessageId::new(format!("{}", 7_000_000_000 + n)),
            conversation: IdRef { id: conversation.clone() },
            sender,
            kind: TypeField { value: kind, user: type_user },
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
            .route("/messaging/configuration", get(configuration))
            .route("/messaging/conversation/start", post(start))
            .route("/messaging/sendmessage", post(send_message))
            .route("/messaging/conversation/{id}/end", put(end))
            .with_state(shared.clone());
        let app = Router::new().nest(API_PATH, api);
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

    /// Invalidates every token: the next call gets 401.
    pub fn expire_tokens(&self) {
        self.shared.tokens.expire_all();
    }

    /// The agent ends the chat: `complete`.
    pub fn agent_completes(&self, conversation: &ConversationId) {
        self.shared.agent_says(
            conversation.clone(),
            vec![(MessageType::Complete, Some("Banana Man has ended the chat".into()), true)],
        );
    }

    /// What the simulator saw.
    pub fn stats(&self) -> SimStats {
        lock(&self.shared.stats).clone()
    }
}

fn ece_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({"code": code, "developerMessage": message}))).into_response()
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let basic =
        headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(parse_basic_authorization);
    let ok = basic.is_some_and(|(key, secret)| {
        key == shared.config.client_key
            && secret.expose_secret() == shared.config.client_secret.expose_secret()
    });
    if !ok {
        return ece_error(StatusCode::UNAUTHORIZED, "401-101", "Invalid client credentials");
    }
    if !String::from_utf8_lossy(&body).split('&').any(|p| p == "grant_type=client_credentials") {
        return ece_error(StatusCode::BAD_REQUEST, "400-100", "grant_type must be client_credentials");
    }
    let access_token = format!("{:08x}-dc21-44c8-a50b-{:012x}", shared.next(), shared.next());
    shared.tokens.issue(access_token.clone());
    lock(&shared.stats).logins += 1;
    axum::Json(json!({"access_token": access_token, "expires_in": shared.config.token_lifetime.as_secs(), "token_type": "Bearer"}))
        .into_response()
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
    lock(&shared.stats).sent.push((message.kind.value.to_string(), message.content.clone()));
    if matches!(message.kind.value, MessageType::TextPlain | MessageType::TextHtml) {
        let text = message.content.unwrap_or_default();
        let steps = shared.reply_steps(&conversation, format!("You wrote: {text}"));
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
