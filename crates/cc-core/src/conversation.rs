//! The vendor-neutral conversation model: every messaging crate maps its events into
//! [`ConversationEvent`] and implements [`MessagingChannel`], so code written against these
//! runs on any vendor.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use crate::error::ChannelErrorKind;
use crate::error::VendorError;
use crate::ids::{ConversationId, MessageId, ParticipantId};
use crate::time::EpochMillis;

crate::open_enum! {
    /// Who a participant is in the conversation.
    pub enum Role {
        /// The end customer (consumer, visitor).
        Customer = "customer",
        /// A human agent.
        Agent = "agent",
        /// A bot or automated flow.
        Bot = "bot",
        /// The vendor platform itself.
        System = "system",
        /// A supervisor or manager.
        Supervisor = "supervisor",
    }
}

/// A participant as far as the vendor describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Role in the conversation.
    pub role: Role,
    /// Vendor id, when the vendor gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ParticipantId>,
    /// Display name, when the vendor gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Participant {
    /// A participant known only by role.
    pub fn role(role: Role) -> Self {
        Self { role, id: None, name: None }
    }

    /// Sets the name (builder style).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the id (builder style).
    pub fn with_id(mut self, id: impl Into<ParticipantId>) -> Self {
        self.id = Some(id.into());
        self
    }
}

/// A file or link attached to a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Where to fetch it.
    pub url: String,
    /// File name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// MIME type or vendor file type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Vendor message id, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<MessageId>,
    /// Who sent it.
    pub sender: Participant,
    /// Plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// HTML, when the vendor sent HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

crate::open_enum! {
    /// What a receipt confirms.
    pub enum ReceiptKind {
        /// Delivered to the recipient's device or client.
        Delivered = "delivered",
        /// Read by the recipient.
        Read = "read",
        /// The vendor could not deliver it.
        Failed = "failed",
    }
}

/// Something that happened in a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConversationEvent {
    /// The conversation exists (confirmed by the vendor).
    Started {
        /// The conversation.
        conversation: ConversationId,
        /// When, if the vendor says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EpochMillis>,
    },
    /// An agent joined or was assigned.
    AgentJoined {
        /// The conversation.
        conversation: ConversationId,
        /// The agent.
        agent: Participant,
        /// When, if the vendor says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EpochMillis>,
    },
    /// A message.
    Message {
        /// The conversation.
        conversation: ConversationId,
        /// The message.
        message: Message,
        /// When, if the vendor says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EpochMillis>,
    },
    /// Someone started or stopped typing.
    Typing {
        /// The conversation.
        conversation: ConversationId,
        /// Who.
        who: Participant,
        /// `true` = started typing.
        on: bool,
        /// When, if the vendor says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EpochMillis>,
    },
    /// A delivery or read receipt (or a delivery failure).
    Receipt {
        /// The conversation.
        conversation: ConversationId,
        /// What it confirms.
        kind: ReceiptKind,
        /// The messages it refers to, when the vendor names them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        messages: Vec<MessageId>,
        /// Who sent the receipt, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Participant>,
        /// The vendor's reason, for failures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// When, if the vendor says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EpochMillis>,
    },
    /// The conversation moved to another agent, queue or skill.
    Transferred {
        /// The conversation.
        conversation: ConversationId,
        /// Where to, as the vendor describes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// When, if the vendor says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EpochMillis>,
    },
    /// The conversation is over.
    Ended {
        /// The conversation.
        conversation: ConversationId,
        /// Who ended it, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Role>,
        /// The vendor's reason, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// When, if the vendor says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EpochMillis>,
    },
    /// A vendor event with no neutral equivalent, kept whole.
    Other {
        /// The conversation, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation: Option<ConversationId>,
        /// The vendor's name for the event (`ece:enableOffRecordMessages`).
        kind: String,
        /// The vendor event as JSON.
        raw: serde_json::Value,
    },
}

