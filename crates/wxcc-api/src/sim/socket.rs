//! The notification and realtime WebSocket. `POST /v1/notification/subscribe` and
//! `/v1/realtime/subscribe` (bearer, rate limit and faults as every API call) answer a
//! `ws://` URL on the simulator's socket listener (its own port); each URL opens once.
//!
//! An open socket gets `Welcome` (`data.agentId`), then a server keepalive every
//! [`SimConfig::socket_keepalive_interval`](super::SimConfig::socket_keepalive_interval).
//! Subscribed with `isKeepAliveEnabled`, it is dropped after
//! [`SimConfig::client_keepalive_timeout`](super::SimConfig::client_keepalive_timeout)
//! without a client keepalive (default 16 s notification, 15 s realtime, as the spec).
//! A second socket of the same client type without `allowMultiLogin` sends the older one
//! `AGENT_MULTI_LOGIN` and closes it (the simulator's reading of the spec's `force` text;
//! the real server's choice between old and new is not documented).
//!
//! Tests push messages ([`WxccSim::notify`](super::WxccSim::notify)), drop sockets without a
//! close ([`WxccSim::drop_sockets`](super::WxccSim::drop_sockets)) or silence them
//! ([`WxccSim::silence_sockets`](super::WxccSim::silence_sockets)).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cc_core::sim::lock;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};

use super::Shared;
use super::http::{api, bad};
use crate::api::models::{NotificationRequest, RealtimeRequest};
use crate::model::notification::{MessageType, parse_frame};
use crate::notification::Subscribe;

/// The agent every socket welcomes (the one the webhook samples name).
pub const AGENT_ID: &str = "a1b2c3d4-0000-4000-8000-000000000001";

/// The server keepalive frame, as the SDK's tests show it.
const SERVER_KEEPALIVE: &str = r#"{"keepalive":"true","data":{"type":"KeepaliveEvent"}}"#;

/// A subscription whose URL was handed out and not opened yet.
struct Pending {
    realtime: bool,
    client_type: String,
    allow_multi_login: bool,
    keepalive_required: bool,
}

enum Control {
    Send(String),
    /// End without a close frame, as a network failure would.
    Drop,
    /// Stop sending anything, keepalives included; stay open.
    Silence,
    /// Another login took over: `AGENT_MULTI_LOGIN`, then close.
    Replaced,
}

struct Open {
    realtime: bool,
    client_type: String,
    tx: mpsc::UnboundedSender<Control>,
}

/// The socket side's state.
#[derive(Default)]
pub(super) struct Sockets {
    pending: HashMap<String, Pending>,
    open: HashMap<u64, Open>,
    next: u64,
}

/// `POST /v1/notification/subscribe`.
pub(super) async fn subscribe_notification(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    api!(shared, headers, |_tracking| subscribe(&shared, false, &body))
}

/// `POST /v1/realtime/subscribe`.
pub(super) async fn subscribe_realtime(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    api!(shared, headers, |_tracking| subscribe(&shared, true, &body))
}

fn subscribe(
    shared: &Shared,
    realtime: bool,
    body: &[u8],
) -> Result<(StatusCode, Value), (StatusCode, String)> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    let request = if realtime {
        serde_json::from_slice::<RealtimeRequest>(body).map(Subscribe::Realtime)
    } else {
        serde_json::from_slice::<NotificationRequest>(body).map(Subscribe::Notification)
    }
    .map_err(|e| bad(format!("body: {e}")))?;
    request.validate().map_err(|e| bad(e.to_string()))?;
    let (client_type, allow_multi_login, keepalive) = match &request {
        Subscribe::Notification(b) => (b.client_type.clone(), b.allow_multi_login, b.is_keep_alive_enabled),
        // The realtime socket expects keepalives unless told otherwise (spec default true).
        Subscribe::Realtime(b) => {
            (b.client_type.clone(), b.allow_multi_login, b.is_keep_alive_enabled.or(Some(true)))
        }
    };
    let client_type = client_type.unwrap_or_else(|| "DefaultClient".to_owned());
    let id = format!("{client_type}-{:032x}", fastrand::u128(..));
    let kind = if realtime { "realtime" } else { "notification" };
    let url = format!("{}/v1/{kind}/subscription/{id}", shared.ws_base);
    let pending = Pending {
        realtime,
        client_type,
        allow_multi_login: allow_multi_login == Some(true),
        keepalive_required: keepalive == Some(true),
    };
    lock(&shared.sockets).pending.insert(id.clone(), pending);
    lock(&shared.stats).socket_subscribes += 1;
    Ok((StatusCode::OK, json!({"webSocketUrl": url, "subscriptionId": id})))
}

/// Accepts sockets on `listener` until the simulator stops.
pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut found = None;
            // The callback's signature is tungstenite's.
            #[allow(clippy::result_large_err)]
            let callback = |request: &Request, response| {
                let id = request
                    .uri()
                    .path()
                    .strip_prefix("/v1/notification/subscription/")
                    .or_else(|| request.uri().path().strip_prefix("/v1/realtime/subscription/"));
                found = id.and_then(|id| lock(&shared.sockets).pending.remove(id));
                if found.is_some() {
                    Ok(response)
                } else {
                    lock(&shared.stats).sockets_refused += 1;
                    let mut refusal =
                        ErrorResponse::new(Some("no such subscription (a URL opens once)".into()));
                    *refusal.status_mut() = StatusCode::NOT_FOUND;
                    Err(refusal)
                }
            };
            let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else { return };
            if let Some(pending) = found {
                connection(ws, pending, shared).await;
            }
        });
    }
}

