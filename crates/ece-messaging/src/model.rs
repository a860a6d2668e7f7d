//! Wire types of ECE's client-application messaging API (v19) and its webhook callbacks.

use cc_core::de::lenient_opt_i64;
use cc_core::{ConversationId, EpochMillis, id_type, open_enum};
use serde::{Deserialize, Serialize};

id_type! {
    /// An entry point (numeric in ECE, sent as a number or a string).
    pub struct EntryPointId;
}

id_type! {
    /// A callback message (a numeric string): the de-duplication key.
    pub struct MessageId;
}

id_type! {
    /// An activity.
    pub struct ActivityId;
}

id_type! {
    /// A case.
    pub struct CaseId;
}

open_enum! {
    /// `type.value` of a message, sent or received.
    pub enum MessageType {
        /// Chat assigned to an agent (from the system).
        Assigned = "assigned",
        /// Plain text.
        TextPlain = "text/plain",
        /// HTML.
        TextHtml = "text/html",
        /// Started typing.
        StartTyping = "startTyping",
        /// Stopped typing.
        EndTyping = "endTyping",
        /// Off-record messages enabled (not masked, not persisted).
        EnableOffRecordMessages = "enableOffRecordMessages",
        /// Off-record messages disabled.
        DisableOffRecordMessages = "disableOffRecordMessages",
        /// Attachment accepted.
        AcceptAttachment = "acceptAttachment",
        /// Attachment rejected.
        RejectAttachment = "rejectAttachment",
        /// Attachment uploaded.
        UploadAttachment = "uploadAttachment",
        /// An error delivering a message.
        Error = "error",
        /// Delivered.
        Delivered = "delivered",
        /// Read.
        Read = "read",
        /// The end user's location.
        Geolocation = "geolocation",
        /// The chat was completed (from the system; terminal, once per conversation).
        Complete = "complete",
    }
}

open_enum! {
    /// `sender.type` of a callback message.
    pub enum SenderType {
        /// An agent.
        User = "user",
        /// ECE itself.
        System = "system",
    }
}

/// `{"id": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef<T> {
    /// The id.
    pub id: T,
}

/// `{"value": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueRef<T> {
    /// The value.
    pub value: T,
}

/// `{"date": "2023-06-16T10:25:13.000Z"}`: kept as sent, since ECE compares it as given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRef {
    /// The date text.
    pub date: String,
}

/// Response of `GET …/messaging/configuration?entrypoint=`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationResponse {
    /// One entry per entry point asked for.
    #[serde(default)]
    pub entry_point_configuration: Vec<EntryPointConfiguration>,
}

/// An entry point's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryPointConfiguration {
    /// The entry point.
    pub entry_point: IdRef<EntryPointId>,
    /// When it last changed: a start request must carry this date.
    pub last_modified: DateRef,
    /// Masking patterns and the off-record flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masking_configuration: Option<MaskingConfiguration>,
    /// Attachment rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_policies: Option<AttachmentPolicies>,
}

/// `maskingConfiguration`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaskingConfiguration {
    /// The patterns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patterns: Option<Patterns>,
    /// Whether the end user may send off-record (unmasked, unpersisted) messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_off_record_messages: Option<bool>,
}

/// `patterns`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Patterns {
    /// The masking patterns.
    #[serde(default)]
    pub pattern: Vec<MaskingPattern>,
}

/// A masking pattern (card numbers and the like), as JavaScript and Java regular expressions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaskingPattern {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The character that replaces masked ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masking_character: Option<String>,
    /// The JavaScript regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub javascript_regular_expression: Option<String>,
    /// The Java regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub java_regular_expression: Option<String>,
    /// Characters left visible on the left.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub num_of_chars_to_unmask_from_left: Option<i64>,
    /// Characters left visible on the right.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub num_of_chars_to_unmask_from_right: Option<i64>,
    /// Whether a match must pass the Luhn check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_luhn_algorithm: Option<bool>,
}

