//! An in-process fake of Webex Contact Center on loopback (feature `sim`), for tests and for
//! integrations written in any language.
//!
//! - **OAuth** under `/v1`: `GET /v1/authorize` redirects (302) to the redirect URI with a
//!   one-time `code` and the `state`; `POST /v1/access_token` (form) exchanges it or a refresh
//!   token. Refresh tokens **rotate**: after a refresh the old one is refused (400
//!   `invalid_grant`), as are reused codes. Access tokens end with `_<cluster>_<orgId>`.
//!   `POST /v1/applications/{appId}/token` issues service-app tokens to a bearer holding an
//!   admin token.
//! - **Reporting**: `GET /v1/tasks` over generated tasks (several share a millisecond, so
//!   paging by time meets ties), queue and agent statistics per 15/30/60-minute interval
//!   (400 for other intervals or windows of 24 h or more), agent activities with page numbers
//!   and a per-window record cap.
//! - **Captures**: `POST /v1/captures/query` (≤10 ids, `urlExpiration` 1..=60) with
//!   pre-signed URLs the simulator serves itself under `/recordings/`; like S3, a download
//!   that carries `Authorization` is refused (400).
//! - **Sites**: CRUD with versions (a stale version: 409; a duplicate name: 409; deleting a
//!   referenced site: 412), v2 pages, bulk (207 per item), bulk export pages.
//! - **Search**: `POST /search` understands the root field (`task`, `taskDetails`,
//!   `agentSession`, `taskLegDetails`) and its `from`, `to` and `pagination: {cursor}`
//!   arguments (literals or `$variables`); it returns pages with `pageInfo`. It does not
//!   execute GraphQL selections: every task field is returned. Unknown root fields give a
//!   GraphQL validation error with a 200, as GraphQL servers do.
//! - **gzip**: responses over `gzip_threshold` (1 MB, as the API) are compressed when the
//!   request sends `Accept-Encoding: gzip`.
//! - **Limits and faults**: a sliding-window rate limit (default 300 per minute) answering
//!   429 with `Retry-After` and no body; queued [`Fault`]s for the next API calls;
//!   [`WxccSim::expire_access_tokens`] to provoke 401s. Every response echoes the request's
//!   `TrackingId`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cc_core::sim::{Admitted, Faults, SimServer, lock, with_retry_after};
use cc_core::{EpochMillis, Secret};
use serde_json::{Value, json};
use tokio::time::Instant;

pub use cc_core::sim::{Fault, Simulator};

use crate::model::{BulkAction, BulkRequest, Site};

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The integration's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Secret<String>,
    /// The organization (a UUID).
    pub org_id: String,
    /// Access-token lifetime (default 12 h).
    pub access_token_lifetime: Duration,
    /// Refresh-token lifetime (default 60 days).
    pub refresh_token_lifetime: Duration,
    /// Service apps it knows: app id → (client id, client secret).
    pub service_apps: BTreeMap<String, (String, Secret<String>)>,
    /// Generated tasks (default 2,500).
    pub tasks: usize,
    /// Creation time of the first task; tasks come in groups of three sharing a millisecond,
    /// one group every `task_spacing`.
    pub start: EpochMillis,
    /// Time between task groups (default 60 s).
    pub task_spacing: Duration,
    /// Most tasks one page returns whatever `pageSize` asks (default 1000, the spec's
    /// maximum); set lower to play a server that caps pages.
    pub task_page_cap: usize,
    /// Generated agent activities (default 1,200), spread like the tasks.
    pub activities: usize,
    /// Most activity records one window returns (default 10,000, as the API).
    pub activity_record_cap: usize,
    /// Sites at start (default 3); the first is referenced by a team (deleting it gives 412).
    pub sites: usize,
    /// Tasks per search page (default 50).
    pub search_page_size: usize,
    /// Requests allowed per `rate_window` (default 300).
    pub rate_limit: usize,
    /// The rate limit's sliding window (default 60 s).
    pub rate_window: Duration,
    /// Responses larger than this are gzip-compressed when the request accepts gzip
    /// (default 1 MB, as the API).
    pub gzip_threshold: usize,
}

impl SimConfig {
    /// Defaults for `client_id`/`client_secret` and `org_id`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: Secret<String>,
        org_id: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            org_id: org_id.into(),
            access_token_lifetime: Duration::from_secs(12 * 3600),
            refresh_token_lifetime: Duration::from_secs(60 * 86_400),
            service_apps: BTreeMap::new(),
            tasks: 2_500,
            start: EpochMillis::new(1_651_395_600_000),
            task_spacing: Duration::from_secs(60),
            task_page_cap: 1000,
            activities: 1_200,
            activity_record_cap: 10_000,
            sites: 3,
            search_page_size: 50,
            rate_limit: 300,
            rate_window: Duration::from_secs(60),
            gzip_threshold: 1 << 20,
        }
    }

    /// The demo configuration: client `C-sim`, secret `sim-secret`, org
    /// `97cdbf45-ebe2-4687-8341-44d5c7abf101`.
    pub fn demo() -> Self {
        Self::new("C-sim", Secret::from("sim-secret"), "97cdbf45-ebe2-4687-8341-44d5c7abf101")
    }
}

