//! Wire types of LivePerson webhook notifications, parsed leniently: unknown notification
//! types, event types, content types and enum values parse and keep their raw JSON; unknown
//! fields are ignored; numbers may come as strings.
//!
//! Parse with [`parse_notification`] (or, on the receiving side, through
//! [`LpWebhook::verify`](crate::webhook::LpWebhook::verify) first).

use cc_core::de::{JsonError, lenient_opt_u64};
use cc_core::{ConversationId, EpochMillis, ParticipantId, id_type, open_enum};
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

id_type! {
    /// A dialog of a conversation (the main dialog's id usually equals the conversation id).
    pub struct DialogId;
}

id_type! {
    /// A skill (numeric-looking, sent as a string; `-1` means none).
    pub struct SkillId;
}

id_type! {
    /// A brand, i.e. a LivePerson account.
    pub struct BrandId;
}

id_type! {
    /// A secure form.
    pub struct FormId;
}

open_enum! {
    /// The notification's `type`.
    pub enum NotificationType {
        /// Messaging events: content, rich content, chat state, accept status.
        Messaging = "ms.MessagingEventNotification",
        /// Conversation snapshots.
        ConversationChange = "cqm.ExConversationChangeNotification",
    }
}

open_enum! {
    /// A participant's role.
    pub enum Role {
        /// The consumer.
        Consumer = "CONSUMER",
        /// The agent assigned to the conversation.
        AssignedAgent = "ASSIGNED_AGENT",
        /// Another agent.
        Agent = "AGENT",
        /// A manager.
        Manager = "MANAGER",
        /// The system controller (bots, automatic messages).
        Controller = "CONTROLLER",
        /// A read-only participant.
        Reader = "READER",
    }
}

open_enum! {
    /// Who should see a message.
    pub enum MessageAudience {
        /// Everyone, the consumer included.
        All = "ALL",
        /// Agents and managers only (private messages).
        AgentsAndManagers = "AGENTS_AND_MANAGERS",
    }
}

open_enum! {
    /// A participant's chat state.
    pub enum ChatState {
        /// Present in the conversation.
        Active = "ACTIVE",
        /// Idle.
        Inactive = "INACTIVE",
        /// Left.
        Gone = "GONE",
        /// Typing.
        Composing = "COMPOSING",
        /// Stopped typing.
        Pause = "PAUSE",
        /// The app went to the background (seen on mobile SDKs).
        Background = "BACKGROUND",
    }
}

open_enum! {
    /// Delivery status in an accept-status event.
    pub enum AcceptStatus {
        /// Received by the recipient's device.
        Accept = "ACCEPT",
        /// Read.
        Read = "READ",
        /// Accessed (a form or a link).
        Access = "ACCESS",
        /// Not acknowledged: delivery failed.
        Nack = "NACK",
        /// The recipient acted on it (a quick reply, a button).
        Action = "ACTION",
    }
}

open_enum! {
    /// The `contentType` of a content event.
    pub enum ContentType {
        /// Plain text.
        TextPlain = "text/plain",
        /// A file hosted by LivePerson.
        HostedFile = "hosted/file",
        /// An invitation to a secure form.
        SecureInvitation = "forms/secure-invitation",
        /// A secure form was submitted.
        SecureSubmission = "forms/secure-submission",
    }
}

open_enum! {
    /// The `type` of a conversation change.
    pub enum ChangeType {
        /// Created or updated.
        Upsert = "UPSERT",
        /// Deleted (seen on other channels).
        Delete = "DELETE",
    }
}

open_enum! {
    /// Open or closed: a conversation's `state` (its main dialog) and `stage` (the whole
    /// conversation), and a dialog's `state`.
    pub enum OpenState {
        /// Open.
        Open = "OPEN",
        /// Closed.
        Close = "CLOSE",
    }
}

open_enum! {
    /// A dialog's type.
    pub enum DialogType {
        /// The main conversation.
        Main = "MAIN",
        /// A post-conversation survey.
        PostSurvey = "POST_SURVEY",
    }
}

/// A notification: one HTTPS POST from LivePerson. Serializes back in the wire shape
/// (`{"kind", "body": {"sentTs"?, "changes"}, "type"}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// `kind` (always `notification` so far).
    pub kind: Option<String>,
    /// The notification type.
    pub notification_type: NotificationType,
    /// `body.sentTs`, when present.
    pub sent_ts: Option<EpochMillis>,
    /// `body.changes`, all of them, in order.
    pub changes: Vec<Change>,
}

