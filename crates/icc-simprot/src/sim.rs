//! An in-process ProServer for external chat and messaging applications and agent clients, on
//! loopback TCP with the crate's framing, for building and testing a connector without an iCC
//! installation.
//!
//! With an agent client connected (any connection sending CS messages, by workplace), chats are
//! brokered: ES_CHAT_START alerts the agent (SC_CHAT_ALERT), CS_CHAT_ANSWER answers it, sentences
//! are echoed to their sender and forwarded to the other side, confirmations and typing cross
//! over, CS_CHAT_HANGUP / ES_CHAT_STOP close it on both sides, CS_CHAT_RESYNC / CS_CHAT_STATUS
//! answer with the workplace's chats. Without one, a scripted agent answers:
//!
//! ES_CHAT_REQUEST → SE_CHAT_RESPONSE with the configured
//! signal; ES_CHAT_START → SE_CHAT_STATUS Waiting (with the chat's sentences), then Answered by
//! the simulated agent — a known TrackingId continues its chat; ES_CHAT_SENTENCE → the echo
//! SE_CHAT_SENTENCE (IsOutbound false, next Counter), SE_CHAT_CONFIRM, and optionally an agent
//! reply; ES_CHAT_STATUS → SE_CHAT_STATUS; ES_CHAT_STOP → SE_CHAT_STATUS Closed; ES_CHAT_RESYNC →
//! SE_CHAT_LIST of the open chats of that gateway; ES_MESSAGE_RECEIVING → one
//! SE_MESSAGE_RECEIVED; ES_SL_GETGATEWAYS, ES_WS_ROUTING, ES_WS_LITERALS_GET and ES_SCENARIO_LOAD
//! are answered from [`SimConfig`], ES_SCENARIO_SAVE is kept ([`SimProtSim::saved_forms`]),
//! ES_CHAT_CONFIRM ids too ([`SimProtSim::confirmed`]);
//! [`SimProtSim::send_outbound`] pushes SE_MESSAGE_SENDING and
//! [`SimProtSim::sent_answers`] shows the ES_MESSAGE_SENT answers. Chats outlive connections, so reconnect-and-resync can be tested. Other
//! messages are ignored. Timings are immediate: the real server's are load-dependent.
//!
//! Faults: [`SimProtSim::drop_connections`], [`SimProtSim::withhold_echoes`],
//! [`SimProtSim::send_garbage`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use cc_core::EpochMillis;
use tokio::net::TcpListener;
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::catalogue::{Message, MessageName, Payload};
use crate::connection::{Connection, ConnectionError};
use crate::framing::LengthPrefixed;
use crate::model::{
    ChatCommandInfo, ChatInfo, ChatSentenceInfo, ChatServiceInfo, ChatStatusInfo, CommandInfo, GatewayInfo,
    Guid, LiteralLookupInfo, MessageContentInfo, ScenarioInfo, ScenarioResultInfo, Signal, Status, UtcTime,
    WebSiteRoutingInfo,
};

/// How the simulated server behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The SE_CHAT_RESPONSE signal.
    pub signal: Signal,
    /// The simulated agent's name.
    pub agent_name: String,
    /// Whether the agent answers each sentence with `You wrote: <text>`.
    pub agent_replies: bool,
    /// The Success flag of SE_MESSAGE_RECEIVED for valid inbound messages.
    pub inbound_processed: bool,
    /// The message gateways (SE_SL_MSGGATEWAYS answers ES_SL_GETGATEWAYS with all of them).
    pub gateways: Vec<GatewayInfo>,
    /// The scenarios ES_SCENARIO_LOAD can ask for (by ScenarioId).
    pub scenarios: Vec<ScenarioInfo>,
    /// The routing rules (SE_WS_ROUTING answers ES_WS_ROUTING with all of them).
    pub routing: Vec<WebSiteRoutingInfo>,
    /// The literals (SE_WS_LITERALS_INFO answers ES_WS_LITERALS_GET with its group and culture).
    pub literals: Vec<LiteralLookupInfo>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            signal: Signal::Free,
            agent_name: "Sim Agent".into(),
            agent_replies: true,
            inbound_processed: true,
            gateways: Vec::new(),
            scenarios: Vec::new(),
            routing: Vec::new(),
            literals: Vec::new(),
        }
    }
}

