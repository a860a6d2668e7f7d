//! What every vendor simulator is built from (feature `sim`):
//!
//! - [`SimServer`]: binds, serves a router with [`crate::serve`]'s limits, owns the background
//!   tasks, and stops everything when dropped.
//! - [`Faults`] and [`Faults::admit`]: the admission step every simulated API call takes after
//!   its credentials check. One meaning for every simulator: a queued status is answered
//!   instead of the call; a delay is waited out, then the call proceeds; a reset lets the call
//!   be **processed**, then breaks the connection in the middle of the response
//!   ([`Admitted::respond`]), so the client cannot know whether it took effect.
//! - [`BearerTokens`]: the access tokens a simulator issued, each live for a lifetime.
//! - [`Simulator`]: start on an address, base URL, inject faults — what `cckit sim` uses.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// How many entries a simulator keeps in each of its logs of what it saw (messages sent,
/// requests): the first ones, so that a long-running `cckit sim` does not grow without end.
pub const LOG_LIMIT: usize = 10_000;

/// Appends `entry` to a simulator's log unless it holds [`LOG_LIMIT`] entries already.
pub fn record<T>(log: &mut Vec<T>, entry: T) {
    if log.len() < LOG_LIMIT {
        log.push(entry);
    }
}

/// Locks `mutex`, also when a panicking handler poisoned it (simulator state stays usable).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A simulator: started on an address with its vendor's configuration, reached at its base
/// URL, and told which faults the next calls meet.
pub trait Simulator: Sized + Send + Sync + 'static {
    /// The vendor simulator's settings.
    type Config: Send;

    /// Starts on `addr` (port 0: any free port).
    fn start_on(config: Self::Config, addr: SocketAddr)
    -> impl Future<Output = std::io::Result<Self>> + Send;

    /// Starts on `127.0.0.1` with an ephemeral port.
    fn start(config: Self::Config) -> impl Future<Output = std::io::Result<Self>> + Send {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// `http://127.0.0.1:<port>`.
    fn base_url(&self) -> String;

    /// Queues a fault for the next API call.
    fn inject(&self, fault: Fault);
}

/// Declares a vendor simulator type: `struct $name { server: SimServer, shared: Arc<$state> }`
/// with `Debug` and [`Simulator`] (started by the type's own `async fn launch(config, addr)`,
/// faults queued on `shared.faults`), so that every simulator has the same handle.
///
/// ```
/// use std::net::SocketAddr;
/// use cc_core::sim::{Faults, SimServer};
///
/// pub struct SimConfig;
/// struct Shared {
///     faults: Faults,
/// }
/// cc_core::simulator! {
///     /// A running simulator; stops when dropped.
///     pub struct DemoSim { state: Shared, config: SimConfig }
/// }
/// impl DemoSim {
///     async fn launch(_config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
///         let shared = std::sync::Arc::new(Shared { faults: Faults::default() });
///         Ok(Self { server: SimServer::bind(addr, axum::Router::new()).await?, shared })
///     }
/// }
/// ```
#[macro_export]
macro_rules! simulator {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { state: $state:ty, config: $config:ty }) => {
        $(#[$meta])*
        $vis struct $name {
            server: $crate::sim::SimServer,
            shared: ::std::sync::Arc<$state>,
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name)).field("addr", &self.server.addr()).finish_non_exhaustive()
            }
        }

        impl $crate::sim::Simulator for $name {
            type Config = $config;

            async fn start_on(config: $config, addr: ::std::net::SocketAddr) -> ::std::io::Result<Self> {
                Self::launch(config, addr).await
            }

            fn base_url(&self) -> ::std::string::String {
                self.server.base_url()
            }

            fn inject(&self, fault: $crate::sim::Fault) {
                self.shared.faults.push(fault);
            }
        }
    };
}