impl ConversationEvent {
    /// The conversation the event belongs to, when known.
    pub fn conversation(&self) -> Option<&ConversationId> {
        match self {
            Self::Started { conversation, .. }
            | Self::AgentJoined { conversation, .. }
            | Self::Message { conversation, .. }
            | Self::Typing { conversation, .. }
            | Self::Receipt { conversation, .. }
            | Self::Transferred { conversation, .. }
            | Self::Ended { conversation, .. } => Some(conversation),
            Self::Other { conversation, .. } => conversation.as_ref(),
        }
    }

    /// Whether this event ends the conversation.
    pub fn is_end(&self) -> bool {
        matches!(self, Self::Ended { .. })
    }
}

/// How to start a conversation, in vendor-neutral terms. Each vendor uses what it supports
/// and documents what it ignores.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartConversation {
    /// Customer display name.
    pub customer_name: Option<String>,
    /// Customer e-mail (ECE looks contacts up by it).
    pub customer_email: Option<String>,
    /// Subject or topic.
    pub subject: Option<String>,
    /// Routing hint: entry point, work type, skill (vendor-specific meaning).
    pub route: Option<String>,
    /// Extra attributes passed to the vendor where it takes them.
    pub attributes: BTreeMap<String, String>,
    /// Ask for typing notifications where the vendor makes them optional.
    pub typing_notifications: bool,
}

impl StartConversation {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the customer name.
    pub fn customer_name(mut self, name: impl Into<String>) -> Self {
        self.customer_name = Some(name.into());
        self
    }

    /// Sets the customer e-mail.
    pub fn customer_email(mut self, email: impl Into<String>) -> Self {
        self.customer_email = Some(email.into());
        self
    }

    /// Sets the subject.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the routing hint.
    pub fn route(mut self, route: impl Into<String>) -> Self {
        self.route = Some(route.into());
        self
    }

    /// Adds an attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// Asks for typing notifications.
    pub fn typing_notifications(mut self, on: bool) -> Self {
        self.typing_notifications = on;
        self
    }
}

/// A failed [`MessagingChannel`] call: the kind, the vendor, and the vendor's own error.
#[derive(Debug, thiserror::Error)]
#[error("{vendor}: {source}")]
pub struct ChannelError {
    /// What kind of failure.
    pub kind: ChannelErrorKind,
    /// The vendor crate (`ece-messaging`).
    pub vendor: &'static str,
    /// The vendor crate's error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl ChannelError {
    /// Wraps a vendor crate's error, its kind from [`VendorError::channel_kind`]:
    /// the one place a vendor error becomes a vendor-neutral kind.
    pub fn from_vendor(vendor: &'static str, error: impl VendorError) -> Self {
        Self::new(vendor, error.channel_kind(), error)
    }

    /// Wraps a vendor error.
    pub fn new(
        vendor: &'static str,
        kind: ChannelErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { kind, vendor, source: source.into() }
    }
}

/// A started conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartedConversation {
    /// The conversation id used by later calls.
    pub id: ConversationId,
    /// Other ids the vendor returned (ECE activity and case ids), by name.
    pub vendor_ids: BTreeMap<String, String>,
}

/// Whether a conversation started now would reach an agent, as far as the vendor tells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "availability", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Availability {
    /// Agents can take it; `slots` when the vendor counts the free ones.
    Available {
        /// Free chat slots, when counted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slots: Option<u32>,
    },
    /// No agent can take it now.
    Unavailable {
        /// The vendor's reason, in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The vendor does not tell (the default of [`MessagingChannel::availability`]).
    Unknown,
}

/// Sending side of a messaging vendor, in vendor-neutral terms. Inbound events arrive
/// through each crate's receiver as [`ConversationEvent`]s.
#[async_trait]
pub trait MessagingChannel: Send + Sync {
    /// Starts a conversation.
    async fn start(&self, request: StartConversation) -> Result<StartedConversation, ChannelError>;

