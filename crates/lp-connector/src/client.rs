//! The client (feature `client`): domains, credentials, and a [`Consumer`]'s calls — open a
//! conversation, publish, close, files.
//!
//! Every Send API call carries the AppJWT (`Authorization`, bare) and the consumer's JWS
//! (`X-LP-ON-BEHALF`). A 401 with LivePerson's code `40102` (AppJWT expired or invalid) or
//! `40105` (AppJWT missing) fetches a new AppJWT and sends once more; `40103` (invalid
//! ConsumerJWS) fetches a new JWS for that consumer and sends once more; any other 401 (a
//! JWS that does not own the conversation, say) is returned: a new AppJWT would not help.
//! A 401 means LivePerson did not act, so sending again cannot duplicate anything.
//!
//! Retries follow LivePerson's guidance through cc-core's executor: nothing on 4xx but 429;
//! at least a second after 429 (five for Sentinel and the IdP: "login requests"); backoff on
//! 5xx. A publish or an open is a POST and is never repeated once it may have been processed
//! (a timeout, a reset, a 500): it is repeated only after a connect failure, a 429 or a 503
//! with `Retry-After`, when LivePerson provably did not act.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cc_core::auth::{CachedToken, RefreshPolicy, TokenCache};
use cc_core::http::{Body, Executor, Method, Request, Response, RetryPolicy};
use cc_core::{ConversationId, Secret};

use crate::auth::{ConsumerCache, ConsumerJws, SentinelSource};
use crate::domains::{DomainCache, Domains};
use crate::error::Error;
use crate::model::{
    ASYNC_MESSAGING, AcceptStatus, ChatState, ConsumerJwsRequest, ConsumerJwsResponse, ConversationField,
    DialogId, FileContent, FileUpload, FileUrl, GenerateDownloadUrl, GenerateUploadUrl, IDP, MessagingEvent,
    OpenConversation, PublishEvent, Req, Resp, SWIFT, UpdateConversationField, chat_state_event,
    check_relative_path, conversation_id_of, file_event, receipt_event, sequence_of, text_event,
};

/// LivePerson's CSDS host.
pub const DEFAULT_CSDS: &str = "https://api.liveperson.net";

/// The Send API version the paths carry (`?v=3`).
pub const API_VERSION: &str = "3";

/// Client settings.
#[derive(Clone, Debug)]
pub struct LpConfig {
    /// The account (brand) id.
    pub account_id: String,
    /// The app installation's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Secret<String>,
    /// Domain discovery (default [`DEFAULT_CSDS`]).
    pub csds_url: String,
    /// How long discovered domains are kept (default 30 minutes; LivePerson states no
    /// lifetime: our choice).
    pub domains_ttl: Duration,
    /// Features for `Client-Properties` (`AUTO_MESSAGES`, `RICH_CONTENT`, `QUICK_REPLIES`,
    /// `MULTI_DIALOG`); sent on the open and every publish when not empty.
    pub features: Vec<String>,
    /// Retries of Send API, CSDS and file calls (default [`LpConfig::vendor_retry`]).
    pub retry: RetryPolicy,
    /// Retries of Sentinel and IdP calls (default: as `retry`, at least 5 s apart).
    pub login_retry: RetryPolicy,
    /// How long one attempt may take (default 30 s).
    pub attempt_timeout: Duration,
    /// When to refresh the AppJWT (default 5 minutes before expiry, plus up to a minute of
    /// jitter).
    pub refresh: RefreshPolicy,
    /// Consumers whose JWS is kept (default 100,000).
    pub max_consumers: usize,
    /// Largest file download accepted (default 32 MiB).
    pub max_download_bytes: usize,
}

impl LpConfig {
    /// Settings for one app installation on `account_id`.
    pub fn new(
        account_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret<String>,
    ) -> Self {
        let retry = Self::vendor_retry();
        Self {
            account_id: account_id.into(),
            client_id: client_id.into(),
            client_secret,
            csds_url: DEFAULT_CSDS.into(),
            domains_ttl: Duration::from_secs(30 * 60),
            features: Vec::new(),
            retry,
            login_retry: RetryPolicy { min_delay: Duration::from_secs(5), ..retry },
            attempt_timeout: Duration::from_secs(30),
            refresh: RefreshPolicy::default(),
            max_consumers: 100_000,
            max_download_bytes: 32 * 1024 * 1024,
        }
    }