/// A simulator's listening socket and tasks; everything stops when it is dropped.
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SimServer {
    /// Binds `addr` and serves `app` with the default [`crate::serve::ServerLimits`].
    pub async fn bind(addr: SocketAddr, app: Router) -> std::io::Result<Self> {
        Ok(Self::bind_with(addr, |_| (app, ())).await?.0)
    }

    /// Binds `addr`, then serves the router `build` makes from the bound address (for
    /// simulators whose answers hold their own URL, such as pre-signed download links);
    /// `build`'s second value (the simulator's state) is handed back.
    pub async fn bind_with<T>(
        addr: SocketAddr,
        build: impl FnOnce(SocketAddr) -> (Router, T),
    ) -> std::io::Result<(Self, T)> {
        let listener = crate::serve::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (app, state) = build(addr);
        let server = tokio::spawn(crate::serve::serve(listener, app, crate::serve::ServerLimits::default()));
        Ok((Self { addr, tasks: vec![server] }, state))
    }

    /// Runs `task` (callback delivery, expiry sweeps) until the simulator is dropped.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(task));
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Access tokens a simulator issued, each live for `lifetime` from its issue.
#[derive(Debug)]
pub struct BearerTokens {
    lifetime: Duration,
    issued: Mutex<HashMap<String, Instant>>,
}

impl BearerTokens {
    /// Tokens live for `lifetime`.
    pub fn new(lifetime: Duration) -> Self {
        Self { lifetime, issued: Mutex::default() }
    }

    /// Records a newly issued token and forgets the expired ones (a long-running simulator
    /// issues tokens without end).
    pub fn issue(&self, token: impl Into<String>) {
        let mut issued = lock(&self.issued);
        issued.retain(|_, at| at.elapsed() < self.lifetime);
        issued.insert(token.into(), Instant::now());
    }

    /// The lifetime tokens get (the `expires_in` to answer).
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Whether `token` was issued and has not expired.
    pub fn is_live(&self, token: &str) -> bool {
        lock(&self.issued).get(token).is_some_and(|at| at.elapsed() < self.lifetime)
    }

    /// Whether `headers` carry `Authorization: Bearer <a live token>`.
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        bearer(headers).is_some_and(|token| self.is_live(token))
    }

    /// Forgets `token` (a revocation); whether it was live.
    pub fn revoke(&self, token: &str) -> bool {
        let at = lock(&self.issued).remove(token);
        at.is_some_and(|at| at.elapsed() < self.lifetime)
    }

    /// The tokens still live, oldest first.
    pub fn live(&self) -> Vec<String> {
        let issued = lock(&self.issued);
        let mut live: Vec<(&String, &Instant)> =
            issued.iter().filter(|(_, at)| at.elapsed() < self.lifetime).collect();
        live.sort_by_key(|(_, at)| **at);
        live.into_iter().map(|(token, _)| token.clone()).collect()
    }

    /// Forgets every token: the next call with any of them gets 401.
    pub fn expire_all(&self) {
        lock(&self.issued).clear();
    }
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")
}

/// A fault for the next API call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and the vendor's error body; `retry_after` seconds when given.
    Status {
        /// The status.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Answer normally after this delay.
    Delay(Duration),
    /// Process the call, then break the connection in the middle of the response.
    Reset,
}

impl Fault {
    /// The faults an idempotent call must come through (the fault matrix of
    /// docs/reliability.md): 429 with `Retry-After: 1`, 503, a reset after processing, and a
    /// delay of `read_timeout` (longer than the client's attempt timeout).
    pub fn survivable(read_timeout: Duration) -> [Fault; 4] {
        [
            Fault::Status { status: 429, retry_after: Some(1) },
            Fault::Status { status: 503, retry_after: None },
            Fault::Reset,
            Fault::Delay(read_timeout),
        ]
    }
}

/// The queue of pending faults.
#[derive(Debug, Default)]
pub struct Faults(Mutex<VecDeque<Fault>>);

/// A call that passed admission. Answer it through [`Admitted::respond`], which breaks the
/// response when the call met a [`Fault::Reset`].
#[must_use = "answer through `respond`, or an injected reset is lost"]
#[derive(Debug)]
pub struct Admitted {
    reset: bool,
}

impl Admitted {
    /// `response`, or — when the call met a reset — a 200 whose body breaks after the
    /// headers: the call was processed, the client cannot tell.
    pub fn respond(self, response: impl IntoResponse) -> Response {
        if self.reset { broken_response() } else { response.into_response() }
    }

