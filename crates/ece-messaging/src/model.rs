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
    /// An attachment (its id is our assumption; see [`AttachmentInfo`]).
    pub struct AttachmentId;
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
        /// The chat moved to another agent or queue; may come several times. **Spelling
        /// assumed**: ECE confirms the event, not its `type.value`.
        Transfer = "transfer" | "Transfer",
        /// The agent pushed a web page to the customer. **Spelling assumed**, as `transfer`.
        PagePush = "pagePush" | "PagePush" | "pagepush",
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

/// One attachment of an `uploadAttachment` (and, by the same assumption, of
/// `acceptAttachment`/`rejectAttachment`): `attachments.attachment[…]`.
///
/// **Assumption:** ECE documents no attachment payload. This is the only shape public v19
/// client code sends (`fileName`, `contentType`, `size`, `contentUrl`); `id` is ours, for
/// accepting or rejecting one. Every field is optional and the message keeps the raw
/// `attachments` value ([`CallbackMessage::attachments`]), so nothing is lost if ECE differs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInfo {
    /// Attachment id, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<AttachmentId>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Size in bytes (read as a number or a string; sent as a string, as the public sample).
    #[serde(
        default,
        deserialize_with = "cc_core::de::lenient_opt_u64",
        serialize_with = "size_as_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub size: Option<u64>,
    /// Where to fetch it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_url: Option<String>,
}

fn size_as_text<S: serde::Serializer>(size: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
    match size {
        Some(n) => serializer.serialize_str(&n.to_string()),
        None => serializer.serialize_none(),
    }
}

/// `attachments` as sent: `{"attachment": [ … ]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachments {
    /// The attachments.
    pub attachment: Vec<AttachmentInfo>,
}

/// A geographical location. ECE: "One of coordinate, address or url must be provided."
///
/// **Assumption:** the member names (`coordinate.latitude`/`longitude`, `address`, `url`)
/// are ours — ECE names the three parts, not their fields. The message keeps the raw
/// `geolocation` value ([`CallbackMessage::geolocation`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Geolocation {
    /// Latitude and longitude, in degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinate: Option<Coordinate>,
    /// A postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A map link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Degrees; numbers or numeric strings are read.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coordinate {
    /// −90 to 90.
    #[serde(deserialize_with = "lenient_f64")]
    pub latitude: f64,
    /// −180 to 180.
    #[serde(deserialize_with = "lenient_f64")]
    pub longitude: f64,
}

fn lenient_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    cc_core::de::lenient_opt_f64(d)?.ok_or_else(|| serde::de::Error::custom("expected a number"))
}

impl Geolocation {
    /// Checks ECE's rule (one of the three parts) and the coordinate's range.
    pub fn validate(&self) -> Result<(), crate::error::Error> {
        let invalid = |reason: &str| {
            Err(crate::error::Error::Invalid { field: "geolocation".into(), reason: reason.into() })
        };
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        if self.coordinate.is_none() && blank(&self.address) && blank(&self.url) {
            return invalid("one of coordinate, address or url must be provided");
        }
        if let Some(c) = self.coordinate
            && !((-90.0..=90.0).contains(&c.latitude) && (-180.0..=180.0).contains(&c.longitude))
        {
            return invalid("latitude must be within ±90 and longitude within ±180");
        }
        Ok(())
    }

    /// The location as one text: a `geo:` URI (RFC 5870) for a coordinate, else the address,
    /// else the URL — the form the neutral mapping gives a location message.
    pub fn as_text(&self) -> Option<String> {
        if let Some(c) = self.coordinate {
            return Some(format!("geo:{},{}", c.latitude, c.longitude));
        }
        self.address.clone().filter(|a| !a.trim().is_empty()).or_else(|| self.url.clone())
    }
}

/// Reads `attachments` leniently: `{"attachment": [..]}`, `{"attachment": {..}}` (one, as
/// XML gives it), or a bare array.
pub fn attachments_of(raw: &serde_json::Value) -> Vec<AttachmentInfo> {
    let list = match raw.get("attachment").unwrap_or(raw) {
        serde_json::Value::Array(items) => items.clone(),
        one @ serde_json::Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    };
    list.into_iter().filter_map(|item| serde_json::from_value(item).ok()).collect()
}

/// Body of `POST …/messaging/sendmessage`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendMessage {
    /// The conversation.
    pub conversation: IdRef<ConversationId>,
    /// What is sent.
    #[serde(rename = "type")]
    pub kind: ValueRef<MessageType>,
    /// The text (absent for typing signals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Attachments (`uploadAttachment`, `acceptAttachment`, `rejectAttachment`; shape assumed,
    /// see [`AttachmentInfo`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Attachments>,
    /// A location (`geolocation`; member names assumed, see [`Geolocation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geolocation: Option<Geolocation>,
}

impl SendMessage {
    /// A message of `kind` to `conversation`, with nothing else set.
    pub fn new(conversation: &ConversationId, kind: MessageType) -> Self {
        Self {
            conversation: IdRef { id: conversation.clone() },
            kind: ValueRef { value: kind },
            content: None,
            attachments: None,
            geolocation: None,
        }
    }
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
    /// `attachments` as sent (read it with [`CallbackMessage::attachment_list`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<serde_json::Value>,
    /// `geolocation` as sent (read it with [`CallbackMessage::location`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geolocation: Option<serde_json::Value>,
}

impl CallbackMessage {
    /// The attachments, read leniently from the raw value (see [`attachments_of`]).
    pub fn attachment_list(&self) -> Vec<AttachmentInfo> {
        self.attachments.as_ref().map(attachments_of).unwrap_or_default()
    }

    /// The location, when the raw value reads as one.
    pub fn location(&self) -> Option<Geolocation> {
        self.geolocation.clone().and_then(|raw| serde_json::from_value(raw).ok())
    }

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
