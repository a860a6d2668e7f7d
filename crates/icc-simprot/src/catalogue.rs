//! Every SimProt message name of the seed, with its payload type. The prefix gives the
//! direction: ES external app → server, SE server → external app, CS agent client → server,
//! SC server → agent client.

use cc_core::open_enum;
use serde::de::{self, DeserializeOwned};
use serde::{Deserialize as _, Serialize};

use crate::model::{
    ChatCommandInfo, ChatSentenceInfo, ChatServiceInfo, ChatStatusInfo, CommandInfo, GatewayInfo,
    LiteralLookupInfo, MessageContentInfo, ScenarioInfo, ScenarioResultInfo, WebSiteRoutingInfo,
};

open_enum! {
    /// A message name. `CS_CHAT_RESNYC`, the seed's spelling, is accepted as
    /// [`MessageName::CsChatResync`] and sent as `CS_CHAT_RESYNC`.
    pub enum MessageName {
        /// Can a chat start?
        EsChatRequest = "ES_CHAT_REQUEST",
        /// Whether a chat can start.
        SeChatResponse = "SE_CHAT_RESPONSE",
        /// Start a chat.
        EsChatStart = "ES_CHAT_START",
        /// A chat's status.
        SeChatStatus = "SE_CHAT_STATUS",
        /// Stop a chat.
        EsChatStop = "ES_CHAT_STOP",
        /// The external party is (not) typing.
        EsChatTyping = "ES_CHAT_TYPING",
        /// A sentence from the external app (echoed as SE_CHAT_SENTENCE).
        EsChatSentence = "ES_CHAT_SENTENCE",
        /// A sentence for the external app, or the echo of one it sent.
        SeChatSentence = "SE_CHAT_SENTENCE",
        /// Delivered to the counterparty.
        SeChatConfirm = "SE_CHAT_CONFIRM",
        /// The internal party is (not) typing.
        SeChatTyping = "SE_CHAT_TYPING",
        /// The external app confirms delivery.
        EsChatConfirm = "ES_CHAT_CONFIRM",
        /// Send the status of all chats of a gateway.
        EsChatResync = "ES_CHAT_RESYNC",
        /// The chats of a gateway.
        SeChatList = "SE_CHAT_LIST",
        /// Send one chat's status.
        EsChatStatus = "ES_CHAT_STATUS",
        /// Send a scenario.
        EsScenarioLoad = "ES_SCENARIO_LOAD",
        /// A scenario.
        SeScenarioModel = "SE_SCENARIO_MODEL",
        /// Save form data.
        EsScenarioSave = "ES_SCENARIO_SAVE",
        /// Send the routing rules (the payload is the gateway address).
        EsWsRouting = "ES_WS_ROUTING",
        /// The routing rules.
        SeWsRouting = "SE_WS_ROUTING",
        /// Send a literal group.
        EsWsLiteralsGet = "ES_WS_LITERALS_GET",
        /// The literal table.
        SeWsLiteralsInfo = "SE_WS_LITERALS_INFO",
        /// Take over a chat (to the agent).
        ScChatAlert = "SC_CHAT_ALERT",
        /// The agent took the chat.
        CsChatAnswer = "CS_CHAT_ANSWER",
        /// The chat went elsewhere after the signalling time.
        ScChatAlertEnd = "SC_CHAT_ALERT_END",
        /// The agent rejected or ended the chat.
        CsChatHangup = "CS_CHAT_HANGUP",
        /// A chat's status (to the agent).
        ScChatStatus = "SC_CHAT_STATUS",
        /// The external party is (not) typing (to the agent).
        ScChatTyping = "SC_CHAT_TYPING",
        /// A sentence for the agent, or the echo of one the agent sent.
        ScChatSentence = "SC_CHAT_SENTENCE",
        /// The agent confirms delivery.
        CsChatConfirm = "CS_CHAT_CONFIRM",
        /// The agent is (not) typing.
        CsChatTyping = "CS_CHAT_TYPING",
        /// A sentence from the agent (echoed as SC_CHAT_SENTENCE).
        CsChatSentence = "CS_CHAT_SENTENCE",
        /// Send the status of all chats of a workplace.
        CsChatResync = "CS_CHAT_RESYNC" | "CS_CHAT_RESNYC",
        /// The chats of a workplace.
        ScChatList = "SC_CHAT_LIST",
        /// Send one chat's status (agent).
        CsChatStatus = "CS_CHAT_STATUS",
        /// Send the message gateways (the payload is the gateway address).
        EsSlGetGateways = "ES_SL_GETGATEWAYS",
        /// The message gateways.
        SeSlMsgGateways = "SE_SL_MSGGATEWAYS",
        /// An inbound e-mail/SMS/fax.
        EsMessageReceiving = "ES_MESSAGE_RECEIVING",
        /// The server processed an inbound message (exactly one per ES_MESSAGE_RECEIVING).
        SeMessageReceived = "SE_MESSAGE_RECEIVED",
        /// An outbound message to send.
        SeMessageSending = "SE_MESSAGE_SENDING",
        /// The connector sent it (exactly one per SE_MESSAGE_SENDING, within 90 s).
        EsMessageSent = "ES_MESSAGE_SENT",
    }
}

