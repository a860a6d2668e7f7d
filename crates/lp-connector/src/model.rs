//! The Connector API's wire types, without I/O: domain discovery, the Sentinel and IdP
//! answers, the request and response envelopes of the Send API, the open-conversation batch,
//! conversation-field updates, file URLs, and the limits checked before any call.
//!
//! The events a connector publishes are the ones `lp-notifications` receives
//! ([`MessagingEvent`]: one definition for both directions).

use std::collections::BTreeMap;

use cc_core::{ConversationId, Secret};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub use lp_notifications::model::{
    AcceptStatus, AcceptStatusEvent, ChatState, ChatStateEvent, Content, ContentEvent, ContentType, DialogId,
    FileContent, MessagingEvent, SkillId,
};

use crate::error::Error;

/// The service that takes CONVERSATION and SEND requests.
pub const ASYNC_MESSAGING: &str = "asyncMessagingEnt";
/// The service that issues AppJWTs.
pub const SENTINEL: &str = "sentinel";
/// The service that issues ConsumerJWSs.
pub const IDP: &str = "idp";
/// The file storage (Swift).
pub const SWIFT: &str = "swift";
/// The services a connector needs, each resolved through CSDS.
pub const SERVICES: [&str; 4] = [ASYNC_MESSAGING, SENTINEL, IDP, SWIFT];

/// A file may be this large (LivePerson: "up to 3MB"; read as 3 MiB, an assumption).
pub const MAX_FILE_BYTES: usize = 3 * 1024 * 1024;
/// A preview (the data URL as sent) must be shorter than this (LivePerson: "under 30KB";
/// read as 30 KiB of the data URL's text, an assumption).
pub const MAX_PREVIEW_BYTES: usize = 30 * 1024;

/// CSDS's answer for all services of an account: `{"baseURIs": [{service, account, baseURI}]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseUris {
    /// One entry per service.
    #[serde(rename = "baseURIs", default)]
    pub base_uris: Vec<BaseUri>,
}

/// One service's domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseUri {
    /// The service name (case-sensitive: `asyncMessagingEnt`).
    pub service: String,
    /// The account, as CSDS echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The domain (`va.msg.liveperson.net`), or a URL with a scheme.
    #[serde(rename = "baseURI")]
    pub base_uri: String,
}

/// Sentinel's token answer: `{"access_token": "eyJ…", "token_type": "Bearer"}` (no
/// `expires_in` in LivePerson's example; honoured when sent).
#[derive(Clone, Deserialize)]
pub struct AppJwtResponse {
    /// The AppJWT.
    pub access_token: Secret<String>,
    /// `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds, when Sentinel states it.
    #[serde(default)]
    pub expires_in: Option<cc_core::de::Lenient<u64>>,
}

impl std::fmt::Debug for AppJwtResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppJwtResponse")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in.map(|v| v.0))
            .finish()
    }
}

/// The IdP's request body: `{"ext_consumer_id": "…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerJwsRequest {
    /// Your id for the consumer.
    pub ext_consumer_id: String,
}

/// The IdP's answer (201): `{"token": "eyJ…"}`.
#[derive(Clone, Debug, Deserialize)]
pub struct ConsumerJwsResponse {
    /// The ConsumerJWS.
    pub token: Secret<String>,
}

/// The claims of a JWT, read without verifying its signature (we are its bearer, not its
/// audience): `None` when `token` is not three dot-separated parts with a Base64url JSON
/// object in the middle.
pub fn jwt_claims(token: &str) -> Option<Map<String, Value>> {
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// One request of the Send API: `{"kind":"req","id":"1","type":"ms.PublishEvent","body":{…}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Req {
    /// Always `req`.
    pub kind: String,
    /// Echoed as the answer's `reqId` (LivePerson's examples also send numbers: read as text).
    #[serde(deserialize_with = "string_or_number_required")]
    pub id: String,
    /// The API type (`ms.PublishEvent`).
    #[serde(rename = "type")]
    pub request_type: String,
    /// The body.
    pub body: Value,
}

impl Req {
    /// A request of `request_type` with `body`.
    pub fn new(id: impl Into<String>, request_type: &str, body: &impl Serialize) -> Result<Self, Error> {
        let body = serde_json::to_value(body)
            .map_err(|e| Error::Invalid { field: request_type.to_owned(), reason: e.to_string() })?;
        Ok(Self { kind: "req".into(), id: id.into(), request_type: request_type.into(), body })
    }
}