/// What the simulator saw, for assertions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Authorization codes exchanged.
    pub codes_exchanged: u64,
    /// Successful refreshes.
    pub refreshes: u64,
    /// Refresh attempts with a token that was already rotated away.
    pub stale_refreshes: u64,
    /// Service-app tokens issued.
    pub service_app_tokens: u64,
    /// API calls admitted (after auth and the rate limit).
    pub api_calls: u64,
    /// Calls answered 429 by the rate limit.
    pub rate_limited: u64,
    /// Most calls seen in one rate window.
    pub max_in_window: usize,
    /// Recording downloads served.
    pub downloads: u64,
    /// Task ids per capture query, in order.
    pub capture_batches: Vec<usize>,
    /// Responses sent gzip-compressed.
    pub gzipped: u64,
}

struct Grant {
    refresh_token: String,
    refresh_expires: Instant,
}

#[derive(Default)]
struct Tokens {
    /// Live access tokens and their expiry.
    access: HashMap<String, Instant>,
    /// Live refresh tokens.
    refresh: HashMap<String, Grant>,
    /// Refresh tokens rotated away.
    rotated: Vec<String>,
    /// Codes not yet exchanged: code → redirect URI.
    codes: HashMap<String, String>,
}

struct Shared {
    config: SimConfig,
    tasks: Vec<Value>,
    activities: Vec<Value>,
    tokens: Mutex<Tokens>,
    sites: Mutex<BTreeMap<String, Site>>,
    referenced_site: Option<String>,
    window: Mutex<VecDeque<Instant>>,
    faults: Faults,
    stats: Mutex<SimStats>,
    counter: AtomicU64,
    base: String,
}

cc_core::simulator! {
    /// A running simulator; stops when dropped. Start it, reach it and inject faults through
    /// [`Simulator`] (re-exported here): `Sim::start(config)`, `sim.base_url()`, `sim.inject(fault)`.
    pub struct WxccSim { state: Shared, config: SimConfig }
}

impl WxccSim {
    async fn launch(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let (server, shared) = SimServer::bind_with(addr, |addr| {
            let shared = Arc::new(Shared::new(config, format!("http://{addr}")));
            (router(Arc::clone(&shared)), shared)
        })
        .await?;
        Ok(Self { server, shared })
    }
}

