//! The executor: sends [`Request`]s with credentials, timeouts, retries and tracing.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use super::error::{ApiError, Error, ErrorDecoder, GenericErrorDecoder, TransportKind};
use super::ratelimit::RateLimiter;
use super::request::{Body, Method, Request};
use super::retry::{Attempt, Decision, Outcome, RetryBudget, RetryPolicy, decide, parse_retry_after};
use crate::Secret;
use crate::auth::{Authenticator, Credential};
use crate::de::parse_json;
use crate::secret::MaybeSecret;

/// Response headers that carry a tracking or correlation id, checked in this order.
pub const DEFAULT_TRACKING_HEADERS: &[&str] =
    &["trackingid", "x-tracking-id", "x-request-id", "x-correlation-id", "x-amzn-requestid"];

/// How much of an error body is read before giving up on the rest.
const MAX_ERROR_BODY_READ: usize = 64 * 1024;

/// A fully read response.
#[derive(Clone, Debug)]
pub struct Response {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    operation: &'static str,
    tracking_id: Option<String>,
}

impl Response {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// A response header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Every value of a header that may repeat (`Set-Cookie`). Values that are not visible
    /// ASCII are left out, as [`Response::header`] leaves them out.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.get_all(name).iter().filter_map(|v| v.to_str().ok())
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Consumes the response, returning the body.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// Parses the body as JSON into `T`; errors name the field path.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        parse_json(&self.body).map_err(|error| Error::Decode {
            operation: self.operation,
            status: self.status,
            error,
            tracking_id: self.tracking_id.clone(),
        })
    }
}

/// A response whose body is read chunk by chunk (downloads, large CSV exports).
#[derive(Debug)]
pub struct StreamingResponse {
    status: u16,
    headers: HeaderMap,
    inner: reqwest::Response,
    idle_timeout: Duration,
    operation: &'static str,
}

impl StreamingResponse {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// A response header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The next chunk of the body; `None` at the end. Each chunk must arrive within the
    /// executor's per-attempt timeout.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let transport = |kind, message: String| Error::Transport {
            operation: self.operation,
            kind,
            message,
            attempts: 1,
        };
        match tokio::time::timeout(self.idle_timeout, self.inner.chunk()).await {
            Err(_) => Err(transport(TransportKind::Timeout, "no data within the timeout".into())),
            Ok(Err(e)) => Err(transport(TransportKind::Io, error_text(&e))),
            Ok(Ok(chunk)) => Ok(chunk.map(|b| b.to_vec())),
        }
    }
}

/// The value of the first of `names` that the answer carries (as visible ASCII). One pass
/// over the answer's few headers: looking each name up would hash it every time.
fn tracking_id(names: &[HeaderName], headers: &HeaderMap) -> Option<String> {
    headers
        .iter()
        .filter_map(|(name, value)| Some((names.iter().position(|n| n == name)?, value.to_str().ok()?)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, value)| value.to_owned())
}

fn request_tracking_id(request: &Request, names: &[String]) -> Option<String> {
    names.iter().find_map(|name| request.header_value(name)).map(str::to_owned)
}

/// A header's value by case-insensitive name; `None` for a value that is not visible ASCII
/// (a name that cannot be a header name finds nothing).
fn find_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Configures an [`Executor`].
pub struct ExecutorBuilder {
    http: Option<reqwest::Client>,
    auth: Option<Arc<dyn Authenticator>>,
    policy: RetryPolicy,
    budget_capacity: u32,
    attempt_timeout: Duration,
    connect_timeout: Duration,
    decoder: Arc<dyn ErrorDecoder>,
    max_body: usize,
    tracking_headers: Vec<String>,
    default_headers: Vec<(String, MaybeSecret)>,
    user_agent: String,
    rate_limiter: Option<Arc<RateLimiter>>,
    redirects: Redirects,
}

/// Whether the executor follows HTTP redirects.
///
/// Vendor APIs answer, they do not redirect; a redirect is a misconfiguration or an attack.
/// Following one to another host would re-send the request's headers (an `x-api-key`), its
/// body and, on a 307/308, a form with a `client_secret`. So the default is [`Redirects::None`]:
/// a 3xx is returned as an error with its status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Redirects {
    /// Follow none (default).
    #[default]
    None,
    /// Follow at most `max` redirects that stay on the scheme, host and port of the request;
    /// a redirect elsewhere is returned as it came.
    SameOrigin {
        /// Redirects followed at most.
        max: usize,
    },
}

