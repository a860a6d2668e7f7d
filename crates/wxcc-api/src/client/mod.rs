//! The client (feature `client`): every call runs through cc-core's executor with the token
//! cache, a client-side rate limiter, retries, a `TrackingId` header, and gzip. Any operation
//! of the spec is sent with [`WxccClient::call`]; the hand-written layers over the reporting
//! operations (task stream, statistics windows, activity caps, captures, sites, search) are in
//! `reporting.rs` (feature `reporting`) and send the same generated operations.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cc_core::auth::TokenCache;
use cc_core::de::parse_json;
use cc_core::http::{Body, Executor, Method, RateLimiter, Request, RetryPolicy};
use futures_util::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt as _;

use crate::api::{Operation, Paged, Parts};
use crate::auth::{Region, org_id_from_token};
use crate::error::Error;

#[cfg(feature = "reporting")]
mod reporting;

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
            .share_connections(&executor)
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .retry_policy(config.retry)
            .attempt_timeout(config.attempt_timeout)
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

    /// Any path with a JSON body, sharing auth, rate limit, retries and errors: for a path
    /// the spec does not have yet (every operation it has is typed: use [`WxccClient::call`]).
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
            .idempotent(info.idempotent);
        for (name, value) in &parts.headers {
            request = request.header(name.clone(), value.clone());
        }
        if let Some((content_type, data)) = parts.body {
            request = request.body(match content_type.as_str() {
                "application/json" => Body::Json(data),
                _ => Body::Bytes { content_type, data },
            });
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
    /// a page comes back empty or says it is the last ([`Paged::has_next`]: no `links.next`,
    /// `rel` not `next`). A short page is no end (a server may cap pages below the asked
    /// size). A page identical to the previous one means the server ignores `page`: the
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
                        let last = O::has_next(&output) == Some(false);
                        let items = O::items(output);
                        if items.is_empty() {
                            (Vec::new(), None)
                        } else if previous.as_ref() == Some(&items) {
                            let error = Error::invalid(
                                "page",
                                format!("page {page} repeats page {}: the server ignores `page`", page - 1),
                            );
                            (vec![Err(error)], None)
                        } else if last {
                            (items.into_iter().map(Ok).collect(), None)
                        } else {
                            let next = items.clone();
                            (items.into_iter().map(Ok).collect(), Some((op, page + 1, Some(next))))
                        }
                    }
                }
            }
        })
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
}

/// A stream over pages: `fetch` turns a state into the items of one page and the state for
/// the next page (`None`: last page). Items of a page are yielded before the next fetch.
pub(crate) fn paged<S, T, F, Fut>(state: S, fetch: F) -> impl Stream<Item = Result<T, Error>> + Send + 'static
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