impl Shared {
    fn new(config: SimConfig, base: String) -> Self {
        let mut sites = BTreeMap::new();
        for i in 0..config.sites {
            let mut site = Site::new(format!("Site {}", i + 1), "mm-profile-1");
            site.id = Some(format!("site-{:04}", i + 1));
            site.version = Some(0);
            site.organization_id = Some(config.org_id.clone());
            site.created_time = Some(config.start);
            site.last_updated_time = Some(config.start);
            sites.insert(site.id.clone().unwrap_or_default(), site);
        }
        let referenced_site = sites.keys().next().cloned();
        Shared {
            tasks: generate_tasks(&config),
            activities: generate_activities(&config),
            config,
            tokens: Mutex::default(),
            sites: Mutex::new(sites),
            referenced_site,
            window: Mutex::default(),
            faults: Faults::default(),
            stats: Mutex::default(),
            counter: AtomicU64::new(1),
            base,
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/authorize", get(authorize))
        .route("/v1/access_token", post(access_token))
        .route("/v1/applications/{app_id}/token", post(service_app_token))
        .route("/v1/tasks", get(tasks))
        .route("/v1/queues/statistics", get(queue_statistics))
        .route("/v1/agents/statistics", get(agent_statistics))
        .route("/v1/agents/activities", get(activities))
        .route("/v1/captures/query", post(captures))
        .route("/recordings/{file}", get(recording))
        .route("/organization/{org}/site", get(list_sites).post(create_site))
        .route("/organization/{org}/v2/site", get(sites_page))
        .route("/organization/{org}/site/bulk", post(bulk_sites))
        .route("/organization/{org}/site/bulk-export", get(export_sites))
        .route("/organization/{org}/site/{id}", get(get_site).put(update_site).delete(delete_site))
        .route("/search", post(search))
        .with_state(shared)
}

impl WxccSim {
    /// The OAuth root (`{base}/v1`; use `Integration::oauth_base`).
    pub fn oauth_base(&self) -> String {
        format!("{}/v1", self.shared.base)
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// The admin's consent, without a browser: given the authorize URL the integration built,
    /// returns the redirect's query string (`code=…&state=…`), as `GET /v1/authorize` would.
    pub fn consent(&self, authorize_url: &str) -> Result<String, String> {
        let query = authorize_url.split_once('?').map_or("", |(_, q)| q);
        let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        consent(&self.shared, &params).map(|(_, query)| query)
    }

    /// Makes every access token issued so far invalid: the next calls get 401.
    pub fn expire_access_tokens(&self) {
        lock(&self.shared.tokens).access.clear();
    }

    /// What the simulator saw.
    pub fn stats(&self) -> SimStats {
        lock(&self.shared.stats).clone()
    }

    /// The generated tasks' ids, in creation order.
    pub fn task_ids(&self) -> Vec<String> {
        self.shared.tasks.iter().filter_map(|t| t["id"].as_str().map(str::to_owned)).collect()
    }

    /// The generated activities count.
    pub fn activity_count(&self) -> usize {
        self.shared.activities.len()
    }

    /// The bytes every recording download returns.
    pub fn recording_bytes(task_id: &str) -> Vec<u8> {
        recording_body(task_id)
    }
}

// ------------------------------------------------------------------ data

fn uuid(n: u64, salt: u64) -> String {
    let x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (x >> 32) as u32,
        (x >> 16) as u16,
        n as u16 & 0xfff,
        (salt as u16) & 0xfff,
        (x & 0xffff_ffff_ffff) ^ n
    )
}

const CHANNELS: [&str; 4] = ["telephony", "chat", "email", "social"];
const STATUSES: [&str; 6] = ["completed", "abandoned", "completed", "assigned", "queued", "completed"];

fn generate_tasks(config: &SimConfig) -> Vec<Value> {
    let spacing = i64::try_from(config.task_spacing.as_millis()).unwrap_or(60_000);
    (0..config.tasks as u64)
        .map(|i| {
            let created = config.start.as_i64() + (i / 3) as i64 * spacing;
            let channel = CHANNELS[(i % 4) as usize];
            let status = STATUSES[(i % 6) as usize];
            let mut attributes = json!({
                "queue": {"id": uuid(i % 3, 0x51), "name": format!("Queue {}", i % 3 + 1)},
                "channelType": channel,
                "status": status,
                "createdTime": created,
                "lastUpdatedTime": created + 90_000,
                "captureRequested": channel == "telephony",
                "origin": format!("+1555010{:04}", i % 10_000),
                "destination": "+18005555555",
                "direction": if i % 5 == 0 { "outbound" } else { "inbound" },
            });
            if status != "queued" {
                attributes["owner"] =
                    json!({"id": uuid(i % 7, 0xa6), "name": format!("Agent {}", i % 7 + 1)});
            }
            json!({"id": uuid(i, 0x7a5c), "attributes": attributes})
        })
        .collect()
}

fn generate_activities(config: &SimConfig) -> Vec<Value> {
    let spacing = i64::try_from(config.task_spacing.as_millis()).unwrap_or(60_000);
    (0..config.activities as u64)
        .map(|i| {
            let start = config.start.as_i64() + i as i64 * spacing / 2;
            let state = ["available", "connected", "wrapup", "idle"][(i % 4) as usize];
            json!({
                "active": false, "agentId": uuid(i % 7, 0xa6), "agentDn": "5555555",
                "agentLogin": format!("agent{}@example.com", i % 7 + 1),
                "agentSessionId": uuid(i / 20, 0x5e), "agentName": format!("Agent {}", i % 7 + 1),
                "currentState": state, "siteId": "site-0001", "siteName": "Site 1",
                "teamId": uuid(i % 2, 0x7e), "teamName": format!("Team {}", i % 2 + 1), "isLogin": 1,
                "channelId": uuid(i, 0xc4), "channelType": CHANNELS[(i % 4) as usize],
                "idleCode": "", "idleCodeName": if state == "idle" { "Break" } else { "" },
                "startTime": start, "endTime": start + 25_000, "mmProfileType": "blended",
            })
        })
        .collect()
}

fn recording_body(task_id: &str) -> Vec<u8> {
    // A valid, silent 8 kHz mono 16-bit WAV of one second, tagged with the task id.
    let samples = 8_000u32;
    let mut out = Vec::with_capacity(44 + samples as usize * 2 + task_id.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8_000u32.to_le_bytes());
    out.extend_from_slice(&16_000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples * 2).to_le_bytes());
    out.resize(44 + samples as usize * 2, 0);
    out
}

// ------------------------------------------------------------------ helpers

fn error_body(status: StatusCode, tracking: &str, message: &str) -> Response {
    let body = json!({
        "trackingId": tracking,
        "error": {"key": status.as_u16().to_string(), "message": [{"description": message}]},
    });
    (status, axum::Json(body)).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, axum::Json(json!({"error": error, "error_description": description}))).into_response()
}

fn tracking(headers: &HeaderMap) -> String {
    headers.get("trackingid").and_then(|v| v.to_str().ok()).unwrap_or("sim-untracked").to_owned()
}

fn echo(mut response: Response, tracking: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(tracking) {
        response.headers_mut().insert("TrackingId", value);
    }
    response
}

fn random_token(shared: &Shared, kind: &str) -> String {
    let n = shared.counter.fetch_add(1, Ordering::Relaxed);
    let noise: String = (0..24).map(|_| fastrand::alphanumeric()).collect();
    format!("{kind}{n}{noise}")
}

fn issue(shared: &Shared, tokens: &mut Tokens) -> Value {
    let config = &shared.config;
    let access = format!("{}_P0A1_{}", random_token(shared, "AT"), config.org_id);
    let refresh = random_token(shared, "RT");
    let now = Instant::now();
    tokens.access.insert(access.clone(), now + config.access_token_lifetime);
    tokens.refresh.insert(
        refresh.clone(),
        Grant { refresh_token: refresh.clone(), refresh_expires: now + config.refresh_token_lifetime },
    );
    json!({
        "access_token": access,
        "expires_in": config.access_token_lifetime.as_secs(),
        "refresh_token": refresh,
        // Lifetimes sometimes arrive as strings: the simulator sends one that way.
        "refresh_token_expires_in": config.refresh_token_lifetime.as_secs().to_string(),
        "token_type": "Bearer",
    })
}