impl Serialize for Notification {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct BodyOut<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            sent_ts: Option<EpochMillis>,
            changes: &'a [Change],
        }
        let mut map = serializer.serialize_map(None)?;
        if let Some(kind) = &self.kind {
            map.serialize_entry("kind", kind)?;
        }
        map.serialize_entry("body", &BodyOut { sent_ts: self.sent_ts, changes: &self.changes })?;
        map.serialize_entry("type", &self.notification_type)?;
        map.end()
    }
}

/// One entry of `body.changes`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Change {
    /// A messaging event.
    Messaging(Box<MessagingChange>),
    /// A conversation snapshot.
    Conversation(Box<ConversationChange>),
    /// A change of a notification type this version does not know, kept whole.
    Unknown(Value),
}

/// A change of an `ms.MessagingEventNotification`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagingChange {
    /// Per-dialog sequence, shared by content and accept-status events; absent on chat state.
    #[serde(default, deserialize_with = "lenient_opt_u64", skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Who caused the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originator_id: Option<ParticipantId>,
    /// The originator's id and role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originator_metadata: Option<OriginatorMetadata>,
    /// When the server created the event; absent on chat state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_timestamp: Option<EpochMillis>,
    /// The event.
    pub event: MessagingEvent,
    /// The conversation (absent in older payloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
    /// The dialog: the ordering and de-duplication key with `sequence`.
    pub dialog_id: DialogId,
    /// Who should see the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_audience: Option<MessageAudience>,
    /// Event metadata (an array, or null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl MessagingChange {
    /// The originator's role, when given.
    pub fn originator_role(&self) -> Option<&Role> {
        self.originator_metadata.as_ref().map(|m| &m.role)
    }

    /// The originator's id: `originatorId`, else `originatorMetadata.id`.
    pub fn originator(&self) -> Option<&ParticipantId> {
        self.originator_id.as_ref().or_else(|| self.originator_metadata.as_ref().and_then(|m| m.id.as_ref()))
    }
}

/// `originatorMetadata`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginatorMetadata {
    /// Participant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ParticipantId>,
    /// Role.
    pub role: Role,
}

/// The `event` of a messaging change, by its `type`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum MessagingEvent {
    /// A message.
    ContentEvent(ContentEvent),
    /// Structured content.
    RichContentEvent(RichContentEvent),
    /// Typing and presence.
    ChatStateEvent(ChatStateEvent),
    /// Delivery and read receipts.
    AcceptStatusEvent(AcceptStatusEvent),
    /// An event type this version does not know, kept whole (including its `type`).
    #[serde(untagged)]
    Unknown(Value),
}

impl MessagingEvent {
    /// The event's `type` as sent.
    pub fn type_name(&self) -> &str {
        match self {
            Self::ContentEvent(_) => "ContentEvent",
            Self::RichContentEvent(_) => "RichContentEvent",
            Self::ChatStateEvent(_) => "ChatStateEvent",
            Self::AcceptStatusEvent(_) => "AcceptStatusEvent",
            Self::Unknown(raw) => raw.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// Deserializes `T` from a JSON value, naming the inner field path in the error.
fn from_value_with_path<T: DeserializeOwned, E: de::Error>(value: Value) -> Result<T, E> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        E::custom(format!("at `{path}`: {}", e.into_inner()))
    })
}

impl<'de> Deserialize<'de> for MessagingEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

impl MessagingEvent {
    /// The event of a whole object: by its `type`, else kept as it is.
    fn from_object<E: de::Error>(raw: serde_json::Map<String, Value>) -> Result<Self, E> {
        let raw = Value::Object(raw);
        Ok(match raw.get("type").and_then(Value::as_str).unwrap_or_default() {
            "ContentEvent" => Self::ContentEvent(from_value_with_path(raw)?),
            "RichContentEvent" => Self::RichContentEvent(from_value_with_path(raw)?),
            "ChatStateEvent" => Self::ChatStateEvent(from_value_with_path(raw)?),
            "AcceptStatusEvent" => Self::AcceptStatusEvent(from_value_with_path(raw)?),
            _ => Self::Unknown(raw),
        })
    }
}

/// Reads an event object. LivePerson sends `type` first: the rest of the object then goes
/// straight into the typed event, without being held as a `Value` first (that took half of
/// a notification's parse). Any other order is held whole and decided by its `type`.
struct EventVisitor;

