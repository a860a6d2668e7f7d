//! Wire types of Server Messaging v2: requests, responses, errors and callbacks.

use cc_core::{id_type, open_enum};
use serde::{Deserialize, Serialize};
use serde_json::Value;

id_type! {
    /// A Server Messaging session (the `server-messaging-session-id` header).
    pub struct SessionId;
}

id_type! {
    /// A message sent to Alvaria (returned by Send Message, named by MESSAGE_STATUS).
    pub struct MessageId;
}

id_type! {
    /// A callback event; redeliveries repeat it.
    pub struct EventId;
}

id_type! {
    /// A work type. The schema says string, the example sends a number: both parse, a string
    /// is sent.
    pub struct WorkTypeId;
}

open_enum! {
    /// An attachment's type.
    pub enum AttachmentType {
        /// An image.
        Image = "Image",
        /// A file.
        File = "File",
        /// Audio.
        Audio = "Audio",
        /// Video.
        Video = "Video",
    }
}

open_enum! {
    /// `status` of NEW_SESSION, MESSAGE_STATUS and SESSION_END.
    pub enum Status {
        /// It worked.
        Success = "SUCCESS",
        /// It failed; `statusMessage` may say why.
        Failed = "FAILED",
    }
}

/// Create Session body (`NewSession`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSession {
    /// The work type to route to.
    pub work_type_id: WorkTypeId,
    /// The customer's name.
    pub contact_name: String,
    /// Integration type, for Alvaria's tracking (`SMS`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
}

/// Create Session response (202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    /// The provisional session id.
    pub session_id: SessionId,
}

/// A message: the Send Message body, and the `message` of a MESSAGE callback.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An attachment by URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: Some(text.into()), attachment: None }
    }

    /// Adds an attachment (builder style).
    pub fn with_attachment(mut self, kind: AttachmentType, url: impl Into<String>) -> Self {
        self.attachment = Some(Attachment { kind, url: url.into() });
        self
    }
}

/// An attachment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Image, File, Audio or Video.
    #[serde(rename = "type")]
    pub kind: AttachmentType,
    /// Where it is.
    pub url: String,
}

/// Send Message response (202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageResponse {
    /// The message id; failures arrive later as MESSAGE_STATUS naming it.
    pub message_id: MessageId,
}

/// An error body (`ErrorResponse`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// HTTP status, as a number (or text).
    #[serde(
        default,
        deserialize_with = "cc_core::de::lenient_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<i64>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Details.
    #[serde(default)]
    pub errors: Vec<ErrorDetail>,
}

/// One entry of `errors`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A callback from Alvaria. System events carry `event`; messages carry `message` instead.
/// Anything else parses as [`Callback::Unknown`], never as an error.
#[derive(Clone, Debug, PartialEq)]
pub enum Callback {
    /// NEW_SESSION: the session was created (SUCCESS) or not (FAILED).
    NewSession {
        /// The session.
        session_id: SessionId,
        /// SUCCESS or FAILED.
        status: Status,
        /// Why it failed, when it did.
        status_message: Option<String>,
        /// The event.
        event_id: EventId,
    },
    /// AGENT_JOINED.
    AgentJoined {
        /// The session.
        session_id: SessionId,
        /// The agent's first name.
        agent_alias: String,
        /// The event.
        event_id: EventId,
    },
    /// MESSAGE_STATUS: sent only for failed messages.
    MessageStatus {
        /// The session.
        session_id: SessionId,
        /// FAILED.
        status: Status,
        /// The message it is about.
        message_id: MessageId,
        /// Why.
        status_message: Option<String>,
        /// The event.
        event_id: EventId,
    },
    /// SESSION_REROUTE: moved to another agent or work type.
    SessionReroute {
        /// The session.
        session_id: SessionId,
        /// The new agent, when rerouted to an agent.
        agent_alias: Option<String>,
        /// The new work type, when rerouted to a work type.
        worktype_id: Option<WorkTypeId>,
        /// The event.
        event_id: EventId,
    },
    /// SESSION_END: the session id must not be used any more.
    SessionEnd {
        /// The session.
        session_id: SessionId,
        /// SUCCESS or FAILED.
        status: Status,
        /// `SYSTEM` when Alvaria disconnected the session (e.g. after 4 hours).
        from: Option<String>,
        /// The event.
        event_id: EventId,
    },
    /// A message from an agent or the system.
    Message {
        /// The session.
        session_id: SessionId,
        /// The sender: an agent, or `SYSTEM`.
        sender_id: String,
        /// Text and/or attachment.
        message: Message,
        /// The event.
        event_id: EventId,
    },
    /// An event this version does not know, kept whole.
    Unknown(Value),
}