fn consent(shared: &Shared, params: &HashMap<String, String>) -> Result<(String, String), String> {
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    if get("response_type") != "code" {
        return Err("response_type must be code".into());
    }
    if get("client_id") != shared.config.client_id {
        return Err("unknown client_id".into());
    }
    let redirect = get("redirect_uri");
    if redirect.is_empty() {
        return Err("redirect_uri is required".into());
    }
    let code = random_token(shared, "CODE");
    lock(&shared.tokens).codes.insert(code.clone(), redirect.clone());
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("code", &code);
    if let Some(state) = params.get("state") {
        query.append_pair("state", state);
    }
    Ok((redirect, query.finish()))
}

fn bearer_is_live(shared: &Shared, headers: &HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    lock(&shared.tokens).access.get(token).is_some_and(|expires| Instant::now() < *expires)
}

/// Auth, rate limit, then the admission step (`cc_core::sim::Faults::admit`); `Err` is the
/// answer to send instead.
async fn admit(shared: &Shared, headers: &HeaderMap, tracking: &str) -> Result<Admitted, Response> {
    if !bearer_is_live(shared, headers) {
        return Err(error_body(StatusCode::UNAUTHORIZED, tracking, "Incorrect Credentials."));
    }
    {
        let now = Instant::now();
        let mut window = lock(&shared.window);
        while window.front().is_some_and(|t| now.duration_since(*t) >= shared.config.rate_window) {
            window.pop_front();
        }
        if window.len() >= shared.config.rate_limit {
            let oldest = *window.front().expect("a full window has a front");
            let wait = (oldest + shared.config.rate_window).saturating_duration_since(now);
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            lock(&shared.stats).rate_limited += 1;
            // The API may send 429 with no body.
            return Err(with_retry_after(
                StatusCode::TOO_MANY_REQUESTS.into_response(),
                Some(seconds.max(1)),
            ));
        }
        window.push_back(now);
        let mut stats = lock(&shared.stats);
        stats.api_calls += 1;
        stats.max_in_window = stats.max_in_window.max(window.len());
    }
    shared.faults.admit(|status| error_body(status, tracking, "fault injected by the simulator")).await
}

/// A JSON answer, gzipped when asked for and over the threshold, with the tracking id echoed.
fn respond(
    shared: &Shared,
    headers: &HeaderMap,
    status: StatusCode,
    body: Value,
    tracking: &str,
) -> Response {
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")));
    // Like the API: compressed only when asked for and larger than the threshold.
    if accepts_gzip && bytes.len() > shared.config.gzip_threshold {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        if encoder.write_all(&bytes).is_ok()
            && let Ok(compressed) = encoder.finish()
        {
            lock(&shared.stats).gzipped += 1;
            let headers = [(header::CONTENT_TYPE, "application/json"), (header::CONTENT_ENCODING, "gzip")];
            return echo((status, headers, compressed).into_response(), tracking);
        }
    }
    echo((status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(), tracking)
}

/// Runs `handler` after [`admit`], answering 400 for its `Err`.
macro_rules! api {
    ($shared:expr, $headers:expr, |$tracking:ident| $body:expr) => {{
        let $tracking = tracking(&$headers);
        match admit(&$shared, &$headers, &$tracking).await {
            Err(response) => echo(response, &$tracking),
            Ok(admitted) => {
                let result: Result<(StatusCode, Value), (StatusCode, String)> = $body;
                match result {
                    Ok((status, body)) => {
                        admitted.respond(respond(&$shared, &$headers, status, body, &$tracking))
                    }
                    Err((status, message)) => echo(error_body(status, &$tracking, &message), &$tracking),
                }
            }
        }
    }};
}

fn bad(message: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, message.into())
}

fn param_i64(params: &HashMap<String, String>, name: &str) -> Result<Option<i64>, (StatusCode, String)> {
    params.get(name).map(|v| v.parse::<i64>().map_err(|_| bad(format!("{name}: not a number")))).transpose()
}

/// `from` (required), `to` (default: open) and `pageSize` (1..=1000, default 100).
fn paged_window(params: &HashMap<String, String>) -> Result<(i64, i64, i64), (StatusCode, String)> {
    let from = param_i64(params, "from")?.ok_or_else(|| bad("from: required"))?;
    let to = param_i64(params, "to")?.unwrap_or(i64::MAX);
    let size = param_i64(params, "pageSize")?.unwrap_or(100);
    if !(1..=1000).contains(&size) {
        return Err(bad("pageSize: must be between 1 and 1000"));
    }
    Ok((from, to, size))
}

fn check_org(shared: &Shared, params: &HashMap<String, String>) -> Result<(), (StatusCode, String)> {
    match params.get("orgId") {
        Some(org) if *org != shared.config.org_id => {
            Err((StatusCode::FORBIDDEN, "Token is not authorized for this organization".into()))
        }
        _ => Ok(()),
    }
}

fn list_param(params: &HashMap<String, String>, name: &str) -> Vec<String> {
    params
        .get(name)
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

fn meta(shared: &Shared) -> Value {
    json!({"orgId": shared.config.org_id})
}

// ------------------------------------------------------------------ OAuth

async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match consent(&shared, &params) {
        Ok((redirect, query)) => {
            let sep = if redirect.contains('?') { '&' } else { '?' };
            let location = format!("{redirect}{sep}{query}");
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        Err(message) => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &message),
    }
}

