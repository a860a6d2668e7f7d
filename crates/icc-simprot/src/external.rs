//! The external chat application side (ES/SE messages) with reconnect and resynchronisation.
//!
//! [`ExternalApp`] owns one connection in a background task. It reconnects with exponential
//! backoff when the connection drops, sends ES_CHAT_RESYNC after every reconnect and reports
//! what changed while it was away ([`AppEvent::Resynced`]). [`ExternalApp::send_sentence`]
//! waits for the SE_CHAT_SENTENCE echo (20 s by default, as the seed says); a retry with the
//! same sentence re-sends the same `ID`, and an echo is delivered once, to its waiter or — if
//! it comes late — as an event. [`ExternalApp::request_chat`] caches SE_CHAT_RESPONSE per
//! parameter set for a configurable few seconds. As a message gateway it hands inbound
//! messages to the server and waits for their one acknowledgement
//! ([`ExternalApp::receive_message`]), and passes outbound ones to you as
//! [`AppEvent::Sending`], to be answered exactly once within 90 s.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::catalogue::{Message, MessageName, Payload};
use crate::connection::{Connection, ConnectionError};
use crate::framing::FrameError;
use cc_core::EpochMillis;

use crate::model::{
    ChatCommandInfo, ChatSentenceInfo, ChatServiceInfo, ChatStatusInfo, CommandInfo, Direction, GatewayInfo,
    Guid, LiteralLookupInfo, MessageContentInfo, ScenarioInfo, Status, TooLong, UtcTime, WebSiteRoutingInfo,
};

/// How an [`ExternalApp`] connects and waits.
#[derive(Clone, Debug)]
pub struct ExternalAppConfig {
    /// The server address (`host:port`).
    pub addr: String,
    /// The gateway address (`Peer`, the ChatGateway.PeerAddress).
    pub peer: String,
    /// The gateway subaddress (`Port`), optional.
    pub port: Option<String>,
    /// How long to wait for a sentence's echo (seed: 20 s).
    pub echo_timeout: Duration,
    /// How long to wait for SE_CHAT_RESPONSE.
    pub response_timeout: Duration,
    /// How long an SE_CHAT_RESPONSE is reused for the same parameters (seed: up to tens of
    /// seconds; default 10 s; zero disables the cache).
    pub response_cache: Duration,
    /// First reconnect delay; doubled per failed attempt up to `reconnect_max`.
    pub reconnect_initial: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// How long to wait for SE_MESSAGE_RECEIVED (seed: at least 60 s; default 120 s).
    pub received_timeout: Duration,
    /// How long after SE_MESSAGE_SENDING an ES_MESSAGE_SENT may still be sent (seed: 90 s).
    /// Later answers are refused: the server has already counted the delivery as failed and
    /// will send the message again.
    pub sent_limit: Duration,
}

impl ExternalAppConfig {
    /// Defaults for `addr` and gateway `peer`.
    pub fn new(addr: impl Into<String>, peer: impl Into<String>) -> Self {
        Self {
            addr: addr.into(),
            peer: peer.into(),
            port: None,
            echo_timeout: Duration::from_secs(20),
            response_timeout: Duration::from_secs(10),
            response_cache: Duration::from_secs(10),
            reconnect_initial: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(30),
            received_timeout: Duration::from_secs(120),
            sent_limit: Duration::from_secs(90),
        }
    }
}

