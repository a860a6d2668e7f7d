//! The external chat application side (ES/SE messages): chats, the message gateway, routing,
//! literals and scenarios, over a [`SimProtClient`].
//!
//! [`ExternalApp::send_sentence`] waits for the SE_CHAT_SENTENCE echo (20 s by default, as the
//! seed says); a retry with the same sentence re-sends the same `ID`, and an echo is delivered
//! once, to its waiter or — if it comes late — as an event. [`ExternalApp::request_chat`]
//! caches SE_CHAT_RESPONSE per parameter set for a configurable few seconds. As a message
//! gateway it hands inbound messages to the server and waits for their one acknowledgement
//! ([`ExternalApp::receive_message`]), and passes outbound ones to you as
//! [`SimProtEvent::Sending`], to be answered exactly once within 90 s. Reconnects and resync:
//! see [`crate::client`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cc_core::EpochMillis;
use tokio::sync::{mpsc, oneshot};

use crate::catalogue::{Message, MessageName, Payload};
use crate::client::{NoAnswer, Side, SimProtClient, SimProtConfig, SimProtEvent, Waiter};
use crate::error::Error;
use crate::model::{
    ChatSentenceInfo, ChatServiceInfo, CommandInfo, Direction, GatewayInfo, Guid, LiteralLookupInfo,
    MessageContentInfo, ScenarioInfo, ScenarioResultInfo, UtcTime, WebSiteRoutingInfo,
};

type CacheKey = (Option<String>, Option<String>, Option<String>, Option<String>);

/// An external chat application connected to ProServer. Cheap to share (`&self` methods).
pub struct ExternalApp {
    client: SimProtClient,
    cache: Mutex<HashMap<CacheKey, (Instant, ChatServiceInfo)>>,
}

impl std::fmt::Debug for ExternalApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalApp")
            .field("addr", &self.client.config().addr)
            .field("peer", &self.client.config().peer)
            .finish()
    }
}

impl ExternalApp {
    /// Connects (the first connection must succeed) and starts the background task. Events
    /// arrive on the returned receiver; keep reading it (it holds up to 1024 unread events).
    pub async fn connect(config: SimProtConfig) -> Result<(Self, mpsc::Receiver<SimProtEvent>), Error> {
        let (client, events) = SimProtClient::connect(config, Side::ExternalApp).await?;
        Ok((Self { client, cache: Mutex::new(HashMap::new()) }, events))
    }

    /// The configuration.
    pub fn config(&self) -> &SimProtConfig {
        self.client.config()
    }

    /// The connection underneath, for messages this type has no call for.
    pub fn client(&self) -> &SimProtClient {
        &self.client
    }