/// One answer of the Send API: `{"reqId":"1","code":"OK","body":{…}}`. `code` comes as a
/// string (`"OK"`) in LivePerson's examples and as an integer in its schema; both are read,
/// and `kind` and `type` are optional (the examples omit them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resp {
    /// The request's `id`.
    #[serde(default, deserialize_with = "string_or_number", skip_serializing_if = "Option::is_none")]
    pub req_id: Option<String>,
    /// `OK`, `200`, or an error code, as text.
    #[serde(default, deserialize_with = "string_or_number", skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The answer's body.
    #[serde(default)]
    pub body: Value,
    /// `resp`, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The answer type (`ms.PublishEventResponse`), when sent.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
}

impl Resp {
    /// Whether `code` says success: `OK` (any case), a 2xx number, or no code at all.
    pub fn is_ok(&self) -> bool {
        match self.code.as_deref() {
            None => true,
            Some(code) if code.eq_ignore_ascii_case("ok") => true,
            Some(code) => code.parse::<u16>().is_ok_and(|n| (200..300).contains(&n)),
        }
    }

    /// The error's words, for an answer that is not OK: `body.title`/`details`, `body.msg`,
    /// or the body as JSON. `None` for an OK answer.
    pub fn message(&self) -> Option<String> {
        if self.is_ok() && self.code.is_some() {
            return None;
        }
        let text = |key: &str| self.body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
        match (text("title"), text("details"), text("msg")) {
            (Some(title), Some(details), _) => Some(format!("{title}: {details}")),
            (Some(one), None, _) | (None, Some(one), _) | (None, None, Some(one)) => Some(one.to_owned()),
            (None, None, None) if self.body.is_null() => None,
            (None, None, None) => Some(self.body.to_string()),
        }
    }

    /// `body.errorCode`, when the body has one.
    pub fn error_code(&self) -> Option<String> {
        match self.body.get("errorCode")? {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The consumer's profile, the first request of the open-conversation batch
/// (`userprofile.SetUserProfile`). LivePerson requires the request; its body may be empty.
/// Only the Customer Info (`ctmrinfo`) and Personal Info (`personal`) SDEs are supported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    /// `authenticatedData.lp_sdes`, when any SDE is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated_data: Option<AuthenticatedData>,
}

/// `authenticatedData`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthenticatedData {
    /// The SDEs, as LivePerson takes them.
    #[serde(default)]
    pub lp_sdes: Vec<Value>,
}

impl UserProfile {
    /// An empty profile (LivePerson: "Its body can essentially be passed empty").
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a Personal Info SDE (`{"type":"personal","personal":{…}}`); `email` goes to
    /// `personal.contacts`.
    pub fn personal(self, first_name: Option<&str>, last_name: Option<&str>, email: Option<&str>) -> Self {
        let mut personal = Map::new();
        if let Some(first) = first_name {
            personal.insert("firstname".into(), first.into());
        }
        if let Some(last) = last_name {
            personal.insert("lastname".into(), last.into());
        }
        if let Some(email) = email {
            personal.insert("contacts".into(), serde_json::json!([{ "email": email }]));
        }
        self.sde(serde_json::json!({ "type": "personal", "personal": personal }))
    }

    /// Adds a Customer Info SDE (`{"type":"ctmrinfo","info":{…}}`) with these fields
    /// (`socialId`, `ctype`, `companyBranch`, …).
    pub fn customer_info(self, info: BTreeMap<String, Value>) -> Self {
        self.sde(serde_json::json!({ "type": "ctmrinfo", "info": info }))
    }

    /// Adds any SDE as JSON.
    pub fn sde(mut self, sde: Value) -> Self {
        self.authenticated_data.get_or_insert_with(AuthenticatedData::default).lp_sdes.push(sde);
        self
    }
}

cc_core::open_enum! {
    /// `ttrDefName`: how urgently the conversation should be answered.
    pub enum TtrDefName {
        /// Normal.
        Normal = "NORMAL",
        /// Urgent.
        Urgent = "URGENT",
        /// Prioritized.
        Prioritized = "PRIORITIZED",
    }
}

/// `campaignInfo`: the recommended routing, from the Monitoring API's engagement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignInfo {
    /// Campaign id.
    pub campaign_id: String,
    /// Engagement id.
    pub engagement_id: String,
}

