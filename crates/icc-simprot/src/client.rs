//! The SimProt client connection both sides share: [`SimProtClient`] with its [`SimProtConfig`]
//! and [`SimProtEvent`]s. One background task per client owns the [`Connection`], reconnects
//! with backoff, sends the side's resync after every reconnect and reports what changed while
//! it was away ([`SimProtEvent::Resynced`]); answers (echoes, chat responses, acknowledgements,
//! replies without a correlation id) go to the call waiting for them, everything else is an
//! event. Late echoes are delivered once, as events.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cc_core::EpochMillis;
use tokio::sync::{mpsc, oneshot};

use crate::catalogue::{Message, MessageName, Payload};
use crate::connection::{Connection, ConnectionError};
use crate::error::Error;
use crate::framing::FrameError;
use crate::model::{
    ChatCommandInfo, ChatSentenceInfo, ChatServiceInfo, ChatStatusInfo, CommandInfo, Guid,
    MessageContentInfo, Status, UtcTime,
};

/// How a [`SimProtClient`] connects and waits, whichever [`Side`] it speaks.
#[derive(Clone, Debug)]
pub struct SimProtConfig {
    /// The server address (`host:port`).
    pub addr: String,
    /// The `Peer` member this side sends: for an external app the gateway address (the
    /// ChatGateway.PeerAddress), for an agent client the agent's workplace number.
    pub peer: String,
    /// The gateway subaddress (`Port`), optional; external app only.
    pub port: Option<String>,
    /// How long to wait for a sentence's echo (seed: 20 s).
    pub echo_timeout: Duration,
    /// How long to wait for an answer (SE_CHAT_RESPONSE, gateway lists, routing, literals).
    pub response_timeout: Duration,
    /// How long an SE_CHAT_RESPONSE is reused for the same parameters (seed: up to tens of
    /// seconds; default 10 s; zero disables the cache); external app only.
    pub response_cache: Duration,
    /// First reconnect delay; doubled per failed attempt up to `reconnect_max`.
    pub reconnect_initial: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// How long to wait for SE_MESSAGE_RECEIVED (seed: at least 60 s; default 120 s); external
    /// app (message gateway) only.
    pub received_timeout: Duration,
    /// How long after SE_MESSAGE_SENDING an ES_MESSAGE_SENT may still be sent (seed: 90 s);
    /// external app (message gateway) only.
    /// Later answers are refused: the server has already counted the delivery as failed and
    /// will send the message again.
    pub sent_limit: Duration,
    /// When the external app sends ES_CHAT_CONFIRM for an agent's sentence (external app
    /// only; default [`Confirm::OnHandOff`]).
    pub confirm: Confirm,
}

/// When an agent's sentence (SE_CHAT_SENTENCE, outbound) is confirmed with ES_CHAT_CONFIRM
/// ("a confirmation that the sent message has been delivered").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Confirm {
    /// As soon as the sentence has been handed to your event queue. **Our choice:** the library
    /// cannot see your customer's screen; where the queue is read by what shows the sentence,
    /// this is when it is delivered. Sentences that arrive again (a resync) are confirmed again.
    #[default]
    OnHandOff,
    /// Never by itself: call `ExternalApp::confirm` when your channel has delivered it.
    Manual,
}

impl SimProtConfig {
    /// Defaults for server `addr` and `peer` (gateway address or workplace number).
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
            confirm: Confirm::OnHandOff,
        }
    }
}

/// What the server said, as it arrives, to either side.
#[derive(Debug)]
pub enum SimProtEvent {
    /// A server message no call was waiting for (status, agent sentences, typing, confirms, a
    /// late echo, …).
    Message(Message),
    /// An outbound e-mail/SMS/fax to send (SE_MESSAGE_SENDING): send it, then answer once.
    Sending(Box<OutboundMessage>),
    /// A message whose payload did not fit its type; the connection goes on.
    Malformed(String),
    /// The connection dropped; reconnecting.
    Disconnected(String),
    /// Reconnected and resynchronised: the open chats (of the gateway or the agent), those whose status differs
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

/// The ES_CHAT_CONFIRM of an agent's sentence event (SE_CHAT_SENTENCE, outbound), if it is one.
pub(crate) fn delivery_confirm(event: &SimProtEvent) -> Option<Message> {
    match event {
        SimProtEvent::Message(Message {
            name: MessageName::SeChatSentence,
            payload: Payload::ChatSentenceInfo(s),
        }) if s.is_outbound => Some(confirm_of(s)),
        _ => None,
    }
}

/// ES_CHAT_CONFIRM for `sentence`: its gateway, thread, chat and `ID`.
pub(crate) fn confirm_of(sentence: &ChatSentenceInfo) -> Message {
    let confirm = sentence.confirmation(UtcTime(EpochMillis::now()));
    Message { name: MessageName::EsChatConfirm, payload: Payload::ChatCommandInfo(Box::new(confirm)) }
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
    sent: oneshot::Sender<Result<(), Error>>,
}

/// Which side of SimProt a connection speaks: the external application (ES/SE) or an agent
/// client (CS/SC). It decides which messages are echoes, statuses and resync lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Side {
    /// The external chat application or message gateway (ES/SE).
    ExternalApp,
    /// An agent client (CS/SC) for this agent.
    Agent(Option<Guid>),
}

