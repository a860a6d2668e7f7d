//! Webex OAuth2: the integration (authorization-code) flow, refresh with rotated refresh
//! tokens saved to a cc-core [`TokenStore`], service-app tokens, and regions.
//!
//! Tokens live in a cc-core [`TokenCache`]: one refresh at a time however many callers wait
//! (so an old refresh token is never sent twice), refresh ahead of expiry, and the new pair
//! saved to the store before another refresh can start.

use std::sync::Arc;

use async_trait::async_trait;
use cc_core::Secret;
use cc_core::auth::{
    AuthError, AuthorizeUrl, ClientAuth, Grant, State, Token, TokenCache, TokenEndpoint, TokenSource,
    parse_redirect,
};
use cc_core::http::{Executor, OAuth2Source, Request};
use serde::Serialize;

/// cc-core's token stores, re-exported: the integration flow saves its rotated pairs there.
pub use cc_core::auth::{FileTokenStore, TokenStore};

/// The global Webex OAuth endpoints' root.
pub const WEBEX_API: &str = "https://webexapis.com/v1";

/// Where the contact-center API of a tenant lives. OAuth endpoints are global.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Region {
    /// United States.
    Us1,
    /// United Kingdom.
    Eu1,
    /// Germany.
    Eu2,
    /// Australia and New Zealand.
    Anz1,
    /// Canada.
    Ca1,
    /// Japan.
    Jp1,
    /// Singapore.
    Sg1,
    /// India (listed as tentative in the vendor notes).
    In1,
    /// Another root (a simulator, a proxy), without a trailing slash.
    Custom(String),
}

impl Region {
    /// The API root, e.g. `https://api.wxcc-us1.cisco.com`.
    pub fn base_url(&self) -> String {
        let dc = match self {
            Self::Us1 => "us1",
            Self::Eu1 => "eu1",
            Self::Eu2 => "eu2",
            Self::Anz1 => "anz1",
            Self::Ca1 => "ca1",
            Self::Jp1 => "jp1",
            Self::Sg1 => "sg1",
            Self::In1 => "in1",
            Self::Custom(url) => return url.trim_end_matches('/').to_owned(),
        };
        format!("https://api.wxcc-{dc}.cisco.com")
    }
}

/// The org id at the end of a Webex access token (`…_<cluster>_<orgId>`), when it is there.
///
/// ```
/// let token = "ZDI3MGEyYzQtNmFlNS00NDNhLWFl_P0A1_97cdbf45-ebe2-4687-8341-44d5c7abf101";
/// assert_eq!(wxcc_api::auth::org_id_from_token(token).as_deref(), Some("97cdbf45-ebe2-4687-8341-44d5c7abf101"));
/// assert_eq!(wxcc_api::auth::org_id_from_token("opaque"), None);
/// ```
pub fn org_id_from_token(access_token: &str) -> Option<String> {
    let mut parts = access_token.rsplitn(3, '_');
    let org = parts.next()?;
    let _cluster = parts.next()?;
    parts.next()?;
    let uuid_like = org.len() == 36
        && org
            .char_indices()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() });
    uuid_like.then(|| org.to_ascii_lowercase())
}

/// A Webex integration (authorization-code grant): what the developer portal issued.
#[derive(Clone, Debug)]
pub struct Integration {
    client_id: String,
    client_secret: Secret<String>,
    redirect_uri: String,
    scopes: Vec<String>,
    oauth_base: String,
}