/// What the server said, as it arrives.
#[derive(Debug)]
pub enum AppEvent {
    /// A server message no call was waiting for (status, agent sentences, typing, confirms, a
    /// late echo, …).
    Message(Message),
    /// An outbound e-mail/SMS/fax to send (SE_MESSAGE_SENDING): send it, then answer once.
    Sending(Box<OutboundMessage>),
    /// A message whose payload did not fit its type; the connection goes on.
    Malformed(String),
    /// The connection dropped; reconnecting.
    Disconnected(String),
    /// Reconnected and resynchronised: the gateway's open chats, those whose status differs
    /// from the last one seen, and those seen open before that are no longer listed (ended
    /// while away).
    Resynced {
        /// Every open chat (SE_CHAT_LIST).
        chats: Vec<ChatStatusInfo>,
        /// New or with another status than last seen.
        changed: Vec<ChatStatusInfo>,
        /// Seen open before, not listed now.
        ended: Vec<ChatStatusInfo>,
    },
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not connected right now (reconnecting); try again.
    #[error("not connected to the SimProt server: {0}")]
    Disconnected(String),
    /// No echo within the timeout: the sentence counts as not sent. Retrying with the same
    /// sentence re-sends the same ID.
    #[error("no SE_CHAT_SENTENCE echo for sentence `{id}` within {timeout:?}")]
    NoEcho {
        /// The sentence ID.
        id: String,
        /// The wait.
        timeout: Duration,
    },
    /// No SE_CHAT_RESPONSE / SE_MESSAGE_RECEIVED within the timeout.
    #[error("no {0} within {1:?}")]
    NoResponse(&'static str, Duration),
    /// No answer of this name within the timeout.
    #[error("no {0} within {1:?}")]
    NoReply(String, Duration),
    /// The server could not process the inbound message (SE_MESSAGE_RECEIVED with Success
    /// false): send it again later, or report the failure to the counterparty.
    #[error("the server did not process inbound message `{request_id}`")]
    NotProcessed {
        /// The RequestId.
        request_id: String,
    },
    /// The ES_MESSAGE_SENT answer is past the limit; it was not sent (the server retries).
    #[error(
        "ES_MESSAGE_SENT for message {message_id} is {elapsed:?} after SE_MESSAGE_SENDING; the limit is {limit:?}"
    )]
    TooLate {
        /// The MessageId.
        message_id: String,
        /// Time since SE_MESSAGE_SENDING arrived.
        elapsed: Duration,
        /// The limit.
        limit: Duration,
    },
    /// The message breaks a length limit of the seed; nothing was sent.
    #[error("not sent: {0}")]
    Invalid(#[from] TooLong),
    /// The message cannot be framed (larger than the frame limit); nothing was sent.
    #[error("not sent: {0}")]
    NotEncodable(FrameError),
    /// A required member is missing; nothing was sent.
    #[error("not sent: {0}")]
    Missing(&'static str),
    /// The client was shut down.
    #[error("the SimProt client has stopped")]
    Stopped,
}

pub(crate) enum Waiter {
    Echo(String, oneshot::Sender<ChatSentenceInfo>),
    Response(String, oneshot::Sender<ChatServiceInfo>),
    Received(String, oneshot::Sender<CommandInfo>),
    /// The next message with this name (answers without a correlation id), first come first served.
    Reply(MessageName, oneshot::Sender<Message>),
}

pub(crate) struct Op {
    message: Message,
    waiter: Option<Waiter>,
    sent: oneshot::Sender<Result<(), AppError>>,
}

type CacheKey = (Option<String>, Option<String>, Option<String>, Option<String>);

/// An external chat application connected to ProServer. Cheap to share (`&self` methods).
pub struct ExternalApp {
    config: ExternalAppConfig,
    engine: Engine,
    cache: Mutex<HashMap<CacheKey, (Instant, ChatServiceInfo)>>,
}

impl std::fmt::Debug for ExternalApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalApp")
            .field("addr", &self.config.addr)
            .field("peer", &self.config.peer)
            .finish()
    }
}

impl ExternalApp {
    /// Connects (the first connection must succeed) and starts the background task. Events
    /// arrive on the returned receiver; keep reading it (it holds up to 1024 unread events).
    pub async fn connect(
        config: ExternalAppConfig,
    ) -> Result<(Self, mpsc::Receiver<AppEvent>), ConnectionError> {
        let (engine, events) = Engine::start(config.clone(), Side::App).await?;
        Ok((Self { config, engine, cache: Mutex::new(HashMap::new()) }, events))
    }