/// The type a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    /// [`ChatServiceInfo`].
    ChatServiceInfo,
    /// [`ChatStatusInfo`].
    ChatStatusInfo,
    /// `ChatStatusInfo[]`.
    ChatStatusInfoList,
    /// [`ChatSentenceInfo`].
    ChatSentenceInfo,
    /// [`ChatCommandInfo`].
    ChatCommandInfo,
    /// [`CommandInfo`].
    CommandInfo,
    /// [`ScenarioInfo`].
    ScenarioInfo,
    /// [`ScenarioResultInfo`].
    ScenarioResultInfo,
    /// `WebSiteRoutingInfo[]`.
    WebSiteRoutingInfoList,
    /// [`LiteralLookupInfo`].
    LiteralLookupInfo,
    /// `LiteralLookupInfo[]`.
    LiteralLookupInfoList,
    /// A string.
    String,
    /// `GatewayInfo[]`.
    GatewayInfoList,
    /// [`MessageContentInfo`].
    MessageContentInfo,
}

impl MessageName {
    /// The payload type, `None` for names this version does not know.
    pub fn payload_kind(&self) -> Option<PayloadKind> {
        use MessageName::*;
        use PayloadKind as K;
        Some(match self {
            EsChatRequest | SeChatResponse | EsChatStart => K::ChatServiceInfo,
            SeChatStatus | EsChatStatus | ScChatAlert | ScChatStatus => K::ChatStatusInfo,
            SeChatList | ScChatList => K::ChatStatusInfoList,
            EsChatSentence | SeChatSentence | ScChatSentence | CsChatSentence => K::ChatSentenceInfo,
            EsChatStop | EsChatTyping | SeChatConfirm | SeChatTyping | EsChatConfirm | EsChatResync
            | CsChatAnswer | ScChatAlertEnd | CsChatHangup | ScChatTyping | CsChatConfirm | CsChatTyping
            | CsChatResync | CsChatStatus => K::ChatCommandInfo,
            EsScenarioLoad | SeMessageReceived | EsMessageSent => K::CommandInfo,
            SeScenarioModel => K::ScenarioInfo,
            EsScenarioSave => K::ScenarioResultInfo,
            EsWsRouting | EsSlGetGateways => K::String,
            SeWsRouting => K::WebSiteRoutingInfoList,
            EsWsLiteralsGet => K::LiteralLookupInfo,
            SeWsLiteralsInfo => K::LiteralLookupInfoList,
            SeSlMsgGateways => K::GatewayInfoList,
            EsMessageReceiving | SeMessageSending => K::MessageContentInfo,
            Unknown(_) => return None,
        })
    }

    /// Every known name, in the seed's order.
    pub fn all() -> Vec<MessageName> {
        Self::KNOWN.iter().map(|n| Self::parse(n)).collect()
    }
}