    /// LivePerson's retry guidance as a policy: three retries, none sooner than a second
    /// after the last attempt, with delays drawn up to 5, 10 and 15 s (the guide's pauses,
    /// jittered so that many connectors do not retry in step).
    pub fn vendor_retry() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(15),
            max_retry_after: Duration::from_secs(120),
            min_delay: Duration::from_secs(1),
        }
    }
}

struct Inner {
    account: String,
    api: Executor,
    login: Executor,
    domains: Arc<DomainCache>,
    app_jwt: TokenCache,
    consumers: ConsumerCache,
    client_properties: Option<String>,
    next_id: AtomicU64,
}

/// The LivePerson Connector API client. Cheap to clone; clones share the domains, the AppJWT
/// and the consumers' JWSs.
#[derive(Clone)]
pub struct LpClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LpClient").field("account", &self.inner.account).finish_non_exhaustive()
    }
}

impl LpClient {
    /// A client; nothing is fetched until the first call.
    pub fn new(config: LpConfig) -> Result<Self, Error> {
        let executor = |retry: RetryPolicy| {
            Executor::builder()
                .error_decoder(Arc::new(crate::error::ErrorDecoder))
                .retry_policy(retry)
                .attempt_timeout(config.attempt_timeout)
                .max_body(config.max_download_bytes)
                .build()
        };
        let api = executor(config.retry)?;
        let login = executor(config.login_retry)?;
        let domains =
            Arc::new(DomainCache::new(&config.csds_url, &config.account_id, config.domains_ttl, api.clone()));
        let source = SentinelSource::new(
            domains.clone(),
            login.clone(),
            &config.account_id,
            &config.client_id,
            &config.client_secret,
        );
        let app_jwt = TokenCache::new(source).with_policy(config.refresh);
        let client_properties = (!config.features.is_empty()).then(|| {
            serde_json::json!({"type": ".ClientProperties", "features": config.features}).to_string()
        });
        Ok(Self {
            inner: Arc::new(Inner {
                account: config.account_id,
                api,
                login,
                domains,
                app_jwt,
                consumers: ConsumerCache::new(config.max_consumers),
                client_properties,
                next_id: AtomicU64::new(1),
            }),
        })
    }

    /// The account.
    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// The account's service domains (discovered on first use, cached).
    pub async fn domains(&self) -> Result<Arc<Domains>, Error> {
        self.inner.domains.get().await
    }

    /// The consumer with your id `ext_consumer_id` (a user, a chat session: the id is yours).
    /// Its JWS is fetched on its first call and kept.
    pub fn consumer(&self, ext_consumer_id: impl Into<String>) -> Consumer {
        Consumer { client: self.clone(), ext_id: ext_consumer_id.into() }
    }

    /// The JWSs held, to seed or forget one.
    pub fn consumers(&self) -> &ConsumerCache {
        &self.inner.consumers
    }

    /// AppJWTs fetched so far.
    pub fn app_jwt_fetches(&self) -> u64 {
        self.inner.app_jwt.fetch_count()
    }

    async fn jws(&self, consumer: &str) -> Result<ConsumerJws, Error> {
        let cell = self.inner.consumers.cell(consumer);
        cell.get_or_try_init(|| self.fetch_jws(consumer)).await.cloned()
    }

    async fn fetch_jws(&self, consumer: &str) -> Result<ConsumerJws, Error> {
        let base = self.domains().await?.url(IDP)?;
        let url = format!("{base}/api/account/{}/consumer", self.inner.account);
        let body = ConsumerJwsRequest { ext_consumer_id: consumer.to_owned() };
        let response = self
            .with_app_jwt(&self.inner.login, &|| {
                Request::post(url.as_str())
                    .operation("lp.consumer_jws")
                    .query("v", "1.0")
                    .sensitive_response()
                    .json(&body)
                    .map_err(|e| Error::Invalid { field: "ext_consumer_id".into(), reason: e.to_string() })
            })
            .await?;
        let answer: ConsumerJwsResponse = response.json()?;
        Ok(ConsumerJws::new(answer.token))
    }

