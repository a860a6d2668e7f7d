//! The client (feature `client`): every call runs through cc-core's executor with the token
//! cache, a client-side rate limiter, retries, a `TrackingId` header, and gzip.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cc_core::EpochMillis;
use cc_core::auth::TokenCache;
use cc_core::de::parse_json;
use cc_core::http::{Body, Executor, Method, RateLimiter, Request, RetryPolicy};
use futures_util::{Stream, StreamExt as _};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;

use crate::api::{Operation, Paged, Parts};
use crate::auth::{Region, org_id_from_token};
use crate::error::Error;
use crate::model::{
    AgentActivity, AgentActivityPage, AgentStatistics, AgentStatisticsPage, BulkExport, BulkRequest,
    BulkResponse, CaptureList, CaptureQueryBody, PageInfo, QueueStatistics, QueueStatisticsPage,
    SearchRequest, SearchResponse, Site, SiteExport, SitePage, Task, TaskId, TaskPage,
};
use crate::query::{
    ACTIVITY_RECORD_CAP, ActivityQuery, Captures, StatisticsKind, StatisticsQuery, TaskQuery,
};

/// Client settings.
#[derive(Clone, Debug)]
pub struct WxccConfig {
    /// The tenant's region (API root).
    pub region: Region,
    /// The organization; derived from the access token when `None`.
    pub org_id: Option<String>,
    /// Client-side limit: at most this many attempts (retries included) per `rate_window`
    /// (default 300 per minute, the documented limit per client id). Clones of a client
    /// share it: use one client (or clones) per client id to stay inside the limit.
    pub rate_limit: u32,
    /// The rate limit's sliding window (default 60 s).
    pub rate_window: Duration,
    /// Retry limits. Reads (GET, captures query, search) are retried on 429/5xx/transport
    /// errors; creates and bulk saves only when they provably did not arrive or on 429.
    pub retry: RetryPolicy,
    /// Per-attempt timeout.
    pub attempt_timeout: Duration,
    /// Prefix of the `TrackingId` header sent with every call (`{prefix}_{uuid}`).
    pub tracking_prefix: String,
    /// Time a whole [`WxccClient::download`] may take, headers and body (default 30 min).
    /// The per-attempt timeout bounds each wait for data; this bounds a server that keeps
    /// sending slowly.
    pub download_deadline: Duration,
    /// Largest recording [`WxccClient::download`] writes (default 2 GiB; a one-hour stereo
    /// WAV at 8 kHz is about 115 MB). Larger ones stop with [`Error::DownloadLimit`].
    pub max_download_bytes: u64,
}

impl WxccConfig {
    /// Defaults for `region`.
    pub fn new(region: Region) -> Self {
        Self {
            region,
            org_id: None,
            rate_limit: 300,
            rate_window: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(60),
            tracking_prefix: "cckit".into(),
            download_deadline: Duration::from_secs(30 * 60),
            max_download_bytes: 2 * 1024 * 1024 * 1024,
        }
    }

    /// Sets the organization.
    pub fn org_id(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = Some(org_id.into());
        self
    }
}

/// Webex Contact Center API client. Cheap to clone; clones share the token, the rate limit
/// and the connection pool.
#[derive(Clone, Debug)]
pub struct WxccClient {
    executor: Executor,
    downloads: Executor,
    base: String,
    org_id: Option<String>,
    auth: Arc<TokenCache>,
    tracking_prefix: String,
    download_deadline: Duration,
    max_download_bytes: u64,
}