    /// The configuration.
    pub fn config(&self) -> &ExternalAppConfig {
        &self.config
    }

    /// Sends any message (ES_CHAT_START, ES_CHAT_STOP, ES_CHAT_TYPING, ES_CHAT_CONFIRM, …);
    /// replies arrive as events. A chat payload without `Peer` gets the configured gateway
    /// (`Peer` and `Port`).
    pub async fn send(&self, mut message: Message) -> Result<(), AppError> {
        let gateway = |peer: &mut Option<String>, port: &mut Option<String>| {
            if peer.is_none() {
                *peer = Some(self.config.peer.clone());
                *port = self.config.port.clone();
            }
        };
        match &mut message.payload {
            Payload::ChatServiceInfo(p) => gateway(&mut p.peer, &mut p.port),
            Payload::ChatStatusInfo(p) => gateway(&mut p.peer, &mut p.port),
            Payload::ChatSentenceInfo(p) => gateway(&mut p.peer, &mut p.port),
            Payload::ChatCommandInfo(p) => gateway(&mut p.peer, &mut p.port),
            _ => {}
        }
        self.submit(message, None).await
    }

    /// Asks whether a chat can start (ES_CHAT_REQUEST → SE_CHAT_RESPONSE). `Peer`/`Port` are
    /// filled from the configuration; `TrackingId` is required (the answer is matched by it).
    /// Answers are reused for the same culture, user token and external response for
    /// [`ExternalAppConfig::response_cache`].
    pub async fn request_chat(&self, mut request: ChatServiceInfo) -> Result<ChatServiceInfo, AppError> {
        let tracking_id = request.tracking_id.clone().ok_or(AppError::Missing("TrackingId"))?;
        request.validate()?;
        request.peer = Some(self.config.peer.clone());
        request.port = self.config.port.clone();
        let key = (
            request.preferred_culture.clone(),
            request.user_token.clone(),
            request.ext_response.clone(),
            request.port.clone(),
        );
        if let Some((at, cached)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key)
            && at.elapsed() < self.config.response_cache
        {
            return Ok(ChatServiceInfo { tracking_id: Some(tracking_id), ..cached.clone() });
        }
        let message = Message {
            name: MessageName::EsChatRequest,
            payload: Payload::ChatServiceInfo(Box::new(request)),
        };
        let timeout = self.config.response_timeout;
        let response = self
            .ask(message, |tx| Waiter::Response(tracking_id, tx), timeout)
            .await?
            .map_err(|e| e.into_error("SE_CHAT_RESPONSE", timeout))?;
        if !self.config.response_cache.is_zero() {
            self.cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, (Instant::now(), response.clone()));
        }
        Ok(response)
    }

    /// Sends a sentence (ES_CHAT_SENTENCE) and waits for its echo, which it returns (with the
    /// server's Counter). `ID` is required (at most 64 characters) and is what a retry re-sends;
    /// `Peer`/`Port` are filled from the configuration.
    pub async fn send_sentence(&self, mut sentence: ChatSentenceInfo) -> Result<ChatSentenceInfo, AppError> {
        sentence.peer = Some(self.config.peer.clone());
        sentence.port = self.config.port.clone();
        self.engine.sentence(MessageName::EsChatSentence, sentence, false, self.config.echo_timeout).await
    }

    /// The message gateways (ES_SL_GETGATEWAYS → SE_SL_MSGGATEWAYS).
    pub async fn gateways(&self) -> Result<Vec<GatewayInfo>, AppError> {
        let payload = Payload::String(self.config.peer.clone());
        match self.request(MessageName::EsSlGetGateways, payload, MessageName::SeSlMsgGateways).await? {
            Payload::GatewayInfoList(list) => Ok(list),
            _ => Err(AppError::NoResponse("SE_SL_MSGGATEWAYS", self.config.response_timeout)),
        }
    }

    /// The website routing rules (ES_WS_ROUTING → SE_WS_ROUTING).
    pub async fn routing(&self) -> Result<Vec<WebSiteRoutingInfo>, AppError> {
        let payload = Payload::String(self.config.peer.clone());
        match self.request(MessageName::EsWsRouting, payload, MessageName::SeWsRouting).await? {
            Payload::WebSiteRoutingInfoList(list) => Ok(list),
            _ => Err(AppError::NoResponse("SE_WS_ROUTING", self.config.response_timeout)),
        }
    }

    /// A literal group in a culture (ES_WS_LITERALS_GET → SE_WS_LITERALS_INFO).
    pub async fn literals(
        &self,
        group: i64,
        culture: Option<String>,
    ) -> Result<Vec<LiteralLookupInfo>, AppError> {
        let query = LiteralLookupInfo {
            literal_group: group,
            culture,
            peer: Some(self.config.peer.clone()),
            ..Default::default()
        };
        let payload = Payload::LiteralLookupInfo(Box::new(query));
        match self.request(MessageName::EsWsLiteralsGet, payload, MessageName::SeWsLiteralsInfo).await? {
            Payload::LiteralLookupInfoList(list) => Ok(list),
            _ => Err(AppError::NoResponse("SE_WS_LITERALS_INFO", self.config.response_timeout)),
        }
    }

    /// A scenario (form) in a culture (ES_SCENARIO_LOAD → SE_SCENARIO_MODEL: Id = the
    /// scenario, Reference = the ISO language, as the seed says).
    pub async fn scenario(
        &self,
        scenario_id: Guid,
        culture: Option<String>,
    ) -> Result<ScenarioInfo, AppError> {
        let load = CommandInfo { id: Some(scenario_id), reference: culture, ..Default::default() };
        let payload = Payload::CommandInfo(Box::new(load));
        match self.request(MessageName::EsScenarioLoad, payload, MessageName::SeScenarioModel).await? {
            Payload::ScenarioInfo(scenario) => Ok(*scenario),
            _ => Err(AppError::NoResponse("SE_SCENARIO_MODEL", self.config.response_timeout)),
        }
    }

    /// Sends `payload` as `name` and waits `response_timeout` for the next `answer` message.
    /// These answers carry no correlation id: concurrent requests of one kind are answered in
    /// order (our assumption: the server answers in order).
    async fn request(
        &self,
        name: MessageName,
        payload: Payload,
        answer: MessageName,
    ) -> Result<Payload, AppError> {
        let timeout = self.config.response_timeout;
        let what = answer.as_str().to_owned();
        let message = Message { name, payload };
        match self.ask(message, |tx| Waiter::Reply(answer, tx), timeout).await? {
            Ok(reply) => Ok(reply.payload),
            Err(NoAnswer::Dropped) => {
                Err(AppError::Disconnected(format!("the connection dropped before {what}")))
            }
            Err(NoAnswer::TimedOut) => Err(AppError::NoReply(what, timeout)),
        }
    }

    /// Hands an inbound e-mail/SMS/fax to the server (ES_MESSAGE_RECEIVING) and waits for its
    /// one SE_MESSAGE_RECEIVED (matched by RequestId, required) for `received_timeout`.
    /// DeliverySystemId, RemoteAddress and GatewayId are required (the seed makes the first
    /// two mandatory; the gateway must be one of [`ExternalApp::gateways`]); ReceivedSentTime,
    /// also mandatory, is set to now when missing.
    /// Returns the acknowledgement (`Id` = the stored message); Success false is
    /// [`AppError::NotProcessed`]. Field limits are checked before sending.
    pub async fn receive_message(&self, mut content: MessageContentInfo) -> Result<CommandInfo, AppError> {
        let request_id = content.request_id.clone().ok_or(AppError::Missing("RequestId"))?;
        content.delivery_system_id.as_ref().ok_or(AppError::Missing("DeliverySystemId"))?;
        content.remote_address.as_ref().ok_or(AppError::Missing("RemoteAddress"))?;
        content.gateway_id.as_ref().ok_or(AppError::Missing("GatewayId"))?;
        content.validate()?;
        content.direction = Some(Direction::Inbound);
        content.received_sent_time.get_or_insert(UtcTime(EpochMillis::now()));
        let message = Message {
            name: MessageName::EsMessageReceiving,
            payload: Payload::MessageContentInfo(Box::new(content)),
        };
        let timeout = self.config.received_timeout;
        let ack = self
            .ask(message, |tx| Waiter::Received(request_id.clone(), tx), timeout)
            .await?
            .map_err(|e| e.into_error("SE_MESSAGE_RECEIVED", timeout))?;
        match ack.processed() {
            Some(false) => Err(AppError::NotProcessed { request_id }),
            _ => Ok(ack),
        }
    }

    async fn submit(&self, message: Message, waiter: Option<Waiter>) -> Result<(), AppError> {
        self.engine.submit(message, waiter).await
    }

    async fn ask<T>(
        &self,
        message: Message,
        waiter: impl FnOnce(oneshot::Sender<T>) -> Waiter,
        timeout: Duration,
    ) -> Result<Result<T, NoAnswer>, AppError> {
        self.engine.ask(message, waiter, timeout).await
    }
}