/// The second request of the batch, `cm.ConsumerRequestConversation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerRequestConversation {
    /// The account id (required).
    pub brand_id: String,
    /// `MESSAGING` (LivePerson: "Always use").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<String>,
    /// The skill; `-1` targets all skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_id: Option<SkillId>,
    /// Urgency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttr_def_name: Option<TtrDefName>,
    /// Recommended routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_info: Option<CampaignInfo>,
    /// `conversationContext` (`visitorId`, `sessionId`, `interactionContextId`, `type`,
    /// `lang`…), as LivePerson takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_context: Option<Value>,
}

/// What opening a conversation sends: the profile, then the conversation request.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenConversation {
    /// The consumer's profile.
    pub profile: UserProfile,
    /// The conversation request; `brand_id` is filled with the account when empty.
    pub request: ConsumerRequestConversation,
}

impl OpenConversation {
    /// An empty profile and a MESSAGING request for the account (filled in by the client).
    pub fn new() -> Self {
        Self {
            profile: UserProfile::new(),
            request: ConsumerRequestConversation {
                brand_id: String::new(),
                channel_type: Some("MESSAGING".into()),
                skill_id: None,
                ttr_def_name: None,
                campaign_info: None,
                conversation_context: None,
            },
        }
    }

    /// Sets the profile.
    pub fn profile(mut self, profile: UserProfile) -> Self {
        self.profile = profile;
        self
    }

    /// Routes to a skill.
    pub fn skill(mut self, skill: impl Into<SkillId>) -> Self {
        self.request.skill_id = Some(skill.into());
        self
    }

    /// The batch as sent, ids `1` and `2`, for `account`.
    pub fn batch(&self, account: &str) -> Result<[Req; 2], Error> {
        let mut request = self.request.clone();
        if request.brand_id.is_empty() {
            request.brand_id = account.to_owned();
        }
        Ok([
            Req::new("1", "userprofile.SetUserProfile", &self.profile)?,
            Req::new("2", "cm.ConsumerRequestConversation", &request)?,
        ])
    }
}

impl Default for OpenConversation {
    fn default() -> Self {
        Self::new()
    }
}

/// The conversation id in the batch answer: the body that has `conversationId`, wherever it
/// is (LivePerson's own examples reuse and swap request ids, so neither position nor `reqId`
/// is a safe key). `None` when no element has one.
pub fn conversation_id_of(answers: &[Resp]) -> Option<ConversationId> {
    answers.iter().find_map(|a| match a.body.get("conversationId")? {
        Value::String(id) if !id.is_empty() => Some(ConversationId::new(id.as_str())),
        _ => None,
    })
}

/// `ms.PublishEvent`'s body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishEvent {
    /// The dialog (the main dialog's id is the conversation id).
    pub dialog_id: DialogId,
    /// The event.
    pub event: MessagingEvent,
}

/// A `text/plain` content event.
pub fn text_event(text: &str) -> MessagingEvent {
    MessagingEvent::ContentEvent(ContentEvent {
        content_type: ContentType::TextPlain,
        message: Content::Text(text.to_owned()),
        quick_replies: None,
    })
}

/// A chat-state event. To stop "typing", send any state but COMPOSING (LivePerson: otherwise
/// the agent keeps seeing the consumer typing).
pub fn chat_state_event(state: ChatState) -> MessagingEvent {
    MessagingEvent::ChatStateEvent(ChatStateEvent { chat_state: state })
}

/// An accept-status (receipt) event for `sequences` of the dialog.
pub fn receipt_event(status: AcceptStatus, sequences: Vec<u64>) -> MessagingEvent {
    MessagingEvent::AcceptStatusEvent(AcceptStatusEvent { status, sequence_list: sequences })
}

/// A `hosted/file` content event.
pub fn file_event(file: FileContent) -> MessagingEvent {
    MessagingEvent::ContentEvent(ContentEvent {
        content_type: ContentType::HostedFile,
        message: Content::File(file),
        quick_replies: None,
    })
}

