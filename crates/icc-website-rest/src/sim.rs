//! A fake WebSite on loopback (feature `sim`).
//!
//! - Every response sets or keeps the tracking cookie; a request without it gets a new
//!   TrackingId, so each visitor (cookie jar) is a separate person.
//! - `GET /api/Routing/{app}` answers per configured rule: JSON `null` for blocked apps,
//!   otherwise a RoutingModel with the rule's Signal, a scenario with one control of every type
//!   (webform), Settings/Literals/HtmlTemplate when `IncludeSettings=true`, and the visitor's
//!   chat (webchat).
//! - Chats are scripted: a visitor's first webchat Routing starts one, which moves one step per
//!   `step` through Pilot → ICR → Waiting → Alerting → Answered (agent greeting) → typing →
//!   a second agent sentence → Closed. Every Routing lists all sentences so far.
//! - `GET /api/AgentImage/{id}?width&height` answers a real PNG of that size (default 64×64,
//!   at most 1024): blue for the chat's agent, grey for anyone else.
//! - `POST /sim/echo` (the simulator's own path, not the vendor's) echoes its JSON body with
//!   the caller's TrackingId, to exercise `Visitor::call_json`.
//! - Faults ([`Fault`]): a status, a delay, or a connection broken mid-response.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cc_core::sim::{Faults, SimServer, lock};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::model::{
    AgentId, ChatId, ChatModel, ChatStatus, ControlModel, ControlType, ParameterModel, RoutingModel,
    ScenarioModel, SentenceModel, Signal, WebApp,
};

pub use cc_core::sim::{Fault, Simulator};

/// How the simulator answers Routing for one application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRule {
    /// The Signal.
    pub signal: Signal,
    /// Answer JSON `null` (not configured or blocked).
    pub blocked: bool,
}

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Tracking cookie name.
    pub cookie_name: String,
    /// Rules per application; apps without a rule are blocked.
    pub apps: HashMap<String, AppRule>,
    /// The agent's name.
    pub agent_name: String,
    /// The agent's id.
    pub agent_id: AgentId,
    /// Time per chat step.
    pub step: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        let free = |signal| AppRule { signal, blocked: false };
        let mut apps = HashMap::new();
        apps.insert(WebApp::WebChat.as_str().to_owned(), free(Signal::Free));
        apps.insert(WebApp::WebForm.as_str().to_owned(), free(Signal::Free));
        apps.insert(WebApp::WebCback.as_str().to_owned(), free(Signal::Busy));
        apps.insert(WebApp::WebClick.as_str().to_owned(), AppRule { signal: Signal::Hidden, blocked: true });
        Self {
            cookie_name: crate::client::DEFAULT_COOKIE.into(),
            apps,
            agent_name: "Eva".into(),
            agent_id: AgentId::new("5f0c6a2e-8d1b-4c3a-9e7f-1a2b3c4d5e6f"),
            step: Duration::from_millis(40),
        }
    }
}

struct Chat {
    id: ChatId,
    started: Instant,
}

struct Shared {
    config: SimConfig,
    chats: Mutex<HashMap<String, Chat>>,
    faults: Faults,
    counter: AtomicU64,
    routing_calls: AtomicU64,
}

cc_core::simulator! {
    /// A running simulator; stops when dropped. Start it, reach it and inject faults through
    /// [`Simulator`] (re-exported here): `Sim::start(config)`, `sim.base_url()`, `sim.inject(fault)`.
    pub struct WebSiteSim { state: Shared, config: SimConfig }
}

impl WebSiteSim {
    async fn launch(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            config,
            chats: Mutex::default(),
            faults: Faults::default(),
            counter: AtomicU64::new(0),
            routing_calls: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/api/Routing/{app}", get(routing))
            .route("/api/AgentImage/{agent}", get(agent_image))
            .route("/sim/echo", post(echo))
            .with_state(shared.clone());
        Ok(Self { server: SimServer::bind(addr, app).await?, shared })
    }

    /// Routing calls answered so far (faults included).
    pub fn routing_calls(&self) -> u64 {
        self.shared.routing_calls.load(Ordering::Relaxed)
    }
}

/// The visitor's TrackingId from the Cookie header, or a new one.
fn tracking(shared: &Shared, headers: &HeaderMap) -> (String, bool) {
    let prefix = format!("{}=", shared.config.cookie_name);
    let existing = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(prefix.as_str()).map(str::to_owned));
    match existing {
        Some(id) => (id, false),
        None => {
            let n = shared.counter.fetch_add(1, Ordering::Relaxed) + 1;
            (format!("{n:08x}-7a1c-4e2b-9d3f-{:012x}", n * 104_729), true)
        }
    }
}