impl<'de> de::Visitor<'de> for EventVisitor {
    type Value = MessagingEvent;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<MessagingEvent, A::Error> {
        use serde::de::value::MapAccessDeserializer;
        let mut held = serde_json::Map::new();
        match map.next_key::<EventKey>()? {
            // Nothing more may be asked of a map that said it ended.
            None => return Ok(MessagingEvent::Unknown(Value::Object(held))),
            Some(EventKey::Type) => {
                let kind: Value = map.next_value()?;
                let rest = MapAccessDeserializer::new(map);
                return Ok(match kind.as_str().unwrap_or_default() {
                    "ContentEvent" => MessagingEvent::ContentEvent(ContentEvent::deserialize(rest)?),
                    "RichContentEvent" => {
                        MessagingEvent::RichContentEvent(RichContentEvent::deserialize(rest)?)
                    }
                    "ChatStateEvent" => MessagingEvent::ChatStateEvent(ChatStateEvent::deserialize(rest)?),
                    "AcceptStatusEvent" => {
                        MessagingEvent::AcceptStatusEvent(AcceptStatusEvent::deserialize(rest)?)
                    }
                    _ => {
                        let mut unknown = serde_json::Map::deserialize(rest)?;
                        unknown.insert("type".into(), kind);
                        MessagingEvent::Unknown(Value::Object(unknown))
                    }
                });
            }
            Some(EventKey::Other(key)) => {
                held.insert(key, map.next_value()?);
            }
        }
        while let Some((key, value)) = map.next_entry()? {
            held.insert(key, value);
        }
        MessagingEvent::from_object(held)
    }
}

/// An event's first key: `type`, compared without allocating, or any other.
enum EventKey {
    Type,
    Other(String),
}

impl<'de> Deserialize<'de> for EventKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl de::Visitor<'_> for KeyVisitor {
            type Value = EventKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<EventKey, E> {
                Ok(if key == "type" { EventKey::Type } else { EventKey::Other(key.to_owned()) })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A `ContentEvent`: `contentType` decides what `message` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentEvent {
    /// The content type as sent.
    pub content_type: ContentType,
    /// The message, typed by content type.
    pub message: Content,
    /// Quick replies offered with the message, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_replies: Option<Value>,
}

impl<'de> Deserialize<'de> for ContentEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            content_type: Option<ContentType>,
            #[serde(default)]
            message: Value,
            #[serde(default)]
            quick_replies: Option<Value>,
        }
        let raw = Raw::deserialize(deserializer)?;
        // No contentType: LivePerson's default is text/plain.
        let content_type = raw.content_type.unwrap_or(ContentType::TextPlain);
        let message = match (&content_type, raw.message) {
            (ContentType::TextPlain, Value::String(text)) => Content::Text(text),
            (ContentType::HostedFile, v @ Value::Object(_)) => Content::File(from_value_with_path(v)?),
            (ContentType::SecureInvitation, v @ Value::Object(_)) => {
                Content::SecureInvitation(from_value_with_path(v)?)
            }
            (ContentType::SecureSubmission, v @ Value::Object(_)) => {
                Content::SecureSubmission(from_value_with_path(v)?)
            }
            (_, other) => Content::Other(other),
        };
        Ok(Self { content_type, message, quick_replies: raw.quick_replies })
    }
}

/// The `message` of a content event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    /// `text/plain`.
    Text(String),
    /// `hosted/file`.
    File(FileContent),
    /// `forms/secure-invitation`.
    SecureInvitation(SecureInvitation),
    /// `forms/secure-submission`.
    SecureSubmission(SecureSubmission),
    /// Any other content type, or a message whose shape does not match its content type,
    /// kept as sent.
    Other(Value),
}

/// A `hosted/file` message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileContent {
    /// Caption shown with the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Where to download the file, relative to the account's file storage (a download URL
    /// needs a token from LivePerson).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_path: Option<String>,
    /// File type as sent (JPG, PNG, PDF…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
    /// Base64 data-URL preview for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
}

/// A secure form invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecureInvitation {
    /// Invitation id.
    pub invitation_id: String,
    /// Form title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Form id (sent as a number by some APIs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_id: Option<FormId>,
}