    /// Whether the call met a reset.
    pub fn is_reset(&self) -> bool {
        self.reset
    }
}

impl Faults {
    /// Queues a fault for the next call.
    pub fn push(&self, fault: Fault) {
        lock(&self.0).push_back(fault);
    }

    /// The admission step (see the module docs): takes the next fault. A status is answered
    /// as `Err(error(status))` with `Retry-After` when the fault has one (`error` builds the
    /// vendor's error body); a delay is waited out here; a reset is carried in [`Admitted`].
    pub async fn admit(&self, error: impl FnOnce(StatusCode) -> Response) -> Result<Admitted, Response> {
        let next = lock(&self.0).pop_front();
        match next {
            None => Ok(Admitted { reset: false }),
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                Ok(Admitted { reset: false })
            }
            Some(Fault::Reset) => Ok(Admitted { reset: true }),
            Some(Fault::Status { status, retry_after }) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Err(with_retry_after(error(status), retry_after))
            }
        }
    }
}

/// Adds `Retry-After` when given.
pub fn with_retry_after(mut response: Response, retry_after: Option<u64>) -> Response {
    if let Some(seconds) = retry_after {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    response
}

/// A 200 whose body fails after the headers went out: the client sees the connection break
/// after the server acted on the request.
pub fn broken_response() -> Response {
    (StatusCode::OK, Body::new(BrokenBody)).into_response()
}

struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected reset"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn faults_apply_in_order_with_one_meaning() {
        let faults = Faults::default();
        faults.push(Fault::Delay(Duration::from_secs(3)));
        faults.push(Fault::Status { status: 429, retry_after: Some(1) });
        faults.push(Fault::Reset);
        let before = tokio::time::Instant::now();
        let error = |status: StatusCode| (status, "vendor error body").into_response();
        let delayed = faults.admit(error).await.unwrap();
        assert!(before.elapsed() >= Duration::from_secs(3));
        assert_eq!(delayed.respond(StatusCode::CREATED).status(), StatusCode::CREATED);
        let refused = faults.admit(error).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()["retry-after"], "1");
        // A reset: admitted (the call is processed), the answer breaks.
        let reset = faults.admit(error).await.unwrap();
        assert!(reset.is_reset());
        let broken = reset.respond(StatusCode::CREATED);
        assert_eq!(broken.status(), StatusCode::OK);
        assert!(axum::body::to_bytes(broken.into_body(), 1024).await.is_err(), "the body breaks");
        assert!(!faults.admit(error).await.unwrap().is_reset());
    }

    #[test]
    fn bearer_tokens_live_for_their_lifetime() {
        let tokens = BearerTokens::new(Duration::from_secs(60));
        tokens.issue("t1");
        let mut headers = HeaderMap::new();
        assert!(!tokens.authorized(&headers));
        headers.insert("authorization", "Bearer t1".parse().unwrap());
        assert!(tokens.authorized(&headers));
        headers.insert("authorization", "Bearer t2".parse().unwrap());
        assert!(!tokens.authorized(&headers));
        tokens.expire_all();
        assert!(!tokens.is_live("t1"));
        assert!(!BearerTokens::new(Duration::ZERO).is_live("t1"));
    }

    /// A long-running simulator keeps neither expired tokens nor more log entries than the
    /// limit.
    #[test]
    fn what_a_simulator_keeps_is_bounded() {
        let tokens = BearerTokens::new(Duration::from_millis(20));
        tokens.issue("old");
        std::thread::sleep(Duration::from_millis(30));
        tokens.issue("new");
        let kept: Vec<String> = lock(&tokens.issued).keys().cloned().collect();
        assert_eq!(kept, ["new"], "the expired token was forgotten");

        let mut log = Vec::new();
        for i in 0..LOG_LIMIT + 5 {
            record(&mut log, i);
        }
        assert_eq!(log.len(), LOG_LIMIT);
        assert_eq!((log[0], log[LOG_LIMIT - 1]), (0, LOG_LIMIT - 1), "the first entries are kept");
    }
}
