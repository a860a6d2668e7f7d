//! The client (feature `client`): login, entry-point configuration, conversations, messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cc_core::auth::{ClientAuth, TokenCache, TokenEndpoint, basic_authorization};
use cc_core::http::{Body, Executor, OAuth2Source, Request, RetryPolicy};
use cc_core::{ConversationId, Secret};

use crate::availability::{
    Eligibility, LEGACY_CHAT_PATH, LegacyChatPaths, parse_agent_availability, parse_capacity,
    parse_chat_allowed, parse_eligibility,
};
use crate::error::Error;
use crate::model::{
    AttachmentId, AttachmentInfo, Attachments, ConfigurationResponse, EntryPointConfiguration, EntryPointId,
    Geolocation, MessageType, SendMessage, StartResponse,
};
use crate::start::StartConversation;

/// The path of the client-application API under the web server.
pub const API_PATH: &str = "/system/ws/v19/clientapplications";

/// Client settings.
#[derive(Clone, Debug)]
pub struct EceConfig {
    /// The ECE web server, e.g. `https://ece-webserver.example.com`.
    pub base_url: String,
    /// The registered application's client key.
    pub client_key: String,
    /// Its client secret.
    pub client_secret: Secret<String>,
    /// `Accept-Language`: the language of ECE's error texts (default `en-US`).
    pub accept_language: String,
    /// Log in with `forceLogin=yes`, evicting the application's oldest session when ECE's
    /// limit of concurrent sessions is reached.
    pub force_login: bool,
    /// Retry limits. Start and send are not idempotent: they are repeated only after a
    /// connect failure, a 429, or a 503 with `Retry-After`.
    pub retry: RetryPolicy,
    /// How long one attempt may take, headers and body (default 30 s).
    pub attempt_timeout: Duration,
    /// The paths of the chat web-service API's availability calls (two are assumed; see
    /// [`crate::availability`]).
    pub legacy_chat: LegacyChatPaths,
}

impl EceConfig {
    /// Settings with `en-US` and default retries.
    pub fn new(
        base_url: impl Into<String>,
        client_key: impl Into<String>,
        client_secret: Secret<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            client_key: client_key.into(),
            client_secret,
            accept_language: "en-US".into(),
            force_login: false,
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(30),
            legacy_chat: LegacyChatPaths::default(),
        }
    }
}

/// A started conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    /// The conversation id (every later call and every callback uses it).
    pub conversation: ConversationId,
    /// The activity.
    pub activity: crate::model::ActivityId,
    /// The activity's case.
    pub case: crate::model::CaseId,
}

/// The ECE messaging client. Cheap to clone; clones share the token and the cache of
/// entry-point dates.
#[derive(Clone)]
pub struct EceClient {
    http: Executor,
    login_http: Executor,
    tokens: Arc<TokenCache>,
    revoke_url: Arc<str>,
    revoke_authorization: Secret<String>,
    root: Arc<str>,
    legacy_chat: Arc<(String, LegacyChatPaths)>,
    last_modified: Arc<Mutex<HashMap<EntryPointId, String>>>,
}

/// What [`EceClient::logout`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logout {
    /// ECE revoked the session's token.
    Revoked,
    /// ECE refused the revocation with a 4xx: the session was already gone (expired, evicted
    /// by a `forceLogin`, revoked before).
    AlreadyGone,
    /// No session was held: nothing was sent.
    NoSession,
}

impl std::fmt::Debug for EceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EceClient").field("root", &self.root).finish_non_exhaustive()
    }
}