/// Which side of SimProt a connection speaks: the external application (ES/SE) or an agent
/// client (CS/SC). It decides which messages are echoes, statuses and resync lists.
#[derive(Clone, Debug)]
pub(crate) enum Side {
    /// ES/SE.
    App,
    /// CS/SC, for this agent.
    Agent(Option<Guid>),
}

impl Side {
    fn echo(&self) -> (MessageName, bool) {
        match self {
            Side::App => (MessageName::SeChatSentence, false),
            Side::Agent(_) => (MessageName::ScChatSentence, true),
        }
    }

    fn status(&self) -> MessageName {
        match self {
            Side::App => MessageName::SeChatStatus,
            Side::Agent(_) => MessageName::ScChatStatus,
        }
    }

    fn list(&self) -> MessageName {
        match self {
            Side::App => MessageName::SeChatList,
            Side::Agent(_) => MessageName::ScChatList,
        }
    }

    /// ES_CHAT_RESYNC for the gateway, or CS_CHAT_RESYNC for the workplace and agent.
    fn resync(&self, config: &ExternalAppConfig) -> Message {
        let mut command = ChatCommandInfo { peer: Some(config.peer.clone()), ..Default::default() };
        let name = match self {
            Side::App => {
                command.port = config.port.clone();
                MessageName::EsChatResync
            }
            Side::Agent(agent_id) => {
                command.agent_id = agent_id.clone();
                MessageName::CsChatResync
            }
        };
        Message { name, payload: Payload::ChatCommandInfo(Box::new(command)) }
    }
}