    /// Sends what `build` makes with the AppJWT; a 401 whose code says the AppJWT was refused
    /// (`40102`, `40105`) fetches a new one and sends once more.
    async fn with_app_jwt(
        &self,
        http: &Executor,
        build: &(dyn Fn() -> Result<Request, Error> + Send + Sync),
    ) -> Result<Response, Error> {
        let mut renewed = false;
        loop {
            let app: CachedToken = self.inner.app_jwt.token().await.map_err(Error::AppJwt)?;
            let request = build()?.secret_header("authorization", app.token().access_token().clone());
            match http.send(&request).await {
                Err(e) if !renewed && refused_by(&e, &["40102", "40105"]) => {
                    self.inner.app_jwt.invalidate(&app);
                    renewed = true;
                }
                other => return Ok(other?),
            }
        }
    }

    /// [`LpClient::with_app_jwt`] as `consumer` (`X-LP-ON-BEHALF`); a 401 `40103` (invalid
    /// ConsumerJWS) fetches a new JWS and sends once more.
    async fn authorized(
        &self,
        consumer: &str,
        build: &(dyn Fn() -> Result<Request, Error> + Send + Sync),
    ) -> Result<Response, Error> {
        let mut renewed = false;
        loop {
            let jws = self.jws(consumer).await?;
            let on_behalf = || {
                let request = build()?.secret_header("x-lp-on-behalf", jws.token().clone());
                Ok(match &self.inner.client_properties {
                    Some(properties) => request.header("client-properties", properties.clone()),
                    None => request,
                })
            };
            match self.with_app_jwt(&self.inner.api, &on_behalf).await {
                Err(Error::Http(e)) if !renewed && refused_by(&e, &["40103"]) => {
                    self.inner.consumers.forget_rejected(consumer, &jws);
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    fn next_id(&self) -> String {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed).to_string()
    }

    async fn send_api(&self, path: &str) -> Result<String, Error> {
        let base = self.domains().await?.url(ASYNC_MESSAGING)?;
        Ok(format!("{base}/api/account/{}/messaging/consumer/conversation{path}", self.inner.account))
    }

    /// One SEND request; an envelope whose code is not OK is an error.
    async fn send_one(
        &self,
        consumer: &str,
        operation: &'static str,
        request_type: &str,
        body: &impl serde::Serialize,
    ) -> Result<Resp, Error> {
        let req = Req::new(self.next_id(), request_type, body)?;
        let url = self.send_api("/send").await?;
        let response = self
            .authorized(consumer, &|| {
                Request::post(url.as_str())
                    .operation(operation)
                    .query("v", API_VERSION)
                    .json(&req)
                    .map_err(|e| Error::Invalid { field: request_type.into(), reason: e.to_string() })
            })
            .await?;
        checked(operation, response.json()?)
    }
}

/// A 401 with one of LivePerson's `codes`.
fn refused_by(error: &cc_core::http::Error, codes: &[&str]) -> bool {
    error.status() == Some(401) && error.vendor_code().is_some_and(|c| codes.contains(&c))
}

fn checked(operation: &'static str, resp: Resp) -> Result<Resp, Error> {
    if resp.is_ok() {
        return Ok(resp);
    }
    Err(Error::Rejected {
        operation,
        code: resp.error_code().or_else(|| resp.code.clone()).unwrap_or_default(),
        message: resp.message(),
    })
}

/// An uploaded and published file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    /// Where LivePerson keeps it (what the agent's side downloads by).
    pub relative_path: String,
    /// The `hosted/file` message's sequence in the dialog.
    pub sequence: Option<u64>,
}

/// One consumer's side of the Connector API. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Consumer {
    client: LpClient,
    ext_id: String,
}

impl Consumer {
    /// Your id for the consumer.
    pub fn ext_id(&self) -> &str {
        &self.ext_id
    }

    /// The consumer's JWS (fetched from the IdP on first use, then kept).
    pub async fn jws(&self) -> Result<ConsumerJws, Error> {
        self.client.jws(&self.ext_id).await
    }