async fn access_token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("client_id") != shared.config.client_id
        || get("client_secret") != shared.config.client_secret.expose_secret()
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    }
    let mut tokens = lock(&shared.tokens);
    match get("grant_type") {
        "authorization_code" => match tokens.codes.remove(get("code")) {
            Some(redirect) if redirect == get("redirect_uri") => {
                let body = issue(&shared, &mut tokens);
                drop(tokens);
                lock(&shared.stats).codes_exchanged += 1;
                axum::Json(body).into_response()
            }
            Some(_) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "redirect_uri does not match"),
            None => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown or used code"),
        },
        "refresh_token" => {
            let presented = get("refresh_token");
            match tokens.refresh.remove(presented) {
                Some(grant) if Instant::now() < grant.refresh_expires => {
                    tokens.rotated.push(grant.refresh_token);
                    let body = issue(&shared, &mut tokens);
                    drop(tokens);
                    lock(&shared.stats).refreshes += 1;
                    axum::Json(body).into_response()
                }
                Some(_) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "refresh token expired"),
                None => {
                    let stale = tokens.rotated.iter().any(|t| t == presented);
                    drop(tokens);
                    if stale {
                        lock(&shared.stats).stale_refreshes += 1;
                    }
                    oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "refresh token is not valid (rotated or unknown)",
                    )
                }
            }
        }
        other => {
            oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", &format!("grant_type {other:?}"))
        }
    }
}

async fn service_app_token(
    State(shared): State<Arc<Shared>>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !bearer_is_live(&shared, &headers) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "a valid admin token is required");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "body is not JSON");
    };
    let known = shared.config.service_apps.get(&app_id).is_some_and(|(id, secret)| {
        request["clientId"] == id.as_str() && request["clientSecret"] == secret.expose_secret().as_str()
    });
    if !known {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown service app or wrong credentials",
        );
    }
    if request["targetOrgId"] != shared.config.org_id.as_str() {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "the app is not authorized in targetOrgId",
        );
    }
    let body = issue(&shared, &mut lock(&shared.tokens));
    lock(&shared.stats).service_app_tokens += 1;
    axum::Json(body).into_response()
}

// ------------------------------------------------------------------ reporting

async fn tasks(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let (from, to, size) = paged_window(&params)?;
        let channels = list_param(&params, "channelTypes");
        let data: Vec<&Value> = shared
            .tasks
            .iter()
            .filter(|t| {
                let created = t["attributes"]["createdTime"].as_i64().unwrap_or(0);
                created >= from && created < to
            })
            .filter(|t| {
                channels.is_empty() || channels.iter().any(|c| t["attributes"]["channelType"] == c.as_str())
            })
            .take((size as usize).min(shared.config.task_page_cap))
            .collect();
        Ok((StatusCode::OK, json!({"meta": meta(&shared), "data": data})))
    })())
}

fn statistics_window(params: &HashMap<String, String>) -> Result<(i64, i64, i64), (StatusCode, String)> {
    let from = param_i64(params, "from")?.ok_or_else(|| bad("from: required"))?;
    let to = param_i64(params, "to")?.ok_or_else(|| bad("to: required"))?;
    let interval = param_i64(params, "interval")?.unwrap_or(15);
    if ![15, 30, 60].contains(&interval) {
        return Err(bad("interval: must be 15, 30 or 60"));
    }
    if to <= from || to - from >= 24 * 3_600_000 {
        return Err(bad("the window between from and to must be positive and under 24 hours"));
    }
    let step = interval * 60_000;
    // The API rounds `from` down to 15 minutes.
    let start = from - from.rem_euclid(15 * 60_000);
    Ok((start, to, step))
}

/// One row per interval of `window` and per generated entity (`count` ids from `salt`) that
/// `wanted` lets through (all when empty).
fn per_interval(
    (start, to, step): (i64, i64, i64),
    count: u64,
    salt: u64,
    wanted: &[String],
    row: impl Fn(i64, u64, String) -> Value,
) -> Vec<Value> {
    let mut data = Vec::new();
    let mut at = start;
    while at < to {
        for n in 0..count {
            let id = uuid(n, salt);
            if wanted.is_empty() || wanted.contains(&id) {
                data.push(row(at, n, id));
            }
        }
        at += step;
    }
    data
}

async fn queue_statistics(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let (start, to, step) = statistics_window(&params)?;
        let wanted = list_param(&params, "queueIds");
        let data = per_interval((start, to, step), 3, 0x51, &wanted, |at, q, id| {
            let n = (at / step) as u64 % 7 + q;
            json!({
                "intervalStartTime": at, "queueId": id, "queueName": format!("Queue {}", q + 1),
                "channelType": CHANNELS[q as usize], "totalOfferedTasks": n + 2, "totalEnqueuedTasks": n + 2,
                "totalAssignedTasks": n, "totalAcceptedTasks": n, "totalRejectedTasks": 1,
                "totalAbandonedTasks": 1, "averageEnqueuedTime": 20349.12 + n as f64,
                "averageHandledTime": 93729.01, "serviceLevelThresholdPercentage": 25.34,
            })
        });
        Ok((StatusCode::OK, json!({"meta": meta(&shared), "data": data})))
    })())
}