async fn connection(
    mut ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    pending: Pending,
    shared: Arc<Shared>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = {
        let mut sockets = lock(&shared.sockets);
        if !pending.allow_multi_login {
            for open in sockets.open.values() {
                if open.realtime == pending.realtime && open.client_type == pending.client_type {
                    let _ = open.tx.send(Control::Replaced);
                }
            }
        }
        sockets.next += 1;
        let id = sockets.next;
        let open = Open { realtime: pending.realtime, client_type: pending.client_type.clone(), tx };
        sockets.open.insert(id, open);
        id
    };
    lock(&shared.stats).sockets_opened += 1;
    let config = &shared.config;
    let welcome = json!({"type": "Welcome", "orgId": config.org_id, "trackingId": tracking(),
                         "data": {"agentId": AGENT_ID}});
    let default_timeout = Duration::from_secs(if pending.realtime { 15 } else { 16 });
    let client_timeout = config.client_keepalive_timeout.unwrap_or(default_timeout);
    let mut keepalive = tokio::time::interval(config.socket_keepalive_interval.max(Duration::from_millis(1)));
    keepalive.tick().await;
    let mut last_client_keepalive = Instant::now();
    let mut silent = false;
    if ws.send(WsMessage::text(welcome.to_string())).await.is_ok() {
        loop {
            let deadline = last_client_keepalive + client_timeout;
            tokio::select! {
                control = rx.recv() => match control {
                    Some(Control::Send(text)) if !silent => {
                        if ws.send(WsMessage::text(text)).await.is_err() { break }
                    }
                    Some(Control::Send(_)) => {}
                    Some(Control::Silence) => silent = true,
                    Some(Control::Replaced) => {
                        let message = json!({"type": "AGENT_MULTI_LOGIN", "orgId": config.org_id,
                                             "trackingId": tracking(), "data": {"agentId": AGENT_ID}});
                        let _ = ws.send(WsMessage::text(message.to_string())).await;
                        let _ = ws.close(None).await;
                        break;
                    }
                    Some(Control::Drop) | None => break,
                },
                frame = ws.next() => match frame {
                    Some(Ok(WsMessage::Text(text))) => {
                        if matches!(parse_frame(text.as_str()), Ok(crate::model::notification::Frame::Keepalive)) {
                            last_client_keepalive = Instant::now();
                            lock(&shared.stats).client_keepalives += 1;
                        }
                    }
                    Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                _ = keepalive.tick(), if !silent => {
                    if ws.send(WsMessage::text(SERVER_KEEPALIVE)).await.is_err() { break }
                }
                () = tokio::time::sleep_until(deadline), if pending.keepalive_required => {
                    lock(&shared.stats).sockets_idle_dropped += 1;
                    break;
                }
            }
        }
    }
    lock(&shared.sockets).open.remove(&id);
}

fn tracking() -> String {
    format!("sim-{:016x}", fastrand::u64(..))
}

impl Sockets {
    fn broadcast(&self, control: impl Fn() -> Control) -> usize {
        self.open.values().filter(|open| open.tx.send(control()).is_ok()).count()
    }

    /// Sockets open now.
    pub(super) fn open_count(&self) -> usize {
        self.open.len()
    }
}

/// A `RoutingMessage` as the SDK's examples show one: `data.type` (`AgentOfferContact`…) for
/// the task `interaction_id`.
pub fn sample_message(kind: &MessageType, org_id: &str, interaction_id: &str) -> Value {
    json!({
        "type": "RoutingMessage",
        "orgId": org_id,
        "trackingId": tracking(),
        "data": {"type": kind.as_str(), "agentId": AGENT_ID, "interactionId": interaction_id,
                 "orgId": org_id, "eventTime": cc_core::EpochMillis::now().as_i64()},
    })
}

impl super::WxccSim {
    /// Sends `message` to every open socket; returns how many got it.
    pub fn notify(&self, message: &Value) -> usize {
        let text = message.to_string();
        lock(&self.shared.sockets).broadcast(|| Control::Send(text.clone()))
    }

    /// Ends every open socket without a close frame, as a network failure would; returns how
    /// many.
    pub fn drop_sockets(&self) -> usize {
        lock(&self.shared.sockets).broadcast(|| Control::Drop)
    }

    /// Makes every open socket stop sending (keepalives included) while staying open; returns
    /// how many.
    pub fn silence_sockets(&self) -> usize {
        lock(&self.shared.sockets).broadcast(|| Control::Silence)
    }

    /// Sockets open now.
    pub fn open_sockets(&self) -> usize {
        lock(&self.shared.sockets).open_count()
    }

    /// The socket listener's root (`ws://<addr>`).
    pub fn socket_base(&self) -> &str {
        &self.shared.ws_base
    }
}