impl WxccClient {
    /// A client using tokens from `auth` (see [`crate::auth`]).
    pub fn new(config: WxccConfig, auth: Arc<TokenCache>) -> Result<Self, Error> {
        let limiter = Arc::new(RateLimiter::new(config.rate_limit, config.rate_window));
        let executor = Executor::builder()
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .auth(auth.clone())
            .retry_policy(config.retry)
            .attempt_timeout(config.attempt_timeout)
            .rate_limiter(limiter)
            .default_header("accept", "application/json")
            .user_agent(concat!("wxcc-api/", env!("CARGO_PKG_VERSION")))
            .build()?;
        // Pre-signed URLs: no Authorization, no API rate limit.
        let downloads = Executor::builder()
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .retry_policy(config.retry)
            .attempt_timeout(config.attempt_timeout)
            .user_agent(concat!("wxcc-api/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            executor,
            downloads,
            base: config.region.base_url(),
            org_id: config.org_id,
            auth,
            tracking_prefix: config.tracking_prefix,
            download_deadline: config.download_deadline,
            max_download_bytes: config.max_download_bytes,
        })
    }

    /// The organization: the configured one, else the one at the end of the access token.
    pub async fn org_id(&self) -> Result<String, Error> {
        if let Some(org) = &self.org_id {
            return Ok(org.clone());
        }
        let token = self.auth.token().await?;
        org_id_from_token(token.token().access_token().expose_secret()).ok_or_else(|| {
            Error::invalid(
                "orgId",
                "not configured, and the access token does not end with `_<cluster>_<orgId>`",
            )
        })
    }

    /// `{prefix}_{random UUID v4}`.
    fn tracking_id(&self) -> String {
        let hex = format!("{:032x}", fastrand::u128(..));
        let variant = ["8", "9", "a", "b"][usize::from(hex.as_bytes()[16] % 4)];
        format!(
            "{}_{}-{}-4{}-{variant}{}-{}",
            self.tracking_prefix,
            &hex[..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..]
        )
    }

    /// A request to `path` (relative to the API root) with the `TrackingId` header.
    pub fn request(&self, method: Method, path: &str) -> Request {
        Request::new(method, format!("{}{path}", self.base)).header("TrackingId", self.tracking_id())
    }

    async fn send_json<T: DeserializeOwned>(&self, request: &Request) -> Result<T, Error> {
        let response = self.executor.send(request).await?;
        parse_json(response.body())
            .map_err(|error| Error::Decode { operation: request.operation_name(), error })
    }