impl EceClient {
    /// A client; the first call logs in (Basic client key and secret → 24-hour bearer token).
    /// A 401 on any call logs in again once and repeats the call once.
    pub fn new(config: EceConfig) -> Result<Self, Error> {
        let root = format!("{}{API_PATH}", config.base_url.trim_end_matches('/'));
        let login_url = if config.force_login {
            format!("{root}/authentication/oauth2/token?forceLogin=yes")
        } else {
            format!("{root}/authentication/oauth2/token")
        };
        let endpoint = TokenEndpoint::new(login_url, config.client_key.clone(), config.client_secret.clone())
            .client_auth(ClientAuth::Basic);
        let login_http = Executor::builder()
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .retry_policy(config.retry)
            .attempt_timeout(config.attempt_timeout)
            .build()?;
        let revoke_url = format!("{root}/authentication/oauth2/revoke");
        let revoke_authorization = basic_authorization(&config.client_key, &config.client_secret);
        let tokens =
            Arc::new(TokenCache::new(OAuth2Source::client_credentials(endpoint, login_http.clone())));
        let http = Executor::builder()
            .share_connections(&login_http)
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .auth(tokens.clone())
            .retry_policy(config.retry)
            .attempt_timeout(config.attempt_timeout)
            .default_header("accept", "application/json")
            .default_header("accept-language", config.accept_language.clone())
            .build()?;
        Ok(Self {
            http,
            login_http,
            tokens,
            revoke_url: revoke_url.into(),
            revoke_authorization,
            root: root.into(),
            legacy_chat: Arc::new((
                format!("{}{LEGACY_CHAT_PATH}", config.base_url.trim_end_matches('/')),
                config.legacy_chat,
            )),
            last_modified: Arc::default(),
        })
    }

    /// Reads an entry point's configuration (masking patterns, off-record flag, attachment
    /// policies) and caches its `lastModified` for [`EceClient::start`].
    pub async fn configuration(&self, entry_point: &EntryPointId) -> Result<EntryPointConfiguration, Error> {
        let request = Request::get(format!("{}/messaging/configuration", self.root))
            .operation("ece.configuration")
            .query("entrypoint", entry_point.as_str());
        let response: ConfigurationResponse = self.http.send_json(&request).await?;
        let config = response
            .entry_point_configuration
            .into_iter()
            .find(|c| c.entry_point.id == *entry_point)
            .ok_or_else(|| Error::NoConfiguration(entry_point.to_string()))?;
        self.lock().insert(entry_point.clone(), config.last_modified.date.clone());
        Ok(config)
    }

    /// Starts a conversation. Uses the cached `lastModified` of the entry point (reading the
    /// configuration first if there is none); when ECE answers 409 `409-100` (the entry point
    /// changed), it reads the configuration again and retries once.
    pub async fn start(&self, start: &StartConversation) -> Result<Started, Error> {
        // Refuse a bad request before any network call, login included.
        start.validate()?;
        let entry_point = start.entry_point().clone();
        let cached = self.lock().get(&entry_point).cloned();
        let date = match cached {
            Some(date) => date,
            None => self.configuration(&entry_point).await?.last_modified.date,
        };
        match self.start_with(start, &date).await {
            Err(Error::Http(e)) if e.status() == Some(409) && e.vendor_code() == Some("409-100") => {
                // The entry point changed since we cached its date: read it again, retry once.
                let fresh = self.configuration(&entry_point).await?.last_modified.date;
                self.start_with(start, &fresh).await
            }
            other => other,
        }
    }

    async fn start_with(&self, start: &StartConversation, last_modified: &str) -> Result<Started, Error> {
        let (query, body) = start.build(last_modified)?;
        let mut request =
            Request::post(format!("{}/messaging/conversation/start", self.root)).operation("ece.start");
        for (name, value) in query {
            request = request.query(name, value);
        }
        let request = request
            .json(&body)
            .map_err(|e| Error::Invalid { field: "start".into(), reason: e.to_string() })?;
        let response: StartResponse = self.http.send_json(&request).await?;
        Ok(Started {
            conversation: response.id,
            activity: response.activity.id,
            case: response.activity.case.id,
        })
    }

    /// Sends a message of any type (`content` absent for signals such as typing). ECE answers
    /// 204.
    pub async fn send(
        &self,
        conversation: &ConversationId,
        kind: MessageType,
        content: Option<&str>,
    ) -> Result<(), Error> {
        self.send_message(&SendMessage {
            content: content.map(str::to_owned),
            ..SendMessage::new(conversation, kind)
        })
        .await
    }

