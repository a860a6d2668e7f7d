//! The client (feature `client`): token, sessions with their state, messages.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cc_core::Secret;
use cc_core::auth::{TokenCache, TokenEndpoint};
use cc_core::http::{Executor, OAuth2Source, Request, RetryPolicy};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::Error;
use crate::model::{
    Callback, Message, MessageId, MessageResponse, NewSession, SessionId, SessionResponse, Status,
};

/// Where tokens come from: the region presets of the vendor notes, or your own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenHost {
    /// `myaspect.id.aspect-cloud.net`
    Us,
    /// `myaspect.eu.id.aspect-cloud.net`
    Europe,
    /// `myaspect.uk.id.aspect-cloud.net`
    Uk,
    /// `myaspect.ca.id.aspect-cloud.net` (an older table says `myaspect.yyz.…`: use
    /// [`TokenHost::Host`] if yours is that one)
    Canada,
    /// `myaccount.tri1.wss.alvaria.cloud`
    UsEast,
    /// `myaccount.dsm.sre.alvaria.cloud`
    Gcp,
    /// Another host name; the path is the standard one.
    Host(String),
    /// A complete token URL (a simulator, a proxy).
    Url(String),
}

impl TokenHost {
    /// The token endpoint URL.
    pub fn token_url(&self) -> String {
        let host = match self {
            Self::Us => "myaspect.id.aspect-cloud.net",
            Self::Europe => "myaspect.eu.id.aspect-cloud.net",
            Self::Uk => "myaspect.uk.id.aspect-cloud.net",
            Self::Canada => "myaspect.ca.id.aspect-cloud.net",
            Self::UsEast => "myaccount.tri1.wss.alvaria.cloud",
            Self::Gcp => "myaccount.dsm.sre.alvaria.cloud",
            Self::Host(host) => host,
            Self::Url(url) => return url.clone(),
        };
        format!("https://{host}/tokenservice/oauth2/access_token")
    }
}

/// Client settings.
#[derive(Clone, Debug)]
pub struct AlvariaConfig {
    /// The organization (alias): the token `realm` and part of every API path.
    pub org_id: String,
    /// The Alvaria-issued `x-api-key`.
    pub api_key: Secret<String>,
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret.
    pub client_secret: Secret<String>,
    /// The token service.
    pub token_host: TokenHost,
    /// Scopes (default `servermessagingapi`).
    pub scopes: Vec<String>,
    /// API root; default `https://{orgId}.via.aspect-cloud.net`.
    pub api_base: Option<String>,
    /// Sessions older than this are refused locally (Alvaria ends them after 4 hours).
    pub session_lifetime: Duration,
    /// Retry limits. Creating sessions and sending messages are not idempotent: they are
    /// repeated only after a connect failure, a 429, or a 503 with `Retry-After`.
    pub retry: RetryPolicy,
    /// How long one attempt may take, headers and body (default 30 s).
    pub attempt_timeout: Duration,
}

impl AlvariaConfig {
    /// Settings with the defaults above.
    pub fn new(
        org_id: impl Into<String>,
        api_key: Secret<String>,
        client_id: impl Into<String>,
        client_secret: Secret<String>,
        token_host: TokenHost,
    ) -> Self {
        Self {
            org_id: org_id.into(),
            api_key,
            client_id: client_id.into(),
            client_secret,
            token_host,
            scopes: vec!["servermessagingapi".into()],
            api_base: None,
            session_lifetime: Duration::from_secs(4 * 3600),
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(30),
        }
    }

    /// Uses another API root (a simulator).
    pub fn api_base(mut self, base: impl Into<String>) -> Self {
        self.api_base = Some(base.into());
        self
    }
}

/// Where a session stands.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SessionState {
    /// Created; NEW_SESSION not received yet.
    Provisional,
    /// NEW_SESSION SUCCESS received.
    Active,
    /// Deleted by us; SESSION_END not received yet.
    Ending,
    /// SESSION_END received (or the local lifetime passed).
    Ended {
        /// `SYSTEM` when Alvaria ended it; `None` when we did.
        from: Option<String>,
    },
    /// NEW_SESSION FAILED.
    Failed {
        /// Alvaria's reason.
        status_message: Option<String>,
    },
}

/// A message Alvaria reported as failed (MESSAGE_STATUS FAILED).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MessageFailure {
    /// The message.
    pub message_id: MessageId,
    /// Alvaria's reason.
    pub status_message: Option<String>,
}

