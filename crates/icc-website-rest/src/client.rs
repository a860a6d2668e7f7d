//! The visitor client (feature `client`): Routing, AgentImage, and typed calls to the
//! undocumented chat paths, each visitor with its own tracking cookie.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cc_core::EpochMillis;
use cc_core::http::{Body, Executor, Method, Request, RetryPolicy};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::model::{AgentId, RoutingModel, WebApp};

/// The tracking cookie's name in public iCC documentation (configurable).
pub const DEFAULT_COOKIE: &str = "icc3_TrackingId";
/// Longest `UserToken` the API accepts.
pub const MAX_USER_TOKEN: usize = 320;

/// Client settings.
#[derive(Clone, Debug)]
pub struct WebSiteConfig {
    /// The WebSite module's root (the `~` of `~/api/…`), e.g. `https://chat.example.com/WebSite`.
    pub base_url: String,
    /// The tracking cookie's name (default `icc3_TrackingId`).
    pub cookie_name: String,
    /// Time one attempt may take (default 10 s).
    pub attempt_timeout: Duration,
    /// Retry limits (Routing and AgentImage are GETs: retried on 5xx and timeouts).
    pub retry: RetryPolicy,
}

impl WebSiteConfig {
    /// Settings for `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            cookie_name: DEFAULT_COOKIE.into(),
            attempt_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

/// The client: shared by all visitors (one connection pool), cheap to clone.
#[derive(Clone, Debug)]
pub struct WebSiteClient {
    http: Executor,
    base: Arc<str>,
    cookie: Arc<str>,
}

/// An agent's picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentImage {
    /// `Content-Type` (`image/png`…).
    pub content_type: Option<String>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl WebSiteClient {
    /// A client for `config`.
    pub fn new(config: WebSiteConfig) -> Result<Self, Error> {
        let http = Executor::builder()
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .retry_policy(config.retry)
            .attempt_timeout(config.attempt_timeout)
            .build()?;
        Ok(Self {
            http,
            base: config.base_url.trim_end_matches('/').into(),
            cookie: config.cookie_name.into(),
        })
    }

    /// A new visitor: no tracking id until the WebSite sets one.
    pub fn visitor(&self) -> Visitor {
        Visitor { client: self.clone(), tracking_id: Arc::default() }
    }

    /// The Routing request for `app` at `now` (without the visitor's cookie), checked
    /// (`UserToken` at most 320 characters) but not sent.
    pub fn routing_request(
        &self,
        app: &WebApp,
        user_token: Option<&str>,
        include_settings: bool,
        now: EpochMillis,
    ) -> Result<Request, Error> {
        let token = user_token.unwrap_or("");
        let chars = token.chars().count();
        if chars > MAX_USER_TOKEN {
            return Err(Error::Invalid {
                field: "UserToken",
                reason: format!("{chars} characters; at most {MAX_USER_TOKEN}"),
            });
        }
        Ok(Request::get(format!("{}/api/Routing/{}", self.base, app.as_str()))
            .operation("icc-website.routing")
            .query("RegionalTime", now.as_i64().to_string())
            .query("UserToken", token)
            .query("IncludeSettings", if include_settings { "true" } else { "false" })
            .header("accept", "application/json"))
    }

    /// A visitor resumed from an exported tracking id (after a restart).
    pub fn resume(&self, tracking_id: impl Into<String>) -> Visitor {
        Visitor { client: self.clone(), tracking_id: Arc::new(Mutex::new(Some(tracking_id.into()))) }
    }
}

/// One website visitor: owns its tracking cookie, so two visitors never share a chat.
#[derive(Clone, Debug)]
pub struct Visitor {
    client: WebSiteClient,
    tracking_id: Arc<Mutex<Option<String>>>,
}

impl Visitor {
    /// The visitor's tracking id, to store and [`WebSiteClient::resume`] later.
    pub fn tracking_id(&self) -> Option<String> {
        self.lock().clone()
    }

    /// `GET ~/api/Routing/{app}?RegionalTime=…&UserToken=…&IncludeSettings=…`. `None` when the
    /// WebSite answers JSON `null`: the application is not configured for the page, or blocked
    /// — render nothing.
    pub async fn routing(
        &self,
        app: &WebApp,
        user_token: Option<&str>,
        include_settings: bool,
    ) -> Result<Option<RoutingModel>, Error> {
        let request = self.client.routing_request(app, user_token, include_settings, EpochMillis::now())?;
        let response = self.send(request).await?;
        Ok(response.json::<Option<RoutingModel>>()?)
    }

    /// `GET ~/api/AgentImage/{agentId}?width=&height=`: the agent's picture (a generic one when
    /// the agent is not in this visitor's chat).
    pub async fn agent_image(
        &self,
        agent: &AgentId,
        width: Option<u32>,
        height: Option<u32>,
    ) -> Result<AgentImage, Error> {
        let mut request = Request::get(format!("{}/api/AgentImage/{}", self.client.base, agent))
            .operation("icc-website.agent_image");
        if let Some(w) = width {
            request = request.query("width", w.to_string());
        }
        if let Some(h) = height {
            request = request.query("height", h.to_string());
        }
        let response = self.send(request).await?;
        Ok(AgentImage {
            content_type: response.header("content-type").map(str::to_owned),
            bytes: response.into_body(),
        })
    }

    /// A JSON call to another path under the WebSite root with this visitor's cookie and the
    /// client's error handling. The chat operations (start, send, stop) are **not documented
    /// publicly**: take their paths and bodies from your WebSite installation. `body: None`
    /// sends no body. POST and PATCH are not retried after a possible delivery.
    pub async fn call_json<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<R, Error> {
        let mut request =
            Request::new(method, format!("{}/{}", self.client.base, path.trim_start_matches('/')))
                .operation("icc-website.call")
                .header("accept", "application/json");
        if let Some(body) = body {
            request =
                request.json(body).map_err(|e| Error::Invalid { field: "body", reason: e.to_string() })?;
        } else if matches!(method, Method::Post | Method::Put | Method::Patch) {
            request = request.body(Body::Empty);
        }
        Ok(self.send(request).await?.json()?)
    }

    async fn send(&self, mut request: Request) -> Result<cc_core::http::Response, Error> {
        if let Some(id) = self.tracking_id() {
            // The visitor's only credential: never in logs.
            request =
                request.secret_header("cookie", cc_core::Secret::new(format!("{}={id}", self.client.cookie)));
        }
        let response = self.client.http.send(&request).await?;
        let prefix = format!("{}=", self.client.cookie);
        for set_cookie in response.header_values("set-cookie") {
            let first = set_cookie.split(';').next().unwrap_or("").trim();
            if let Some(value) = first.strip_prefix(&prefix).filter(|v| !v.is_empty()) {
                *self.lock() = Some(value.to_owned());
            }
        }
        Ok(response)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.tracking_id.lock().unwrap_or_else(|p| p.into_inner())
    }
}
