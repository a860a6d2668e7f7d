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
//! - **Event subscriptions** (the spec-driven part, stateful) deliver signed V1/V2 webhooks
//!   on [`WxccSim::emit`]; the **notification and realtime WebSocket** is in [`socket`].
//! - **gzip**: responses over `gzip_threshold` (1 MB, as the API) are compressed when the
//!   request sends `Accept-Encoding: gzip`.
//! - **Limits and faults**: a sliding-window rate limit (default 300 per minute) answering
//!   429 with `Retry-After` and no body; queued [`Fault`]s for the next API calls;
//!   [`WxccSim::expire_access_tokens`] to provoke 401s. Every response echoes the request's
//!   `TrackingId`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use cc_core::sim::{Faults, SimServer, lock};
use cc_core::{EpochMillis, Secret};
use serde_json::Value;
use tokio::time::Instant;

pub use cc_core::sim::{Fault, Simulator};

use self::captures::{captures, recording};
use self::data::{generate_activities, generate_tasks, recording_body};
use self::oauth::{Tokens, access_token, authorize, consent, service_app_token};
use self::reporting::{activities, agent_statistics, queue_statistics, tasks};
use self::search::search;
use self::sites::{
    bulk_sites, create_site, delete_site, export_sites, get_site, list_sites, sites_page, update_site,
};
use crate::model::Site;

mod captures;
mod data;
pub mod events;
mod http;
mod oauth;
mod reporting;
mod search;
mod sites;
pub mod socket;
mod spec;

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
    /// The server keepalive period of the notification socket (default 4 s; the real
    /// interval is not documented, the SDK only expects a frame within 8 s).
    pub socket_keepalive_interval: Duration,
    /// How long a socket subscribed with `isKeepAliveEnabled` lives without a client
    /// keepalive (default `None`: the spec's 16 s notification, 15 s realtime).
    pub client_keepalive_timeout: Option<Duration>,
    /// The operations the spec-driven part answers keep state (default `true`): created
    /// resources are what get, list, update and delete see, and an id never created is a 404.
    /// `false`: every item call answers the spec's example whatever the id (stripe-mock's way).
    pub stateful: bool,
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
            socket_keepalive_interval: Duration::from_secs(4),
            client_keepalive_timeout: None,
            stateful: true,
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
    /// Task ids per capture query, in order; the first [`LOG_LIMIT`](cc_core::sim::LOG_LIMIT).
    pub capture_batches: Vec<usize>,
    /// Responses sent gzip-compressed.
    pub gzipped: u64,
    /// Notification and realtime subscribes answered.
    pub socket_subscribes: u64,
    /// Sockets opened.
    pub sockets_opened: u64,
    /// Socket opens refused (an unknown URL, or one opened before).
    pub sockets_refused: u64,
    /// Client keepalives received.
    pub client_keepalives: u64,
    /// Sockets dropped for want of a client keepalive.
    pub sockets_idle_dropped: u64,
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
    ws_base: String,
    sockets: Mutex<socket::Sockets>,
    spec: spec::Spec,
}

cc_core::simulator! {
    /// A running simulator; stops when dropped. Start it, reach it and inject faults through
    /// [`Simulator`] (re-exported here): `Sim::start(config)`, `sim.base_url()`, `sim.inject(fault)`.
    pub struct WxccSim { state: Shared, config: SimConfig }
}

impl WxccSim {
    async fn launch(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        // The sockets have a port of their own on the same address.
        let sockets = cc_core::serve::bind(SocketAddr::new(addr.ip(), 0)).await?;
        let ws_base = format!("ws://{}", sockets.local_addr()?);
        let (mut server, shared) = SimServer::bind_with(addr, |addr| {
            let shared = Arc::new(Shared::new(config, format!("http://{addr}"), ws_base));
            (router(Arc::clone(&shared)), shared)
        })
        .await?;
        server.spawn(socket::serve(sockets, Arc::clone(&shared)));
        Ok(Self { server, shared })
    }
}

impl Shared {
    fn new(config: SimConfig, base: String, ws_base: String) -> Self {
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
            ws_base,
            sockets: Mutex::default(),
            spec: spec::Spec::new(),
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
        .route("/v1/notification/subscribe", post(socket::subscribe_notification))
        .route("/v1/realtime/subscribe", post(socket::subscribe_realtime))
        .fallback(spec::fallback)
        .method_not_allowed_fallback(spec::fallback)
        .with_state(shared)
}

impl WxccSim {
    /// Sends one event of each type in `events` to every subscription (created through the
    /// API, v1 or v2) that lists it — signed with its secret, with V2 headers when it has a
    /// `resourceVersion` — misbehaving as `how` says; returns what was sent or dropped.
    pub async fn emit(
        &self,
        events: &[crate::model::events::EventType],
        how: events::Emission,
    ) -> Vec<events::Delivery> {
        let planned: Vec<events::Planned> = events.iter().map(|kind| (kind.clone(), None)).collect();
        events::emit(&self.shared, &planned, how).await
    }

    /// [`WxccSim::emit`] of one `kind` event (a task event, `task:new`) for each of the first
    /// `count` generated tasks, with its id and `createdTime`: what reconciliation compares
    /// with the task list.
    pub async fn emit_for_tasks(
        &self,
        kind: &crate::model::events::EventType,
        count: usize,
        how: events::Emission,
    ) -> Vec<events::Delivery> {
        let planned: Vec<events::Planned> = self
            .shared
            .tasks
            .iter()
            .take(count)
            .filter_map(|t| {
                let id = t["id"].as_str()?.to_owned();
                let created = t["attributes"]["createdTime"].as_i64()?;
                Some((kind.clone(), Some((id, created))))
            })
            .collect();
        events::emit(&self.shared, &planned, how).await
    }

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