/// A secure form submission notice (the form data itself stays with LivePerson).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecureSubmission {
    /// The invitation this submission answers.
    pub invitation_id: String,
    /// Submission id, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_id: Option<String>,
}

/// A `RichContentEvent`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RichContentEvent {
    /// The structured content. Some APIs send it as a JSON string; it is parsed into JSON
    /// then (a string that is not JSON is kept as a string).
    pub content: Value,
}

impl<'de> Deserialize<'de> for RichContentEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            content: Value,
        }
        let content = match Raw::deserialize(deserializer)?.content {
            Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
            other => other,
        };
        Ok(Self { content })
    }
}

/// A `ChatStateEvent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatStateEvent {
    /// The state.
    pub chat_state: ChatState,
}

/// An `AcceptStatusEvent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptStatusEvent {
    /// The status.
    pub status: AcceptStatus,
    /// The sequences (of the same dialog) it acknowledges.
    #[serde(default, deserialize_with = "lenient_u64_list")]
    pub sequence_list: Vec<u64>,
}

fn lenient_u64_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    Ok(Option::<Vec<cc_core::de::Lenient<u64>>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.0)
        .collect())
}

/// A change of a `cqm.ExConversationChangeNotification`: a full conversation snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationChange {
    /// UPSERT or DELETE.
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    /// The snapshot.
    pub result: ConversationResult,
}

impl ConversationChange {
    /// Whether this change ends the conversation: a DELETE, or a snapshot whose stage is
    /// CLOSE (see [`ConversationDetails::is_over`]).
    pub fn is_final(&self) -> bool {
        self.change_type == ChangeType::Delete || self.result.conversation_details.is_over()
    }
}

/// `result` of a conversation change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationResult {
    /// The conversation.
    pub conv_id: ConversationId,
    /// Effective time to respond (epoch ms), or -1. On the wire `effectiveTTR` (camelCase
    /// would say `effectiveTtr`, which is also read).
    #[serde(
        rename = "effectiveTTR",
        alias = "effectiveTtr",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub effective_ttr: Option<EpochMillis>,
    /// The snapshot.
    pub conversation_details: ConversationDetails,
}

/// The conversation as it is now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDetails {
    /// Current skill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_id: Option<SkillId>,
    /// Participants.
    #[serde(default)]
    pub participants: Vec<Participant>,
    /// Dialogs (main, survey…).
    #[serde(default)]
    pub dialogs: Vec<Dialog>,
    /// The account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<BrandId>,
    /// State of the main dialog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<OpenState>,
    /// Stage of the whole conversation: CLOSE only when every dialog (surveys included) closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<OpenState>,
    /// Why it closed (CONSUMER, AGENT, SYSTEM…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ts: Option<EpochMillis>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ts: Option<EpochMillis>,
    /// Version of this snapshot: newer snapshots have larger values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_data_last_update_ts: Option<EpochMillis>,
    /// Time to respond.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttr: Option<Ttr>,
    /// `manualETTR`, kept as sent: the sources at hand do not document its type (an
    /// assumption would be a guess; the raw value is never lost).
    #[serde(rename = "manualETTR", default, skip_serializing_if = "Option::is_none")]
    pub manual_ettr: Option<Value>,
    /// Delay (the conversation is postponed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Delay>,
    /// Customer satisfaction, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<Value>,
    /// Account and skill handling the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_handler_details: Option<HandlerDetails>,
}

impl ConversationDetails {
    /// Whether the conversation is over: `stage` is CLOSE. (A survey dialog can open after
    /// the main dialog closed, so `state` alone does not end it.) Payloads without `stage`
    /// (older API versions) fall back to `state`.
    pub fn is_over(&self) -> bool {
        match &self.stage {
            Some(stage) => *stage == OpenState::Close,
            None => self.state == Some(OpenState::Close),
        }
    }

    /// Who closed the conversation: `closeReason`, else the main dialog's `closedBy`.
    pub fn closed_by(&self) -> Option<&str> {
        self.close_reason.as_deref().or_else(|| {
            self.dialogs
                .iter()
                .find(|d| d.dialog_type == Some(DialogType::Main))
                .and_then(|d| d.closed_by.as_deref())
        })
    }

    /// The assigned agent, when there is one.
    pub fn assigned_agent(&self) -> Option<&ParticipantId> {
        self.participants.iter().find(|p| p.role == Role::AssignedAgent).map(|p| &p.id)
    }
}