async fn agent_statistics(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let (start, to, step) = statistics_window(&params)?;
        let wanted = list_param(&params, "agentIds");
        if wanted.len() > 100 {
            return Err(bad("agentIds: at most 100"));
        }
        let data = per_interval((start, to, step), 7, 0xa6, &wanted, |at, a, id| {
            json!({
                "intervalStartTime": at, "agentId": id, "agentName": format!("Agent {}", a + 1),
                "teamId": uuid(a % 2, 0x7e), "teamName": format!("Team {}", a % 2 + 1),
                "channels": [{
                    "channelType": "chat", "totalAssignedTasks": 3, "totalOfferedTasks": 3,
                    "totalAcceptedTasks": 3, "totalRejectedTasks": 0, "totalTransferredTasks": 1,
                    "totalEngagedDuration": 40302, "totalHoldDuration": 10198, "totalWrapUpDuration": 3552,
                    "totalAvailableTime": 234947, "totalUnAvailableTime": 22300, "averageHandledTime": 22300,
                }],
            })
        });
        Ok((StatusCode::OK, json!({"meta": meta(&shared), "data": data})))
    })())
}

async fn activities(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let (from, to, size) = paged_window(&params)?;
        let page = param_i64(&params, "page")?.unwrap_or(0).max(0);
        let agents = list_param(&params, "agentIds");
        let data: Vec<&Value> = shared
            .activities
            .iter()
            .filter(|a| {
                let start = a["startTime"].as_i64().unwrap_or(0);
                start >= from && start < to
            })
            .filter(|a| agents.is_empty() || agents.iter().any(|id| a["agentId"] == id.as_str()))
            .take(shared.config.activity_record_cap)
            .skip((page * size) as usize)
            .take(size as usize)
            .collect();
        Ok((StatusCode::OK, json!({"meta": meta(&shared), "data": data})))
    })())
}

// ------------------------------------------------------------------ captures

async fn captures(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    api!(shared, headers, |tracking| (|| {
        let request: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let query = request.get("query").ok_or_else(|| bad("query: required"))?;
        let ids: Vec<String> = query["taskIds"]
            .as_array()
            .ok_or_else(|| bad("query.taskIds: required"))?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        if ids.is_empty() || ids.len() > 10 {
            return Err(bad("query.taskIds: 1 to 10 ids"));
        }
        let expiration = query.get("urlExpiration").map_or(Some(30), Value::as_i64).unwrap_or(0);
        if !(1..=60).contains(&expiration) {
            return Err(bad("query.urlExpiration: must be 1 to 60"));
        }
        if let Some(org) = query["orgId"].as_str()
            && org != shared.config.org_id
        {
            return Err((StatusCode::FORBIDDEN, "Token is not authorized for this organization".into()));
        }
        lock(&shared.stats).capture_batches.push(ids.len());
        let expires = EpochMillis::now().as_i64() + expiration * 60_000;
        let data: Vec<Value> = ids
            .iter()
            .map(|id| {
                let task = shared.tasks.iter().find(|t| t["id"] == id.as_str());
                let recorded = task.is_some_and(|t| t["attributes"]["captureRequested"] == true);
                let recording = if recorded {
                    let created = task.map_or(0, |t| t["attributes"]["createdTime"].as_i64().unwrap_or(0));
                    vec![json!({
                        "id": uuid(created as u64, 0x4ec), "segment": false,
                        "attributes": {
                            "fileName": format!("{id}.wav"),
                            "filePath": format!("{}/recordings/{id}.wav?expires={expires}&sig={}", shared.base, signature(id, expires)),
                            "startTime": created, "stopTime": created + 60_000,
                            "participants": [uuid(1, 0xa6), "+121****1219"],
                            "channel1": "Caller", "channel2": "Agent", "callType": "main", "sensitive": false,
                        },
                    })]
                } else {
                    Vec::new()
                };
                json!({"taskId": id, "recording": recording, "transcription": []})
            })
            .collect();
        Ok((
            StatusCode::OK,
            json!({"meta": {"orgId": shared.config.org_id, "urlExpiration": expiration}, "data": data}),
        ))
    })())
}

fn signature(file: &str, expires: i64) -> String {
    let mac = cc_core::auth::hmac_sha1_base64(b"sim-presign-key", format!("{file}:{expires}").as_bytes());
    mac.replace(['+', '/', '='], "")
}

async fn recording(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        // What S3 answers to a pre-signed URL sent with an Authorization header.
        return (StatusCode::BAD_REQUEST, "InvalidArgument: Only one auth mechanism allowed").into_response();
    }
    let params: HashMap<String, String> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let task_id = file.strip_suffix(".wav").unwrap_or(&file);
    let expires = params.get("expires").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    if params.get("sig").map(String::as_str) != Some(signature(task_id, expires).as_str()) {
        return (StatusCode::FORBIDDEN, "SignatureDoesNotMatch").into_response();
    }
    if EpochMillis::now().as_i64() > expires {
        return (StatusCode::FORBIDDEN, "Request has expired").into_response();
    }
    lock(&shared.stats).downloads += 1;
    ([(header::CONTENT_TYPE, "audio/wav")], recording_body(task_id)).into_response()
}

// ------------------------------------------------------------------ sites

fn org_matches(shared: &Shared, org: &str) -> Result<(), (StatusCode, String)> {
    if org == shared.config.org_id {
        Ok(())
    } else {
        Err((StatusCode::FORBIDDEN, "Token is not authorized for this organization".into()))
    }
}

