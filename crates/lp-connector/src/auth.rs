//! LivePerson's two credentials (feature `client`):
//!
//! - the **AppJWT**, from Sentinel with the app installation's client id and secret (OAuth2
//!   client credentials, form body). One per app, valid an hour; Sentinel's answer states no
//!   `expires_in`, so the lifetime is read from the JWT itself (`exp − iat`, else `exp` against
//!   our clock, else one hour as documented). [`SentinelSource`] feeds cc-core's `TokenCache`,
//!   which refreshes it ahead of expiry (one fetch at a time).
//! - the **ConsumerJWS**, from the IdP, one per external consumer id. It never expires, so
//!   [`ConsumerCache`] keeps it per consumer (bounded; the oldest entry goes first).
//!
//! Both go out bare: `Authorization: <AppJWT>` (no `Bearer ` prefix) and
//! `X-LP-ON-BEHALF: <ConsumerJWS>`, as LivePerson documents and its public connectors send.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use cc_core::auth::{AuthError, Token, TokenSource};
use cc_core::http::{Body, Error as HttpError, Executor, Request};
use cc_core::{ParticipantId, Secret};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::domains::DomainCache;
use crate::model::{AppJwtResponse, SENTINEL, jwt_claims};

/// The lifetime LivePerson documents for an AppJWT ("valid for one hour").
pub const APP_JWT_LIFETIME: Duration = Duration::from_secs(3600);

/// Fetches AppJWTs from the account's Sentinel domain.
pub struct SentinelSource {
    domains: Arc<DomainCache>,
    http: Executor,
    account: String,
    form: Secret<String>,
}

impl std::fmt::Debug for SentinelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelSource").field("account", &self.account).finish_non_exhaustive()
    }
}

impl SentinelSource {
    /// A source for `account` with the app installation's `client_id` and `client_secret`.
    pub fn new(
        domains: Arc<DomainCache>,
        http: Executor,
        account: &str,
        client_id: &str,
        client_secret: &Secret<String>,
    ) -> Self {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("client_secret", client_secret.expose_secret())
            .finish();
        Self { domains, http, account: account.to_owned(), form: Secret::new(form) }
    }
}

#[async_trait]
impl TokenSource for SentinelSource {
    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        let base = self
            .domains
            .get()
            .await
            .and_then(|d| d.url(SENTINEL))
            .map_err(|e| AuthError::Transport(e.to_string()))?;
        // `v` and `grant_type` in the query, the credentials in the form body: as documented.
        let request = Request::post(format!("{base}/sentinel/api/account/{}/app/token", self.account))
            .operation("lp.app_jwt")
            .query("v", "1.0")
            .query("grant_type", "client_credentials")
            .sensitive_response()
            .idempotent(true)
            .header("accept", "application/json")
            .body(Body::Form(self.form.clone()));
        let answer: AppJwtResponse =
            self.http.send_json(&request).await.map_err(HttpError::into_auth_error)?;
        let lifetime = app_jwt_lifetime(&answer, SystemTime::now());
        Ok(Token::bearer(answer.access_token.expose_secret().clone(), Some(lifetime)))
    }
}

/// How long an AppJWT lives: `expires_in` when Sentinel sends it; else the token's own
/// `exp − iat` (independent of our clock); else `exp` against `now`; else one hour.
pub fn app_jwt_lifetime(answer: &AppJwtResponse, now: SystemTime) -> Duration {
    if let Some(seconds) = answer.expires_in.map(|v| v.0).filter(|s| *s > 0) {
        return Duration::from_secs(seconds);
    }
    let claims = jwt_claims(answer.access_token.expose_secret()).unwrap_or_default();
    let claim = |name: &str| claims.get(name).and_then(Value::as_i64);
    match (claim("exp"), claim("iat")) {
        (Some(exp), Some(iat)) if exp > iat => Duration::from_secs((exp - iat) as u64),
        (Some(exp), _) => {
            let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            Duration::from_secs(exp.saturating_sub(now).max(0) as u64)
        }
        _ => APP_JWT_LIFETIME,
    }
}

/// A consumer's JWS and the LivePerson consumer id it names (`lp_consumer_id`, read from
/// the token without verifying it).
#[derive(Clone)]
pub struct ConsumerJws {
    token: Secret<String>,
    lp_consumer_id: Option<ParticipantId>,
}

impl std::fmt::Debug for ConsumerJws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerJws")
            .field("token", &self.token)
            .field("lp_consumer_id", &self.lp_consumer_id)
            .finish()
    }
}

impl ConsumerJws {
    /// Wraps a JWS from the IdP (or from your own store: it never expires).
    pub fn new(token: Secret<String>) -> Self {
        let lp_consumer_id = jwt_claims(token.expose_secret())
            .and_then(|c| c.get("lp_consumer_id").and_then(Value::as_str).map(ParticipantId::new));
        Self { token, lp_consumer_id }
    }

    /// The token, for `X-LP-ON-BEHALF`.
    pub fn token(&self) -> &Secret<String> {
        &self.token
    }

    /// The LivePerson consumer id in the token. That webhook notifications name the consumer
    /// by this id is an assumption (the shapes match; LivePerson does not say).
    pub fn lp_consumer_id(&self) -> Option<&ParticipantId> {
        self.lp_consumer_id.as_ref()
    }
}

type Cell = Arc<OnceCell<ConsumerJws>>;

/// ConsumerJWSs by external consumer id: one IdP call per consumer (callers that arrive
/// while it runs wait for it; a failure is not kept), at most `capacity` consumers (the
/// oldest is forgotten first, and fetched again if it comes back).
#[derive(Debug)]
pub struct ConsumerCache {
    capacity: usize,
    cells: Mutex<(HashMap<String, Cell>, VecDeque<String>)>,
}