#[derive(Clone)]
struct Tracked {
    created: Instant,
    /// `created` on the wall clock, for the store.
    #[cfg(feature = "store")]
    created_at: cc_core::EpochMillis,
    state: Arc<watch::Sender<SessionState>>,
    failures: Arc<Mutex<Vec<MessageFailure>>>,
    agent: Arc<Mutex<Option<String>>>,
}

/// A session: its id, its state, and the messages Alvaria reported as failed.
#[derive(Clone, Debug)]
pub struct SessionHandle {
    id: SessionId,
    created: Instant,
    lifetime: Duration,
    state: watch::Receiver<SessionState>,
    failures: Arc<Mutex<Vec<MessageFailure>>>,
    agent: Arc<Mutex<Option<String>>>,
}

impl SessionHandle {
    /// The session id.
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// The current state (the local lifetime counts as ended).
    pub fn state(&self) -> SessionState {
        if self.created.elapsed() >= self.lifetime {
            return SessionState::Ended { from: Some("LOCAL_LIFETIME".into()) };
        }
        self.state.borrow().clone()
    }

    /// The agent who joined last (AGENT_JOINED or SESSION_REROUTE), if any.
    pub fn agent(&self) -> Option<String> {
        self.agent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits for NEW_SESSION: `Ok` on SUCCESS, the `statusMessage` on FAILED, an error after
    /// `timeout`.
    pub async fn wait_confirmed(&self, timeout: Duration) -> Result<(), Error> {
        let mut rx = self.state.clone();
        let settled = tokio::time::timeout(timeout, rx.wait_for(|s| *s != SessionState::Provisional)).await;
        let state = match settled {
            Err(_) => {
                return Err(Error::ConfirmationTimeout {
                    session: self.id.clone(),
                    waited_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                });
            }
            Ok(Err(_)) => self.state.borrow().clone(),
            Ok(Ok(state)) => state.clone(),
        };
        match state {
            SessionState::Active => Ok(()),
            SessionState::Failed { status_message } => {
                Err(Error::SessionFailed { session: self.id.clone(), status_message })
            }
            SessionState::Provisional => Err(Error::NotConfirmed { session: self.id.clone() }),
            SessionState::Ending | SessionState::Ended { .. } => {
                Err(Error::SessionEnded { session: self.id.clone(), reason: None })
            }
        }
    }

    /// Waits for SESSION_END; returns the final state.
    pub async fn wait_ended(&self, timeout: Duration) -> Option<SessionState> {
        let mut rx = self.state.clone();
        let ended =
            tokio::time::timeout(timeout, rx.wait_for(|s| matches!(s, SessionState::Ended { .. }))).await;
        match ended {
            Ok(Ok(state)) => Some(state.clone()),
            _ => None,
        }
    }

    /// Messages Alvaria reported as failed, in arrival order.
    pub fn failed_messages(&self) -> Vec<MessageFailure> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The failure of `message`, if Alvaria reported one.
    pub fn message_failure(&self, message: &MessageId) -> Option<MessageFailure> {
        self.failed_messages().into_iter().find(|f| &f.message_id == message)
    }

    /// Refuses locally when the session cannot take calls.
    fn ensure_usable(&self, allow_provisional: bool) -> Result<(), Error> {
        match self.state() {
            SessionState::Active => Ok(()),
            SessionState::Provisional if allow_provisional => Ok(()),
            SessionState::Provisional => Err(Error::NotConfirmed { session: self.id.clone() }),
            SessionState::Failed { status_message } => {
                Err(Error::SessionFailed { session: self.id.clone(), status_message })
            }
            SessionState::Ended { from: Some(from) } if from == "LOCAL_LIFETIME" => {
                Err(Error::SessionExpired {
                    session: self.id.clone(),
                    limit_minutes: self.lifetime.as_secs() / 60,
                })
            }
            SessionState::Ended { from } => {
                Err(Error::SessionEnded { session: self.id.clone(), reason: from })
            }
            SessionState::Ending => {
                Err(Error::SessionEnded { session: self.id.clone(), reason: Some("deleted".into()) })
            }
        }
    }
}

/// The Server Messaging client. Cheap to clone; clones share sessions and the token.
#[derive(Clone)]
pub struct AlvariaClient {
    http: Executor,
    base: Arc<str>,
    lifetime: Duration,
    sessions: Arc<Mutex<HashMap<SessionId, Tracked>>>,
    /// Callbacks that arrived before their session was known (NEW_SESSION may overtake the
    /// create response); applied when `create_session` registers the session.
    early: Arc<Mutex<VecDeque<(Instant, Callback)>>>,
    /// Where the session table is kept (feature `store`).
    #[cfg(feature = "store")]
    store: Option<Arc<dyn cc_core::inbox::StateStore>>,
}

/// Early callbacks kept at most (oldest dropped first), and for at most this long.
const EARLY_CAPACITY: usize = 1024;
const EARLY_MAX_AGE: Duration = Duration::from_secs(300);

impl std::fmt::Debug for AlvariaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlvariaClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl AlvariaClient {
    /// A client; the first call fetches a token.
    pub fn new(config: AlvariaConfig) -> Result<Self, Error> {
        let token_http = Executor::builder()
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .retry_policy(config.retry)
            .attempt_timeout(config.attempt_timeout)
            .build()?;
        let endpoint = TokenEndpoint::new(
            config.token_host.token_url(),
            config.client_id.clone(),
            config.client_secret.clone(),
        )
        .extra_field("scope", config.scopes.join(" "))
        .extra_field("realm", config.org_id.clone());
        let tokens = TokenCache::new(OAuth2Source::client_credentials(endpoint, token_http.clone()));
        let http = Executor::builder()
            .share_connections(&token_http)
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .auth(Arc::new(tokens))
            .retry_policy(config.retry)
            .attempt_timeout(config.attempt_timeout)
            .default_secret_header("x-api-key", config.api_key.clone())
            .default_header("accept", "application/json")
            .build()?;
        let root = config
            .api_base
            .clone()
            .unwrap_or_else(|| format!("https://{}.via.aspect-cloud.net", config.org_id));
        let base =
            format!("{}/via/v2/organizations/{}/serverMessaging", root.trim_end_matches('/'), config.org_id);
        Ok(Self {
            http,
            base: base.into(),
            lifetime: config.session_lifetime,
            sessions: Arc::default(),
            early: Arc::default(),
            #[cfg(feature = "store")]
            store: None,
        })
    }