/// The handle to one connection's background task, shared by [`ExternalApp`] and
/// [`crate::agent::AgentClient`].
#[derive(Debug)]
pub(crate) struct Engine {
    ops: mpsc::Sender<Op>,
}

impl Engine {
    /// Connects (the first connection must succeed) and starts the background task.
    pub(crate) async fn start(
        config: ExternalAppConfig,
        side: Side,
    ) -> Result<(Self, mpsc::Receiver<AppEvent>), ConnectionError> {
        let connection = Connection::connect(config.addr.as_str()).await?;
        let (ops_tx, ops_rx) = mpsc::channel(64);
        let (events_tx, events_rx) = mpsc::channel(1024);
        tokio::spawn(run(config, side, connection, (ops_rx, ops_tx.downgrade()), events_tx));
        Ok((Self { ops: ops_tx }, events_rx))
    }

    pub(crate) async fn submit(&self, message: Message, waiter: Option<Waiter>) -> Result<(), AppError> {
        submit(&self.ops, message, waiter).await
    }

    /// Sends a sentence (`name`: ES_ or CS_CHAT_SENTENCE) and waits up to `timeout` for its
    /// echo (same ID and direction). `ID` is required and is what a retry re-sends; a drop
    /// before the echo also means "not sent".
    pub(crate) async fn sentence(
        &self,
        name: MessageName,
        mut sentence: ChatSentenceInfo,
        is_outbound: bool,
        timeout: Duration,
    ) -> Result<ChatSentenceInfo, AppError> {
        let id = sentence.id.clone().ok_or(AppError::Missing("ID"))?;
        sentence.validate()?;
        sentence.is_outbound = is_outbound;
        sentence.counter = 0;
        let message = Message { name, payload: Payload::ChatSentenceInfo(Box::new(sentence)) };
        let echo = self.ask(message, |tx| Waiter::Echo(id.clone(), tx), timeout).await?;
        echo.map_err(|_| AppError::NoEcho { id, timeout })
    }