impl Serialize for Callback {
    /// The wire form: system events with their `event` name, messages without.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if let Self::Unknown(raw) = self {
            return raw.serialize(serializer);
        }
        let mut map = serializer.serialize_map(None)?;
        if let Some(id) = self.session_id() {
            map.serialize_entry("sessionId", &id)?;
        }
        if !matches!(self, Self::Message { .. }) {
            map.serialize_entry("event", self.event_name())?;
        }
        match self {
            Self::NewSession { status, status_message, .. } => {
                map.serialize_entry("status", status)?;
                if let Some(m) = status_message {
                    map.serialize_entry("statusMessage", m)?;
                }
            }
            Self::AgentJoined { agent_alias, .. } => map.serialize_entry("agentAlias", agent_alias)?,
            Self::MessageStatus { status, message_id, status_message, .. } => {
                map.serialize_entry("status", status)?;
                map.serialize_entry("messageId", message_id)?;
                if let Some(m) = status_message {
                    map.serialize_entry("statusMessage", m)?;
                }
            }
            Self::SessionReroute { agent_alias, worktype_id, .. } => {
                if let Some(a) = agent_alias {
                    map.serialize_entry("agentAlias", a)?;
                }
                if let Some(w) = worktype_id {
                    map.serialize_entry("worktypeId", w)?;
                }
            }
            Self::SessionEnd { status, from, .. } => {
                map.serialize_entry("status", status)?;
                if let Some(f) = from {
                    map.serialize_entry("from", f)?;
                }
            }
            Self::Message { sender_id, message, .. } => {
                map.serialize_entry("senderId", sender_id)?;
                map.serialize_entry("message", message)?;
            }
            Self::Unknown(_) => {}
        }
        if let Some(id) = self.event_id() {
            map.serialize_entry("eventId", &id)?;
        }
        map.end()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    session_id: Option<SessionId>,
    event: Option<String>,
    event_id: Option<EventId>,
    status: Option<Status>,
    status_message: Option<String>,
    agent_alias: Option<String>,
    message_id: Option<MessageId>,
    worktype_id: Option<WorkTypeId>,
    from: Option<String>,
    sender_id: Option<String>,
    message: Option<Message>,
}

/// A callback that is not usable: a known event without a field the contract requires.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{event} callback without required field `{field}`")]
pub struct MissingField {
    /// The event.
    pub event: &'static str,
    /// The field.
    pub field: &'static str,
}

impl Callback {
    /// Parses a callback body. Known events must carry the fields the contract marks
    /// required (`sessionId`, `eventId`, …); unknown events only need to be a JSON object.
    pub fn parse(bytes: &[u8]) -> Result<Self, cc_core::de::JsonError> {
        let raw: Raw = cc_core::de::parse_json(bytes)?;
        let field_error = |e: MissingField| cc_core::de::JsonError {
            path: e.field.into(),
            message: e.to_string(),
            line: 0,
            column: 0,
        };
        match Self::from_raw(raw) {
            Ok(Some(callback)) => Ok(callback),
            Ok(None) => Ok(Self::Unknown(cc_core::de::parse_json(bytes)?)),
            Err(e) => Err(field_error(e)),
        }
    }

