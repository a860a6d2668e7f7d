//! The notification and realtime WebSocket (feature `notification`): subscribe over REST,
//! open the socket the answer names, keep it alive, and reconnect as the vendor's SDK does,
//! yielding typed messages as a [`Stream`].
//!
//! [`WxccClient::notifications`] runs one connection in a background task:
//!
//! 1. `POST /v1/notification/subscribe` (or `/v1/realtime/subscribe`) with the
//!    [`Subscribe`] body; the answer's `webSocketUrl` is opened without credentials (the URL
//!    is the capability, so it is kept out of `Debug` and errors).
//! 2. The first server message is `Welcome` (`data.agentId`), yielded as
//!    [`Notice::Connected`]; none within [`NotificationConfig::welcome_timeout`] fails the
//!    attempt.
//! 3. `{"keepalive":"true"}` goes out on open and every
//!    [`keepalive_interval`](NotificationConfig::keepalive_interval) (4 s, as the SDK; the
//!    server drops a socket subscribed with `isKeepAliveEnabled` after 15–16 s without one),
//!    also while the consumer is slow to poll. Server keepalives are swallowed.
//! 4. No frame at all for [`silence_timeout`](NotificationConfig::silence_timeout) (8 s, the
//!    SDK's rule), a close or a socket error is a lost connection: [`Notice::Lost`], then a
//!    new attempt every [`reconnect_interval`](NotificationConfig::reconnect_interval) (5 s)
//!    with a **fresh subscribe** (the old URL is never reopened), until
//!    [`give_up_after`](NotificationConfig::give_up_after) (50 s) without a Welcome: then
//!    [`Error::GaveUp`] and the stream ends. The first connection follows the same rules.
//! 5. A message listed in [`stop_on`](NotificationConfig::stop_on) (`AGENT_MULTI_LOGIN`:
//!    another login took over) is yielded, the socket closed, and the stream ends with
//!    [`Error::Replaced`], without reconnecting, as the SDK does.
//!
//! A subscribe the API refuses for good (a 4xx other than 408 and 429, an invalid body,
//! credentials refused) ends the stream with that error at once; 5xx, 408, 429 and
//! transport failures are retried as above. After an `Err` the stream ends; dropping it
//! closes the socket. Frames that do not parse are yielded as [`Notice::Unreadable`] and the
//! connection goes on.
//!
//! After a reconnect the vendor's SDK leaves it to the application whether to relogin the
//! agent (`POST /v1/agents/reload`); [`Notice::Connected::reconnected`] is the cue.
//!
//! TLS is rustls with the platform's certificate roots (or [`NotificationConfig::tls`]).
//! Plain `ws://` is refused unless the host is a loopback address (the simulator) or
//! [`NotificationConfig::allow_plain_ws`] is set. Proxies are not supported.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use cc_core::Secret;
use futures_util::{SinkExt as _, Stream, StreamExt as _};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_rustls::rustls;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use crate::api::models::{NotificationRequest, RealtimeRequest};
use crate::api::notification::SubscribeNotification;
use crate::api::realtime::SubscribeRealtimeNotification;
use crate::model::notification::{CLIENT_KEEPALIVE, Frame, Message, MessageType, parse_frame};
use crate::{Error, WxccClient};

/// Which socket to subscribe to, with the subscribe body.
#[derive(Clone, Debug, PartialEq)]
pub enum Subscribe {
    /// `POST /v1/notification/subscribe`: the agent's notifications.
    Notification(NotificationRequest),
    /// `POST /v1/realtime/subscribe`: realtime events (what it delivers is not documented).
    Realtime(RealtimeRequest),
}

impl Subscribe {
    /// The notification socket with the spec's defaults.
    pub fn notification() -> Self {
        Self::Notification(NotificationRequest::default())
    }

    /// The realtime socket with the spec's defaults.
    pub fn realtime() -> Self {
        Self::Realtime(RealtimeRequest::default())
    }