    /// Sends a message body as it is (attachments and locations included).
    pub async fn send_message(&self, body: &SendMessage) -> Result<(), Error> {
        let request = Request::post(format!("{}/messaging/sendmessage", self.root))
            .operation("ece.send_message")
            .json(body)
            .map_err(|e| Error::Invalid { field: "message".into(), reason: e.to_string() })?;
        self.http.send(&request).await?;
        Ok(())
    }

    /// The customer shares files (`uploadAttachment` with `attachments.attachment[…]`; the
    /// payload shape is an assumption, see [`AttachmentInfo`]). Each needs a `contentUrl`.
    pub async fn send_attachments(
        &self,
        conversation: &ConversationId,
        attachments: Vec<AttachmentInfo>,
        caption: Option<&str>,
    ) -> Result<(), Error> {
        if attachments.is_empty()
            || attachments.iter().any(|a| a.content_url.as_deref().is_none_or(str::is_empty))
        {
            return Err(Error::Invalid {
                field: "attachments".into(),
                reason: "give at least one, each with a contentUrl".into(),
            });
        }
        self.attachment_message(conversation, MessageType::UploadAttachment, attachments, caption).await
    }

    /// The customer accepts (`acceptAttachment`) or rejects (`rejectAttachment`) the agent's
    /// attachment `id` (payload assumed: `attachments.attachment[{id}]`).
    pub async fn answer_attachment(
        &self,
        conversation: &ConversationId,
        id: &AttachmentId,
        accept: bool,
    ) -> Result<(), Error> {
        let kind = if accept { MessageType::AcceptAttachment } else { MessageType::RejectAttachment };
        let one = AttachmentInfo { id: Some(id.clone()), ..AttachmentInfo::default() };
        self.attachment_message(conversation, kind, vec![one], None).await
    }

    async fn attachment_message(
        &self,
        conversation: &ConversationId,
        kind: MessageType,
        attachment: Vec<AttachmentInfo>,
        caption: Option<&str>,
    ) -> Result<(), Error> {
        self.send_message(&SendMessage {
            content: caption.map(str::to_owned),
            attachments: Some(Attachments { attachment }),
            ..SendMessage::new(conversation, kind)
        })
        .await
    }

    /// The customer's location (`geolocation`; one of coordinate, address or URL, checked
    /// first; member names assumed, see [`Geolocation`]).
    pub async fn send_location(
        &self,
        conversation: &ConversationId,
        location: &Geolocation,
    ) -> Result<(), Error> {
        location.validate()?;
        self.send_message(&SendMessage {
            geolocation: Some(location.clone()),
            ..SendMessage::new(conversation, MessageType::Geolocation)
        })
        .await
    }

    /// Sends plain text.
    pub async fn send_text(&self, conversation: &ConversationId, text: &str) -> Result<(), Error> {
        self.send(conversation, MessageType::TextPlain, Some(text)).await
    }

    /// Sends HTML.
    pub async fn send_html(&self, conversation: &ConversationId, html: &str) -> Result<(), Error> {
        self.send(conversation, MessageType::TextHtml, Some(html)).await
    }

    /// The customer started typing.
    pub async fn start_typing(&self, conversation: &ConversationId) -> Result<(), Error> {
        self.send(conversation, MessageType::StartTyping, None).await
    }

    /// The customer stopped typing.
    pub async fn end_typing(&self, conversation: &ConversationId) -> Result<(), Error> {
        self.send(conversation, MessageType::EndTyping, None).await
    }

    /// The customer turned off-record messages on (unmasked, not persisted) or off.
    pub async fn set_off_record(&self, conversation: &ConversationId, on: bool) -> Result<(), Error> {
        let kind =
            if on { MessageType::EnableOffRecordMessages } else { MessageType::DisableOffRecordMessages };
        self.send(conversation, kind, None).await
    }

    /// The customer received (`delivered`) or read (`read`) the agent's messages.
    pub async fn receipt(&self, conversation: &ConversationId, read: bool) -> Result<(), Error> {
        self.send(conversation, if read { MessageType::Read } else { MessageType::Delivered }, None).await
    }