impl Side {
    fn echo(&self) -> (MessageName, bool) {
        match self {
            Side::ExternalApp => (MessageName::SeChatSentence, false),
            Side::Agent(_) => (MessageName::ScChatSentence, true),
        }
    }

    fn status(&self) -> MessageName {
        match self {
            Side::ExternalApp => MessageName::SeChatStatus,
            Side::Agent(_) => MessageName::ScChatStatus,
        }
    }

    fn list(&self) -> MessageName {
        match self {
            Side::ExternalApp => MessageName::SeChatList,
            Side::Agent(_) => MessageName::ScChatList,
        }
    }

    /// ES_CHAT_RESYNC for the gateway, or CS_CHAT_RESYNC for the workplace and agent.
    fn resync(&self, config: &SimProtConfig) -> Message {
        let mut command = ChatCommandInfo { peer: Some(config.peer.clone()), ..Default::default() };
        let name = match self {
            Side::ExternalApp => {
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

/// One SimProt client connection kept alive in a background task, for either [`Side`]: it
/// reconnects with doubling delays, resynchronises after every reconnect, routes answers to
/// the calls waiting for them and everything else to the event receiver. The
/// [`ExternalApp`](crate::external::ExternalApp) and the
/// [`AgentClient`](crate::agent::AgentClient) are typed calls over it; [`SimProtClient::send`]
/// sends any message.
#[derive(Debug)]
pub struct SimProtClient {
    config: SimProtConfig,
    side: Side,
    ops: mpsc::Sender<Op>,
}

impl SimProtClient {
    /// Connects (the first connection must succeed) and starts the background task. Events
    /// arrive on the returned receiver; keep reading it (it holds up to 1024 unread events).
    /// An agent client announces itself (CS_CHAT_RESYNC) at once.
    pub async fn connect(
        config: SimProtConfig,
        side: Side,
    ) -> Result<(Self, mpsc::Receiver<SimProtEvent>), Error> {
        let connection = Connection::connect(config.addr.as_str()).await.map_err(Error::Connect)?;
        let (ops_tx, ops_rx) = mpsc::channel(64);
        let (events_tx, events_rx) = mpsc::channel(1024);
        tokio::spawn(run(config.clone(), side.clone(), connection, (ops_rx, ops_tx.downgrade()), events_tx));
        Ok((Self { config, side, ops: ops_tx }, events_rx))
    }

    /// The configuration.
    pub fn config(&self) -> &SimProtConfig {
        &self.config
    }

    /// The side this client speaks.
    pub fn side(&self) -> &Side {
        &self.side
    }

    /// Sends `message` as it is; answers and other server messages arrive as events. Returns
    /// once it was written (or could not be).
    pub async fn send(&self, message: Message) -> Result<(), Error> {
        self.submit(message, None).await
    }

    pub(crate) async fn submit(&self, message: Message, waiter: Option<Waiter>) -> Result<(), Error> {
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
    ) -> Result<ChatSentenceInfo, Error> {
        let id = sentence.id.clone().ok_or(Error::Missing("ID"))?;
        sentence.validate()?;
        sentence.is_outbound = is_outbound;
        sentence.counter = 0;
        let message = Message { name, payload: Payload::ChatSentenceInfo(Box::new(sentence)) };
        let echo = self.ask(message, |tx| Waiter::Echo(id.clone(), tx), timeout).await?;
        echo.map_err(|_| Error::NoEcho { id, timeout })
    }

    /// Sends `message` with a waiter for its answer and waits up to `timeout`.
    pub(crate) async fn ask<T>(
        &self,
        message: Message,
        waiter: impl FnOnce(oneshot::Sender<T>) -> Waiter,
        timeout: Duration,
    ) -> Result<Result<T, NoAnswer>, Error> {
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
    pub(crate) fn into_error(self, what: &'static str, timeout: Duration) -> Error {
        match self {
            NoAnswer::Dropped => Error::Disconnected(format!("the connection dropped before {what}")),
            NoAnswer::TimedOut => Error::NoResponse(what, timeout),
        }
    }
}

async fn submit(ops: &mpsc::Sender<Op>, message: Message, waiter: Option<Waiter>) -> Result<(), Error> {
    let (sent, done) = oneshot::channel();
    ops.send(Op { message, waiter, sent }).await.map_err(|_| Error::Stopped)?;
    done.await.map_err(|_| Error::Stopped)?
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
    pub async fn sent(self, delivery_system_id: Option<String>) -> Result<(), Error> {
        self.answer(delivery_system_id, None).await
    }

    /// Reports that sending failed; `error` is stored by the server as the reason.
    pub async fn failed(self, error: impl Into<String>) -> Result<(), Error> {
        self.answer(None, Some(error.into())).await
    }

    async fn answer(self, delivery_system_id: Option<String>, error: Option<String>) -> Result<(), Error> {
        let elapsed = self.arrived.elapsed();
        if elapsed > self.limit {
            let message_id = self.content.message_id.as_ref().map(|g| g.to_string()).unwrap_or_default();
            return Err(Error::TooLate { message_id, elapsed, limit: self.limit });
        }
        let ack =
            CommandInfo::message_sent(&self.content, delivery_system_id, error, UtcTime(EpochMillis::now()))?;
        let ops = self.ops.upgrade().ok_or(Error::Stopped)?;
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
    fn route(&mut self, message: Message) -> Option<SimProtEvent> {
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
        Some(SimProtEvent::Message(message))
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

    fn resynced(&mut self, chats: Vec<ChatStatusInfo>) -> SimProtEvent {
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
        SimProtEvent::Resynced { chats, changed, ended }
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
    config: SimProtConfig,
    side: Side,
    mut connection: Connection,
    (mut ops, answers): (mpsc::Receiver<Op>, mpsc::WeakSender<Op>),
    events: mpsc::Sender<SimProtEvent>,
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
        let _ = events.send(SimProtEvent::Disconnected(e.to_string())).await;
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
                            let _ = op.sent.send(Err(Error::NotEncodable(e)));
                        }
                        Err(e) => {
                            let why = e.to_string();
                            let _ = op.sent.send(Err(Error::Disconnected(why.clone())));
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
                        let _ = events.send(SimProtEvent::Sending(Box::new(outbound))).await;
                    }
                    Ok(Some(message)) => {
                        if let Some(event) = routing.route(message) {
                            let confirm = (side == Side::ExternalApp && config.confirm == Confirm::OnHandOff)
                                .then(|| delivery_confirm(&event))
                                .flatten();
                            let handed = events.send(event).await.is_ok();
                            if let (true, Some(confirm)) = (handed, confirm)
                                && let Err(e) = connection.send(&confirm).await
                            {
                                break e.to_string();
                            }
                        }
                    }
                    Err(ConnectionError::Frame(FrameError::Payload(e))) => {
                        let _ = events.send(SimProtEvent::Malformed(e.to_string())).await;
                    }
                    Ok(None) => break "the server closed the connection".to_owned(),
                    Err(e) => break e.to_string(),
                }
            }
        };
        let _ = events.send(SimProtEvent::Disconnected(why.clone())).await;
        match reconnect(&config, &mut ops, &why).await {
            Some(fresh) => connection = fresh,
            None => return,
        }
        if let Err(e) = connection.send(&side.resync(&config)).await {
            let _ = events.send(SimProtEvent::Disconnected(e.to_string())).await;
        }
    }
}

/// Reconnects with doubling delays; calls made meanwhile fail with `Disconnected`. `None` when
/// the client was dropped.
async fn reconnect(config: &SimProtConfig, ops: &mut mpsc::Receiver<Op>, why: &str) -> Option<Connection> {
    let mut delay = config.reconnect_initial;
    loop {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                op = ops.recv() => {
                    let op = op?;
                    let _ = op.sent.send(Err(Error::Disconnected(why.to_owned())));
                }
            }
        }
        if let Ok(connection) = Connection::connect(config.addr.as_str()).await {
            return Some(connection);
        }
        delay = (delay * 2).min(config.reconnect_max);
    }
}