    fn from_raw(raw: Raw) -> Result<Option<Self>, MissingField> {
        fn need<T>(v: Option<T>, event: &'static str, field: &'static str) -> Result<T, MissingField> {
            v.ok_or(MissingField { event, field })
        }
        let Raw {
            session_id,
            event,
            event_id,
            status,
            status_message,
            agent_alias,
            message_id,
            worktype_id,
            from,
            sender_id,
            message,
        } = raw;
        let callback = match event.as_deref() {
            Some("NEW_SESSION") => Self::NewSession {
                session_id: need(session_id, "NEW_SESSION", "sessionId")?,
                status: need(status, "NEW_SESSION", "status")?,
                status_message,
                event_id: need(event_id, "NEW_SESSION", "eventId")?,
            },
            Some("AGENT_JOINED") => Self::AgentJoined {
                session_id: need(session_id, "AGENT_JOINED", "sessionId")?,
                agent_alias: need(agent_alias, "AGENT_JOINED", "agentAlias")?,
                event_id: need(event_id, "AGENT_JOINED", "eventId")?,
            },
            Some("MESSAGE_STATUS") => Self::MessageStatus {
                session_id: need(session_id, "MESSAGE_STATUS", "sessionId")?,
                status: need(status, "MESSAGE_STATUS", "status")?,
                message_id: need(message_id, "MESSAGE_STATUS", "messageId")?,
                status_message,
                event_id: need(event_id, "MESSAGE_STATUS", "eventId")?,
            },
            Some("SESSION_REROUTE") => Self::SessionReroute {
                session_id: need(session_id, "SESSION_REROUTE", "sessionId")?,
                agent_alias,
                worktype_id,
                event_id: need(event_id, "SESSION_REROUTE", "eventId")?,
            },
            Some("SESSION_END") => Self::SessionEnd {
                session_id: need(session_id, "SESSION_END", "sessionId")?,
                status: need(status, "SESSION_END", "status")?,
                from,
                event_id: need(event_id, "SESSION_END", "eventId")?,
            },
            None if message.is_some() => Self::Message {
                session_id: need(session_id, "MESSAGE", "sessionId")?,
                sender_id: need(sender_id, "MESSAGE", "senderId")?,
                message: need(message, "MESSAGE", "message")?,
                event_id: need(event_id, "MESSAGE", "eventId")?,
            },
            _ => return Ok(None),
        };
        Ok(Some(callback))
    }

    /// The event id (the de-duplication key), when present and not blank: an empty
    /// `eventId` is no key, so such a callback is never taken for a redelivery.
    pub fn event_id(&self) -> Option<EventId> {
        match self {
            Self::NewSession { event_id, .. }
            | Self::AgentJoined { event_id, .. }
            | Self::MessageStatus { event_id, .. }
            | Self::SessionReroute { event_id, .. }
            | Self::SessionEnd { event_id, .. }
            | Self::Message { event_id, .. } => Some(event_id.clone()),
            Self::Unknown(raw) => raw.get("eventId").and_then(Value::as_str).map(EventId::from),
        }
        .filter(|id| !id.as_str().trim().is_empty())
    }

    /// The session, when present.
    pub fn session_id(&self) -> Option<SessionId> {
        match self {
            Self::NewSession { session_id, .. }
            | Self::AgentJoined { session_id, .. }
            | Self::MessageStatus { session_id, .. }
            | Self::SessionReroute { session_id, .. }
            | Self::SessionEnd { session_id, .. }
            | Self::Message { session_id, .. } => Some(session_id.clone()),
            Self::Unknown(raw) => raw.get("sessionId").and_then(Value::as_str).map(SessionId::from),
        }
    }

    /// The `event` name (`MESSAGE` for messages).
    pub fn event_name(&self) -> &str {
        match self {
            Self::NewSession { .. } => "NEW_SESSION",
            Self::AgentJoined { .. } => "AGENT_JOINED",
            Self::MessageStatus { .. } => "MESSAGE_STATUS",
            Self::SessionReroute { .. } => "SESSION_REROUTE",
            Self::SessionEnd { .. } => "SESSION_END",
            Self::Message { .. } => "MESSAGE",
            Self::Unknown(raw) => raw.get("event").and_then(Value::as_str).unwrap_or("UNKNOWN"),
        }
    }
}