fn with_cookie(mut response: Response, shared: &Shared, id: &str) -> Response {
    let cookie = format!("{}={id}; Path=/; HttpOnly; SameSite=Lax", shared.config.cookie_name);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The admission step (`cc_core::sim::Faults::admit`); the WebSite API has no credentials.
async fn admit(shared: &Shared) -> Result<cc_core::sim::Admitted, Response> {
    shared.faults.admit(|status| (status, "fault injected by the simulator").into_response()).await
}

fn sentence(counter: i64, text: &str, agent: &str) -> SentenceModel {
    SentenceModel {
        counter,
        time_sent: Some(format!("2024-05-01T10:00:{counter:02}Z")),
        party_name: Some(agent.into()),
        is_outbound: true,
        text: text.into(),
        location: None,
        is_confirmed: true,
    }
}

fn chat_model(shared: &Shared, chat: &Chat) -> ChatModel {
    let step = (chat.started.elapsed().as_millis() / shared.config.step.as_millis().max(1)) as usize;
    let status = match step {
        0 => ChatStatus::Pilot,
        1 => ChatStatus::Icr,
        2 => ChatStatus::Waiting,
        3 => ChatStatus::Alerting,
        4..=6 => ChatStatus::Answered,
        _ => ChatStatus::Closed,
    };
    let agent = &shared.config.agent_name;
    let mut sentences = Vec::new();
    if step >= 4 {
        sentences.push(sentence(1, &format!("Hello, I&#39;m {agent} &amp; I&#39;m here to help."), agent));
    }
    if step >= 6 {
        sentences.push(sentence(2, "What can I do for you? &lt;3", agent));
    }
    let answered = step >= 4;
    ChatModel {
        chat_id: chat.id.clone(),
        agent_name: answered.then(|| agent.clone()),
        agent_id: answered.then(|| shared.config.agent_id.clone()),
        counter: sentences.len() as i64,
        status,
        is_typing: step == 5,
        sentences,
        navigation: None,
        co_browsing_data: None,
    }
}

fn scenario() -> ScenarioModel {
    let types = [
        ControlType::LabelOnly,
        ControlType::TextArea,
        ControlType::DropDown,
        ControlType::RadioButtons,
        ControlType::CheckBoxes,
        ControlType::Integer,
        ControlType::Date,
        ControlType::Time,
        ControlType::DateTime,
    ];
    ScenarioModel {
        scenario_id: "0b6c9c3e-2f4d-4b8a-a1e2-3c4d5e6f7a8b".into(),
        display_name: Some("Contact form".into()),
        culture: Some("en-US".into()),
        controls: types
            .iter()
            .enumerate()
            .map(|(i, t)| ControlModel {
                control_id: format!("{:08x}-0000-4000-8000-{:012x}", i + 1, i + 1).into(),
                screen_rank: 1,
                rank: i as i64 + 1,
                display_name: Some(t.as_str().to_owned()),
                description: None,
                control_type: t.clone(),
                control_number: None,
                control_text: None,
                mandatory_field: i == 1,
                parameters: if matches!(
                    t,
                    ControlType::DropDown | ControlType::RadioButtons | ControlType::CheckBoxes
                ) {
                    (1..=2)
                        .map(|r| ParameterModel {
                            rank: r,
                            display_name: Some(format!("Option {r}")),
                            result_number: r,
                            result_text: Some(format!("option-{r}")),
                            default_item: r == 1,
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect(),
    }
}

async fn routing(
    State(shared): State<Arc<Shared>>,
    Path(app): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    shared.routing_calls.fetch_add(1, Ordering::Relaxed);
    let admitted = match admit(&shared).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let (id, _new) = tracking(&shared, &headers);
    let Some(rule) = shared.config.apps.get(&app).filter(|r| !r.blocked) else {
        return with_cookie(axum::Json(Value::Null).into_response(), &shared, &id);
    };
    let mut model = RoutingModel {
        signal: Some(rule.signal.clone()),
        target_element_id: Some(format!("icc-{app}")),
        web_site_routing_id: Some("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".into()),
        ..RoutingModel::default()
    };
    if app == WebApp::WebForm.as_str() {
        model.scenario = Some(scenario());
    }
    if app == WebApp::WebChat.as_str() {
        let mut chats = lock(&shared.chats);
        let n = chats.len() + 1;
        let chat = chats.entry(id.clone()).or_insert_with(|| Chat {
            id: format!("c0ffee{n:02x}-0000-4000-8000-000000000000").into(),
            started: Instant::now(),
        });
        model.chat_running = Some(chat_model(&shared, chat));
    }
    if query.get("IncludeSettings").is_some_and(|v| v == "true") {
        model.html_template = Some(format!("<div id=\"icc-{app}\"></div>"));
        model.settings = Some([("Position".to_owned(), "bottom-right".to_owned())].into());
        model.literals = Some([("Title".to_owned(), "Chat with us".to_owned())].into());
    }
    with_cookie(admitted.respond(axum::Json(model)), &shared, &id)
}

async fn agent_image(
    State(shared): State<Arc<Shared>>,
    Path(agent): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let admitted = match admit(&shared).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let (id, _) = tracking(&shared, &headers);
    let size = |name: &str| query.get(name).and_then(|v| v.parse::<u32>().ok()).unwrap_or(64).clamp(1, 1024);
    let (width, height) = (size("width"), size("height"));
    let in_chat = lock(&shared.chats).contains_key(&id);
    let color = if in_chat && agent == shared.config.agent_id.as_str() {
        [0x1e, 0x6f, 0xd9]
    } else {
        [0x99, 0x99, 0x99]
    };
    let png = png_rgb(width, height, color);
    with_cookie(admitted.respond(([(header::CONTENT_TYPE, "image/png")], png)), &shared, &id)
}

async fn echo(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (id, _) = tracking(&shared, &headers);
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let status = if parsed.is_null() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    with_cookie((status, axum::Json(json!({"trackingId": id, "body": parsed}))).into_response(), &shared, &id)
}

/// A solid-colour RGB PNG (stored deflate blocks: valid, uncompressed).
fn png_rgb(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    // Each row: filter type 0, then the pixels.
    let row: Vec<u8> =
        std::iter::once(0).chain(rgb.iter().copied().cycle().take(width as usize * 3)).collect();
    let raw = row.repeat(height as usize);
    let mut zlib = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        zlib.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        zlib.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(&data);
        png.extend_from_slice(kind);
        png.extend_from_slice(&data);
        png.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_well_formed() {
        let png = png_rgb(3, 2, [1, 2, 3]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 3);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 2);
        // CRC-32 of "IEND" is the well-known AE426082.
        assert_eq!(&png[png.len() - 4..], &[0xae, 0x42, 0x60, 0x82]);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }
}