    /// Sends `message` with a waiter for its answer and waits up to `timeout`.
    pub(crate) async fn ask<T>(
        &self,
        message: Message,
        waiter: impl FnOnce(oneshot::Sender<T>) -> Waiter,
        timeout: Duration,
    ) -> Result<Result<T, NoAnswer>, AppError> {
        let (tx, rx) = oneshot::channel();
        self.submit(message, Some(waiter(tx))).await?;
        Ok(match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(NoAnswer::Dropped),
            Err(_) => Err(NoAnswer::TimedOut),
        })
    }
}

/// Why an awaited answer did not come.
pub(crate) enum NoAnswer {
    /// The connection dropped first.
    Dropped,
    /// The wait ran out.
    TimedOut,
}

impl NoAnswer {
    fn into_error(self, what: &'static str, timeout: Duration) -> AppError {
        match self {
            NoAnswer::Dropped => AppError::Disconnected(format!("the connection dropped before {what}")),
            NoAnswer::TimedOut => AppError::NoResponse(what, timeout),
        }
    }
}

async fn submit(ops: &mpsc::Sender<Op>, message: Message, waiter: Option<Waiter>) -> Result<(), AppError> {
    let (sent, done) = oneshot::channel();
    ops.send(Op { message, waiter, sent }).await.map_err(|_| AppError::Stopped)?;
    done.await.map_err(|_| AppError::Stopped)?
}

/// An outbound message the server asks the connector to send (SE_MESSAGE_SENDING). Answer it
/// exactly once — the methods take `self` — within the limit; dropping it unanswered leaves the
/// server to retry after 90 s.
#[derive(Debug)]
pub struct OutboundMessage {
    /// What to send.
    pub content: MessageContentInfo,
    arrived: Instant,
    limit: Duration,
    ops: mpsc::WeakSender<Op>,
}

impl OutboundMessage {
    /// Reports the message sent, with the external id the delivery system gave it (at most
    /// 80 characters; `None` keeps the server's draft).
    pub async fn sent(self, delivery_system_id: Option<String>) -> Result<(), AppError> {
        self.answer(delivery_system_id, None).await
    }

    /// Reports that sending failed; `error` is stored by the server as the reason.
    pub async fn failed(self, error: impl Into<String>) -> Result<(), AppError> {
        self.answer(None, Some(error.into())).await
    }

    async fn answer(self, delivery_system_id: Option<String>, error: Option<String>) -> Result<(), AppError> {
        let elapsed = self.arrived.elapsed();
        if elapsed > self.limit {
            let message_id = self.content.message_id.as_ref().map(|g| g.to_string()).unwrap_or_default();
            return Err(AppError::TooLate { message_id, elapsed, limit: self.limit });
        }
        let ack =
            CommandInfo::message_sent(&self.content, delivery_system_id, error, UtcTime(EpochMillis::now()))?;
        let ops = self.ops.upgrade().ok_or(AppError::Stopped)?;
        let message =
            Message { name: MessageName::EsMessageSent, payload: Payload::CommandInfo(Box::new(ack)) };
        submit(&ops, message, None).await
    }
}