/// The answer to a publish: `body.sequence`, the event's place in the dialog (content and
/// receipts get one; chat states do not).
pub fn sequence_of(resp: &Resp) -> Option<u64> {
    match resp.body.get("sequence")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `cm.UpdateConversationField`'s body. LivePerson's schema types `conversationField` as an
/// array; every documented example and public connector sends one object, as this does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateConversationField {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// What changes.
    pub conversation_field: ConversationField,
}

/// A conversation field change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "field")]
pub enum ConversationField {
    /// Close the conversation: `{"field":"ConversationStateField","conversationState":"CLOSE"}`.
    #[serde(rename = "ConversationStateField", rename_all = "camelCase")]
    State {
        /// `CLOSE` (the only value the schema allows).
        conversation_state: String,
    },
    /// Close a dialog (the main one: the post-conversation survey starts).
    #[serde(rename = "DialogChange")]
    Dialog {
        /// `UPDATE`.
        #[serde(rename = "type")]
        change: String,
        /// The dialog and its new state.
        dialog: DialogUpdate,
    },
    /// A CSAT answer.
    #[serde(rename = "CSATRate", rename_all = "camelCase")]
    Csat {
        /// The rate (1–5).
        csat_rate: u8,
        /// Whether the issue was resolved.
        csat_resolution_confirmation: bool,
        /// `FILLED`.
        status: String,
    },
}

impl ConversationField {
    /// Close the conversation.
    pub fn close() -> Self {
        Self::State { conversation_state: "CLOSE".into() }
    }

    /// Close `dialog` for `cause` (the main dialog: the survey starts).
    pub fn close_dialog(dialog: DialogId, cause: &str) -> Self {
        Self::Dialog {
            change: "UPDATE".into(),
            dialog: DialogUpdate {
                dialog_id: dialog,
                state: "CLOSE".into(),
                closed_cause: Some(cause.to_owned()),
            },
        }
    }

    /// A CSAT answer; `rate` must be 1–5.
    pub fn csat(rate: u8, resolved: bool) -> Result<Self, Error> {
        if !(1..=5).contains(&rate) {
            return Err(Error::Invalid { field: "csatRate".into(), reason: format!("{rate} is not 1 to 5") });
        }
        Ok(Self::Csat { csat_rate: rate, csat_resolution_confirmation: resolved, status: "FILLED".into() })
    }
}

/// A dialog's new state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DialogUpdate {
    /// The dialog.
    pub dialog_id: DialogId,
    /// `CLOSE`.
    pub state: String,
    /// Why (`Closed by consumer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_cause: Option<String>,
}

cc_core::open_enum! {
    /// A hosted file's type. Consumers may upload JPG, PNG, GIF and JPEG; agents' files may
    /// have other types, kept as sent.
    pub enum FileType {
        /// JPEG (`.jpg`).
        Jpg = "JPG",
        /// PNG.
        Png = "PNG",
        /// GIF.
        Gif = "GIF",
        /// JPEG (`.jpeg`).
        Jpeg = "JPEG",
    }
}

impl FileType {
    /// The type of an image from its first bytes: PNG, GIF or JPEG, else `None`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else {
            None
        }
    }

    /// Whether a consumer may upload this type.
    pub fn uploadable(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }

    fn same_image(&self, other: &Self) -> bool {
        let jpeg = |t: &Self| matches!(t, Self::Jpg | Self::Jpeg);
        self == other || (jpeg(self) && jpeg(other))
    }
}

/// A file to upload: its bytes, type, and what the agent sees with it.
#[derive(Clone, PartialEq, Eq)]
pub struct FileUpload {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The declared type.
    pub file_type: FileType,
    /// The caption.
    pub caption: Option<String>,
    /// A `data:image/…;base64,…` preview (under [`MAX_PREVIEW_BYTES`]).
    pub preview: Option<String>,
}

impl std::fmt::Debug for FileUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileUpload")
            .field("bytes", &self.bytes.len())
            .field("file_type", &self.file_type)
            .field("caption", &self.caption)
            .field("preview", &self.preview.as_ref().map(String::len))
            .finish()
    }
}