/// A running simulator; stops when dropped.
#[derive(Debug)]
pub struct SimProtSim {
    addr: SocketAddr,
    task: JoinHandle<()>,
    state: Arc<Mutex<State>>,
    drop_all: Arc<Notify>,
    outbound: broadcast::Sender<Broadcast>,
}

#[derive(Clone, Debug)]
struct Chat {
    status: ChatStatusInfo,
    sentences: Vec<ChatSentenceInfo>,
    /// The workplace of the connected agent client the chat went to, if any.
    agent: Option<String>,
}

/// What the simulator sends to every connection.
#[derive(Clone, Debug)]
enum Broadcast {
    Message(Message),
    /// Bytes as they are, for faults.
    Raw(Vec<u8>),
}

/// Where a message the simulator sends goes.
#[derive(Debug)]
enum To {
    /// The external application connected for this gateway Peer.
    App(String),
    /// The agent client connected at this workplace.
    Agent(String),
}

#[derive(Debug)]
struct State {
    config: SimConfig,
    agent_id: Guid,
    next_id: u64,
    chats: HashMap<String, Chat>,
    /// How many coming ES_CHAT_SENTENCEs to lose (no echo, not stored).
    withhold: usize,
    /// ES_MESSAGE_SENT answers received, in order.
    sent: Vec<CommandInfo>,
    /// ES_CHAT_CONFIRM ids received, in order.
    confirmed: Vec<String>,
    /// ES_SCENARIO_SAVE form data received, in order.
    saved: Vec<ScenarioResultInfo>,
    /// External applications by gateway Peer, and agent clients by workplace.
    apps: HashMap<String, mpsc::UnboundedSender<Message>>,
    agents: HashMap<String, mpsc::UnboundedSender<Message>>,
    /// Messages for other connections, produced while answering one.
    pushes: Vec<(To, Message)>,
}

impl State {
    /// Remembers which connection speaks for a gateway (ES messages) or workplace (CS).
    fn register(&mut self, message: &Message, tx: &mpsc::UnboundedSender<Message>) {
        let peer = match &message.payload {
            Payload::ChatServiceInfo(p) => p.peer.clone(),
            Payload::ChatStatusInfo(p) => p.peer.clone(),
            Payload::ChatSentenceInfo(p) => p.peer.clone(),
            Payload::ChatCommandInfo(p) => p.peer.clone(),
            _ => None,
        };
        let Some(peer) = peer else { return };
        match &message.name.as_str()[..3] {
            "ES_" => self.apps.insert(peer, tx.clone()),
            "CS_" => self.agents.insert(peer, tx.clone()),
            _ => None,
        };
    }

    /// Hands queued messages to their connections; forgets connections that are gone.
    fn dispatch(&mut self) {
        for (to, message) in std::mem::take(&mut self.pushes) {
            let (map, key) = match &to {
                To::App(peer) => (&mut self.apps, peer),
                To::Agent(workplace) => (&mut self.agents, workplace),
            };
            if map.get(key).is_some_and(|tx| tx.send(message).is_err()) {
                map.remove(key);
            }
        }
    }

    fn chat_by_id(&mut self, chat_id: &Option<Guid>) -> Option<&mut Chat> {
        let chat_id = chat_id.as_ref()?;
        self.chats.values_mut().find(|c| c.status.chat_id.as_ref() == Some(chat_id))
    }

    fn new_guid(&mut self) -> Guid {
        self.next_id += 1;
        Guid::parse(&format!("00000000-0000-4000-8000-{:012x}", self.next_id)).expect("well-formed GUID")
    }
}