    /// `clientType`: groups a user's connections per application (notification: at most 20
    /// characters; realtime: 4 to 64).
    pub fn client_type(mut self, client_type: impl Into<String>) -> Self {
        let value = Some(client_type.into());
        match &mut self {
            Self::Notification(body) => body.client_type = value,
            Self::Realtime(body) => body.client_type = value,
        }
        self
    }

    /// `allowMultiLogin` (needs `clientType`; up to 10 logins).
    pub fn allow_multi_login(mut self, allow: bool) -> Self {
        match &mut self {
            Self::Notification(body) => body.allow_multi_login = Some(allow),
            Self::Realtime(body) => body.allow_multi_login = Some(allow),
        }
        self
    }

    /// `force`: drop another connection of this user rather than be refused.
    pub fn force(mut self, force: bool) -> Self {
        match &mut self {
            Self::Notification(body) => body.force = Some(force),
            Self::Realtime(body) => body.force = Some(force),
        }
        self
    }

    /// `isKeepAliveEnabled`: the server drops the socket after 15–16 s without a client
    /// keepalive (the client sends them either way).
    pub fn keepalive_enabled(mut self, enabled: bool) -> Self {
        match &mut self {
            Self::Notification(body) => body.is_keep_alive_enabled = Some(enabled),
            Self::Realtime(body) => body.is_keep_alive_enabled = Some(enabled),
        }
        self
    }

    /// The documented constraints on `clientType` and `allowMultiLogin`.
    pub fn validate(&self) -> Result<(), Error> {
        let (client_type, multi, range) = match self {
            Self::Notification(b) => (b.client_type.as_deref(), b.allow_multi_login, 0..=20),
            Self::Realtime(b) => (b.client_type.as_deref(), b.allow_multi_login, 4..=64),
        };
        if let Some(t) = client_type
            && !range.contains(&t.chars().count())
        {
            let message =
                format!("must be {} to {} characters, is {}", range.start(), range.end(), t.chars().count());
            return Err(Error::invalid("clientType", message));
        }
        if multi == Some(true) && client_type.is_none() {
            return Err(Error::invalid("allowMultiLogin", "needs clientType"));
        }
        Ok(())
    }
}

/// What a subscribe answered.
#[derive(Clone, Debug)]
pub struct Subscription {
    /// `webSocketUrl`: opening it needs no credentials, so it is one (redacted in `Debug`).
    pub web_socket_url: Secret<String>,
    /// `subscriptionId` (`<clientType>-<uuid>`).
    pub subscription_id: String,
}

/// Timings and limits of [`WxccClient::notifications`]. The defaults are the vendor SDK's
/// (its policy, not a documented server contract).
#[derive(Clone, Debug)]
pub struct NotificationConfig {
    /// Client keepalive period (default 4 s); `None` sends none.
    pub keepalive_interval: Option<Duration>,
    /// No frame for this long is a lost connection (default 8 s).
    pub silence_timeout: Duration,
    /// Between reconnect attempts (default 5 s).
    pub reconnect_interval: Duration,
    /// Without a connection for this long, stop (default 50 s).
    pub give_up_after: Duration,
    /// The Welcome must arrive this soon after opening (default 30 s, the SDK's constant).
    pub welcome_timeout: Duration,
    /// TCP, TLS and WebSocket handshakes together (default 10 s; an assumption).
    pub connect_timeout: Duration,
    /// Largest message accepted (default 4 MiB; larger drops the connection, which then
    /// reconnects).
    pub max_message_size: usize,
    /// Notices held for a slow consumer (default 256); the socket is not read while full,
    /// keepalives still go out.
    pub buffer: usize,
    /// Messages that end the stream without reconnecting (default `AGENT_MULTI_LOGIN`, as
    /// the SDK, and `AGENT_MAX_CONNECTIONS_EXCEEDED`, an assumption: reconnecting would
    /// only take another connection's place).
    pub stop_on: Vec<MessageType>,
    /// Accept `ws://` to hosts that are not loopback (default `false`).
    pub allow_plain_ws: bool,
    /// TLS settings (default: rustls with the platform's roots).
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        Self {
            keepalive_interval: Some(Duration::from_secs(4)),
            silence_timeout: Duration::from_secs(8),
            reconnect_interval: Duration::from_secs(5),
            give_up_after: Duration::from_secs(50),
            welcome_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_message_size: 4 << 20,
            buffer: 256,
            stop_on: vec![MessageType::AgentMultiLogin, MessageType::AgentMaxConnectionsExceeded],
            allow_plain_ws: false,
            tls: None,
        }
    }
}