    /// Ends the conversation (`PUT …/conversation/{id}/end`, 204). Idempotent: retried on 5xx.
    pub async fn end(&self, conversation: &ConversationId) -> Result<(), Error> {
        if conversation.as_str().is_empty() || conversation.as_str().contains(['/', '?', '#', '%']) {
            return Err(Error::Invalid {
                field: "conversation id".into(),
                reason: "must be a plain id (a UUID)".into(),
            });
        }
        let request = Request::put(format!("{}/messaging/conversation/{}/end", self.root, conversation))
            .operation("ece.end_conversation");
        self.http.send(&request).await?;
        Ok(())
    }

    /// Whether an agent is available for `entry_point` (`agentAvailability`, chat web-service
    /// API; see [`crate::availability`] for what it counts).
    pub async fn agent_availability(&self, entry_point: &EntryPointId) -> Result<bool, Error> {
        let paths = &self.legacy_chat.1;
        parse_agent_availability(
            &self.legacy(&paths.agent_availability, entry_point, "ece.agent_availability").await?,
        )
    }

    /// Free chat slots for `entry_point` (`capacity` → `availableSlots`): zero means no agent
    /// is logged in or all are at their maximum load.
    pub async fn capacity(&self, entry_point: &EntryPointId) -> Result<u32, Error> {
        let paths = &self.legacy_chat.1;
        parse_capacity(&self.legacy(&paths.capacity, entry_point, "ece.capacity").await?)
    }

    /// Whether the queue takes new chats (`checkEligibility`; path assumed).
    pub async fn eligibility(&self, entry_point: &EntryPointId) -> Result<Eligibility, Error> {
        let paths = &self.legacy_chat.1;
        parse_eligibility(&self.legacy(&paths.eligibility, entry_point, "ece.check_eligibility").await?)
    }

    /// Whether a chat is allowed now: queue depth, availability and entry point status
    /// together (`chatAllowed`; path assumed).
    pub async fn chat_allowed(&self, entry_point: &EntryPointId) -> Result<bool, Error> {
        let paths = &self.legacy_chat.1;
        parse_chat_allowed(&self.legacy(&paths.chat_allowed, entry_point, "ece.chat_allowed").await?)
    }

    /// GET `{base}/system/egain/chat/entrypoint/{call}/{entry point}`: unauthenticated, so no
    /// login is made for it.
    async fn legacy(
        &self,
        call: &str,
        entry_point: &EntryPointId,
        operation: &'static str,
    ) -> Result<Vec<u8>, Error> {
        let id = entry_point.as_str();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(Error::Invalid { field: "entry point".into(), reason: "must be a plain id".into() });
        }
        let request = Request::get(format!("{}/{call}/{id}", self.legacy_chat.0))
            .operation(operation)
            .without_auth()
            .header("accept", "application/xml");
        Ok(self.http.send(&request).await?.into_body())
    }

    /// Ends the session: revokes the bearer token at ECE (`POST …/authentication/oauth2/revoke`,
    /// Basic client key and secret, form `token=…`), so that restarts do not use up ECE's cap
    /// of concurrent sessions per application (about 10). Call it on shutdown; a later call
    /// logs in again. **Assumption:** ECE does not document this request; its form is the one
    /// public eGain client code sends (see the guide). A 4xx means the session is already gone
    /// and is not an error; with no session held nothing is sent. If revocation is refused
    /// where you run, `EceConfig::force_login` is the fallback.
    pub async fn logout(&self) -> Result<Logout, Error> {
        let Some(held) = self.tokens.take_current() else { return Ok(Logout::NoSession) };
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", held.token().access_token().expose_secret())
            .finish();
        let request = Request::post(&*self.revoke_url)
            .operation("ece.revoke")
            .without_auth()
            .idempotent(true)
            .secret_header("authorization", self.revoke_authorization.clone())
            .body(Body::Form(Secret::new(form)));
        match self.login_http.send(&request).await {
            Ok(_) => Ok(Logout::Revoked),
            Err(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => Ok(Logout::AlreadyGone),
            Err(e) => Err(e.into()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EntryPointId, String>> {
        self.last_modified.lock().unwrap_or_else(|p| p.into_inner())
    }
}