    /// Opens a conversation: the `SetUserProfile` + `ConsumerRequestConversation` batch. The
    /// id is the answer element that has `body.conversationId`, wherever it is. The main
    /// dialog's id is the conversation id.
    pub async fn open(&self, request: &OpenConversation) -> Result<ConversationId, Error> {
        let client = &self.client;
        let batch = request.batch(&client.inner.account)?;
        let url = client.send_api("").await?;
        let response = client
            .authorized(&self.ext_id, &|| {
                Request::post(url.as_str())
                    .operation("lp.open_conversation")
                    .query("v", API_VERSION)
                    .json(&batch)
                    .map_err(|e| Error::Invalid { field: "conversation".into(), reason: e.to_string() })
            })
            .await?;
        let answers: Vec<Resp> = response.json()?;
        for answer in &answers {
            checked("lp.open_conversation", answer.clone())?;
        }
        conversation_id_of(&answers).ok_or(Error::NoConversationId)
    }

    /// Publishes `event` to `dialog`; returns its sequence when LivePerson gives one.
    pub async fn publish(&self, dialog: &DialogId, event: MessagingEvent) -> Result<Option<u64>, Error> {
        let body = PublishEvent { dialog_id: dialog.clone(), event };
        let resp = self.client.send_one(&self.ext_id, "lp.publish", "ms.PublishEvent", &body).await?;
        Ok(sequence_of(&resp))
    }

    /// Sends text to the conversation's main dialog; returns its sequence.
    pub async fn send_text(&self, conversation: &ConversationId, text: &str) -> Result<Option<u64>, Error> {
        if text.is_empty() {
            return Err(Error::Invalid { field: "message".into(), reason: "is empty".into() });
        }
        self.publish(&main_dialog(conversation), text_event(text)).await
    }

    /// The consumer started (`true`: COMPOSING) or stopped (`false`: PAUSE) typing. Not for a
    /// survey dialog (LivePerson: it accepts no chat states).
    pub async fn typing(&self, conversation: &ConversationId, on: bool) -> Result<(), Error> {
        let state = if on { ChatState::Composing } else { ChatState::Pause };
        self.publish(&main_dialog(conversation), chat_state_event(state)).await.map(drop)
    }

    /// A receipt (ACCEPT, READ, ACCESS, NACK, ACTION) for the agent's `sequences`.
    pub async fn receipt(
        &self,
        conversation: &ConversationId,
        status: AcceptStatus,
        sequences: Vec<u64>,
    ) -> Result<(), Error> {
        if sequences.is_empty() {
            return Err(Error::Invalid { field: "sequenceList".into(), reason: "is empty".into() });
        }
        self.publish(&main_dialog(conversation), receipt_event(status, sequences)).await.map(drop)
    }

    /// Closes the conversation.
    pub async fn close(&self, conversation: &ConversationId) -> Result<(), Error> {
        self.update(conversation, ConversationField::close()).await
    }

    /// Closes `dialog` (the main dialog: the post-conversation survey starts) for `cause`.
    pub async fn close_dialog(
        &self,
        conversation: &ConversationId,
        dialog: &DialogId,
        cause: &str,
    ) -> Result<(), Error> {
        self.update(conversation, ConversationField::close_dialog(dialog.clone(), cause)).await
    }

    /// Answers CSAT: `rate` 1–5, whether the issue was resolved.
    pub async fn csat(&self, conversation: &ConversationId, rate: u8, resolved: bool) -> Result<(), Error> {
        self.update(conversation, ConversationField::csat(rate, resolved)?).await
    }

    async fn update(&self, conversation: &ConversationId, field: ConversationField) -> Result<(), Error> {
        let body =
            UpdateConversationField { conversation_id: conversation.clone(), conversation_field: field };
        self.client
            .send_one(&self.ext_id, "lp.update_conversation", "cm.UpdateConversationField", &body)
            .await?;
        Ok(())
    }

    /// Uploads a file and publishes it as `hosted/file`: checks type and sizes first, asks
    /// for an upload URL, PUTs the bytes to Swift with the temporary signature, publishes.
    pub async fn upload(&self, conversation: &ConversationId, file: &FileUpload) -> Result<Uploaded, Error> {
        file.validate()?;
        let body =
            GenerateUploadUrl { file_size: file.bytes.len().to_string(), file_type: file.file_type.clone() };
        let resp =
            self.client.send_one(&self.ext_id, "lp.upload_url", "ms.GenerateURLForUploadFile", &body).await?;
        let target = file_url(&resp)?;
        let request = swift_request(&self.client, Method::Put, &target)
            .await?
            .operation("lp.swift_upload")
            .body(Body::Bytes { content_type: "application/octet-stream".into(), data: file.bytes.clone() });
        self.client.inner.api.send(&request).await?;
        let message = FileContent {
            caption: file.caption.clone(),
            relative_path: Some(target.relative_path.clone()),
            file_type: Some(file.file_type.to_string()),
            preview: file.preview.clone(),
        };
        let sequence = self.publish(&main_dialog(conversation), file_event(message)).await?;
        Ok(Uploaded { relative_path: target.relative_path, sequence })
    }