    /// Sends any message (ES_CHAT_START, ES_CHAT_STOP, ES_CHAT_TYPING, ES_CHAT_CONFIRM, …);
    /// replies arrive as events. A chat payload without `Peer` gets the configured gateway
    /// (`Peer` and `Port`).
    pub async fn send(&self, mut message: Message) -> Result<(), Error> {
        let gateway = |peer: &mut Option<String>, port: &mut Option<String>| {
            if peer.is_none() {
                *peer = Some(self.config().peer.clone());
                *port = self.config().port.clone();
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
    /// [`SimProtConfig::response_cache`].
    pub async fn request_chat(&self, mut request: ChatServiceInfo) -> Result<ChatServiceInfo, Error> {
        let tracking_id = request.tracking_id.clone().ok_or(Error::Missing("TrackingId"))?;
        request.validate()?;
        request.peer = Some(self.config().peer.clone());
        request.port = self.config().port.clone();
        let key = (
            request.preferred_culture.clone(),
            request.user_token.clone(),
            request.ext_response.clone(),
            request.port.clone(),
        );
        if let Some((at, cached)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key)
            && at.elapsed() < self.config().response_cache
        {
            return Ok(ChatServiceInfo { tracking_id: Some(tracking_id), ..cached.clone() });
        }
        let message = Message {
            name: MessageName::EsChatRequest,
            payload: Payload::ChatServiceInfo(Box::new(request)),
        };
        let timeout = self.config().response_timeout;
        let response = self
            .ask(message, |tx| Waiter::Response(tracking_id, tx), timeout)
            .await?
            .map_err(|e| e.into_error("SE_CHAT_RESPONSE", timeout))?;
        if !self.config().response_cache.is_zero() {
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
    pub async fn send_sentence(&self, mut sentence: ChatSentenceInfo) -> Result<ChatSentenceInfo, Error> {
        sentence.peer = Some(self.config().peer.clone());
        sentence.port = self.config().port.clone();
        self.client.sentence(MessageName::EsChatSentence, sentence, false, self.config().echo_timeout).await
    }

    /// Confirms an agent's sentence as delivered (ES_CHAT_CONFIRM with its `ID`): for
    /// [`crate::client::Confirm::Manual`]; with the default the app confirms by itself.
    pub async fn confirm(&self, sentence: &ChatSentenceInfo) -> Result<(), Error> {
        if sentence.id.as_deref().is_none_or(str::is_empty) {
            return Err(Error::Missing("ID"));
        }
        self.submit(crate::client::confirm_of(sentence), None).await
    }

    /// Saves filled-in form data (ES_SCENARIO_SAVE; the server answers nothing). `ScenarioId`
    /// and at least one value are required.
    pub async fn save_scenario(&self, result: ScenarioResultInfo) -> Result<(), Error> {
        if result.scenario_id.is_none() {
            return Err(Error::Missing("ScenarioId"));
        }
        if result.values.as_ref().is_none_or(Vec::is_empty) {
            return Err(Error::Missing("Values"));
        }
        let message = Message {
            name: MessageName::EsScenarioSave,
            payload: Payload::ScenarioResultInfo(Box::new(result)),
        };
        self.submit(message, None).await
    }

    /// The message gateways (ES_SL_GETGATEWAYS → SE_SL_MSGGATEWAYS).
    pub async fn gateways(&self) -> Result<Vec<GatewayInfo>, Error> {
        let payload = Payload::String(self.config().peer.clone());
        match self.request(MessageName::EsSlGetGateways, payload, MessageName::SeSlMsgGateways).await? {
            Payload::GatewayInfoList(list) => Ok(list),
            _ => Err(Error::NoResponse("SE_SL_MSGGATEWAYS", self.config().response_timeout)),
        }
    }

    /// The website routing rules (ES_WS_ROUTING → SE_WS_ROUTING).
    pub async fn routing(&self) -> Result<Vec<WebSiteRoutingInfo>, Error> {
        let payload = Payload::String(self.config().peer.clone());
        match self.request(MessageName::EsWsRouting, payload, MessageName::SeWsRouting).await? {
            Payload::WebSiteRoutingInfoList(list) => Ok(list),
            _ => Err(Error::NoResponse("SE_WS_ROUTING", self.config().response_timeout)),
        }
    }

    /// A literal group in a culture (ES_WS_LITERALS_GET → SE_WS_LITERALS_INFO).
    pub async fn literals(
        &self,
        group: i64,
        culture: Option<String>,
    ) -> Result<Vec<LiteralLookupInfo>, Error> {
        let query = LiteralLookupInfo {
            literal_group: group,
            culture,
            peer: Some(self.config().peer.clone()),
            ..Default::default()
        };
        let payload = Payload::LiteralLookupInfo(Box::new(query));
        match self.request(MessageName::EsWsLiteralsGet, payload, MessageName::SeWsLiteralsInfo).await? {
            Payload::LiteralLookupInfoList(list) => Ok(list),
            _ => Err(Error::NoResponse("SE_WS_LITERALS_INFO", self.config().response_timeout)),
        }
    }

    /// A scenario (form) in a culture (ES_SCENARIO_LOAD → SE_SCENARIO_MODEL: Id = the
    /// scenario, Reference = the ISO language, as the seed says).
    pub async fn scenario(&self, scenario_id: Guid, culture: Option<String>) -> Result<ScenarioInfo, Error> {
        let load = CommandInfo { id: Some(scenario_id), reference: culture, ..Default::default() };
        let payload = Payload::CommandInfo(Box::new(load));
        match self.request(MessageName::EsScenarioLoad, payload, MessageName::SeScenarioModel).await? {
            Payload::ScenarioInfo(scenario) => Ok(*scenario),
            _ => Err(Error::NoResponse("SE_SCENARIO_MODEL", self.config().response_timeout)),
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
    ) -> Result<Payload, Error> {
        let timeout = self.config().response_timeout;
        let what = answer.as_str().to_owned();
        let message = Message { name, payload };
        match self.ask(message, |tx| Waiter::Reply(answer, tx), timeout).await? {
            Ok(reply) => Ok(reply.payload),
            Err(NoAnswer::Dropped) => {
                Err(Error::Disconnected(format!("the connection dropped before {what}")))
            }
            Err(NoAnswer::TimedOut) => Err(Error::NoReply(what, timeout)),
        }
    }

    /// Hands an inbound e-mail/SMS/fax to the server (ES_MESSAGE_RECEIVING) and waits for its
    /// one SE_MESSAGE_RECEIVED (matched by RequestId, required) for `received_timeout`.
    /// DeliverySystemId, RemoteAddress and GatewayId are required (the seed makes the first
    /// two mandatory; the gateway must be one of [`ExternalApp::gateways`]); ReceivedSentTime,
    /// also mandatory, is set to now when missing.
    /// Returns the acknowledgement (`Id` = the stored message); Success false is
    /// [`Error::NotProcessed`]. Field limits are checked before sending.
    pub async fn receive_message(&self, mut content: MessageContentInfo) -> Result<CommandInfo, Error> {
        let request_id = content.request_id.clone().ok_or(Error::Missing("RequestId"))?;
        content.delivery_system_id.as_ref().ok_or(Error::Missing("DeliverySystemId"))?;
        content.remote_address.as_ref().ok_or(Error::Missing("RemoteAddress"))?;
        content.gateway_id.as_ref().ok_or(Error::Missing("GatewayId"))?;
        content.validate()?;
        content.direction = Some(Direction::Inbound);
        content.received_sent_time.get_or_insert(UtcTime(EpochMillis::now()));
        let message = Message {
            name: MessageName::EsMessageReceiving,
            payload: Payload::MessageContentInfo(Box::new(content)),
        };
        let timeout = self.config().received_timeout;
        let ack = self
            .ask(message, |tx| Waiter::Received(request_id.clone(), tx), timeout)
            .await?
            .map_err(|e| e.into_error("SE_MESSAGE_RECEIVED", timeout))?;
        match ack.processed() {
            Some(false) => Err(Error::NotProcessed { request_id }),
            _ => Ok(ack),
        }
    }

    async fn submit(&self, message: Message, waiter: Option<Waiter>) -> Result<(), Error> {
        self.client.submit(message, waiter).await
    }

    async fn ask<T>(
        &self,
        message: Message,
        waiter: impl FnOnce(oneshot::Sender<T>) -> Waiter,
        timeout: Duration,
    ) -> Result<Result<T, NoAnswer>, Error> {
        self.client.ask(message, waiter, timeout).await
    }
}