/// A participant of the conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Participant id.
    pub id: ParticipantId,
    /// Role.
    pub role: Role,
}

/// A dialog of the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dialog {
    /// The dialog.
    pub dialog_id: DialogId,
    /// Participants of this dialog.
    #[serde(default)]
    pub participants_details: Vec<DialogParticipant>,
    /// MAIN or POST_SURVEY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialog_type: Option<DialogType>,
    /// MESSAGING, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<String>,
    /// Metadata as sent (`appInstallId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<Value>,
    /// OPEN or CLOSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<OpenState>,
    /// Created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_ts: Option<EpochMillis>,
    /// Ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ts: Option<EpochMillis>,
    /// Version of the dialog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_data_last_update_ts: Option<EpochMillis>,
    /// Who closed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    /// Why it closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_cause: Option<String>,
}

/// A participant of a dialog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogParticipant {
    /// Participant id.
    pub id: ParticipantId,
    /// Role.
    pub role: Role,
    /// ACTIVE, … when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// `ttr`: time to respond.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ttr {
    /// PRIORITIZED, URGENT, CUSTOM, NORMAL…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttr_type: Option<String>,
    /// Seconds.
    #[serde(default, deserialize_with = "lenient_opt_u64", skip_serializing_if = "Option::is_none")]
    pub value: Option<u64>,
}

/// `delay`: the conversation is postponed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delay {
    /// Delay type as sent.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub delay_type: Option<String>,
    /// Until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub till_when: Option<EpochMillis>,
}

/// `conversationHandlerDetails`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandlerDetails {
    /// Account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<BrandId>,
    /// Skill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_id: Option<SkillId>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    kind: Option<String>,
    #[serde(rename = "type")]
    notification_type: NotificationType,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body<C> {
    #[serde(default)]
    sent_ts: Option<EpochMillis>,
    #[serde(default = "Vec::new")]
    changes: Vec<C>,
}

/// Parses a notification body. Errors name the field path (`body.changes[0].event.type`).
///
/// This does not check the signature: on the receiving side use
/// [`LpWebhook::verify`](crate::webhook::LpWebhook::verify), which hands out the parse only for
/// verified bytes.
pub fn parse_notification(bytes: &[u8]) -> Result<Notification, JsonError> {
    if let Some(notification) = single_pass(bytes) {
        return Ok(notification);
    }
    // An unknown type, a wrong guess, or an error: the envelope first, then the body by its
    // type, with the field path of any error.
    let envelope: Envelope<'_> = cc_core::de::parse_json_borrowed(bytes)?;
    let body = envelope.body.map(|b| b.get().as_bytes()).unwrap_or(b"{}");
    let in_body =
        |e: JsonError| JsonError { path: format!("body.{}", e.path).replace("body..", "body"), ..e };
    let (sent_ts, changes) = match &envelope.notification_type {
        NotificationType::Messaging => {
            changes::<MessagingChange>(cc_core::de::parse_json(body).map_err(in_body)?)
        }
        NotificationType::ConversationChange => {
            changes::<ConversationChange>(cc_core::de::parse_json(body).map_err(in_body)?)
        }
        NotificationType::Unknown(_) => changes::<Value>(cc_core::de::parse_json(body).map_err(in_body)?),
    };
    Ok(Notification { kind: envelope.kind, notification_type: envelope.notification_type, sent_ts, changes })
}

/// A change of one notification type, as a [`Change`].
trait IntoChange {
    fn into_change(self) -> Change;
}

impl IntoChange for MessagingChange {
    fn into_change(self) -> Change {
        Change::Messaging(Box::new(self))
    }
}

impl IntoChange for ConversationChange {
    fn into_change(self) -> Change {
        Change::Conversation(Box::new(self))
    }
}

impl IntoChange for Value {
    fn into_change(self) -> Change {
        Change::Unknown(self)
    }
}

fn changes<C: IntoChange>(body: Body<C>) -> (Option<EpochMillis>, Vec<Change>) {
    (body.sent_ts, body.changes.into_iter().map(IntoChange::into_change).collect())
}