/// What [`Notifications`] yields.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    /// A Welcome arrived: the socket is live.
    Connected {
        /// `data.agentId`.
        agent_id: Option<String>,
        /// The subscription this socket belongs to (new on every reconnect).
        subscription_id: String,
        /// A connection existed before this one: events in between may be missing
        /// (reconcile), and the application may want to relogin the agent.
        reconnected: bool,
    },
    /// A message (keepalives are not yielded).
    Message(Message),
    /// The connection was lost; reconnecting.
    Lost {
        /// Why.
        cause: String,
    },
    /// A frame that does not parse; the connection goes on.
    Unreadable {
        /// The frame (lossy UTF-8 for a binary frame).
        text: String,
        /// What is wrong with it.
        error: String,
    },
}

/// The socket's notices; see the [module](self) for the rules. Dropping it closes the socket.
#[derive(Debug)]
pub struct Notifications {
    rx: mpsc::Receiver<Result<Notice, Error>>,
}

impl Stream for Notifications {
    type Item = Result<Notice, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl WxccClient {
    /// Subscribes once: the socket URL and subscription id, without opening it. The body is
    /// checked first ([`Subscribe::validate`]).
    pub async fn subscribe_socket(&self, subscribe: &Subscribe) -> Result<Subscription, Error> {
        subscribe.validate()?;
        let (url, id) = match subscribe {
            Subscribe::Notification(body) => {
                let r = self.call(&SubscribeNotification { body: Some(body.clone()) }).await?;
                (r.web_socket_url, r.subscription_id)
            }
            Subscribe::Realtime(body) => {
                let r = self.call(&SubscribeRealtimeNotification { body: Some(body.clone()) }).await?;
                (r.web_socket_url, r.subscription_id)
            }
        };
        if url.is_empty() {
            return Err(Error::invalid("webSocketUrl", "the subscribe answer has none"));
        }
        let subscription_id = match id {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        Ok(Subscription { web_socket_url: Secret::new(url), subscription_id })
    }

    /// Subscribes and keeps the socket: a stream of [`Notice`]s until the consumer drops it,
    /// a [`stop_on`](NotificationConfig::stop_on) message, a subscribe refused for good, or
    /// no connection for [`give_up_after`](NotificationConfig::give_up_after). Needs a
    /// tokio runtime (the connection runs in a task).
    pub fn notifications(&self, subscribe: Subscribe, config: NotificationConfig) -> Notifications {
        let (tx, rx) = mpsc::channel(config.buffer.max(1));
        let driver = Driver { client: self.clone(), subscribe, config, tx };
        tokio::spawn(driver.run());
        Notifications { rx }
    }
}

/// How one connection attempt ended.
enum Outcome {
    /// The consumer is gone.
    Dropped,
    /// Stop, with this error.
    Terminal(Error),
    /// The connection failed or was lost; `connected` if it had been welcomed.
    Lost { cause: String, connected: bool },
}

fn lost(cause: impl Into<String>, connected: bool) -> Outcome {
    Outcome::Lost { cause: cause.into(), connected }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Socket = WebSocketStream<Box<dyn Io>>;

struct Driver {
    client: WxccClient,
    subscribe: Subscribe,
    config: NotificationConfig,
    tx: mpsc::Sender<Result<Notice, Error>>,
}

impl Driver {
    async fn run(self) {
        let mut lost_at: Option<Instant> = None;
        let mut attempts = 0u32;
        let mut ever_connected = false;
        let mut wait = false;
        loop {
            if wait {
                tokio::select! {
                    () = tokio::time::sleep(self.config.reconnect_interval) => {}
                    () = self.tx.closed() => return,
                }
            }
            wait = true;
            attempts += 1;
            match self.session(ever_connected).await {
                Outcome::Dropped => return,
                Outcome::Terminal(error) => {
                    let _ = self.tx.send(Err(error)).await;
                    return;
                }
                Outcome::Lost { cause, connected: true } => {
                    ever_connected = true;
                    lost_at = Some(Instant::now());
                    attempts = 0;
                    if self.tx.send(Ok(Notice::Lost { cause })).await.is_err() {
                        return;
                    }
                }
                Outcome::Lost { cause, connected: false } => {
                    let since = *lost_at.get_or_insert_with(Instant::now);
                    // Another attempt only if it can start before the deadline.
                    if since.elapsed() + self.config.reconnect_interval > self.config.give_up_after {
                        let after = since.elapsed();
                        let _ = self.tx.send(Err(Error::GaveUp { after, attempts, cause })).await;
                        return;
                    }
                }
            }
        }
    }

    /// One subscribe, one socket, until it ends.
    async fn session(&self, reconnected: bool) -> Outcome {
        let subscription = tokio::select! {
            result = self.client.subscribe_socket(&self.subscribe) => match result {
                Ok(subscription) => subscription,
                Err(error) if is_final(&error) => return Outcome::Terminal(error),
                Err(error) => return lost(format!("subscribe: {error}"), false),
            },
            () = self.tx.closed() => return Outcome::Dropped,
        };
        let url = subscription.web_socket_url.expose_secret();
        let mut ws = tokio::select! {
            opened = tokio::time::timeout(self.config.connect_timeout, open(url, &self.config)) => match opened {
                Ok(Ok(ws)) => ws,
                Ok(Err(cause)) => return lost(cause, false),
                Err(_) => return lost(format!("no connection within {:?}", self.config.connect_timeout), false),
            },
            () = self.tx.closed() => return Outcome::Dropped,
        };
        let mut keepalive = self.config.keepalive_interval.map(|period| {
            // The first tick is at once: the SDK sends a keepalive on open.
            let mut interval = tokio::time::interval(period.max(Duration::from_millis(1)));
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        let welcome_deadline = Instant::now() + self.config.welcome_timeout;
        let mut welcomed = false;
        let mut last_frame = Instant::now();
        loop {
            let notice = tokio::select! {
                // Frames first: after a slow consumer, what is buffered resets the silence clock.
                biased;
                frame = ws.next() => {
                    last_frame = Instant::now();
                    match frame {
                        None => return lost("the server closed the connection", welcomed),
                        Some(Err(e)) => return lost(format!("socket: {e}"), welcomed),
                        Some(Ok(WsMessage::Close(frame))) => {
                            let why = frame.map(|f| format!(" ({} {})", f.code, f.reason)).unwrap_or_default();
                            return lost(format!("the server closed the connection{why}"), welcomed);
                        }
                        // tungstenite answers pings itself.
                        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => continue,
                        Some(Ok(WsMessage::Binary(bytes))) => Notice::Unreadable {
                            text: String::from_utf8_lossy(&bytes).into_owned(),
                            error: "a binary frame; messages are JSON text".into(),
                        },
                        Some(Ok(WsMessage::Text(text))) => match parse_frame(text.as_str()) {
                            Ok(Frame::Keepalive) => continue,
                            Ok(Frame::Message(message)) if message.kind == MessageType::Welcome => {
                                welcomed = true;
                                Notice::Connected {
                                    agent_id: message.agent_id(),
                                    subscription_id: subscription.subscription_id.clone(),
                                    reconnected,
                                }
                            }
                            Ok(Frame::Message(message)) if self.config.stop_on.contains(&message.kind) => {
                                let kind = message.kind.clone();
                                if let Err(outcome) = self.deliver(&mut ws, &mut keepalive, Notice::Message(message), welcomed).await {
                                    return outcome;
                                }
                                let _ = ws.close(None).await;
                                return Outcome::Terminal(Error::Replaced { kind });
                            }
                            Ok(Frame::Message(message)) => Notice::Message(message),
                            Err(error) => Notice::Unreadable { text: text.as_str().to_owned(), error: error.to_string() },
                        },
                    }
                }
                () = self.tx.closed() => {
                    let _ = ws.close(None).await;
                    return Outcome::Dropped;
                }
                () = tick(&mut keepalive) => {
                    if let Err(e) = ws.send(WsMessage::text(CLIENT_KEEPALIVE)).await {
                        return lost(format!("sending a keepalive: {e}"), welcomed);
                    }
                    continue;
                }
                () = tokio::time::sleep_until(last_frame + self.config.silence_timeout) => {
                    return lost(format!("no frame for {:?}", self.config.silence_timeout), welcomed);
                }
                () = tokio::time::sleep_until(welcome_deadline), if !welcomed => {
                    return lost(format!("no Welcome within {:?}", self.config.welcome_timeout), false);
                }
            };
            if let Err(outcome) = self.deliver(&mut ws, &mut keepalive, notice, welcomed).await {
                return outcome;
            }
        }
    }

    /// Hands `notice` to the consumer, keeping the socket alive while it is slow.
    async fn deliver(
        &self,
        ws: &mut Socket,
        keepalive: &mut Option<Interval>,
        notice: Notice,
        welcomed: bool,
    ) -> Result<(), Outcome> {
        loop {
            tokio::select! {
                biased;
                permit = self.tx.reserve() => {
                    return match permit {
                        Ok(permit) => {
                            permit.send(Ok(notice));
                            Ok(())
                        }
                        Err(_) => {
                            let _ = ws.close(None).await;
                            Err(Outcome::Dropped)
                        }
                    };
                }
                () = tick(keepalive) => {
                    if let Err(e) = ws.send(WsMessage::text(CLIENT_KEEPALIVE)).await {
                        return Err(lost(format!("sending a keepalive: {e}"), welcomed));
                    }
                }
            }
        }
    }
}

async fn tick(keepalive: &mut Option<Interval>) {
    match keepalive {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// A subscribe error retrying cannot fix. A token endpoint that is unreachable or answers
/// 5xx is retried like the API; refused credentials are final.
fn is_final(error: &Error) -> bool {
    use cc_core::auth::AuthError;
    match error {
        Error::Invalid { .. } | Error::Decode { .. } => true,
        Error::Auth(AuthError::Transport(_)) => false,
        Error::Auth(AuthError::Rejected { status, .. }) => *status < 500 && *status != 429,
        Error::Auth(_) => true,
        _ => error.status().is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429),
    }
}

/// Opens `url`: TCP, TLS for `wss`, the WebSocket handshake. Errors name the host, never the
/// URL (it is a credential).
async fn open(url: &str, config: &NotificationConfig) -> Result<Socket, String> {
    let request = url.into_client_request().map_err(|e| format!("webSocketUrl: {}", redact(e)))?;
    let uri = request.uri();
    let secure = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        other => return Err(format!("webSocketUrl: scheme {other:?} is not ws or wss")),
    };
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    if !secure && !config.allow_plain_ws && !is_loopback(&host) {
        return Err(format!("webSocketUrl: plain ws:// to {host} refused (allow_plain_ws is off)"));
    }
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("connecting to {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if secure {
        let tls = match &config.tls {
            Some(tls) => Arc::clone(tls),
            None => platform_tls().map_err(|e| format!("TLS settings: {e}"))?,
        };
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| format!("webSocketUrl: host {host}: {e}"))?;
        let stream = tokio_rustls::TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}:{port}: {e}"))?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(config.max_message_size))
        .max_frame_size(Some(config.max_message_size));
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, io, Some(ws_config))
        .await
        .map_err(|e| format!("WebSocket handshake with {host}:{port}: {}", redact(e)))?;
    Ok(ws)
}

/// A tungstenite error's text, except the variants that may quote the URL.
fn redact(error: tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Url(_) => "malformed URL".to_owned(),
        tungstenite::Error::Http(response) => format!("HTTP {}", response.status()),
        other => other.to_string(),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// rustls with aws-lc-rs (the provider reqwest uses here) and the platform's roots.
pub fn platform_tls() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subscribe_body_is_checked_before_any_call() {
        assert!(Subscribe::notification().validate().is_ok());
        let long = Subscribe::notification().client_type("x".repeat(21)).validate().unwrap_err();
        assert_eq!(long.to_string(), "invalid request: clientType: must be 0 to 20 characters, is 21");
        let short = Subscribe::realtime().client_type("abc").validate().unwrap_err();
        assert!(short.to_string().contains("must be 4 to 64"), "{short}");
        let multi = Subscribe::notification().allow_multi_login(true).validate().unwrap_err();
        assert_eq!(multi.to_string(), "invalid request: allowMultiLogin: needs clientType");
        let body = Subscribe::notification().client_type("AgentDesktop").allow_multi_login(true).force(true);
        let Subscribe::Notification(body) = body else { panic!() };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"clientType": "AgentDesktop", "allowMultiLogin": true, "force": true})
        );
    }