/// `attachmentPolicies`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentPolicies {
    /// `block_specific`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction_type: Option<ValueRef<String>>,
    /// Extensions the restriction names (`.csv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_extensions: Option<String>,
    /// The chat policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_policy: Option<ChatPolicy>,
}

/// `chatPolicy`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatPolicy {
    /// Attachments allowed in chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// Size limit (MB).
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub attachment_size: Option<i64>,
}

/// Body of `POST …/messaging/conversation/start`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRequest {
    /// Entry point and its `lastModified`.
    pub entry_point_configuration: EntryPointRef,
    /// The activity.
    pub activity: Activity,
}

/// `entryPointConfiguration` of a start request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryPointRef {
    /// The entry point.
    pub entry_point: IdRef<EntryPointId>,
    /// Its `lastModified`.
    pub last_modified: DateRef,
}

/// `activity` of a start request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Subject (at most 255 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Custom attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_attributes: Option<CustomAttributes>,
    /// Referrer information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    /// The customer (absent for anonymous conversations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
}

/// `customAttributes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomAttributes {
    /// The attributes.
    pub custom_attribute: Vec<CustomAttribute>,
}

/// One custom attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomAttribute {
    /// Name.
    pub attrib_name: String,
    /// Values.
    pub attrib_values: AttribValues,
}

/// `attribValues`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttribValues {
    /// The values.
    pub attrib_value: Vec<ValueRef<String>>,
}

/// `payload`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// Chat details.
    pub chat: ChatPayload,
}

/// `payload.chat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatPayload {
    /// Where the customer came from.
    pub client_info: ClientInfo,
}

/// `clientInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// Referrer name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer_name: Option<String>,
    /// Referrer URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer_url: Option<String>,
}

/// `customer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// `{"value": "individual"}`.
    #[serde(rename = "type")]
    pub kind: ValueRef<String>,
    /// Contacts.
    pub contacts: Contacts,
}

/// `contacts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    /// The contacts.
    pub contact: Vec<Contact>,
}

/// A contact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// E-mail addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<Email>,
    /// Social identities (`social.instagramId` lookups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub social: Vec<Social>,
}

/// An e-mail address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Email {
    /// The address.
    pub email_address: String,
}

/// A social identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Social {
    /// `{"value": "instagram"}`.
    #[serde(rename = "type")]
    pub kind: ValueRef<String>,
    /// The id on that network.
    pub social_id: String,
}

/// Response of a start request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartResponse {
    /// The activity and its case.
    pub activity: ActivityRef,
    /// The conversation id: used by every later call and in every callback.
    pub id: ConversationId,
}

/// `activity` of a start response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRef {
    /// The case.
    #[serde(rename = "case")]
    pub case: IdRef<CaseId>,
    /// The activity.
    pub id: ActivityId,
}

/// Body of `POST …/messaging/sendmessage`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessage {
    /// The conversation.
    pub conversation: IdRef<ConversationId>,
    /// What is sent.
    #[serde(rename = "type")]
    pub kind: ValueRef<MessageType>,
    /// The text (absent for typing signals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// An agent as callbacks name them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Login name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Name shown to the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_name: Option<String>,
}

/// `sender` of a callback message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// user or system.
    #[serde(rename = "type")]
    pub kind: SenderType,
    /// The agent, when the sender is a user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// `type` of a callback message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeField {
    /// The type.
    pub value: MessageType,
    /// The agent (on `assigned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// One message of a callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackMessage {
    /// Message id (numeric string): redeliveries repeat it.
    pub id: MessageId,
    /// The conversation.
    pub conversation: IdRef<ConversationId>,
    /// Who sent it.
    pub sender: Sender,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: TypeField,
    /// Text or HTML (absent on typing signals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// When, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<EpochMillis>,
}

impl CallbackMessage {
    /// The agent named by the message (`sender.user`, else `type.user`).
    pub fn agent(&self) -> Option<&User> {
        self.sender.user.as_ref().or(self.kind.user.as_ref())
    }
}

/// The callback envelope: `{"message": [ … ]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackBatch {
    /// The messages, in delivery order (1 to 1000).
    pub message: Vec<CallbackMessage>,
}