impl FileUpload {
    /// An image, its type read from its first bytes.
    pub fn image(bytes: Vec<u8>) -> Result<Self, Error> {
        let file_type = FileType::sniff(&bytes).ok_or_else(|| Error::Invalid {
            field: "file".into(),
            reason: "not a PNG, GIF or JPEG image (LivePerson takes JPG, PNG, GIF and JPEG from consumers)"
                .into(),
        })?;
        Ok(Self { bytes, file_type, caption: None, preview: None })
    }

    /// Sets the caption.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Sets the preview data URL.
    pub fn preview(mut self, preview: impl Into<String>) -> Self {
        self.preview = Some(preview.into());
        self
    }

    /// Checks what LivePerson documents before any call: an uploadable type that matches the
    /// bytes, at most [`MAX_FILE_BYTES`], not empty, a preview that is a data URL under
    /// [`MAX_PREVIEW_BYTES`].
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |field: &str, reason: String| Err(Error::Invalid { field: field.into(), reason });
        if !self.file_type.uploadable() {
            return invalid("fileType", format!("`{}` is not one of JPG, PNG, GIF, JPEG", self.file_type));
        }
        if self.bytes.is_empty() {
            return invalid("file", "is empty".into());
        }
        if self.bytes.len() > MAX_FILE_BYTES {
            return invalid(
                "file",
                format!("{} bytes, more than the {MAX_FILE_BYTES} allowed", self.bytes.len()),
            );
        }
        match FileType::sniff(&self.bytes) {
            Some(actual) if actual.same_image(&self.file_type) => {}
            Some(actual) => {
                return invalid(
                    "fileType",
                    format!("declared {} but the bytes are {actual}", self.file_type),
                );
            }
            None => {
                return invalid(
                    "fileType",
                    format!("declared {} but the bytes are not an image", self.file_type),
                );
            }
        }
        if let Some(preview) = &self.preview {
            if !preview.starts_with("data:image/") {
                return invalid("preview", "must be a data:image/…;base64 URL".into());
            }
            if preview.len() >= MAX_PREVIEW_BYTES {
                return invalid("preview", format!("{} bytes, not under {MAX_PREVIEW_BYTES}", preview.len()));
            }
        }
        Ok(())
    }
}

/// `ms.GenerateURLForUploadFile`'s body: the size as a **string** and the type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateUploadUrl {
    /// Bytes, as text.
    pub file_size: String,
    /// The type.
    pub file_type: FileType,
}

/// `ms.GenerateURLForDownloadFile`'s body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateDownloadUrl {
    /// The file's `relativePath`, from a `hosted/file` message.
    pub relative_path: String,
}

/// A Swift temporary URL: `relativePath` plus the signed query.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUrl {
    /// Where the file is, from the storage's root (starts with `/`).
    pub relative_path: String,
    /// The signature and its expiry.
    pub query_params: TempUrlParams,
}

/// `queryParams`.
#[derive(Clone, Debug, Deserialize)]
pub struct TempUrlParams {
    /// The signature (a credential for one minute: redacted in `Debug`).
    pub temp_url_sig: Secret<String>,
    /// Expiry, epoch seconds (a string on the wire).
    #[serde(deserialize_with = "string_or_number_required")]
    pub temp_url_expires: String,
}

fn string_or_number_required<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    string_or_number(d)?.ok_or_else(|| serde::de::Error::custom("expected a string or a number"))
}

/// Checks a `relativePath` before it becomes part of a URL on the file storage's host: it
/// must start with `/` and hold only letters, digits and `/ _ - . ~`, with no `..` segment.
/// Anything else (a `@`, `//`, `?`, `#`, `%`, `\`) could send the request and its signature
/// elsewhere.
pub fn check_relative_path(path: &str) -> Result<(), Error> {
    let invalid = |reason: &str| Err(Error::Invalid { field: "relativePath".into(), reason: reason.into() });
    if !path.starts_with('/') || path.starts_with("//") {
        return invalid("must start with a single `/`");
    }
    if path.len() > 1024 {
        return invalid("is longer than 1024 characters");
    }
    if !path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-.~".contains(&b)) {
        return invalid("may hold only letters, digits and / _ - . ~");
    }
    if path.split('/').any(|segment| segment == ".." || segment == ".") || path.contains("//") {
        return invalid("has an empty, `.` or `..` segment");
    }
    Ok(())
}