/// The one-pass parse: the body read straight into its typed changes, without first
/// scanning it as a raw value. LivePerson sends `body` before `type`, so the type is guessed
/// from the bytes (the one known type name they contain) and the guess checked against
/// `type` at the end. `None` (an unknown type, a wrong guess, an escaped key, any error)
/// leaves the outcome to the two-pass parse, which names the field of an error.
fn single_pass(bytes: &[u8]) -> Option<Notification> {
    /// Bytes of the tail searched for the type first: `"type":"<the longest name>"}` and
    /// some whitespace.
    const TAIL: usize = 64;
    use memchr::memmem::Finder;
    // Built once: building a finder costs more than searching a notification with it.
    static KNOWN: std::sync::LazyLock<[Finder<'static>; 2]> = std::sync::LazyLock::new(|| {
        [
            Finder::new(b"\"ms.MessagingEventNotification\""),
            Finder::new(b"\"cqm.ExConversationChangeNotification\""),
        ]
    });
    // `type` comes last: look in the tail first, then in the whole body.
    let tail = &bytes[bytes.len().saturating_sub(TAIL)..];
    let guess = [tail, bytes].into_iter().find_map(|haystack| {
        if KNOWN[0].find(haystack).is_some() {
            Some(NotificationType::Messaging)
        } else if KNOWN[1].find(haystack).is_some() {
            Some(NotificationType::ConversationChange)
        } else {
            None
        }
    });
    cc_core::de::from_json_seed(bytes, SinglePass { guess }).ok()?
}

struct SinglePass {
    guess: Option<NotificationType>,
}

impl<'de> de::DeserializeSeed<'de> for SinglePass {
    type Value = Option<Notification>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> de::Visitor<'de> for SinglePass {
    type Value = Option<Notification>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a notification object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut kind, mut notification_type, mut body) = (None, None::<NotificationType>, None);
        // Borrowed keys only: a key with escapes fails here and takes the two-pass parse.
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "kind" if kind.is_none() => kind = Some(map.next_value::<Option<String>>()?),
                "type" if notification_type.is_none() => notification_type = Some(map.next_value()?),
                "body" if body.is_none() => {
                    let Some(read_as) = notification_type.clone().or_else(|| self.guess.clone()) else {
                        return Ok(None);
                    };
                    let changes = match &read_as {
                        NotificationType::Messaging => changes(map.next_value::<Body<MessagingChange>>()?),
                        NotificationType::ConversationChange => {
                            changes(map.next_value::<Body<ConversationChange>>()?)
                        }
                        NotificationType::Unknown(_) => return Ok(None),
                    };
                    body = Some((read_as, changes));
                }
                // A repeated field: the two-pass parse refuses it.
                "kind" | "type" | "body" => return Ok(None),
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let Some(notification_type) = notification_type else { return Ok(None) };
        let (sent_ts, changes) = match body {
            Some((read_as, _)) if read_as != notification_type => return Ok(None),
            Some((_, changes)) => changes,
            None if notification_type.is_unknown() => return Ok(None),
            None => (None, Vec::new()),
        };
        Ok(Some(Notification { kind: kind.flatten(), notification_type, sent_ts, changes }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Both reads of an event (typed at once when `type` comes first, held whole otherwise)
    /// give the same answers, down to empty objects and unknown types.
    #[test]
    fn events_read_alike_whatever_the_key_order() {
        let read = |text: &str| serde_json::from_str::<MessagingEvent>(text).map_err(|e| e.to_string());
        let typed = read(r#"{"type":"ChatStateEvent","chatState":"COMPOSING"}"#).unwrap();
        assert_eq!(typed, read(r#"{"chatState":"COMPOSING","type":"ChatStateEvent"}"#).unwrap());
        assert!(matches!(typed, MessagingEvent::ChatStateEvent(_)), "{typed:?}");
        let unknown = json!({"type": "FutureEvent", "x": 1});
        for text in [r#"{"type":"FutureEvent","x":1}"#, r#"{"x":1,"type":"FutureEvent"}"#] {
            assert_eq!(read(text).unwrap(), MessagingEvent::Unknown(unknown.clone()), "{text}");
        }
        assert_eq!(read("{}").unwrap(), MessagingEvent::Unknown(json!({})));
        assert_eq!(read(r#"{"type":7}"#).unwrap(), MessagingEvent::Unknown(json!({"type": 7})));
        assert!(read(r#""ContentEvent""#).unwrap_err().contains("expected an event object"));
        // From a `Value` too (keys sorted: `type` last).
        assert_eq!(
            serde_json::from_value::<MessagingEvent>(
                json!({"type": "ChatStateEvent", "chatState": "COMPOSING"})
            )
            .unwrap(),
            typed
        );
    }
}