/// A typed payload.
/// Decoding needs the message name: use [`Payload::from_json`] or a [`crate::framing::Framing`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Payload {
    /// [`ChatServiceInfo`].
    ChatServiceInfo(Box<ChatServiceInfo>),
    /// [`ChatStatusInfo`].
    ChatStatusInfo(Box<ChatStatusInfo>),
    /// `ChatStatusInfo[]`.
    ChatStatusInfoList(Vec<ChatStatusInfo>),
    /// [`ChatSentenceInfo`].
    ChatSentenceInfo(Box<ChatSentenceInfo>),
    /// [`ChatCommandInfo`].
    ChatCommandInfo(Box<ChatCommandInfo>),
    /// [`CommandInfo`].
    CommandInfo(Box<CommandInfo>),
    /// [`ScenarioInfo`].
    ScenarioInfo(Box<ScenarioInfo>),
    /// [`ScenarioResultInfo`].
    ScenarioResultInfo(Box<ScenarioResultInfo>),
    /// `WebSiteRoutingInfo[]`.
    WebSiteRoutingInfoList(Vec<WebSiteRoutingInfo>),
    /// [`LiteralLookupInfo`].
    LiteralLookupInfo(Box<LiteralLookupInfo>),
    /// `LiteralLookupInfo[]`.
    LiteralLookupInfoList(Vec<LiteralLookupInfo>),
    /// A string.
    String(String),
    /// `GatewayInfo[]`.
    GatewayInfoList(Vec<GatewayInfo>),
    /// [`MessageContentInfo`].
    MessageContentInfo(Box<MessageContentInfo>),
    /// The payload of an unknown message name, kept as JSON.
    Unknown(serde_json::Value),
}

/// A message: its name and typed payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The name.
    pub name: MessageName,
    /// The payload.
    pub payload: Payload,
}

/// A payload that does not match its message's type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name} payload: {reason}")]
pub struct PayloadError {
    /// The message name.
    pub name: String,
    /// What is wrong, with the field path.
    pub reason: String,
}

impl Payload {
    /// Decodes a payload given as JSON for `name`; errors name the field.
    pub fn from_json(name: &MessageName, value: serde_json::Value) -> Result<Self, PayloadError> {
        let Some(kind) = name.payload_kind() else { return Ok(Payload::Unknown(value)) };
        Self::typed(kind, Json(value)).map_err(|reason| PayloadError { name: name.to_string(), reason })
    }

    /// Decodes a MessagePack payload for `name`: straight into the typed payload, and only when
    /// that fails a second pass through JSON to name the field at fault.
    pub fn from_msgpack(name: &MessageName, bytes: &[u8]) -> Result<Self, PayloadError> {
        let error = |reason: String| PayloadError { name: name.to_string(), reason };
        let as_json = || read_one::<serde_json::Value>(bytes).map_err(error);
        match name.payload_kind() {
            None => Ok(Payload::Unknown(as_json()?)),
            Some(kind) => Self::typed(kind, MsgPack(bytes)).or_else(|_| Self::from_json(name, as_json()?)),
        }
    }

    fn typed(kind: PayloadKind, source: impl Source) -> Result<Self, String> {
        use PayloadKind as K;
        Ok(match kind {
            K::ChatServiceInfo => Payload::ChatServiceInfo(source.typed()?),
            K::ChatStatusInfo => Payload::ChatStatusInfo(source.typed()?),
            K::ChatStatusInfoList => Payload::ChatStatusInfoList(source.typed()?),
            K::ChatSentenceInfo => Payload::ChatSentenceInfo(source.typed()?),
            K::ChatCommandInfo => Payload::ChatCommandInfo(source.typed()?),
            K::CommandInfo => Payload::CommandInfo(source.typed()?),
            K::ScenarioInfo => Payload::ScenarioInfo(source.typed()?),
            K::ScenarioResultInfo => Payload::ScenarioResultInfo(source.typed()?),
            K::WebSiteRoutingInfoList => Payload::WebSiteRoutingInfoList(source.typed()?),
            K::LiteralLookupInfo => Payload::LiteralLookupInfo(source.typed()?),
            K::LiteralLookupInfoList => Payload::LiteralLookupInfoList(source.typed()?),
            K::String => Payload::String(source.typed()?),
            K::GatewayInfoList => Payload::GatewayInfoList(source.typed()?),
            K::MessageContentInfo => Payload::MessageContentInfo(source.typed()?),
        })
    }
}