impl Redirects {
    fn policy(self) -> reqwest::redirect::Policy {
        match self {
            Self::None => reqwest::redirect::Policy::none(),
            Self::SameOrigin { max } => reqwest::redirect::Policy::custom(move |attempt| {
                let Some(first) = attempt.previous().first() else { return attempt.stop() };
                let same = first.scheme() == attempt.url().scheme()
                    && first.host_str() == attempt.url().host_str()
                    && first.port_or_known_default() == attempt.url().port_or_known_default();
                if !same {
                    attempt.stop()
                } else if attempt.previous().len() > max {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }),
        }
    }
}

impl ExecutorBuilder {
    /// Redirect handling (default [`Redirects::None`]). Ignored with
    /// [`ExecutorBuilder::http_client`]: that client's own policy applies.
    pub fn redirects(mut self, redirects: Redirects) -> Self {
        self.redirects = redirects;
        self
    }

    /// Credentials for every request not marked [`Request::without_auth`].
    pub fn auth(mut self, auth: Arc<dyn Authenticator>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Retry limits (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Size of the retry budget in tokens (default 500; a retry costs 5, after a timeout 10).
    pub fn retry_budget(mut self, capacity: u32) -> Self {
        self.budget_capacity = capacity;
        self
    }

    /// Time one attempt may take, headers and body (default 30 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Time to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How to read the vendor's error bodies (default [`GenericErrorDecoder`]).
    pub fn error_decoder(mut self, decoder: Arc<dyn ErrorDecoder>) -> Self {
        self.decoder = decoder;
        self
    }

    /// Largest response body read into memory (default 32 MiB). Use
    /// [`Executor::send_streaming`] for larger ones.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Response headers that carry a tracking id, first found first (default
    /// [`DEFAULT_TRACKING_HEADERS`]). A name that is not a valid header name fails
    /// [`ExecutorBuilder::build`].
    pub fn tracking_headers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.tracking_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// A header sent with every request (`Accept-Language`, …); kept secret when its name
    /// says it holds a credential ([`looks_secret`](crate::secret::looks_secret)).
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into().to_ascii_lowercase();
        let value = MaybeSecret::for_header(&name, value.into());
        self.default_headers.push((name, value));
        self
    }

    /// A secret header sent with every request (`x-api-key`), redacted in logs.
    pub fn default_secret_header(mut self, name: impl Into<String>, value: Secret<String>) -> Self {
        self.default_headers.push((name.into().to_ascii_lowercase(), MaybeSecret::Secret(value)));
        self
    }

    /// `User-Agent` (default `cc-core/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Uses a preconfigured reqwest client (proxies, TLS roots). Its own timeouts apply in
    /// addition to the executor's; the connect timeout above is then ignored.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Shares `other`'s connection pool (and so its connect timeout, user agent and
    /// redirect policy, which the settings above then do not change): a client whose token
    /// calls and API calls have executors of their own builds one reqwest client, not two
    /// (each loads the TLS roots), and reuses connections between them.
    pub fn share_connections(self, other: &Executor) -> Self {
        self.http_client(other.inner.http.clone())
    }

    /// Holds every attempt, retries included, to the limiter's rate. Clone the `Arc` into
    /// several executors to share one limit between them.
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Builds the executor. A default header that cannot be sent (a name or value that is
    /// not valid in HTTP) is an [`Error::InvalidRequest`] here, not on every request.
    pub fn build(self) -> Result<Executor, Error> {
        let wire_headers = self
            .default_headers
            .iter()
            .map(|(name, value)| {
                Ok((header_name(name)?, header_value(name, value.expose(), value.is_secret())?))
            })
            .collect::<Result<_, Error>>()?;
        let tracking_names =
            self.tracking_headers.iter().map(|name| header_name(name)).collect::<Result<_, Error>>()?;
        let http = match self.http {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .user_agent(self.user_agent)
                .redirect(self.redirects.policy())
                .build()
                .map_err(|e| Error::InvalidRequest(format!("HTTP client: {}", error_text(&e))))?,
        };
        Ok(Executor {
            inner: Arc::new(Inner {
                http,
                auth: self.auth,
                policy: self.policy,
                budget: RetryBudget::new(self.budget_capacity),
                attempt_timeout: self.attempt_timeout,
                decoder: self.decoder,
                max_body: self.max_body,
                tracking_headers: self.tracking_headers,
                tracking_names,
                default_headers: self.default_headers,
                wire_headers,
                rate_limiter: self.rate_limiter,
                urls: UrlCache::default(),
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    auth: Option<Arc<dyn Authenticator>>,
    policy: RetryPolicy,
    budget: RetryBudget,
    attempt_timeout: Duration,
    decoder: Arc<dyn ErrorDecoder>,
    max_body: usize,
    tracking_headers: Vec<String>,
    /// The same, parsed once: an answer's headers are matched against them without parsing.
    tracking_names: Vec<HeaderName>,
    /// As configured, for logs (secrets shown redacted).
    default_headers: Vec<(String, MaybeSecret)>,
    /// The same, checked and converted once, for the wire.
    wire_headers: Vec<(HeaderName, HeaderValue)>,
    rate_limiter: Option<Arc<RateLimiter>>,
    urls: UrlCache,
}

/// URLs parsed for recent requests, by their exact text. Parsing one (IDNA included) costs
/// more than building the rest of a request, and a client calls the same few URLs again and
/// again. Bounded by [`UrlCache::CAPACITY`]: emptied when full, as URLs with ids in their
/// path come and go.
#[derive(Default)]
struct UrlCache(std::sync::Mutex<std::collections::HashMap<String, reqwest::Url>>);

impl UrlCache {
    const CAPACITY: usize = 64;

    fn parse(&self, text: &str) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        let lock = || self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(url) = lock().get(text) {
            return Ok(url.clone());
        }
        let url = reqwest::Url::parse(text)?;
        let mut urls = lock();
        if urls.len() >= Self::CAPACITY {
            urls.clear();
        }
        urls.insert(text.to_owned(), url.clone());
        Ok(url)
    }
}

/// Sends requests: injects credentials, applies the per-attempt timeout, retries by
/// [`decide`], re-authenticates once on 401, turns error answers into [`Error`]s.
/// Cheap to clone; clones share the connection pool and the retry budget.
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("policy", &self.inner.policy)
            .field("attempt_timeout", &self.inner.attempt_timeout)
            .field("has_auth", &self.inner.auth.is_some())
            .field("retry_budget", &self.inner.budget.available())
            .finish_non_exhaustive()
    }
}

enum Received {
    Buffered(Response),
    Streaming(StreamingResponse),
}

/// An answer as [`Executor::exchange`] read it.
struct Exchanged {
    status: u16,
    headers: HeaderMap,
    body: AnswerBody,
}

/// How far an answer's body was read.
enum AnswerBody {
    /// A 2xx body left for the caller to stream.
    Stream(reqwest::Response),
    /// The whole 2xx body, or the first bytes of an error body.
    Read(Vec<u8>),
    /// A 2xx body longer than `max_body`.
    TooLarge,
}

/// The result of one attempt, before the retry decision.
struct AttemptResult {
    outcome: Outcome,
    result: Result<Received, Error>,
}

impl Executor {
    /// A builder with defaults.
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder {
            http: None,
            auth: None,
            policy: RetryPolicy::default(),
            budget_capacity: 500,
            attempt_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            decoder: Arc::new(GenericErrorDecoder),
            max_body: 32 * 1024 * 1024,
            tracking_headers: DEFAULT_TRACKING_HEADERS.iter().map(|s| s.to_string()).collect(),
            default_headers: Vec::new(),
            user_agent: concat!("cc-core/", env!("CARGO_PKG_VERSION")).into(),
            rate_limiter: None,
            redirects: Redirects::None,
        }
    }

    /// Sends `request` and reads the whole body. A non-success status is an
    /// [`Error::Api`] carrying status, vendor code and message, tracking id and body start.
    pub async fn send(&self, request: &Request) -> Result<Response, Error> {
        match self.run(request, true).await? {
            Received::Buffered(response) => Ok(response),
            Received::Streaming(_) => unreachable!("buffered run returns a buffered response"),
        }
    }

    /// Sends `request` and parses a 2xx JSON body into `T`.
    pub async fn send_json<T: DeserializeOwned>(&self, request: &Request) -> Result<T, Error> {
        self.send(request).await?.json()
    }

    /// Sends `request` and returns once the headers arrived; read the body with
    /// [`StreamingResponse::chunk`]. Retries cover the request up to the headers only.
    pub async fn send_streaming(&self, request: &Request) -> Result<StreamingResponse, Error> {
        match self.run(request, false).await? {
            Received::Streaming(response) => Ok(response),
            Received::Buffered(_) => unreachable!("streaming run returns a streaming response"),
        }
    }

    /// Retry tokens left in the budget.
    pub fn retry_budget_available(&self) -> u32 {
        self.inner.budget.available()
    }

    async fn run(&self, request: &Request, buffer: bool) -> Result<Received, Error> {
        let span = tracing::info_span!(
            "cc_http",
            operation = request.operation,
            method = request.method.as_str(),
            url = %url_for_log(&request.url),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        async move {
            let inner = &*self.inner;
            let mut attempt = Attempt {
                number: 1,
                idempotent: request.idempotent,
                can_reauthenticate: request.authenticated && inner.auth.is_some(),
                reauthenticated: false,
            };
            loop {
                let credential = match (&inner.auth, request.authenticated) {
                    (Some(auth), true) => Some(auth.credential().await?),
                    _ => None,
                };
                // A request that cannot be built is not sent at all: nothing to retry.
                let built = self.build(request, credential.as_ref())?;
                // Held until this attempt's answer: see `RateLimiter`.
                let permit = match &inner.rate_limiter {
                    Some(limiter) => Some(limiter.acquire().await),
                    None => None,
                };
                tracing::debug!(attempt = attempt.number, headers = %self.redacted_headers(request, credential.as_ref()), "sending");
                let AttemptResult { outcome, result } = self.attempt(request, built, buffer, attempt.number).await;
                drop(permit);
                let span = tracing::Span::current();
                if let Outcome::Status { status, .. } = outcome {
                    span.record("status", status);
                }
                span.record("attempts", attempt.number);
                match decide(&inner.policy, attempt, outcome, fastrand::f64()) {
                    Decision::Return => {
                        if result.is_ok() {
                            inner.budget.deposit_success();
                        }
                        return result;
                    }
                    Decision::Reauthenticate => {
                        let renewable = match (&inner.auth, &credential) {
                            (Some(auth), Some(cred)) => auth.reject(cred),
                            _ => false,
                        };
                        if !renewable {
                            return result;
                        }
                        tracing::info!("credential rejected with 401; re-authenticating once");
                        attempt.reauthenticated = true;
                    }
                    Decision::Retry(delay) => {
                        if !inner.budget.try_withdraw(RetryBudget::cost_of(outcome)) {
                            tracing::warn!(?outcome, "retry budget exhausted; not retrying");
                            return result;
                        }
                        tracing::warn!(
                            ?outcome,
                            delay_ms = delay.as_millis() as u64,
                            attempt = attempt.number,
                            "retrying"
                        );
                        tokio::time::sleep(delay).await;
                        attempt.number += 1;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// One attempt: the exchange under the per-attempt timeout, then its answer. Every
    /// failure becomes an outcome for [`decide`] and an error for the caller.
    async fn attempt(
        &self,
        request: &Request,
        built: reqwest::Request,
        buffer: bool,
        number: u32,
    ) -> AttemptResult {
        let transport = |kind, message| Error::Transport {
            operation: request.operation,
            kind,
            message,
            attempts: number,
        };
        let timeout = self.inner.attempt_timeout;
        match tokio::time::timeout(timeout, self.exchange(built, buffer)).await {
            Err(_) => AttemptResult {
                outcome: Outcome::TimedOut,
                result: Err(transport(
                    TransportKind::Timeout,
                    format!("no complete answer within {timeout:?}"),
                )),
            },
            Ok(Err(e)) => {
                let (outcome, kind) = classify(&e);
                AttemptResult { outcome, result: Err(transport(kind, error_text(&e))) }
            }
            Ok(Ok(exchanged)) => self.answer(request, exchanged, number),
        }
    }

    /// Sends the request and reads the answer: a 2xx body whole (up to `max_body`) unless it
    /// is to be streamed, an error body only as far as the error needs.
    async fn exchange(&self, request: reqwest::Request, buffer: bool) -> Result<Exchanged, reqwest::Error> {
        let mut response = self.inner.http.execute(request).await?;
        let status = response.status().as_u16();
        // Taken, not copied: the body no longer needs them.
        let headers = std::mem::take(response.headers_mut());
        let success = (200..300).contains(&status);
        let body = if success && !buffer {
            AnswerBody::Stream(response)
        } else {
            let limit = if success { self.inner.max_body } else { MAX_ERROR_BODY_READ };
            match read_limited(response, limit).await? {
                (_, false) if success => AnswerBody::TooLarge,
                // An error body keeps its first bytes: enough for the vendor's code and message.
                (body, _) => AnswerBody::Read(body),
            }
        };
        Ok(Exchanged { status, headers, body })
    }

    /// What an answer means: the outcome [`decide`] judges and the caller's response or error.
    fn answer(&self, request: &Request, exchanged: Exchanged, number: u32) -> AttemptResult {
        let inner = &*self.inner;
        let Exchanged { status, headers, body } = exchanged;
        let tracking_id = tracking_id(&inner.tracking_names, &headers);
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let result = match body {
            AnswerBody::Stream(response) => Ok(Received::Streaming(StreamingResponse {
                status,
                headers,
                inner: response,
                idle_timeout: inner.attempt_timeout,
                operation: request.operation,
            })),
            // A 2xx, so final: reported, never retried.
            AnswerBody::TooLarge => {
                Err(Error::TooLarge { operation: request.operation, limit: inner.max_body })
            }
            AnswerBody::Read(body) if (200..300).contains(&status) => Ok(Received::Buffered(Response {
                status,
                headers,
                body,
                operation: request.operation,
                tracking_id,
            })),
            AnswerBody::Read(body) => {
                Err(self.api_error(request, status, tracking_id, &body, retry_after, number))
            }
        };
        AttemptResult { outcome: Outcome::Status { status, retry_after }, result }
    }

    /// An error answer: the vendor's code and message decoded, the tracking id from the
    /// answer's headers, else its body, else the one this request sent.
    fn api_error(
        &self,
        request: &Request,
        status: u16,
        tracking_id: Option<String>,
        body: &[u8],
        retry_after: Option<Duration>,
        attempts: u32,
    ) -> Error {
        let inner = &*self.inner;
        let vendor = inner.decoder.decode(status, body);
        let shown = if request.sensitive_response {
            "[redacted]".to_owned()
        } else {
            String::from_utf8_lossy(&body[..body.len().min(ApiError::MAX_BODY)]).into_owned()
        };
        Error::Api(Box::new(ApiError {
            operation: request.operation,
            status,
            tracking_id: tracking_id
                .or_else(|| vendor.tracking_id.clone())
                .or_else(|| request_tracking_id(request, &inner.tracking_headers)),
            vendor,
            body: shown,
            retry_after,
            attempts,
        }))
    }

    fn build(&self, request: &Request, credential: Option<&Credential>) -> Result<reqwest::Request, Error> {
        let inner = &*self.inner;
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let url = if request.query.is_empty() {
            inner.urls.parse(&request.url)
        } else {
            // A query's values change from call to call: not worth remembering.
            reqwest::Url::parse(&request.full_url())
        };
        let url = url.map_err(|e| Error::InvalidRequest(format!("{} URL: {e}", request.operation)))?;
        let (content_type, body) = match &request.body {
            Body::Empty => (None, None),
            Body::Json(bytes) => (Some(JSON.clone()), Some(bytes.clone())),
            Body::SecretJson(bytes) => (Some(JSON.clone()), Some(bytes.expose_secret().clone())),
            Body::Form(form) => (Some(FORM.clone()), Some(form.expose_secret().clone().into_bytes())),
            Body::Bytes { content_type, data } => {
                (Some(header_value("content-type", content_type, false)?), Some(data.clone()))
            }
        };
        let credential = credential.map(Credential::headers).unwrap_or_default();
        let mut headers =
            HeaderMap::with_capacity(1 + inner.wire_headers.len() + request.headers.len() + credential.len());
        // In this order, a later one replacing an earlier one of the same name.
        if let Some(content_type) = content_type {
            headers.insert(reqwest::header::CONTENT_TYPE, content_type);
        }
        for (name, value) in &inner.wire_headers {
            headers.insert(name.clone(), value.clone());
        }
        for (name, value) in &request.headers {
            headers.insert(header_name(name)?, header_value(name, value.expose(), value.is_secret())?);
        }
        for (name, value) in credential {
            headers.insert(header_name(name)?, header_value(name, value.expose_secret(), true)?);
        }
        let mut built = reqwest::Request::new(method, url);
        *built.headers_mut() = headers;
        *built.body_mut() = body.map(reqwest::Body::from);
        Ok(built)
    }

    fn redacted_headers(&self, request: &Request, credential: Option<&Credential>) -> String {
        let mut parts: Vec<String> = self
            .inner
            .default_headers
            .iter()
            .chain(&request.headers)
            .map(|(n, v)| format!("{n}: {}", v.shown()))
            .collect();
        parts.extend(
            credential
                .map(Credential::headers)
                .unwrap_or_default()
                .iter()
                .map(|(n, _)| format!("{n}: [redacted]")),
        );
        parts.join(", ")
    }
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const FORM: HeaderValue = HeaderValue::from_static("application/x-www-form-urlencoded");

fn header_name(name: &str) -> Result<HeaderName, Error> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::InvalidRequest(format!("invalid header name `{name}`")))
}

/// A header value, marked sensitive (left out of hyper's debug output, compressed by no
/// HTTP/2 table) when it is secret. The error names the header, never the value.
fn header_value(name: &str, value: &str, sensitive: bool) -> Result<HeaderValue, Error> {
    let mut parsed = HeaderValue::from_str(value)
        .map_err(|_| Error::InvalidRequest(format!("invalid value for header `{name}`")))?;
    parsed.set_sensitive(sensitive);
    Ok(parsed)
}

/// Reads at most `limit` bytes; `complete` is false when the body was longer.
async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, false));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, true))
}

fn classify(e: &reqwest::Error) -> (Outcome, TransportKind) {
    if e.is_connect() {
        (Outcome::ConnectFailed, TransportKind::Connect)
    } else if e.is_timeout() {
        (Outcome::TimedOut, TransportKind::Timeout)
    } else {
        (Outcome::ConnectionLost, TransportKind::Io)
    }
}

/// The error and its causes, without the URL (it may carry customer data in the query).
fn error_text(e: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        let part = match err.downcast_ref::<reqwest::Error>() {
            Some(re) if re.url().is_some() => strip_url(&re.to_string(), re.url()),
            _ => err.to_string(),
        };
        if !part.is_empty() && !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        source = err.source();
    }
    text
}

fn strip_url(text: &str, url: Option<&reqwest::Url>) -> String {
    match url {
        Some(url) => text.replace(&format!(" for url ({url})"), "").replace(url.as_str(), "<url>"),
        None => text.to_owned(),
    }
}

/// Scheme, host and path only: queries may hold customer data.
fn url_for_log(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::UrlCache;

    #[test]
    fn the_url_cache_answers_as_parsing_does_and_stays_bounded() {
        let cache = UrlCache::default();
        let text = "https://ece.example/system/ws/v19/clientapplications/messaging/sendmessage";
        assert_eq!(cache.parse(text).unwrap(), reqwest::Url::parse(text).unwrap());
        assert_eq!(cache.parse(text).unwrap().as_str(), text);
        assert!(cache.parse("not a url").is_err());
        assert_eq!(cache.0.lock().unwrap().len(), 1, "errors are not remembered");
        for n in 0..200 {
            let url = format!("https://h.example/conversations/{n}/end");
            assert_eq!(cache.parse(&url).unwrap().path(), format!("/conversations/{n}/end"));
            assert!(cache.0.lock().unwrap().len() <= UrlCache::CAPACITY);
        }
    }
}