impl SimProtSim {
    /// Starts listening on `127.0.0.1` on a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts listening on `addr` (port 0: a free one).
    pub async fn start_on(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let agent_id = Guid::parse("00000000-0000-4000-8000-00000000a9e7").expect("well-formed GUID");
        let state = Arc::new(Mutex::new(State {
            config,
            agent_id,
            next_id: 0,
            chats: HashMap::new(),
            withhold: 0,
            sent: Vec::new(),
            confirmed: Vec::new(),
            saved: Vec::new(),
            apps: HashMap::new(),
            agents: HashMap::new(),
            pushes: Vec::new(),
        }));
        let drop_all = Arc::new(Notify::new());
        let (outbound, _) = broadcast::channel(64);
        let (task_state, task_drop, task_outbound) = (state.clone(), drop_all.clone(), outbound.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, drop_all, outbound) =
                    (task_state.clone(), task_drop.clone(), task_outbound.subscribe());
                tokio::spawn(async move {
                    let mut connection = Connection::new(stream, LengthPrefixed::default());
                    // A connection ends on close, on a frame error (as a real server would drop
                    // it) or when the test drops every connection.
                    tokio::select! {
                        _ = serve(&mut connection, &state, outbound) => {}
                        () = drop_all.notified() => {}
                    }
                });
            }
        });
        Ok(Self { addr, task, state, drop_all, outbound })
    }

    /// Sends SE_MESSAGE_SENDING with `content` to every connection the simulator has accepted
    /// (a connection counts once one of its messages has been answered); returns how many.
    pub fn send_outbound(&self, content: MessageContentInfo) -> usize {
        let message = msg(MessageName::SeMessageSending, Payload::MessageContentInfo(Box::new(content)));
        self.outbound.send(Broadcast::Message(message)).unwrap_or(0)
    }

    /// The ES_SCENARIO_SAVE form data received so far, in order.
    pub fn saved_forms(&self) -> Vec<ScenarioResultInfo> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).saved.clone()
    }

    /// The `ID`s of the agent sentences the app confirmed (ES_CHAT_CONFIRM), in order.
    pub fn confirmed(&self) -> Vec<String> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).confirmed.clone()
    }

    /// The ES_MESSAGE_SENT answers received so far, in order.
    pub fn sent_answers(&self) -> Vec<CommandInfo> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).sent.clone()
    }

    /// Fault: writes a garbage frame (a valid length, then bytes that are not MessagePack) to
    /// every open connection; returns how many.
    pub fn send_garbage(&self) -> usize {
        self.outbound.send(Broadcast::Raw(vec![0, 0, 0, 3, 0xc1, 0xc1, 0xc1])).unwrap_or(0)
    }

    /// Fault: closes every open connection (chats are kept, as on the real server).
    pub fn drop_connections(&self) {
        self.drop_all.notify_waiters();
    }

    /// Fault: the next `n` ES_CHAT_SENTENCEs are lost before the broker — no echo, not stored.
    pub fn withhold_echoes(&self, n: usize) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).withhold = n;
    }

    /// Where to connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for SimProtSim {
    /// Stops accepting and closes the open connections.
    fn drop(&mut self) {
        self.task.abort();
        self.drop_all.notify_waiters();
    }
}

async fn serve(
    connection: &mut Connection,
    state: &Mutex<State>,
    mut outbound: broadcast::Receiver<Broadcast>,
) -> Result<(), ConnectionError> {
    let (tx, mut pushed) = mpsc::unbounded_channel();
    loop {
        tokio::select! {
            received = connection.recv() => {
                let Some(message) = received? else { return Ok(()) };
                let replies = {
                    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                    state.register(&message, &tx);
                    let replies = respond(&mut state, message);
                    state.dispatch();
                    replies
                };
                for reply in &replies {
                    connection.send(reply).await?;
                }
            }
            Some(message) = pushed.recv() => connection.send(&message).await?,
            Ok(broadcast) = outbound.recv() => match broadcast {
                Broadcast::Message(message) => connection.send(&message).await?,
                Broadcast::Raw(bytes) => connection.send_raw(&bytes).await?,
            },
        }
    }
}

fn now() -> UtcTime {
    UtcTime(EpochMillis::now())
}

fn msg(name: MessageName, payload: Payload) -> Message {
    Message { name, payload }
}

fn status_message(chat: &Chat, with_sentences: bool) -> Message {
    let mut status = chat.status.clone();
    status.sentences = with_sentences.then(|| chat.sentences.clone());
    msg(MessageName::SeChatStatus, Payload::ChatStatusInfo(Box::new(status)))
}