/// Where a typed payload is decoded from.
trait Source {
    fn typed<T: DeserializeOwned>(self) -> Result<T, String>;
}

struct Json(serde_json::Value);

impl Source for Json {
    /// Names the field path on error.
    fn typed<T: DeserializeOwned>(self) -> Result<T, String> {
        let bytes = serde_json::to_vec(&self.0).map_err(|e| e.to_string())?;
        cc_core::de::parse_json(&bytes).map_err(|e| format!("at `{}`: {}", e.path, e.message))
    }
}

struct MsgPack<'a>(&'a [u8]);

impl Source for MsgPack<'_> {
    fn typed<T: DeserializeOwned>(self) -> Result<T, String> {
        read_one(self.0)
    }
}

/// How deep arrays and maps may nest in a MessagePack payload. Real SimProt payloads nest
/// three or four levels (a list of records holding a list); decoding recurses once per level,
/// and at rmp-serde's default of 1024 a 1 KB frame nested ~700 deep overflowed a 2 MiB tokio
/// worker stack in a debug build (an abort of the whole process). 64 levels leave a wide
/// margin on a 2 MiB stack (pinned by a test on a spawned task); deeper payloads are refused
/// as [`PayloadError`]s naming the limit.
pub const MAX_PAYLOAD_DEPTH: usize = 64;

/// Reads exactly one MessagePack value: bytes after it are an error.
fn read_one<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    // Reading from the slice itself (not through `io::Read`) borrows each string instead of
    // copying it into a scratch buffer first.
    let mut decoder = rmp_serde::Deserializer::from_read_ref(bytes);
    decoder.set_max_depth(MAX_PAYLOAD_DEPTH);
    let value = T::deserialize(&mut decoder).map_err(describe)?;
    // That decoder does not say where it stopped: a further read must meet the end.
    match de::IgnoredAny::deserialize(&mut decoder) {
        Err(rmp_serde::decode::Error::InvalidMarkerRead(e))
            if e.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            Ok(value)
        }
        _ => Err(format!("{} bytes after the payload", trailing(bytes))),
    }
}

/// How many bytes follow the first MessagePack value of `bytes` (on the error path only).
fn trailing(bytes: &[u8]) -> usize {
    let mut rest = bytes;
    let mut decoder = rmp_serde::Deserializer::new(&mut rest);
    decoder.set_max_depth(MAX_PAYLOAD_DEPTH);
    let _ = de::IgnoredAny::deserialize(&mut decoder);
    rest.len()
}

fn describe(e: rmp_serde::decode::Error) -> String {
    match e {
        rmp_serde::decode::Error::DepthLimitExceeded => {
            format!("arrays and maps nested deeper than {MAX_PAYLOAD_DEPTH} levels")
        }
        e => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_has_a_payload_kind_and_the_typo_is_an_alias() {
        assert_eq!(MessageName::all().len(), 40);
        assert!(MessageName::all().iter().all(|n| n.payload_kind().is_some()));
        assert_eq!(MessageName::parse("CS_CHAT_RESNYC"), MessageName::CsChatResync);
        assert_eq!(MessageName::CsChatResync.as_str(), "CS_CHAT_RESYNC");
        assert_eq!(MessageName::parse("XX_NEW"), MessageName::Unknown("XX_NEW".into()));
        assert_eq!(MessageName::parse("XX_NEW").payload_kind(), None);
    }

    #[test]
    fn payloads_decode_by_name() {
        let p = Payload::from_json(&MessageName::EsWsRouting, serde_json::json!("gw-1")).unwrap();
        assert_eq!(p, Payload::String("gw-1".into()));
        let err =
            Payload::from_json(&MessageName::EsChatTyping, serde_json::json!({"ChatId": 5})).unwrap_err();
        assert!(err.to_string().starts_with("ES_CHAT_TYPING payload: at `ChatId`"), "{err}");
        let unknown = Payload::from_json(&MessageName::parse("XX"), serde_json::json!({"a": 1})).unwrap();
        assert!(matches!(unknown, Payload::Unknown(_)));
    }
}