impl Integration {
    /// An integration with scope `cjp:config_read`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: Secret<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            scopes: vec!["cjp:config_read".into()],
            oauth_base: WEBEX_API.into(),
        }
    }

    /// Replaces the scopes (`cjp:config`, `cjp:config_read`, `cjp:config_write`, `cjp:user`…).
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Another OAuth root than `https://webexapis.com/v1` (a simulator).
    pub fn oauth_base(mut self, base: impl Into<String>) -> Self {
        self.oauth_base = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// The URL to send the admin to. Generate the state with [`State::generate`], keep it
    /// (server side, or in a signed cookie) until the redirect comes back.
    pub fn authorize_url(&self, state: &State) -> String {
        AuthorizeUrl::new(format!("{}/authorize", self.oauth_base), &self.client_id, &self.redirect_uri)
            .scopes(self.scopes.iter().cloned())
            .build(state)
    }

    /// The token endpoint with form client authentication, as Webex expects.
    pub fn token_endpoint(&self) -> TokenEndpoint {
        TokenEndpoint::new(
            format!("{}/access_token", self.oauth_base),
            &self.client_id,
            self.client_secret.clone(),
        )
        .client_auth(ClientAuth::Form)
    }

    /// Checks the redirect's `state` and exchanges its `code` for a token pair.
    /// `executor` should have no auth (the token call carries the client credentials).
    pub async fn complete(
        &self,
        executor: &Executor,
        redirect_query: &str,
        state: &State,
    ) -> Result<Token, AuthError> {
        let code = parse_redirect(redirect_query, state)?;
        self.exchange_code(executor, code).await
    }

    /// Exchanges an authorization code for a token pair.
    pub async fn exchange_code(&self, executor: &Executor, code: Secret<String>) -> Result<Token, AuthError> {
        let grant = Grant::AuthorizationCode { code, redirect_uri: self.redirect_uri.clone() };
        executor.fetch_token(&self.token_endpoint(), &grant).await
    }

    /// A token cache seeded with `token` that refreshes it ahead of expiry, saving every new
    /// pair to `store` (and `token` itself right away).
    pub async fn token_cache(
        &self,
        executor: Executor,
        token: Token,
        store: Arc<dyn TokenStore>,
    ) -> Result<Arc<TokenCache>, AuthError> {
        let cache =
            TokenCache::new(OAuth2Source::refresh_only(self.token_endpoint(), executor)).with_store(store);
        cache.seed_and_save(token).await?;
        Ok(Arc::new(cache))
    }

    /// A token cache on a store several processes share (Redis: cc-core's `RedisTokenStore`):
    /// one refresh per expiry across all of them, and a rotated refresh token is never
    /// presented twice. Started from the stored token; an error if the store is empty.
    pub async fn shared_token_cache<S: cc_core::auth::SharedTokenStore + 'static>(
        &self,
        executor: Executor,
        store: S,
    ) -> Result<Arc<TokenCache>, AuthError> {
        let cache = TokenCache::new(OAuth2Source::refresh_only(self.token_endpoint(), executor))
            .with_shared_store(store);
        cache.restore().await?.ok_or_else(|| {
            AuthError::Store("the token store is empty: complete the authorization-code flow first".into())
        })?;
        Ok(Arc::new(cache))
    }

    /// A token cache started from the token in `store`; an error if the store is empty
    /// (the admin has to go through consent first).
    pub async fn token_cache_from_store(
        &self,
        executor: Executor,
        store: Arc<dyn TokenStore>,
    ) -> Result<Arc<TokenCache>, AuthError> {
        let cache =
            TokenCache::new(OAuth2Source::refresh_only(self.token_endpoint(), executor)).with_store(store);
        cache.restore().await?.ok_or_else(|| {
            AuthError::Store("the token store is empty: complete the authorization-code flow first".into())
        })?;
        Ok(Arc::new(cache))
    }
}

/// Service-app token request (`POST /v1/applications/{appId}/token`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceAppTokenRequest<'a> {
    client_id: &'a str,
    client_secret: &'a str,
    target_org_id: &'a str,
}

/// A Service App (machine account): its token comes from
/// `POST /v1/applications/{appId}/token`, called with an admin token that holds
/// `spark:applications_token`. It is then refreshed with the app's own credentials — our
/// assumption (the vendor notes only describe issuing); a refused refresh falls back to issuing
/// a new token with the admin token.
pub struct ServiceApp {
    app_id: String,
    client_id: String,
    client_secret: Secret<String>,
    target_org_id: String,
    oauth_base: String,
    admin: Arc<TokenCache>,
    executor: Executor,
}

impl std::fmt::Debug for ServiceApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceApp")
            .field("app_id", &self.app_id)
            .field("client_id", &self.client_id)
            .field("target_org_id", &self.target_org_id)
            .finish_non_exhaustive()
    }
}