    /// Any path of the API with a JSON body, sharing auth, rate limit, retries and errors.
    /// `idempotent` says whether a failed attempt may be repeated.
    pub async fn call_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
        idempotent: bool,
    ) -> Result<T, Error> {
        let mut request = self.request(method, path).operation("wxcc.call_json").idempotent(idempotent);
        for (k, v) in query {
            request = request.query(*k, *v);
        }
        if let Some(body) = body {
            request = request.json(body).map_err(|e| Error::invalid("body", e.to_string()))?;
        }
        let response = self.executor.send(&request).await?;
        if response.body().iter().all(u8::is_ascii_whitespace) {
            return parse_json(b"null").map_err(|error| Error::Decode { operation: "wxcc.call_json", error });
        }
        parse_json(response.body()).map_err(|error| Error::Decode { operation: "wxcc.call_json", error })
    }

    // ---------------------------------------------------------------- every operation

    /// The request `op` is sent as, for the organization `org_id` (no I/O; for inspection and
    /// tests; [`WxccClient::call`] sends it).
    pub fn operation_request<O: Operation>(&self, op: &O, org_id: &str) -> Result<Request, Error> {
        let parts = Parts::of(op, org_id)?;
        let info = O::INFO;
        let mut request = self
            .request(info.method, &parts.path_and_query())
            .operation(info.name)
            .idempotent(info.idempotent());
        for (name, value) in &parts.headers {
            request = request.header(name.clone(), value.clone());
        }
        if let Some((content_type, bytes)) = parts.body {
            request = request.body(Body::Bytes { content_type, data: bytes });
        }
        Ok(request)
    }

    /// Sends any operation of the spec (see [`crate::api`]) through the same executor as every
    /// other call — token, retries by idempotency, rate limit, `TrackingId`, gzip — and decodes
    /// the answer into its generated type. The organization comes from the client where the
    /// operation's own field is `None`.
    pub async fn call<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        let org = if O::INFO.needs_org { self.org_id().await? } else { String::new() };
        let request = self.operation_request(op, &org)?;
        let response = self.executor.send(&request).await?;
        O::decode(response.body()).map_err(|error| Error::Decode { operation: O::INFO.name, error })
    }

    /// Every item of a paged operation, page after page from `op`'s page (0 if unset), until
    /// a page comes back empty (a server may cap pages below the asked size, so a short page
    /// is no end). A page identical to the previous one means the server ignores `page`: the
    /// stream ends with an error rather than repeat it forever.
    pub fn pages<O>(&self, op: O) -> impl Stream<Item = Result<O::Item, Error>> + Send + 'static
    where
        O: Paged + 'static,
        O::Output: 'static,
        O::Item: Clone + PartialEq + 'static,
    {
        let client = self.clone();
        let start = op.page().unwrap_or(0);
        paged((op, start, None::<Vec<O::Item>>), move |(mut op, page, previous)| {
            let client = client.clone();
            async move {
                op.set_page(page);
                match client.call(&op).await {
                    Err(e) => (vec![Err(e)], None),
                    Ok(output) => {
                        let items = O::items(output);
                        if items.is_empty() {
                            (Vec::new(), None)
                        } else if previous.as_ref() == Some(&items) {
                            let error = Error::invalid(
                                "page",
                                format!("page {page} repeats page {}: the server ignores `page`", page - 1),
                            );
                            (vec![Err(error)], None)
                        } else {
                            let next = items.clone();
                            (items.into_iter().map(Ok).collect(), Some((op, page + 1, Some(next))))
                        }
                    }
                }
            }
        })
    }

    fn with_org(request: Request, explicit: Option<&String>, org: &str) -> Request {
        request.query("orgId", explicit.map_or(org, String::as_str))
    }

    // ---------------------------------------------------------------- tasks

    /// The request for one page of tasks (for inspection; [`WxccClient::tasks`] sends it).
    pub fn tasks_request(&self, query: &TaskQuery, org_id: &str) -> Result<Request, Error> {
        query.validate()?;
        let mut request = self.request(Method::Get, "/v1/tasks").operation("wxcc.tasks");
        for (k, v) in query.params() {
            request = request.query(k, v);
        }
        Ok(Self::with_org(request, query.org_id.as_ref(), org_id))
    }

    /// One page of tasks (`GET /v1/tasks`).
    pub async fn tasks(&self, query: &TaskQuery) -> Result<TaskPage, Error> {
        let org = self.org_id().await?;
        self.send_json(&self.tasks_request(query, &org)?).await
    }

    /// Every task of the window, each once, in `createdTime` order.
    ///
    /// The API sorts by `createdTime` but exposes no offset, so this pages by moving `from`
    /// to the last task's `createdTime` minus 1 ms and drops the ids it already returned.
    /// Whether `from` is inclusive is not documented: the 1 ms overlap covers both readings
    /// (an assumption). If a full page brings nothing new (more tasks share one millisecond
    /// than a page holds), the stream ends with [`Error::Paging`] rather than skip tasks.
    /// The stream ends when a page brings no new task (an empty page, or only the overlap):
    /// a page shorter than `pageSize` is not taken as the end, since a server may cap pages
    /// lower; this costs one extra call per stream.
    pub fn task_stream(&self, query: TaskQuery) -> impl Stream<Item = Result<Task, Error>> + Send + 'static {
        struct State {
            client: WxccClient,
            query: TaskQuery,
            window_from: EpochMillis,
            seen: HashMap<TaskId, EpochMillis>,
        }
        let window_from = query.from;
        let state = State { client: self.clone(), query, window_from, seen: HashMap::new() };
        paged(state, |mut s| async move {
            let page = match s.client.tasks(&s.query).await {
                Ok(page) => page.data,
                Err(e) => return (vec![Err(e)], None),
            };
            let full = page.len() >= s.query.page_size.unwrap_or(100) as usize;
            let last = page.last().map(|t| t.attributes.created_time);
            let fresh: Vec<Task> = page.into_iter().filter(|t| !s.seen.contains_key(&t.id)).collect();
            let Some(last) = last else { return (Vec::new(), None) };
            // A short page is not trusted as the end (a server may cap pages below pageSize):
            // only a page that brings nothing new ends the stream.
            if fresh.is_empty() {
                if !full {
                    return (Vec::new(), None);
                }
                let error = Error::Paging {
                    operation: "wxcc.tasks",
                    at: last,
                    message: "a full page brought no new task: more tasks share this createdTime than \
                              pageSize; raise pageSize (up to 1000)"
                        .into(),
                };
                return (vec![Err(error)], None);
            }
            let next_from = EpochMillis::new(last.as_i64() - 1).max(s.window_from);
            // Only tasks at or after the new `from` can come back.
            s.seen.retain(|_, created| *created >= next_from);
            s.seen.extend(
                fresh
                    .iter()
                    .filter(|t| t.attributes.created_time >= next_from)
                    .map(|t| (t.id.clone(), t.attributes.created_time)),
            );
            s.query.from = next_from;
            (fresh.into_iter().map(Ok).collect(), Some(s))
        })
    }

    // ---------------------------------------------------------------- statistics

    /// The request for statistics (for inspection).
    pub fn statistics_request(
        &self,
        kind: StatisticsKind,
        query: &StatisticsQuery,
        org_id: &str,
    ) -> Result<Request, Error> {
        query.validate(kind)?;
        let operation = match kind {
            StatisticsKind::Queues => "wxcc.queue_statistics",
            StatisticsKind::Agents => "wxcc.agent_statistics",
        };
        let mut request = self.request(Method::Get, kind.path()).operation(operation);
        for (k, v) in query.params(kind) {
            request = request.query(k, v);
        }
        Ok(Self::with_org(request, query.org_id.as_ref(), org_id))
    }

    /// Queue statistics for a window shorter than 24 hours.
    pub async fn queue_statistics(&self, query: &StatisticsQuery) -> Result<Vec<QueueStatistics>, Error> {
        let org = self.org_id().await?;
        let page: QueueStatisticsPage =
            self.send_json(&self.statistics_request(StatisticsKind::Queues, query, &org)?).await?;
        Ok(page.data)
    }

    /// Agent statistics for a window shorter than 24 hours.
    pub async fn agent_statistics(&self, query: &StatisticsQuery) -> Result<Vec<AgentStatistics>, Error> {
        let org = self.org_id().await?;
        let page: AgentStatisticsPage =
            self.send_json(&self.statistics_request(StatisticsKind::Agents, query, &org)?).await?;
        Ok(page.data)
    }

    /// Queue statistics for any window: split into valid chunks, fetched in order, concatenated.
    pub async fn queue_statistics_range(
        &self,
        query: &StatisticsQuery,
    ) -> Result<Vec<QueueStatistics>, Error> {
        let mut out = Vec::new();
        for chunk in query.chunks() {
            out.extend(self.queue_statistics(&chunk).await?);
        }
        Ok(out)
    }

    /// Agent statistics for any window: split into valid chunks, fetched in order, concatenated.
    pub async fn agent_statistics_range(
        &self,
        query: &StatisticsQuery,
    ) -> Result<Vec<AgentStatistics>, Error> {
        let mut out = Vec::new();
        for chunk in query.chunks() {
            out.extend(self.agent_statistics(&chunk).await?);
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- activities

    /// The request for one page of activities (for inspection).
    pub fn activities_request(
        &self,
        query: &ActivityQuery,
        page: u32,
        org_id: &str,
    ) -> Result<Request, Error> {
        query.validate()?;
        let mut request =
            self.request(Method::Get, "/v1/agents/activities").operation("wxcc.agent_activities");
        for (k, v) in query.params(page) {
            request = request.query(k, v);
        }
        Ok(Self::with_org(request, query.org_id.as_ref(), org_id))
    }

    /// One page of agent activities (pages from 0).
    pub async fn agent_activities_page(
        &self,
        query: &ActivityQuery,
        page: u32,
    ) -> Result<AgentActivityPage, Error> {
        let org = self.org_id().await?;
        self.send_json(&self.activities_request(query, page, &org)?).await
    }

    /// Every page of the window, in order. When the window holds more records than the API
    /// returns for one window ([`ACTIVITY_RECORD_CAP`]), the records up to the cap come
    /// first and the stream ends with [`Error::RecordCap`]: split the window, or use
    /// [`WxccClient::agent_activities_split`].
    pub fn agent_activities(
        &self,
        query: ActivityQuery,
    ) -> impl Stream<Item = Result<AgentActivity, Error>> + Send + 'static {
        struct State {
            client: WxccClient,
            query: ActivityQuery,
            page: u32,
            fetched: usize,
        }
        let state = State { client: self.clone(), query, page: 0, fetched: 0 };
        paged(state, |mut s| async move {
            let page = match s.client.agent_activities_page(&s.query, s.page).await {
                Ok(page) => page.data,
                Err(e) => return (vec![Err(e)], None),
            };
            // An empty page ends the window; a short one does not (a server may cap pages).
            if page.is_empty() {
                return (Vec::new(), None);
            }
            s.fetched += page.len();
            s.page += 1;
            let mut items: Vec<Result<AgentActivity, Error>> = page.into_iter().map(Ok).collect();
            if s.fetched >= ACTIVITY_RECORD_CAP {
                items.push(Err(Error::RecordCap {
                    from: s.query.from,
                    to: s.query.to.unwrap_or_else(EpochMillis::now),
                    cap: ACTIVITY_RECORD_CAP,
                }));
                return (items, None);
            }
            (items, Some(s))
        })
    }

    /// Every activity of the window: a window that reaches the record cap is split in two
    /// and each half fetched again, down to one-minute windows (below that the cap error is
    /// returned). Records come in window order.
    pub async fn agent_activities_split(&self, query: ActivityQuery) -> Result<Vec<AgentActivity>, Error> {
        let to = query.to.unwrap_or_else(EpochMillis::now);
        let mut windows = vec![(query.from, to)];
        let mut out = Vec::new();
        while let Some((from, to)) = windows.pop() {
            let mut window = query.clone();
            window.from = from;
            window.to = Some(to);
            let mut items = Vec::new();
            let mut capped = None;
            let mut stream = std::pin::pin!(self.agent_activities(window));
            while let Some(item) = stream.next().await {
                match item {
                    Ok(item) => items.push(item),
                    Err(e @ Error::RecordCap { .. }) => capped = Some(e),
                    Err(e) => return Err(e),
                }
            }
            match capped {
                Some(e) if to.as_i64() - from.as_i64() <= 60_000 => return Err(e),
                Some(_) => {
                    let mid = EpochMillis::new(from.as_i64() + (to.as_i64() - from.as_i64()) / 2);
                    // Later half first on the stack, so the earlier half is fetched next.
                    windows.push((mid, to));
                    windows.push((from, mid));
                }
                None => out.extend(items),
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- captures

    /// The capture query requests, one per 10 task ids (for inspection).
    pub fn captures_requests(&self, query: &Captures, org_id: &str) -> Result<Vec<Request>, Error> {
        query.validate()?;
        query
            .bodies(Some(org_id))
            .into_iter()
            .map(|body| {
                self.request(Method::Post, "/v1/captures/query")
                    .operation("wxcc.captures")
                    // A read: repeating it is harmless.
                    .idempotent(true)
                    .json(&CaptureQueryBody { query: body })
                    .map_err(|e| Error::invalid("query", e.to_string()))
            })
            .collect()
    }

    /// Captures of any number of tasks: one call per 10 ids, results concatenated in order.
    /// Tasks without recordings come back with empty lists.
    pub async fn captures(&self, query: &Captures) -> Result<CaptureList, Error> {
        let org = self.org_id().await?;
        let mut merged: Option<CaptureList> = None;
        for request in self.captures_requests(query, &org)? {
            let list: CaptureList = self.send_json(&request).await?;
            match &mut merged {
                None => merged = Some(list),
                Some(all) => all.data.extend(list.data),
            }
        }
        Ok(merged.unwrap_or(CaptureList { meta: Default::default(), data: Vec::new() }))
    }

    /// Streams a recording from its pre-signed `url` into `path` **without** the
    /// `Authorization` header (the URL is the credential). Written to `path` + `.part` and
    /// renamed when complete, so a failed download never looks finished. Returns the bytes
    /// written. Held to [`WxccConfig::download_deadline`] and
    /// [`WxccConfig::max_download_bytes`]. Errors never include the URL.
    pub async fn download(&self, url: &str, path: &Path) -> Result<u64, Error> {
        let deadline = tokio::time::Instant::now() + self.download_deadline;
        let late = || Error::DownloadLimit(format!("not complete within {:?}", self.download_deadline));
        let too_large = || Error::DownloadLimit(format!("larger than {} bytes", self.max_download_bytes));
        let request = Request::get(url).operation("wxcc.download").without_auth().sensitive_response();
        let mut response = tokio::time::timeout_at(deadline, self.downloads.send_streaming(&request))
            .await
            .map_err(|_| late())??;
        let announced = response.header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
        if announced.is_some_and(|n| n > self.max_download_bytes) {
            return Err(too_large());
        }
        let part = path.with_extension(match path.extension() {
            Some(ext) => format!("{}.part", ext.to_string_lossy()),
            None => "part".into(),
        });
        let io = |source| Error::Io { path: part.display().to_string(), source };
        let mut file = tokio::fs::File::create(&part).await.map_err(io)?;
        let mut written = 0u64;
        let result = async {
            loop {
                let chunk =
                    tokio::time::timeout_at(deadline, response.chunk()).await.map_err(|_| late())??;
                let Some(chunk) = chunk else { break };
                written += chunk.len() as u64;
                if written > self.max_download_bytes {
                    return Err(too_large());
                }
                file.write_all(&chunk).await.map_err(io)?;
            }
            file.flush().await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(e);
        }
        tokio::fs::rename(&part, path)
            .await
            .map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        Ok(written)
    }

    // ---------------------------------------------------------------- sites

    fn site_path(org: &str, rest: &str) -> String {
        format!("/organization/{org}/site{rest}")
    }

    /// All sites (`GET /organization/{orgid}/site`, a bare array).
    pub async fn sites(&self) -> Result<Vec<Site>, Error> {
        let org = self.org_id().await?;
        self.send_json(&self.request(Method::Get, &Self::site_path(&org, "")).operation("wxcc.sites")).await
    }

    /// One page of sites (`GET /organization/{orgid}/v2/site`); `filter` and `search` as the
    /// API defines them.
    pub async fn sites_page(
        &self,
        page: u32,
        page_size: u32,
        filter: Option<&str>,
        search: Option<&str>,
    ) -> Result<SitePage, Error> {
        let org = self.org_id().await?;
        let mut request = self
            .request(Method::Get, &format!("/organization/{org}/v2/site"))
            .operation("wxcc.sites_page")
            .query("page", page.to_string())
            .query("pageSize", page_size.to_string());
        if let Some(filter) = filter {
            request = request.query("filter", filter);
        }
        if let Some(search) = search {
            request = request.query("search", search);
        }
        self.send_json(&request).await
    }

    /// One site.
    pub async fn site(&self, id: &str) -> Result<Site, Error> {
        let org = self.org_id().await?;
        self.send_json(
            &self
                .request(Method::Get, &Self::site_path(&org, &format!("/{}", path_segment(id)?)))
                .operation("wxcc.site"),
        )
        .await
    }

    /// The create request (for inspection).
    pub fn create_site_request(&self, site: &Site, org_id: &str) -> Result<Request, Error> {
        site.validate().map_err(|m| Error::invalid("site", m))?;
        if site.id.is_some() {
            return Err(Error::invalid("id", "a new site has no id; use update_site"));
        }
        let mut body = site.clone();
        body.organization_id.get_or_insert_with(|| org_id.to_owned());
        self.request(Method::Post, &Self::site_path(org_id, ""))
            .operation("wxcc.create_site")
            .json(&body)
            .map_err(|e| Error::invalid("site", e.to_string()))
    }

    /// Creates a site (201); 409 when the name exists.
    pub async fn create_site(&self, site: &Site) -> Result<Site, Error> {
        let org = self.org_id().await?;
        self.send_json(&self.create_site_request(site, &org)?).await
    }

    /// The update request (for inspection).
    pub fn update_site_request(&self, site: &Site, org_id: &str) -> Result<Request, Error> {
        site.validate().map_err(|m| Error::invalid("site", m))?;
        let id = site.id.as_deref().ok_or_else(|| Error::invalid("id", "an update needs the site id"))?;
        if site.version.is_none() {
            return Err(Error::invalid(
                "version",
                "an update needs the version that was read (optimistic locking)",
            ));
        }
        self.request(Method::Put, &Self::site_path(org_id, &format!("/{}", path_segment(id)?)))
            .operation("wxcc.update_site")
            .json(site)
            .map_err(|e| Error::invalid("site", e.to_string()))
    }

    /// Updates a site: send it with the `id` and `version` it was read with; a stale version
    /// is refused by the API (409/412) and surfaced as such, never retried.
    pub async fn update_site(&self, site: &Site) -> Result<Site, Error> {
        let org = self.org_id().await?;
        self.send_json(&self.update_site_request(site, &org)?).await
    }

    /// Deletes a site (204); 412 when something still refers to it.
    pub async fn delete_site(&self, id: &str) -> Result<(), Error> {
        let org = self.org_id().await?;
        let request = self
            .request(Method::Delete, &Self::site_path(&org, &format!("/{}", path_segment(id)?)))
            .operation("wxcc.delete_site");
        self.executor.send(&request).await?;
        Ok(())
    }

    /// Bulk create/update/delete (207): one result per item; check each with
    /// [`BulkResult::is_success`](crate::model::BulkResult::is_success). Not repeated after
    /// a possibly processed attempt.
    pub async fn bulk_save_sites(&self, bulk: &BulkRequest) -> Result<BulkResponse, Error> {
        let org = self.org_id().await?;
        let request = self
            .request(Method::Post, &Self::site_path(&org, "/bulk"))
            .operation("wxcc.bulk_sites")
            .json(bulk)
            .map_err(|e| Error::invalid("items", e.to_string()))?;
        self.send_json(&request).await
    }

    /// Reads a sites CSV (see [`crate::csv`]) and bulk-saves it. Bad rows are reported by
    /// line and nothing is sent; per-item results carry the line as `itemIdentifier`.
    pub async fn bulk_save_sites_csv(&self, csv: &str) -> Result<BulkResponse, Error> {
        let bulk = crate::csv::sites_bulk_request(csv)?;
        self.bulk_save_sites(&bulk).await
    }

    /// Every exported site: all pages of `GET …/site/bulk-export`, in order.
    pub async fn export_sites(&self, page_size: u32) -> Result<Vec<SiteExport>, Error> {
        let org = self.org_id().await?;
        let mut out = Vec::new();
        for page in 0u32.. {
            let request = self
                .request(Method::Get, &Self::site_path(&org, "/bulk-export"))
                .operation("wxcc.export_sites")
                .query("page", page.to_string())
                .query("pageSize", page_size.to_string());
            let export: BulkExport = self.send_json(&request).await?;
            let empty = export.resources.is_empty();
            out.extend(export.resources);
            if export.rel.as_deref() != Some("next") || empty {
                break;
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- search

    /// The search request (for inspection).
    pub fn search_request(&self, search: &SearchRequest, org_id: &str) -> Result<Request, Error> {
        if search.query.trim().is_empty() {
            return Err(Error::invalid("query", "empty GraphQL query"));
        }
        self.request(Method::Post, "/search")
            .operation("wxcc.search")
            .query("orgId", org_id)
            .idempotent(true)
            .json(search)
            .map_err(|e| Error::invalid("variables", e.to_string()))
    }

    /// Runs a GraphQL query and returns `data`. GraphQL `errors` (even with a 200, even with
    /// partial data) are [`Error::GraphQl`].
    pub async fn search(&self, search: &SearchRequest) -> Result<Value, Error> {
        let org = self.org_id().await?;
        let response: SearchResponse = self.send_json(&self.search_request(search, &org)?).await?;
        if !response.errors.is_empty() {
            return Err(Error::GraphQl(response.errors));
        }
        Ok(response.data.unwrap_or(Value::Null))
    }

    /// Walks a cursor-paginated query: `field` is the result under `data` (e.g. `task`);
    /// each page's `field.pageInfo.endCursor` is passed as the variable `cursor` of the next
    /// call while `hasNextPage` is true. The query must declare `$cursor: String` and pass it
    /// as `pagination: {cursor: $cursor}` (the first call sends `"0"` unless `cursor` is set).
    /// Yields each page's `data.field` object.
    pub fn search_pages(
        &self,
        search: SearchRequest,
        field: impl Into<String>,
    ) -> impl Stream<Item = Result<Value, Error>> + Send + 'static {
        let mut search = search;
        search.variables.entry("cursor").or_insert_with(|| Value::from("0"));
        let state = (self.clone(), search, field.into());
        paged(state, |(client, mut search, field)| async move {
            let data = match client.search(&search).await {
                Ok(data) => data,
                Err(e) => return (vec![Err(e)], None),
            };
            let Some(result) = data.get(&field).cloned() else {
                let error = Error::invalid("query", format!("the result has no field `{field}` under data"));
                return (vec![Err(error)], None);
            };
            let info: PageInfo = result
                .get("pageInfo")
                .and_then(|p| serde_json::from_value(p.clone()).ok())
                .unwrap_or_default();
            let next = match (info.has_next_page, info.end_cursor) {
                (true, Some(cursor))
                    if search.variables.get("cursor") != Some(&Value::from(cursor.as_str())) =>
                {
                    search.variables.insert("cursor".into(), Value::from(cursor));
                    Some((client, search, field))
                }
                _ => None,
            };
            (vec![Ok(result)], next)
        })
    }
}

fn path_segment(id: &str) -> Result<String, Error> {
    if id.is_empty() || id.contains(['/', '?', '#']) || id.chars().any(char::is_whitespace) {
        return Err(Error::invalid("id", format!("{id:?} is not a valid id")));
    }
    Ok(id.to_owned())
}

/// A stream over pages: `fetch` turns a state into the items of one page and the state for
/// the next page (`None`: last page). Items of a page are yielded before the next fetch.
fn paged<S, T, F, Fut>(state: S, fetch: F) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    S: Send + 'static,
    T: Send + 'static,
    F: Fn(S) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = (Vec<Result<T, Error>>, Option<S>)> + Send,
{
    let start = (std::collections::VecDeque::new(), Some(state));
    futures_util::stream::unfold((start, fetch), |((mut buffer, mut next), fetch)| async move {
        loop {
            if let Some(item) = buffer.pop_front() {
                return Some((item, ((buffer, next), fetch)));
            }
            let state = next.take()?;
            let (items, following) = fetch(state).await;
            buffer.extend(items);
            next = following;
        }
    })
}