    /// Sends a text message; returns the vendor's message id when it gives one.
    async fn send_text(
        &self,
        conversation: &ConversationId,
        text: &str,
    ) -> Result<Option<MessageId>, ChannelError>;

    /// Signals typing started (`true`) or stopped (`false`). Vendors without typing
    /// signals return `Ok(())` and document it.
    async fn typing(&self, conversation: &ConversationId, on: bool) -> Result<(), ChannelError>;

    /// Ends the conversation.
    async fn end(&self, conversation: &ConversationId) -> Result<(), ChannelError>;

    /// Whether a conversation on `route` (as in [`StartConversation::route`]; `None`: the
    /// channel's default) would reach an agent now, before starting it. Vendors that cannot
    /// tell answer [`Availability::Unknown`], the default.
    async fn availability(&self, route: Option<&str>) -> Result<Availability, ChannelError> {
        let _ = route;
        Ok(Availability::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_with_a_tag_and_round_trip() {
        let event = ConversationEvent::Message {
            conversation: ConversationId::from("c1"),
            message: Message {
                id: Some(MessageId::from("m1")),
                sender: Participant::role(Role::Agent).named("Ann"),
                text: Some("Hello".into()),
                html: None,
                attachments: vec![],
            },
            at: Some(EpochMillis::new(1_700_000_000_000)),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "event": "message",
                "conversation": "c1",
                "message": {"id": "m1", "sender": {"role": "agent", "name": "Ann"}, "text": "Hello"},
                "at": 1_700_000_000_000i64
            })
        );
        let back: ConversationEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.conversation().map(ConversationId::as_str), Some("c1"));
        assert!(!back.is_end());
    }

    #[test]
    fn unknown_roles_survive() {
        let p: Participant = serde_json::from_str(r#"{"role":"CONTROLLER"}"#).unwrap();
        assert_eq!(p.role, Role::Unknown("CONTROLLER".into()));
    }

    /// A channel written only against the trait: the shape vendor crates implement.
    struct Echo;

    #[async_trait]
    impl MessagingChannel for Echo {
        async fn start(&self, request: StartConversation) -> Result<StartedConversation, ChannelError> {
            let id = request
                .route
                .ok_or_else(|| ChannelError::new("echo", ChannelErrorKind::InvalidInput, "route required"))?;
            Ok(StartedConversation { id: ConversationId::new(id), vendor_ids: BTreeMap::new() })
        }
        async fn send_text(
            &self,
            _c: &ConversationId,
            text: &str,
        ) -> Result<Option<MessageId>, ChannelError> {
            Ok(Some(MessageId::new(text.len().to_string())))
        }
        async fn typing(&self, _c: &ConversationId, _on: bool) -> Result<(), ChannelError> {
            Ok(())
        }
        async fn end(&self, _c: &ConversationId) -> Result<(), ChannelError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn channels_are_usable_as_trait_objects() {
        let channel: Box<dyn MessagingChannel> = Box::new(Echo);
        let err = channel.start(StartConversation::new()).await.unwrap_err();
        assert_eq!(err.kind, ChannelErrorKind::InvalidInput);
        assert_eq!(err.to_string(), "echo: route required");
        let started = channel.start(StartConversation::new().route("q1").subject("s")).await.unwrap();
        assert_eq!(started.id.as_str(), "q1");
        assert_eq!(channel.send_text(&started.id, "hey").await.unwrap(), Some(MessageId::from("3")));
        assert_eq!(channel.availability(None).await.unwrap(), Availability::Unknown, "the default");
    }

    #[test]
    fn availability_serializes_with_a_tag() {
        let available = serde_json::to_value(Availability::Available { slots: Some(3) }).unwrap();
        assert_eq!(available, serde_json::json!({"availability": "available", "slots": 3}));
        let unknown = serde_json::to_value(Availability::Unknown).unwrap();
        assert_eq!(unknown, serde_json::json!({"availability": "unknown"}));
    }
}