impl ConsumerCache {
    /// A cache for up to `capacity` consumers (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), cells: Mutex::default() }
    }

    /// The cell of `consumer`, created when missing.
    pub(crate) fn cell(&self, consumer: &str) -> Cell {
        let mut guard = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        let (cells, order) = &mut *guard;
        if let Some(cell) = cells.get(consumer) {
            return cell.clone();
        }
        while cells.len() >= self.capacity {
            let Some(oldest) = order.pop_front() else { break };
            cells.remove(&oldest);
        }
        let cell = Cell::default();
        cells.insert(consumer.to_owned(), cell.clone());
        order.push_back(consumer.to_owned());
        cell
    }

    /// Seeds a consumer's JWS (one kept from an earlier run).
    pub fn seed(&self, consumer: &str, jws: ConsumerJws) {
        self.forget(consumer);
        let _ = self.cell(consumer).set(jws);
    }

    /// Forgets `consumer`'s JWS if it is still `rejected` (LivePerson refused it).
    pub(crate) fn forget_rejected(&self, consumer: &str, rejected: &ConsumerJws) {
        let mut guard = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        let (cells, order) = &mut *guard;
        let same = cells
            .get(consumer)
            .and_then(|c| c.get())
            .is_some_and(|held| held.token.expose_secret() == rejected.token.expose_secret());
        if same {
            cells.remove(consumer);
            order.retain(|c| c != consumer);
        }
    }

    /// Forgets `consumer`.
    pub fn forget(&self, consumer: &str) {
        let mut guard = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        let (cells, order) = &mut *guard;
        if cells.remove(consumer).is_some() {
            order.retain(|c| c != consumer);
        }
    }

    /// Consumers held.
    pub fn len(&self) -> usize {
        self.cells.lock().unwrap_or_else(|p| p.into_inner()).0.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(claims: Value) -> String {
        let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", enc(&serde_json::json!({"alg": "RS256", "typ": "JWT"})), enc(&claims))
    }

    fn answer(token: String, expires_in: Option<u64>) -> AppJwtResponse {
        AppJwtResponse {
            access_token: Secret::new(token),
            token_type: Some("Bearer".into()),
            expires_in: expires_in.map(cc_core::de::Lenient),
        }
    }

    #[test]
    fn the_lifetime_comes_from_the_answer_then_the_token_then_the_documented_hour() {
        let now = UNIX_EPOCH + Duration::from_secs(1_524_642_700);
        // LivePerson's example: exp − iat = 3600, whatever our clock says.
        let documented = jwt(
            serde_json::json!({"aud": "le81823118", "iss": "Sentinel", "exp": 1_524_646_270i64, "iat": 1_524_642_670i64}),
        );
        assert_eq!(app_jwt_lifetime(&answer(documented.clone(), None), now), Duration::from_secs(3600));
        assert_eq!(app_jwt_lifetime(&answer(documented, Some(120)), now), Duration::from_secs(120));
        let exp_only = jwt(serde_json::json!({"exp": 1_524_643_700i64}));
        assert_eq!(app_jwt_lifetime(&answer(exp_only, None), now), Duration::from_secs(1000));
        let past = jwt(serde_json::json!({"exp": 1_000i64}));
        assert_eq!(app_jwt_lifetime(&answer(past, None), now), Duration::ZERO);
        for opaque in ["not-a-jwt", "a.b.c", "a.!!!.c", "", "a.b.c.d"] {
            assert_eq!(app_jwt_lifetime(&answer(opaque.into(), None), now), APP_JWT_LIFETIME, "{opaque:?}");
        }
    }

    #[test]
    fn a_jws_names_its_consumer_and_never_shows_its_token() {
        let jws = ConsumerJws::new(Secret::new(jwt(serde_json::json!({
            "account_id": "le31457780", "ext_consumer_id": "random_id0.17307796875",
            "lp_consumer_id": "29caf0c1e1b7a6e0b5a8ab3e4f6a9f8c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4fa24"
        }))));
        assert_eq!(
            jws.lp_consumer_id().map(ParticipantId::as_str),
            Some("29caf0c1e1b7a6e0b5a8ab3e4f6a9f8c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4fa24")
        );
        let shown = format!("{jws:?}");
        assert!(!shown.contains(jws.token().expose_secret().as_str()), "{shown}");
        assert!(ConsumerJws::new(Secret::from("opaque")).lp_consumer_id().is_none());
    }

    #[test]
    fn the_consumer_cache_is_bounded_and_forgets_only_the_rejected_token() {
        let cache = ConsumerCache::new(2);
        let a = cache.cell("a");
        a.set(ConsumerJws::new(Secret::from("jws-a"))).unwrap();
        cache.cell("b");
        assert!(Arc::ptr_eq(&a, &cache.cell("a")), "a held cell is returned again");
        cache.cell("c");
        assert_eq!(cache.len(), 2, "the oldest (a) went");
        assert!(cache.cell("a").get().is_none(), "a is fetched again");
        cache.seed("a", ConsumerJws::new(Secret::from("jws-a2")));
        cache.forget_rejected("a", &ConsumerJws::new(Secret::from("jws-a")));
        assert!(cache.cell("a").get().is_some(), "a newer token is not dropped for an older one's refusal");
        cache.forget_rejected("a", &ConsumerJws::new(Secret::from("jws-a2")));
        assert!(cache.cell("a").get().is_none());
    }
}