    #[test]
    fn the_socket_url_is_kept_out_of_debug_and_plain_ws_is_loopback_only() {
        let s = Subscription {
            web_socket_url: Secret::new("wss://h/v1/notification/subscription/A-1".into()),
            subscription_id: "A-1".into(),
        };
        assert!(!format!("{s:?}").contains("subscription/A-1"), "{s:?}");
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("LOCALHOST"));
        assert!(!is_loopback("api.wxcc-us1.cisco.com") && !is_loopback("10.0.0.1"));
    }

    #[tokio::test]
    async fn plain_ws_elsewhere_is_refused_and_errors_never_quote_the_url() {
        let config = NotificationConfig::default();
        let cause =
            open("ws://example.invalid/v1/notification/subscription/Secret-1", &config).await.err().unwrap();
        assert_eq!(cause, "webSocketUrl: plain ws:// to example.invalid refused (allow_plain_ws is off)");
        let cause = open("https://example.invalid/x", &config).await.err().unwrap();
        assert!(cause.contains("scheme"), "{cause}");
        // Nothing listens on port 9 of loopback: the error names the host and port only.
        let cause =
            open("ws://127.0.0.1:9/v1/notification/subscription/Secret-1", &config).await.err().unwrap();
        assert!(cause.starts_with("connecting to 127.0.0.1:9") && !cause.contains("Secret-1"), "{cause}");
    }

    #[test]
    fn which_subscribe_errors_end_the_stream() {
        use cc_core::auth::AuthError;
        let rejected = |status| Error::Auth(AuthError::Rejected { status, error: None, description: None });
        assert!(is_final(&rejected(400)) && is_final(&rejected(401)));
        assert!(!is_final(&rejected(503)) && !is_final(&rejected(429)));
        assert!(!is_final(&Error::Auth(AuthError::Transport("reset".into()))));
        assert!(is_final(&Error::Auth(AuthError::NoRefreshToken)));
        assert!(is_final(&Error::invalid("clientType", "too long")));
    }

    #[test]
    fn platform_tls_settings_build() {
        assert!(platform_tls().is_ok());
    }
}