fn site_json(site: &Site) -> Value {
    serde_json::to_value(site).unwrap_or(Value::Null)
}

fn save_site(
    shared: &Shared,
    mut site: Site,
    id: Option<&str>,
) -> Result<(StatusCode, Site), (StatusCode, String)> {
    site.validate().map_err(bad)?;
    let mut sites = lock(&shared.sites);
    let now = EpochMillis::now();
    match id {
        None => {
            if sites.values().any(|s| s.name.eq_ignore_ascii_case(&site.name)) {
                return Err((
                    StatusCode::CONFLICT,
                    format!("name: a site named {:?} already exists", site.name),
                ));
            }
            let id = format!("site-{:05}", shared.counter.fetch_add(1, Ordering::Relaxed));
            site.id = Some(id.clone());
            site.version = Some(0);
            site.organization_id = Some(shared.config.org_id.clone());
            site.created_time = Some(now);
            site.last_updated_time = Some(now);
            sites.insert(id, site.clone());
            Ok((StatusCode::CREATED, site))
        }
        Some(id) => {
            let Some(current) = sites.get(id) else {
                return Err((StatusCode::NOT_FOUND, format!("site {id} not found")));
            };
            if site.id.as_deref().is_some_and(|body_id| body_id != id) {
                return Err(bad("id: the body's id differs from the path's"));
            }
            if site.version != current.version {
                return Err((
                    StatusCode::CONFLICT,
                    format!("version: stale version {:?}, current is {:?}", site.version, current.version),
                ));
            }
            if sites.iter().any(|(other, s)| other != id && s.name.eq_ignore_ascii_case(&site.name)) {
                return Err((
                    StatusCode::CONFLICT,
                    format!("name: a site named {:?} already exists", site.name),
                ));
            }
            site.id = Some(id.to_owned());
            site.version = current.version.map(|v| v + 1);
            site.organization_id = current.organization_id.clone();
            site.created_time = current.created_time;
            site.last_updated_time = Some(now);
            sites.insert(id.to_owned(), site.clone());
            Ok((StatusCode::OK, site))
        }
    }
}

fn remove_site(shared: &Shared, id: &str) -> Result<(), (StatusCode, String)> {
    if shared.referenced_site.as_deref() == Some(id) {
        return Err((StatusCode::PRECONDITION_FAILED, format!("site {id} is referenced by a team")));
    }
    lock(&shared.sites)
        .remove(id)
        .map(|_| ())
        .ok_or_else(|| (StatusCode::NOT_FOUND, format!("site {id} not found")))
}

async fn list_sites(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let sites: Vec<Value> = lock(&shared.sites).values().map(site_json).collect();
        Ok((StatusCode::OK, Value::Array(sites)))
    })())
}

async fn sites_page(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let page = param_i64(&params, "page")?.unwrap_or(0).max(0);
        let size = param_i64(&params, "pageSize")?.unwrap_or(100).clamp(1, 1000);
        let search = params.get("search").map(|s| s.to_lowercase());
        let all: Vec<Value> = lock(&shared.sites)
            .values()
            .filter(|s| search.as_ref().is_none_or(|q| s.name.to_lowercase().contains(q)))
            .map(site_json)
            .collect();
        let total_pages = (all.len() as i64 + size - 1) / size;
        let data: Vec<&Value> = all.iter().skip((page * size) as usize).take(size as usize).collect();
        let link = |p: i64| format!("/organization/{org}/v2/site?page={p}&pageSize={size}");
        let mut links = json!({"self": link(page), "first": link(0), "last": link((total_pages - 1).max(0))});
        if page + 1 < total_pages {
            links["next"] = Value::from(link(page + 1));
        }
        if page > 0 {
            links["prev"] = Value::from(link(page - 1));
        }
        let meta = json!({
            "orgid": org, "page": page, "pageSize": size, "totalPages": total_pages,
            "totalRecords": all.len(), "links": links,
        });
        Ok((StatusCode::OK, json!({"meta": meta, "data": data})))
    })())
}

async fn create_site(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
    body: Bytes,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let site: Site = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let (status, site) = save_site(&shared, site, None)?;
        Ok((status, site_json(&site)))
    })())
}

async fn get_site(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((org, id)): Path<(String, String)>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let site = lock(&shared.sites).get(&id).cloned();
        site.map(|s| (StatusCode::OK, site_json(&s)))
            .ok_or((StatusCode::NOT_FOUND, format!("site {id} not found")))
    })())
}

async fn update_site(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let site: Site = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let (status, site) = save_site(&shared, site, Some(&id))?;
        Ok((status, site_json(&site)))
    })())
}

async fn delete_site(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((org, id)): Path<(String, String)>,
) -> Response {
    let tracking = tracking(&headers);
    match admit(&shared, &headers, &tracking).await {
        Err(response) => echo(response, &tracking),
        // Processed first, as every simulated call: a reset breaks the answer, not the call.
        Ok(admitted) => match org_matches(&shared, &org).and_then(|()| remove_site(&shared, &id)) {
            Ok(()) => admitted.respond(echo(StatusCode::NO_CONTENT.into_response(), &tracking)),
            Err((status, message)) => echo(error_body(status, &tracking, &message), &tracking),
        },
    }
}