    /// Creates a session. It is provisional until the NEW_SESSION callback reaches
    /// [`AlvariaClient::observe`]; wait with [`SessionHandle::wait_confirmed`].
    pub async fn create_session(&self, session: &NewSession) -> Result<SessionHandle, Error> {
        let request = Request::post(format!("{}/session", self.base))
            .operation("alvaria.create_session")
            .json(session)
            .map_err(|e| Error::Config(e.to_string()))?;
        let response: SessionResponse = self.http.send_json(&request).await?;
        let (tx, rx) = watch::channel(SessionState::Provisional);
        let tracked = Tracked {
            created: Instant::now(),
            #[cfg(feature = "store")]
            created_at: cc_core::EpochMillis::now(),
            state: Arc::new(tx),
            failures: Arc::default(),
            agent: Arc::default(),
        };
        let handle = SessionHandle {
            id: response.session_id.clone(),
            created: tracked.created,
            lifetime: self.lifetime,
            state: rx,
            failures: tracked.failures.clone(),
            agent: tracked.agent.clone(),
        };
        self.lock().insert(response.session_id.clone(), tracked);
        // Callbacks for this session that overtook the response.
        let early: Vec<Callback> = {
            let mut early = self.early.lock().unwrap_or_else(|p| p.into_inner());
            let (mine, rest): (Vec<_>, Vec<_>) =
                early.drain(..).partition(|(_, c)| c.session_id().as_ref() == Some(&response.session_id));
            early.extend(rest);
            mine.into_iter().map(|(_, c)| c).collect()
        };
        for callback in &early {
            self.observe(callback);
        }
        self.persist(&response.session_id).await?;
        Ok(handle)
    }

    /// Sends a message on an active session; refuses locally when the session ended, is
    /// older than its lifetime, or is not confirmed. A failure Alvaria finds later arrives as
    /// MESSAGE_STATUS and shows in [`SessionHandle::failed_messages`].
    pub async fn send_message(&self, session: &SessionHandle, message: &Message) -> Result<MessageId, Error> {
        session.ensure_usable(false)?;
        let request = Request::post(format!("{}/message", self.base))
            .operation("alvaria.send_message")
            .header("server-messaging-session-id", session.id.as_str())
            .json(message)
            .map_err(|e| Error::Config(e.to_string()))?;
        let response: MessageResponse = self.http.send_json(&request).await?;
        Ok(response.message_id)
    }