/// The background task's state between connections.
struct Routing {
    side: Side,
    echoes: HashMap<String, oneshot::Sender<ChatSentenceInfo>>,
    received: HashMap<String, oneshot::Sender<CommandInfo>>,
    replies: HashMap<MessageName, std::collections::VecDeque<oneshot::Sender<Message>>>,
    responses: HashMap<String, Vec<oneshot::Sender<ChatServiceInfo>>>,
    /// Last status seen per ChatId, for the resync report.
    known: HashMap<String, ChatStatusInfo>,
}

impl Routing {
    /// Hands `message` to its waiter, or returns the event to emit.
    fn route(&mut self, message: Message) -> Option<AppEvent> {
        let message = match self.replies.get_mut(&message.name) {
            Some(waiters) => {
                let mut message = message;
                loop {
                    match waiters.pop_front() {
                        None => break message,
                        Some(waiter) => match waiter.send(message) {
                            Ok(()) => return None,
                            Err(back) => message = back,
                        },
                    }
                }
            }
            None => message,
        };
        match (&message.name, &message.payload) {
            (name, Payload::ChatSentenceInfo(s)) if (name.clone(), s.is_outbound) == self.side.echo() => {
                if let Some(waiter) = s.id.as_ref().and_then(|id| self.echoes.remove(id))
                    && waiter.send((**s).clone()).is_ok()
                {
                    return None;
                }
            }
            (MessageName::SeChatResponse, Payload::ChatServiceInfo(r)) => {
                let waiters =
                    r.tracking_id.as_ref().and_then(|t| self.responses.remove(t)).unwrap_or_default();
                let mut delivered = false;
                for waiter in waiters {
                    delivered |= waiter.send((**r).clone()).is_ok();
                }
                if delivered {
                    return None;
                }
            }
            (MessageName::SeMessageReceived, Payload::CommandInfo(ack)) => {
                if let Some(waiter) = ack.reference.as_ref().and_then(|r| self.received.remove(r))
                    && waiter.send((**ack).clone()).is_ok()
                {
                    return None;
                }
            }
            (name, Payload::ChatStatusInfo(s)) if *name == self.side.status() => self.remember(s),
            (name, Payload::ChatStatusInfoList(list)) if *name == self.side.list() => {
                return Some(self.resynced(list.clone()));
            }
            _ => {}
        }
        Some(AppEvent::Message(message))
    }

    fn remember(&mut self, status: &ChatStatusInfo) {
        let Some(id) = status.chat_id.as_ref().map(|g| g.to_string()) else { return };
        let closed =
            matches!(status.status, Some(Status::Closed | Status::ClosedByAgent | Status::ClosedByExtApp));
        if closed {
            self.known.remove(&id);
        } else {
            self.known.insert(id, ChatStatusInfo { sentences: None, ..status.clone() });
        }
    }

    fn resynced(&mut self, chats: Vec<ChatStatusInfo>) -> AppEvent {
        let listed: HashMap<String, &ChatStatusInfo> =
            chats.iter().filter_map(|c| Some((c.chat_id.as_ref()?.to_string(), c))).collect();
        let changed = chats
            .iter()
            .filter(|c| {
                let id = c.chat_id.as_ref().map(|g| g.to_string()).unwrap_or_default();
                self.known.get(&id).map(|k| &k.status) != Some(&c.status)
            })
            .cloned()
            .collect();
        let ended =
            self.known.iter().filter(|(id, _)| !listed.contains_key(*id)).map(|(_, c)| c.clone()).collect();
        self.known = listed.into_iter().map(|(id, c)| (id, c.clone())).collect();
        AppEvent::Resynced { chats, changed, ended }
    }

    fn register(&mut self, waiter: Waiter) {
        match waiter {
            Waiter::Echo(id, tx) => {
                self.echoes.insert(id, tx);
            }
            Waiter::Response(tracking_id, tx) => self.responses.entry(tracking_id).or_default().push(tx),
            Waiter::Received(request_id, tx) => {
                self.received.insert(request_id, tx);
            }
            Waiter::Reply(name, tx) => self.replies.entry(name).or_default().push_back(tx),
        }
    }