async fn bulk_sites(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
    body: Bytes,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let bulk: BulkRequest = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let results: Vec<Value> = bulk
            .items
            .into_iter()
            .map(|item| {
                let (operation, outcome) = match item.request_action {
                    BulkAction::Delete => {
                        let id = item.item.id.clone().unwrap_or_default();
                        ("DELETE", remove_site(&shared, &id).map(|()| (StatusCode::NO_CONTENT, id)))
                    }
                    _ => {
                        let update = item.item.id.clone();
                        let op = if update.is_some() { "UPDATE" } else { "CREATE" };
                        let saved = save_site(&shared, item.item, update.as_deref());
                        (op, saved.map(|(status, site)| (status, site.id.unwrap_or_default())))
                    }
                };
                match outcome {
                    Ok((status, id)) => json!({
                        "itemIdentifier": item.item_identifier, "status": status.as_u16(),
                        "operationType": operation, "href": format!("/organization/{org}/site/{id}"),
                    }),
                    Err((status, message)) => json!({
                        "itemIdentifier": item.item_identifier, "status": status.as_u16(),
                        "operationType": operation,
                        "apiError": {"trackingId": tracking, "error": {"key": status.as_u16().to_string(),
                            "message": [{"description": message}]}},
                    }),
                }
            })
            .collect();
        Ok((StatusCode::MULTI_STATUS, json!({"items": results})))
    })())
}

async fn export_sites(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let page = param_i64(&params, "page")?.unwrap_or(0).max(0);
        let size = param_i64(&params, "pageSize")?.unwrap_or(100).clamp(1, 100);
        let sites = lock(&shared.sites);
        let resources: Vec<Value> = sites
            .values()
            .skip((page * size) as usize)
            .take(size as usize)
            .map(|s| json!({"name": s.name, "multimediaProfileName": format!("Profile {}", s.multimedia_profile_id)}))
            .collect();
        let more = ((page + 1) * size) < sites.len() as i64;
        Ok((
            StatusCode::OK,
            json!({
                "totalResources": sites.len(), "pageNumber": page, "pageSize": size,
                "rel": if more { "next" } else { "last" }, "resources": resources,
            }),
        ))
    })())
}

// ------------------------------------------------------------------ search

/// The value of argument `name` in the query: a literal (number or string) or a `$variable`.
fn argument(query: &str, variables: &Value, name: &str) -> Option<Value> {
    let at = query.find(&format!("{name}:"))? + name.len() + 1;
    let rest = query[at..].trim_start();
    if let Some(var) = rest.strip_prefix('$') {
        let end = var.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(var.len());
        return variables.get(&var[..end]).cloned();
    }
    if let Some(text) = rest.strip_prefix('"') {
        return text.find('"').map(|end| Value::from(&text[..end]));
    }
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(rest.len());
    rest[..end].parse::<i64>().ok().map(Value::from)
}

fn as_i64(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

fn graphql_error(message: &str, classification: &str) -> Value {
    json!({"errors": [{"message": message, "locations": [{"line": 1, "column": 1}],
        "extensions": {"classification": classification}}], "data": null})
}

async fn search(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let request: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let query = request["query"].as_str().ok_or_else(|| bad("query: required"))?;
        let variables = request.get("variables").cloned().unwrap_or(Value::Null);
        // The root field: the first name after the first `{`.
        let root = query
            .split_once('{')
            .map(|(_, rest)| rest.trim_start())
            .map(|rest| rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default())
            .unwrap_or_default();
        if !["task", "taskDetails", "agentSession", "taskLegDetails"].contains(&root) {
            let message = format!(
                "Validation error (FieldUndefined@[{root}]) : Field '{root}' in type 'Query' is undefined"
            );
            return Ok((StatusCode::OK, graphql_error(&message, "ValidationError")));
        }
        // Arguments are read after the root field, not in the variable declarations.
        let body = query.split_once('{').map_or("", |(_, rest)| rest);
        let (Some(from), Some(to)) = (
            argument(body, &variables, "from").as_ref().and_then(as_i64),
            argument(body, &variables, "to").as_ref().and_then(as_i64),
        ) else {
            return Ok((
                StatusCode::OK,
                graphql_error("Arguments 'from' and 'to' are required", "ValidationError"),
            ));
        };
        let cursor =
            argument(body, &variables, "cursor").as_ref().and_then(as_i64).unwrap_or(0).max(0) as usize;
        let matching: Vec<&Value> = shared
            .tasks
            .iter()
            .filter(|t| {
                let created = t["attributes"]["createdTime"].as_i64().unwrap_or(0);
                created >= from && created < to
            })
            .collect();
        let size = shared.config.search_page_size.max(1);
        let items: Vec<Value> = matching
            .iter()
            .skip(cursor)
            .take(size)
            .map(|t| {
                let a = &t["attributes"];
                json!({
                    "id": t["id"], "channelType": a["channelType"], "createdTime": a["createdTime"],
                    "endedTime": a["lastUpdatedTime"], "captureRequested": a["captureRequested"],
                    "isActive": false, "status": a["status"], "queue": [a["queue"]], "owner": a["owner"],
                })
            })
            .collect();
        let next = cursor + items.len();
        let list_name = if root == "agentSession" { "agentSessions" } else { "tasks" };
        let data = json!({root: {
            list_name: items,
            "pageInfo": {"hasNextPage": next < matching.len(), "endCursor": next.to_string()},
        }});
        Ok((StatusCode::OK, json!({"data": data})))
    })())
}