    /// Deletes the session; SESSION_END follows as a callback. Further calls are refused.
    /// Deleting is idempotent, so it is retried after resets and timeouts; a 404 to such a
    /// retry counts as deleted (the attempt whose answer was lost did it).
    pub async fn delete_session(&self, session: &SessionHandle) -> Result<(), Error> {
        session.ensure_usable(true)?;
        let request = Request::delete(format!("{}/session", self.base))
            .operation("alvaria.delete_session")
            .header("server-messaging-session-id", session.id.as_str());
        match self.http.send(&request).await {
            Ok(_) => {}
            // A 404 to a repeated DELETE: an earlier attempt (its answer lost) deleted it.
            Err(cc_core::http::Error::Api(api)) if api.status == 404 && api.attempts > 1 => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(tracked) = self.lock().get(&session.id) {
            tracked.state.send_if_modified(|s| {
                let ending = !matches!(s, SessionState::Ended { .. });
                if ending {
                    *s = SessionState::Ending;
                }
                ending
            });
        }
        self.persist(&session.id).await
    }

    /// The handle of a session this client created and still tracks.
    pub fn session(&self, id: &SessionId) -> Option<SessionHandle> {
        let sessions = self.lock();
        let tracked = sessions.get(id)?;
        Some(SessionHandle {
            id: id.clone(),
            created: tracked.created,
            lifetime: self.lifetime,
            state: tracked.state.subscribe(),
            failures: tracked.failures.clone(),
            agent: tracked.agent.clone(),
        })
    }

    /// Applies a callback to the session it names: NEW_SESSION confirms or fails it,
    /// AGENT_JOINED/SESSION_REROUTE record the agent, MESSAGE_STATUS FAILED records the failed
    /// message, SESSION_END ends it (and the client forgets it). A callback for a session this
    /// client does not know yet is kept (up to 1024, for 5 minutes) and applied if
    /// `create_session` returns that session: Alvaria may deliver NEW_SESSION before the
    /// create call has answered.
    pub fn observe(&self, callback: &Callback) {
        let mut sessions = self.lock();
        let Some(id) = callback.session_id() else { return };
        let Some(tracked) = sessions.get(&id) else {
            let now = Instant::now();
            let mut early = self.early.lock().unwrap_or_else(|p| p.into_inner());
            while early.front().is_some_and(|(at, _)| now.duration_since(*at) > EARLY_MAX_AGE)
                || early.len() >= EARLY_CAPACITY
            {
                early.pop_front();
            }
            early.push_back((now, callback.clone()));
            return;
        };
        match callback {
            Callback::NewSession { status, status_message, .. } => {
                let next = match status {
                    Status::Success => SessionState::Active,
                    _ => SessionState::Failed { status_message: status_message.clone() },
                };
                tracked.state.send_if_modified(|s| {
                    let provisional = *s == SessionState::Provisional;
                    if provisional {
                        *s = next;
                    }
                    provisional
                });
            }
            Callback::AgentJoined { agent_alias, .. } => {
                *tracked.agent.lock().unwrap_or_else(|p| p.into_inner()) = Some(agent_alias.clone());
            }
            Callback::SessionReroute { agent_alias, .. } => {
                *tracked.agent.lock().unwrap_or_else(|p| p.into_inner()) = agent_alias.clone();
            }
            Callback::MessageStatus { status: Status::Failed, message_id, status_message, .. } => {
                tracked.failures.lock().unwrap_or_else(|p| p.into_inner()).push(MessageFailure {
                    message_id: message_id.clone(),
                    status_message: status_message.clone(),
                });
            }
            Callback::SessionEnd { from, .. } => {
                tracked.state.send_replace(SessionState::Ended { from: from.clone() });
                sessions.remove(&id);
            }
            _ => {}
        }
    }

    /// [`AlvariaClient::observe`], then saves the session's new state to the store (with
    /// feature `store` and [`AlvariaClient::with_store`]; otherwise the same as `observe`).
    /// The callback route uses it: a callback whose state could not be saved is answered 503,
    /// and Alvaria delivers it again.
    pub async fn observe_durably(&self, callback: &Callback) -> Result<(), Error> {
        self.observe(callback);
        match callback.session_id() {
            Some(id) => self.persist(&id).await,
            None => Ok(()),
        }
    }

    #[cfg(not(feature = "store"))]
    async fn persist(&self, _id: &SessionId) -> Result<(), Error> {
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Tracked>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(feature = "server")]
mod route {
    use async_trait::async_trait;
    use cc_core::webhook::server::{EventHandler, HandlerError};

    use super::AlvariaClient;
    use crate::model::Callback;
    use crate::webhook::AlvariaWebhook;

    /// Applies callbacks to the client's sessions, then hands them on.
    struct Observing<H> {
        client: AlvariaClient,
        inner: H,
    }

    #[async_trait]
    impl<H: EventHandler<Callback>> EventHandler<Callback> for Observing<H> {
        async fn accept(&self, callback: Callback) -> Result<(), HandlerError> {
            self.client.observe_durably(&callback).await.map_err(|e| HandlerError(e.to_string()))?;
            self.inner.accept(callback).await
        }
    }

    impl AlvariaClient {
        /// The callback route for this client: verified, de-duplicated callbacks update the
        /// sessions ([`AlvariaClient::observe`]) and then go to `handler`.
        pub fn callback_route<H, S>(
            &self,
            verifier: AlvariaWebhook,
            handler: H,
        ) -> axum::routing::MethodRouter<S>
        where
            H: EventHandler<Callback>,
            S: Clone + Send + Sync + 'static,
        {
            verifier.into_route(Observing { client: self.clone(), inner: handler })
        }
    }
}

#[cfg(feature = "store")]
mod durable {
    use std::sync::Arc;
    use std::time::Duration;

    use cc_core::EpochMillis;
    use cc_core::inbox::StateStore;
    use tokio::sync::watch;
    use tokio::time::Instant;

    use super::{AlvariaClient, MessageFailure, SessionState, Tracked};
    use crate::error::Error;
    use crate::model::SessionId;

    /// The store's scope for the session table.
    pub const SCOPE: &str = "alvaria.sessions";

    #[derive(serde::Serialize, serde::Deserialize)]
    struct SessionRecord {
        created_at: i64,
        state: SessionState,
        agent: Option<String>,
        failures: Vec<MessageFailure>,
    }

    fn store_error(e: cc_core::inbox::InboxError) -> Error {
        Error::Store(e.to_string())
    }

    impl AlvariaClient {
        /// Keeps the session table in `store` (scope `alvaria.sessions`, one JSON record per
        /// session) and re-adopts the sessions saved there by an earlier process: those not
        /// ended, failed or past the session lifetime come back with their state, agent and
        /// failed messages, and callbacks for them apply again. Records that no longer parse
        /// are left in the store untouched (a newer version may read them) and skipped.
        pub async fn with_store(mut self, store: Arc<dyn StateStore>) -> Result<Self, Error> {
            let now = EpochMillis::now().as_i64();
            for (key, bytes) in store.scan(SCOPE).await.map_err(store_error)? {
                let Ok(record) = serde_json::from_slice::<SessionRecord>(&bytes) else { continue };
                let age = Duration::from_millis(u64::try_from(now - record.created_at).unwrap_or(0));
                let over = matches!(record.state, SessionState::Ended { .. } | SessionState::Failed { .. });
                if over || age >= self.lifetime {
                    store.delete(SCOPE, &key).await.map_err(store_error)?;
                    continue;
                }
                let (tx, _) = watch::channel(record.state);
                let tracked = Tracked {
                    created: Instant::now().checked_sub(age).unwrap_or_else(Instant::now),
                    created_at: EpochMillis::new(record.created_at),
                    state: Arc::new(tx),
                    failures: Arc::new(std::sync::Mutex::new(record.failures)),
                    agent: Arc::new(std::sync::Mutex::new(record.agent)),
                };
                self.lock().insert(SessionId::new(key), tracked);
            }
            self.store = Some(store);
            Ok(self)
        }

        /// Saves the session's record (or removes it once the client forgot the session).
        pub(super) async fn persist(&self, id: &SessionId) -> Result<(), Error> {
            let Some(store) = &self.store else { return Ok(()) };
            let record = self.lock().get(id).map(|t| SessionRecord {
                created_at: t.created_at.as_i64(),
                state: t.state.borrow().clone(),
                agent: t.agent.lock().unwrap_or_else(|p| p.into_inner()).clone(),
                failures: t.failures.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            });
            match record {
                Some(record) => {
                    let bytes = serde_json::to_vec(&record).map_err(|e| Error::Store(e.to_string()))?;
                    store.put(SCOPE, id.as_str(), bytes, Some(self.lifetime)).await.map_err(store_error)
                }
                None => store.delete(SCOPE, id.as_str()).await.map_err(store_error),
            }
        }
    }
}