    /// Drops waiters whose callers gave up, so the maps stay bounded.
    fn prune(&mut self) {
        self.echoes.retain(|_, tx| !tx.is_closed());
        self.received.retain(|_, tx| !tx.is_closed());
        self.replies.retain(|_, txs| {
            txs.retain(|tx| !tx.is_closed());
            !txs.is_empty()
        });
        self.responses.retain(|_, txs| {
            txs.retain(|tx| !tx.is_closed());
            !txs.is_empty()
        });
    }
}

async fn run(
    config: ExternalAppConfig,
    side: Side,
    mut connection: Connection,
    (mut ops, answers): (mpsc::Receiver<Op>, mpsc::WeakSender<Op>),
    events: mpsc::Sender<AppEvent>,
) {
    let mut routing = Routing {
        side: side.clone(),
        echoes: HashMap::new(),
        received: HashMap::new(),
        replies: HashMap::new(),
        responses: HashMap::new(),
        known: HashMap::new(),
    };
    // An agent client announces itself and learns its chats at once.
    if matches!(side, Side::Agent(_))
        && let Err(e) = connection.send(&side.resync(&config)).await
    {
        let _ = events.send(AppEvent::Disconnected(e.to_string())).await;
    }
    loop {
        let why = loop {
            tokio::select! {
                op = ops.recv() => {
                    let Some(op) = op else { return };
                    routing.prune();
                    if let Some(waiter) = op.waiter {
                        routing.register(waiter);
                    }
                    match connection.send(&op.message).await {
                        Ok(()) => {
                            let _ = op.sent.send(Ok(()));
                        }
                        // Could not be encoded (too large): nothing was written, the connection is fine.
                        Err(ConnectionError::Frame(e)) => {
                            let _ = op.sent.send(Err(AppError::NotEncodable(e)));
                        }
                        Err(e) => {
                            let why = e.to_string();
                            let _ = op.sent.send(Err(AppError::Disconnected(why.clone())));
                            break why;
                        }
                    }
                }
                received = connection.recv() => match received {
                    Ok(Some(Message { name: MessageName::SeMessageSending, payload: Payload::MessageContentInfo(content) })) => {
                        let outbound = OutboundMessage {
                            content: *content,
                            arrived: Instant::now(),
                            limit: config.sent_limit,
                            ops: answers.clone(),
                        };
                        let _ = events.send(AppEvent::Sending(Box::new(outbound))).await;
                    }
                    Ok(Some(message)) => {
                        if let Some(event) = routing.route(message) {
                            let _ = events.send(event).await;
                        }
                    }
                    Err(ConnectionError::Frame(FrameError::Payload(e))) => {
                        let _ = events.send(AppEvent::Malformed(e.to_string())).await;
                    }
                    Ok(None) => break "the server closed the connection".to_owned(),
                    Err(e) => break e.to_string(),
                }
            }
        };
        let _ = events.send(AppEvent::Disconnected(why.clone())).await;
        match reconnect(&config, &mut ops, &why).await {
            Some(fresh) => connection = fresh,
            None => return,
        }
        if let Err(e) = connection.send(&side.resync(&config)).await {
            let _ = events.send(AppEvent::Disconnected(e.to_string())).await;
        }
    }
}

/// Reconnects with doubling delays; calls made meanwhile fail with `Disconnected`. `None` when
/// the client was dropped.
async fn reconnect(
    config: &ExternalAppConfig,
    ops: &mut mpsc::Receiver<Op>,
    why: &str,
) -> Option<Connection> {
    let mut delay = config.reconnect_initial;
    loop {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                op = ops.recv() => {
                    let op = op?;
                    let _ = op.sent.send(Err(AppError::Disconnected(why.to_owned())));
                }
            }
        }
        if let Ok(connection) = Connection::connect(config.addr.as_str()).await {
            return Some(connection);
        }
        delay = (delay * 2).min(config.reconnect_max);
    }
}