    /// Downloads a hosted file by the `relativePath` of a `hosted/file` message: asks for a
    /// download URL (as this consumer, who must own the conversation), then GETs it.
    pub async fn download(&self, relative_path: &str) -> Result<Vec<u8>, Error> {
        check_relative_path(relative_path)?;
        let body = GenerateDownloadUrl { relative_path: relative_path.to_owned() };
        let resp = self
            .client
            .send_one(&self.ext_id, "lp.download_url", "ms.GenerateURLForDownloadFile", &body)
            .await?;
        let target = file_url(&resp)?;
        let request = swift_request(&self.client, Method::Get, &target).await?.operation("lp.swift_download");
        Ok(self.client.inner.api.send(&request).await?.into_body())
    }
}

/// The main dialog of a conversation: its id is the conversation's.
fn main_dialog(conversation: &ConversationId) -> DialogId {
    DialogId::new(conversation.as_str())
}

fn file_url(resp: &Resp) -> Result<FileUrl, Error> {
    let url: FileUrl = serde_json::from_value(resp.body.clone())
        .map_err(|e| Error::Invalid { field: "file URL answer".into(), reason: e.to_string() })?;
    check_relative_path(&url.relative_path)?;
    Ok(url)
}

/// `https://{swift}{relativePath}?temp_url_sig=…&temp_url_expires=…`: no other credential.
async fn swift_request(client: &LpClient, method: Method, target: &FileUrl) -> Result<Request, Error> {
    let base = client.domains().await?.url(SWIFT)?;
    let url = format!("{base}{}", target.relative_path);
    let request = Request::new(method, url)
        .query("temp_url_sig", target.query_params.temp_url_sig.expose_secret().clone())
        .query("temp_url_expires", target.query_params.temp_url_expires.clone());
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendor_policy_waits_at_least_a_second_and_logins_five() {
        let config = LpConfig::new("123", "app", Secret::from("s"));
        assert_eq!(config.retry.min_delay, Duration::from_secs(1));
        assert_eq!(config.login_retry.min_delay, Duration::from_secs(5));
        let draws = [0.0, 1.0].map(|j| cc_core::http::retry::backoff(&config.retry, 3, j));
        assert_eq!(draws, [Duration::from_secs(1), Duration::from_secs(15)]);
    }

    #[test]
    fn an_envelope_that_is_not_ok_is_an_error_with_its_code_and_words() {
        let resp: Resp =
            serde_json::from_str(r#"{"reqId":"4","code":"400","body":{"msg":"Check your file size"}}"#)
                .unwrap();
        let error = checked("lp.upload_url", resp).unwrap_err();
        assert!(matches!(&error, Error::Rejected { code, .. } if code == "400"), "{error:?}");
        assert_eq!(error.to_string(), "lp.upload_url: LivePerson answered code 400: Check your file size");
        assert_eq!(error.code(), Some("400"));
        let coded: Resp = serde_json::from_str(
            r#"{"code":"ERROR","body":{"errorCode":40001,"title":"Missing parameter"}}"#,
        )
        .unwrap();
        assert_eq!(checked("lp.publish", coded).unwrap_err().code(), Some("40001"), "errorCode wins");
        let ok: Resp = serde_json::from_str(r#"{"reqId":"1","code":200,"body":{}}"#).unwrap();
        assert!(checked("lp.publish", ok).is_ok());
    }

    #[test]
    fn debug_shows_no_secret() {
        let config = LpConfig::new("123", "app", Secret::from("app-secret-value"));
        assert!(!format!("{config:?}").contains("app-secret-value"));
        let client = LpClient::new(config).unwrap();
        assert!(!format!("{client:?}").contains("app-secret-value"));
    }
}