fn respond(state: &mut State, message: Message) -> Vec<Message> {
    use MessageName as N;
    match (message.name, message.payload) {
        (N::EsChatRequest, Payload::ChatServiceInfo(request)) => {
            let response = ChatServiceInfo {
                peer: request.peer,
                port: request.port,
                tracking_id: request.tracking_id,
                signal: Some(state.config.signal.clone()),
                ..Default::default()
            };
            vec![msg(N::SeChatResponse, Payload::ChatServiceInfo(Box::new(response)))]
        }
        (N::EsChatStart, Payload::ChatServiceInfo(start)) => start_chat(state, *start),
        (N::EsChatSentence, Payload::ChatSentenceInfo(sentence)) => add_sentence(state, *sentence),
        (N::EsChatStatus, Payload::ChatStatusInfo(query)) => {
            chat_of(state, &query.tracking_id).map(|chat| status_message(chat, false)).into_iter().collect()
        }
        (N::EsChatStop, Payload::ChatCommandInfo(stop)) => {
            let Some(chat) = chat_of(state, &stop.tracking_id) else { return Vec::new() };
            chat.status.status = Some(Status::Closed);
            let reply = status_message(chat, false);
            if let Some(workplace) = chat.agent.clone() {
                let closed = for_agent(chat, true);
                state.pushes.push((
                    To::Agent(workplace),
                    msg(N::ScChatStatus, Payload::ChatStatusInfo(Box::new(closed))),
                ));
            }
            vec![reply]
        }
        (N::EsChatTyping, Payload::ChatCommandInfo(typing)) => {
            let Some(chat) = chat_of(state, &typing.tracking_id) else { return Vec::new() };
            if let Some(workplace) = chat.agent.clone() {
                let command = ChatCommandInfo {
                    peer: Some(workplace.clone()),
                    chat_id: chat.status.chat_id.clone(),
                    is_typing: typing.is_typing,
                    time_stamp: Some(now()),
                    ..Default::default()
                };
                state.pushes.push((
                    To::Agent(workplace),
                    msg(N::ScChatTyping, Payload::ChatCommandInfo(Box::new(command))),
                ));
            }
            Vec::new()
        }
        (N::CsChatAnswer, Payload::ChatCommandInfo(answer)) => {
            let agent_name = state.config.agent_name.clone();
            let Some(chat) = state.chat_by_id(&answer.chat_id) else { return Vec::new() };
            chat.status.status = Some(Status::Answered);
            chat.status.agent_id = answer.agent_id.clone();
            chat.status.agent_name = Some(agent_name);
            let (to_app, to_agent, peer) =
                (status_message(chat, false), for_agent(chat, true), chat_peer(chat));
            state.pushes.push((To::App(peer), to_app));
            vec![msg(N::ScChatStatus, Payload::ChatStatusInfo(Box::new(to_agent)))]
        }
        (N::CsChatHangup, Payload::ChatCommandInfo(hangup)) => {
            let Some(chat) = state.chat_by_id(&hangup.chat_id) else { return Vec::new() };
            chat.status.status = Some(Status::Closed);
            let (to_app, to_agent, peer) =
                (status_message(chat, false), for_agent(chat, true), chat_peer(chat));
            state.pushes.push((To::App(peer), to_app));
            vec![msg(N::ScChatStatus, Payload::ChatStatusInfo(Box::new(to_agent)))]
        }
        (N::CsChatSentence, Payload::ChatSentenceInfo(sentence)) => agent_sentence(state, *sentence),
        (name @ (N::CsChatConfirm | N::CsChatTyping), Payload::ChatCommandInfo(command)) => {
            let name = if name == N::CsChatConfirm { N::SeChatConfirm } else { N::SeChatTyping };
            let Some(chat) = state.chat_by_id(&command.chat_id) else { return Vec::new() };
            let to_app = ChatCommandInfo {
                peer: chat.status.peer.clone(),
                port: chat.status.port.clone(),
                tracking_id: chat.status.tracking_id.clone(),
                time_stamp: Some(now()),
                ..*command
            };
            let peer = chat_peer(chat);
            state.pushes.push((To::App(peer), msg(name, Payload::ChatCommandInfo(Box::new(to_app)))));
            Vec::new()
        }
        (N::CsChatResync, Payload::ChatCommandInfo(resync)) => {
            let list = state
                .chats
                .values()
                .filter(|c| {
                    c.agent.is_some() && c.agent == resync.peer && c.status.status != Some(Status::Closed)
                })
                .map(|c| for_agent(c, false))
                .collect();
            vec![msg(N::ScChatList, Payload::ChatStatusInfoList(list))]
        }
        (N::CsChatStatus, Payload::ChatCommandInfo(query)) => {
            let Some(chat) = state.chat_by_id(&query.chat_id) else { return Vec::new() };
            vec![msg(N::ScChatStatus, Payload::ChatStatusInfo(Box::new(for_agent(chat, false))))]
        }
        (N::EsChatResync, Payload::ChatCommandInfo(resync)) => {
            let list = state
                .chats
                .values()
                .filter(|c| c.status.peer == resync.peer && c.status.status != Some(Status::Closed))
                .map(|c| c.status.clone())
                .collect();
            vec![msg(N::SeChatList, Payload::ChatStatusInfoList(list))]
        }
        (N::EsMessageReceiving, Payload::MessageContentInfo(inbound)) => vec![received(state, &inbound)],
        (N::EsSlGetGateways, _) => {
            vec![msg(N::SeSlMsgGateways, Payload::GatewayInfoList(state.config.gateways.clone()))]
        }
        (N::EsWsRouting, _) => {
            vec![msg(N::SeWsRouting, Payload::WebSiteRoutingInfoList(state.config.routing.clone()))]
        }
        (N::EsWsLiteralsGet, Payload::LiteralLookupInfo(query)) => {
            let literals = state
                .config
                .literals
                .iter()
                .filter(|l| {
                    l.literal_group == query.literal_group
                        && (query.culture.is_none() || l.culture == query.culture)
                })
                .cloned()
                .collect();
            vec![msg(N::SeWsLiteralsInfo, Payload::LiteralLookupInfoList(literals))]
        }
        (N::EsScenarioLoad, Payload::CommandInfo(load)) => {
            let Some(scenario) =
                state.config.scenarios.iter().find(|s| s.scenario_id.is_some() && s.scenario_id == load.id)
            else {
                return Vec::new();
            };
            let scenario = ScenarioInfo {
                culture: load.reference.clone().or(scenario.culture.clone()),
                ..scenario.clone()
            };
            vec![msg(N::SeScenarioModel, Payload::ScenarioInfo(Box::new(scenario)))]
        }
        (N::EsScenarioSave, Payload::ScenarioResultInfo(result)) => {
            state.saved.push(*result);
            Vec::new()
        }
        (N::EsChatConfirm, Payload::ChatCommandInfo(confirm)) => {
            state.confirmed.extend(confirm.id.clone());
            Vec::new()
        }
        (N::EsMessageSent, Payload::CommandInfo(answer)) => {
            state.sent.push(*answer);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// The chat's status as the agent client sees it (Peer = the workplace number).
fn for_agent(chat: &Chat, with_sentences: bool) -> ChatStatusInfo {
    ChatStatusInfo {
        peer: chat.agent.clone(),
        port: None,
        sentences: with_sentences.then(|| chat.sentences.clone()),
        ..chat.status.clone()
    }
}

fn chat_peer(chat: &Chat) -> String {
    chat.status.peer.clone().unwrap_or_default()
}

/// CS_CHAT_SENTENCE: stored, echoed to the agent (IsOutbound true), forwarded to the app.
fn agent_sentence(state: &mut State, mut sentence: ChatSentenceInfo) -> Vec<Message> {
    let Some(chat) = state.chat_by_id(&sentence.chat_id) else { return Vec::new() };
    if chat.status.status == Some(Status::Closed) || sentence.validate().is_err() {
        return Vec::new(); // no echo: the agent client's 20-second wait reports it
    }
    sentence.is_outbound = true;
    sentence.counter = chat.sentences.len() as i64 + 1;
    chat.sentences.push(sentence.clone());
    let to_app = ChatSentenceInfo {
        peer: chat.status.peer.clone(),
        port: chat.status.port.clone(),
        tracking_id: chat.status.tracking_id.clone(),
        ..sentence.clone()
    };
    let peer = chat_peer(chat);
    state
        .pushes
        .push((To::App(peer), msg(MessageName::SeChatSentence, Payload::ChatSentenceInfo(Box::new(to_app)))));
    vec![msg(MessageName::ScChatSentence, Payload::ChatSentenceInfo(Box::new(sentence)))]
}

fn chat_of<'a>(state: &'a mut State, tracking_id: &Option<String>) -> Option<&'a mut Chat> {
    state.chats.get_mut(tracking_id.as_deref()?)
}

fn start_chat(state: &mut State, start: ChatServiceInfo) -> Vec<Message> {
    let tracking_id = start.tracking_id.clone().unwrap_or_default();
    if !state.chats.contains_key(&tracking_id) {
        let chat_id = state.new_guid();
        let status = ChatStatusInfo {
            peer: start.peer,
            port: start.port,
            tracking_id: Some(tracking_id.clone()),
            chat_id: Some(chat_id),
            status: Some(Status::Waiting),
            ..Default::default()
        };
        state.chats.insert(tracking_id.clone(), Chat { status, sentences: Vec::new(), agent: None });
    }
    let (agent_name, agent_id) = (state.config.agent_name.clone(), state.agent_id.clone());
    let workplace = state.agents.keys().min().cloned();
    let chat = state.chats.get_mut(&tracking_id).expect("inserted above");
    if chat.status.status == Some(Status::Answered) || chat.agent.is_some() {
        return vec![status_message(chat, true)];
    }
    if let Some(workplace) = workplace {
        // A connected agent client gets the chat: alert it and wait for CS_CHAT_ANSWER.
        chat.agent = Some(workplace.clone());
        let waiting = status_message(chat, true);
        chat.status.status = Some(Status::Alerting);
        let mut alert = for_agent(chat, false);
        alert.info = Some(ChatInfo {
            remote_party_name: start.party_name,
            remote_address: start.remote_address,
            workplace_number: Some(workplace.clone()),
            ..Default::default()
        });
        state.pushes.push((
            To::Agent(workplace),
            msg(MessageName::ScChatAlert, Payload::ChatStatusInfo(Box::new(alert))),
        ));
        return vec![waiting];
    }
    let waiting = status_message(chat, true);
    chat.status.status = Some(Status::Answered);
    chat.status.agent_name = Some(agent_name);
    chat.status.agent_id = Some(agent_id);
    vec![waiting, status_message(chat, false)]
}

fn add_sentence(state: &mut State, mut sentence: ChatSentenceInfo) -> Vec<Message> {
    if state.withhold > 0 {
        state.withhold -= 1;
        return Vec::new();
    }
    let reply_id = state.new_guid();
    let (agent_replies, agent_name) = (state.config.agent_replies, state.config.agent_name.clone());
    let Some(chat) = chat_of(state, &sentence.tracking_id) else { return Vec::new() };
    if chat.status.status == Some(Status::Closed) || sentence.validate().is_err() {
        return Vec::new(); // no echo: the connector's 20-second wait tells it the send failed
    }
    sentence.chat_id = chat.status.chat_id.clone();
    sentence.is_outbound = false;
    sentence.counter = chat.sentences.len() as i64 + 1;
    chat.sentences.push(sentence.clone());
    if let Some(workplace) = chat.agent.clone() {
        let forwarded = ChatSentenceInfo { peer: Some(workplace.clone()), port: None, ..sentence.clone() };
        state.pushes.push((
            To::Agent(workplace),
            msg(MessageName::ScChatSentence, Payload::ChatSentenceInfo(Box::new(forwarded))),
        ));
        return vec![msg(MessageName::SeChatSentence, Payload::ChatSentenceInfo(Box::new(sentence)))];
    }
    let confirm = sentence.confirmation(now());
    let mut out = vec![
        msg(MessageName::SeChatSentence, Payload::ChatSentenceInfo(Box::new(sentence.clone()))),
        msg(MessageName::SeChatConfirm, Payload::ChatCommandInfo(Box::new(confirm))),
    ];
    if agent_replies {
        let reply = ChatSentenceInfo {
            id: Some(reply_id.to_string()),
            party_name: Some(agent_name),
            text: Some(format!("You wrote: {}", sentence.text.as_deref().unwrap_or_default())),
            time_sent: Some(now()),
            is_outbound: true,
            counter: chat.sentences.len() as i64 + 1,
            confirmed_time: None,
            ..sentence
        };
        chat.sentences.push(reply.clone());
        out.push(msg(MessageName::SeChatSentence, Payload::ChatSentenceInfo(Box::new(reply))));
    }
    out
}

fn received(state: &mut State, inbound: &MessageContentInfo) -> Message {
    let ack = CommandInfo {
        id: Some(state.new_guid()),
        ref_id: inbound.gateway_id.clone(),
        time_stamp: Some(now()),
        reference: inbound.request_id.clone(),
        data: Some((state.config.inbound_processed && inbound.validate().is_ok()).to_string()),
    };
    msg(MessageName::SeMessageReceived, Payload::CommandInfo(Box::new(ack)))
}
