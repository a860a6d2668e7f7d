//! The client (feature `client`): login, entry-point configuration, conversations, messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cc_core::auth::{ClientAuth, TokenCache, TokenEndpoint};
use cc_core::http::{Executor, OAuth2Source, Request, RetryPolicy};
use cc_core::{ConversationId, Secret};

use crate::error::Error;
use crate::model::{
    ConfigurationResponse, EntryPointConfiguration, EntryPointId, IdRef, MessageType, SendMessage,
    StartResponse, ValueRef,
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
    root: Arc<str>,
    last_modified: Arc<Mutex<HashMap<EntryPointId, String>>>,
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
        let tokens = TokenCache::new(OAuth2Source::client_credentials(endpoint, login_http));
        let http = Executor::builder()
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .auth(Arc::new(tokens))
            .retry_policy(config.retry)
            .attempt_timeout(config.attempt_timeout)
            .default_header("accept", "application/json")
            .default_header("accept-language", config.accept_language.clone())
            .build()?;
        Ok(Self { http, root: root.into(), last_modified: Arc::default() })
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
        let body = SendMessage {
            conversation: IdRef { id: conversation.clone() },
            kind: ValueRef { value: kind },
            content: content.map(str::to_owned),
        };
        let request = Request::post(format!("{}/messaging/sendmessage", self.root))
            .operation("ece.send_message")
            .json(&body)
            .map_err(|e| Error::Invalid { field: "message".into(), reason: e.to_string() })?;
        self.http.send(&request).await?;
        Ok(())
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EntryPointId, String>> {
        self.last_modified.lock().unwrap_or_else(|p| p.into_inner())
    }
}