impl ServiceApp {
    /// A service app of `target_org_id`; `admin` supplies the token with
    /// `spark:applications_token`; `executor` has no auth.
    pub fn new(
        app_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret<String>,
        target_org_id: impl Into<String>,
        admin: Arc<TokenCache>,
        executor: Executor,
    ) -> Self {
        Self {
            app_id: app_id.into(),
            client_id: client_id.into(),
            client_secret,
            target_org_id: target_org_id.into(),
            oauth_base: WEBEX_API.into(),
            admin,
            executor,
        }
    }

    /// Another OAuth root (a simulator).
    pub fn oauth_base(mut self, base: impl Into<String>) -> Self {
        self.oauth_base = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// A token cache over this app; every new pair goes to `store` when given.
    pub fn token_cache(self, store: Option<Arc<dyn TokenStore>>) -> Arc<TokenCache> {
        let cache = TokenCache::new(self);
        Arc::new(match store {
            Some(store) => cache.with_store(store),
            None => cache,
        })
    }

    async fn issue(&self) -> Result<Token, AuthError> {
        let admin = self.admin.token().await?;
        let body = ServiceAppTokenRequest {
            client_id: &self.client_id,
            client_secret: self.client_secret.expose_secret(),
            target_org_id: &self.target_org_id,
        };
        let request = Request::post(format!("{}/applications/{}/token", self.oauth_base, self.app_id))
            .operation("webex.service_app_token")
            .without_auth()
            .sensitive_response()
            .idempotent(true)
            .secret_header("authorization", admin.token().authorization())
            .secret_json(&body)
            .map_err(|e| AuthError::InvalidResponse(e.to_string()))?;
        self.executor.send_json::<Token>(&request).await.map_err(|e| match e.status() {
            Some(401) => {
                self.admin.invalidate(&admin);
                AuthError::Rejected {
                    status: 401,
                    error: e.vendor_code().map(str::to_owned),
                    description: Some(e.to_string()),
                }
            }
            Some(status) => AuthError::Rejected {
                status,
                error: e.vendor_code().map(str::to_owned),
                description: Some(e.to_string()),
            },
            None => AuthError::Transport(e.to_string()),
        })
    }
}

#[async_trait]
impl TokenSource for ServiceApp {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        if let Some(refresh_token) = previous.and_then(Token::refresh_token) {
            let endpoint = TokenEndpoint::new(
                format!("{}/access_token", self.oauth_base),
                &self.client_id,
                self.client_secret.clone(),
            )
            .client_auth(ClientAuth::Form);
            let grant = Grant::RefreshToken { refresh_token: refresh_token.clone() };
            match self.executor.fetch_token(&endpoint, &grant).await {
                // Refused (expired or revoked): ask for a new one with the admin token.
                Err(AuthError::Rejected { status: 400 | 401, .. }) => {}
                other => return other,
            }
        }
        self.issue().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        assert_eq!(Region::Us1.base_url(), "https://api.wxcc-us1.cisco.com");
        assert_eq!(Region::Eu2.base_url(), "https://api.wxcc-eu2.cisco.com");
        assert_eq!(Region::Custom("http://127.0.0.1:9/".into()).base_url(), "http://127.0.0.1:9");
    }

    #[test]
    fn authorize_url_carries_client_redirect_scopes_and_state() {
        let integration = Integration::new("C123", Secret::from("s"), "https://app.example/auth")
            .scopes(["cjp:config_read", "cjp:user"]);
        let url = integration.authorize_url(&State::from_stored("st8"));
        assert_eq!(
            url,
            "https://webexapis.com/v1/authorize?response_type=code&client_id=C123&redirect_uri=https%3A%2F%2Fapp.example%2Fauth&scope=cjp%3Aconfig_read+cjp%3Auser&state=st8"
        );
    }

    #[test]
    fn org_id_needs_the_suffix_shape() {
        for bad in [
            "a_b",
            "x_P0A1_notauuid",
            "_97cdbf45-ebe2-4687-8341-44d5c7abf101",
            "P0A1_97cdbf45-ebe2-4687-8341-44d5c7abf101",
        ] {
            assert_eq!(org_id_from_token(bad), None, "{bad}");
        }
    }
}
