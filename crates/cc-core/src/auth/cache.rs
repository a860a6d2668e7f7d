//! The token cache; see [`TokenCache`].

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{AuthError, Authenticator, Credential, SharedTokenStore, Token, TokenStore};

/// Where new tokens come from: a grant against a token endpoint, a login call, a test double.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// Fetches a new token. `previous` is the token being replaced, if any (it carries the
    /// refresh token for a refresh grant).
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, AuthError>;
}

#[async_trait]
impl<T: TokenSource + ?Sized> TokenSource for Arc<T> {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        (**self).fetch(previous).await
    }
}

/// When to refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Refresh this long before expiry (capped at half the token's lifetime).
    pub margin: Duration,
    /// Plus a random extra in `0..=jitter`, drawn once per token.
    pub jitter: Duration,
    /// After a failed early refresh, wait this long before trying again while the current
    /// token is still valid.
    pub retry_interval: Duration,
    /// Lifetime assumed for tokens that do not state `expires_in`; `None`: such tokens are
    /// used until a 401 invalidates them.
    pub assumed_lifetime: Option<Duration>,
    /// Shortest lifetime a token is given (default 1 s). A server answering `expires_in: 0`
    /// would otherwise cost one token request per API call; such a token is treated as
    /// short-lived instead (at most about two token requests a second, however many calls),
    /// and a 401 still renews it at once.
    pub min_lifetime: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            margin: Duration::from_secs(300),
            jitter: Duration::from_secs(60),
            retry_interval: Duration::from_secs(5),
            assumed_lifetime: None,
            min_lifetime: Duration::from_secs(1),
        }
    }
}

/// A token handed out by the cache, with its identity for [`TokenCache::invalidate`].
#[derive(Clone, Debug)]
pub struct CachedToken {
    token: Arc<Token>,
    generation: u64,
    /// `Authorization: Bearer …` for this token, made once.
    credential: Credential,
}

impl CachedToken {
    /// The token.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// Identity of this token within its cache.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

struct Entry {
    cached: CachedToken,
    refresh_at: Option<Instant>,
    expires_at: Option<Instant>,
    rejected: bool,
}

impl Entry {
    fn valid(&self, now: Instant) -> bool {
        !self.rejected && self.expires_at.is_none_or(|t| now < t)
    }

    fn fresh(&self, now: Instant) -> bool {
        self.valid(now) && self.refresh_at.is_none_or(|t| now < t)
    }
}

#[derive(Default)]
struct Shared {
    entry: Option<Entry>,
    /// Completed fetches; a waiter compares it to see whether a fetch ended while it waited.
    flights: u64,
    /// A fetch is running: later callers wait for its end instead of queueing for the lock.
    fetching: bool,
    last_failure: Option<(AuthError, Instant)>,
    generations: u64,
}

/// A token cache with single-flight refresh ahead of expiry.
///
/// - Callers get the cached token while it is fresh. After its refresh point (expiry minus a
///   margin minus a random jitter, so that many instances do not refresh at once) the next
///   caller fetches a new one.
/// - **Single flight**: however many callers arrive while a fetch runs, they wait for that
///   one fetch and share its result.
/// - **Failures are not cached**: the callers that waited for a failed fetch get its error;
///   the next caller tries again. If the current token is still valid (the failure happened
///   during early refresh) callers keep using it, and a new attempt is made at most once per
///   [`RefreshPolicy::retry_interval`].
/// - [`TokenCache::invalidate`] (after a 401) drops exactly the token that was rejected; the
///   refresh token it carried is still used for the next fetch.
/// - With a [`TokenStore`], every fetched token is saved before another fetch can start (a
///   rotated refresh token is the only one that works). A failed save is logged and the token stays
///   in use, since the previous refresh token may already be invalid.
/// - With a [`SharedTokenStore`] ([`TokenCache::with_shared_store`]), the single flight spans
///   processes: before fetching, the flight reads the stored token and adopts it when another
///   process already replaced the one held here; otherwise it takes the store's lock (a lease
///   of [`TokenCache::with_lock_lease`], 30 s by default), reads again, and refreshes from the
///   *stored* token (its refresh token is the latest), saving under the lock's fence. A process
///   that finds the lock taken polls the store until the new token is there or the lease ends.
///
/// Time is tokio's clock, so tests can pause it.
pub struct TokenCache {
    source: Arc<dyn TokenSource>,
    store: Option<Arc<dyn TokenStore>>,
    shared_store: Option<Arc<dyn SharedTokenStore>>,
    lock_lease: Duration,
    policy: RefreshPolicy,
    shared: Mutex<Shared>,
    flight: tokio::sync::Mutex<()>,
    /// Bumped when a fetch ends (or is cancelled): wakes every waiting caller at once. Through
    /// the flight lock alone, 1,000 waiters were woken one after another, each a scheduler
    /// pass behind the last.
    flight_ended: tokio::sync::watch::Sender<u64>,
    rng: Mutex<fastrand::Rng>,
}

/// Ends a fetch on drop, also when the fetching caller is cancelled.
struct FlightEnd<'a>(&'a TokenCache);

impl Drop for FlightEnd<'_> {
    fn drop(&mut self) {
        self.0.lock().fetching = false;
        self.0.flight_ended.send_modify(|epoch| *epoch = epoch.wrapping_add(1));
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shared = self.lock();
        f.debug_struct("TokenCache")
            .field("policy", &self.policy)
            .field("has_token", &shared.entry.is_some())
            .field("fetches", &shared.flights)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache over `source` with the default [`RefreshPolicy`].
    pub fn new(source: impl TokenSource + 'static) -> Self {
        Self::from_arc(Arc::new(source))
    }

    /// A cache over a shared source.
    pub fn from_arc(source: Arc<dyn TokenSource>) -> Self {
        Self {
            source,
            store: None,
            shared_store: None,
            lock_lease: Duration::from_secs(30),
            policy: RefreshPolicy::default(),
            shared: Mutex::new(Shared::default()),
            flight: tokio::sync::Mutex::new(()),
            flight_ended: tokio::sync::watch::channel(0).0,
            rng: Mutex::new(fastrand::Rng::new()),
        }
    }

    /// Sets the refresh policy.
    pub fn with_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Saves every fetched token to `store`; see also [`TokenCache::restore`] and
    /// [`TokenCache::seed_and_save`].
    pub fn with_store(mut self, store: impl TokenStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Shares tokens with every process using the same `store`: one refresh per expiry across
    /// all of them (see the type's docs). Also saves and restores as [`TokenCache::with_store`].
    pub fn with_shared_store<S: SharedTokenStore + 'static>(mut self, store: S) -> Self {
        let store = Arc::new(store);
        self.store = Some(store.clone());
        self.shared_store = Some(store);
        self
    }

    /// How long the shared store's refresh lock is held at most (default 30 s): longer than a
    /// token request can take, or another process may refresh with the same refresh token.
    pub fn with_lock_lease(mut self, lease: Duration) -> Self {
        self.lock_lease = lease;
        self
    }

    /// Seeds the jitter generator (reproducible tests).
    pub fn with_jitter_seed(self, seed: u64) -> Self {
        *self.rng.lock().unwrap_or_else(|p| p.into_inner()) = fastrand::Rng::with_seed(seed);
        self
    }

    /// Starts with a token obtained elsewhere: an authorization-code exchange, a token store.
    /// Its lifetime counts from now.
    pub fn seed(&self, token: Token) -> CachedToken {
        let mut shared = self.lock();
        self.install(&mut shared, token, Instant::now())
    }

    /// Seeds the cache with the token in the store, if there is one (a restarted process
    /// resumes where it stopped; an expired token is refreshed on first use). `Ok(None)`:
    /// no store or nothing stored.
    pub async fn restore(&self) -> Result<Option<CachedToken>, AuthError> {
        let Some(store) = &self.store else { return Ok(None) };
        Ok(store.load().await?.map(|token| self.seed(token)))
    }

    /// Saves `token` to the store (when there is one), then seeds the cache with it: the
    /// token of an authorization-code exchange, whose refresh token exists nowhere else.
    pub async fn seed_and_save(&self, token: Token) -> Result<CachedToken, AuthError> {
        if let Some(store) = &self.store {
            store.save(&token).await?;
        }
        Ok(self.seed(token))
    }

    /// The current token, fetching one if there is none or it is due for refresh.
    pub async fn token(&self) -> Result<CachedToken, AuthError> {
        let seen = {
            let shared = self.lock();
            let now = Instant::now();
            match &shared.entry {
                Some(e) if e.fresh(now) => return Ok(e.cached.clone()),
                Some(e) if e.valid(now) && self.backing_off(&shared, now) => {
                    return Ok(e.cached.clone());
                }
                _ => shared.flights,
            }
        };

        // Subscribed before looking, so a fetch ending in between still wakes us.
        let mut ended = self.flight_ended.subscribe();
        if self.lock().fetching {
            let _ = ended.changed().await;
            if let Some(outcome) = self.settled(seen) {
                return outcome;
            }
        }

        let _flight = self.flight.lock().await;
        if let Some(outcome) = self.settled(seen) {
            return outcome;
        }
        let previous = {
            let mut shared = self.lock();
            shared.fetching = true;
            shared.entry.as_ref().map(|e| e.cached.token.clone())
        };
        let end = FlightEnd(self);

        // `save`: a new token the store has not seen yet.
        let result = match &self.shared_store {
            Some(store) => self.fetch_shared(store.as_ref(), previous.as_deref()).await.map(|t| (t, false)),
            None => self.source.fetch(previous.as_deref()).await.map(|t| (t, true)),
        };
        let now = Instant::now();

        let (outcome, fetched) = {
            let mut shared = self.lock();
            shared.flights += 1;
            match result {
                Ok((token, save)) => {
                    shared.last_failure = None;
                    let cached = self.install(&mut shared, token, now);
                    (Ok(cached), save)
                }
                Err(err) => {
                    shared.last_failure = Some((err.clone(), now));
                    match shared.entry.as_ref().filter(|e| e.valid(now)) {
                        Some(e) => {
                            tracing::warn!(error = %err, "early token refresh failed; using the current token");
                            (Ok(e.cached.clone()), false)
                        }
                        None => (Err(err), false),
                    }
                }
            }
        };
        // Waiters take the outcome now; the flight lock is held through the save below.
        drop(end);

        if let (Ok(cached), true, Some(store)) = (&outcome, fetched, &self.store)
            && let Err(err) = store.save(cached.token()).await
        {
            tracing::warn!(error = %err, "could not save the new token to the token store");
        }
        outcome
    }

    /// What a caller that waited gets: the token if it is fresh now, or the outcome of a
    /// fetch that ended since it looked (`seen`). `None`: it fetches itself.
    fn settled(&self, seen: u64) -> Option<Result<CachedToken, AuthError>> {
        let shared = self.lock();
        let now = Instant::now();
        if let Some(e) = shared.entry.as_ref().filter(|e| e.fresh(now)) {
            return Some(Ok(e.cached.clone()));
        }
        if shared.flights != seen {
            if let Some(e) = shared.entry.as_ref().filter(|e| e.valid(now)) {
                return Some(Ok(e.cached.clone()));
            }
            if let Some((err, _)) = &shared.last_failure {
                return Some(Err(err.clone()));
            }
        }
        None
    }

    /// The cross-process flight: adopt what another process stored, or refresh under the
    /// store's lock.
    async fn fetch_shared(
        &self,
        store: &dyn SharedTokenStore,
        held: Option<&Token>,
    ) -> Result<Token, AuthError> {
        // A stored token replaces the one held here when it differs and has not expired.
        let newer = |stored: &Token| {
            stored.expires_in().is_none_or(|left| !left.is_zero())
                && held
                    .is_none_or(|h| h.access_token().expose_secret() != stored.access_token().expose_secret())
        };
        let deadline = Instant::now() + self.lock_lease.saturating_mul(2);
        loop {
            if let Some(stored) = store.load().await?.filter(|t| newer(t)) {
                return Ok(stored);
            }
            if let Some(fence) = store.try_lock(self.lock_lease).await? {
                // Another process may have saved between the read and the lock.
                let stored = match store.load().await {
                    Ok(stored) => stored,
                    Err(err) => {
                        let _ = store.unlock(fence).await;
                        return Err(err);
                    }
                };
                if let Some(stored) = stored.as_ref().filter(|t| newer(t)) {
                    let _ = store.unlock(fence).await;
                    return Ok(stored.clone());
                }
                let base = stored.as_ref().or(held);
                return match self.source.fetch(base).await {
                    Ok(token) => {
                        match store.save_fenced(&token, fence, base).await {
                            Ok(true) => {}
                            Ok(false) => tracing::warn!(
                                "the token refresh outlasted its lock and another process saved a newer token; \
                                 this process keeps its own"
                            ),
                            Err(err) => {
                                tracing::warn!(error = %err, "could not save the new token to the shared store")
                            }
                        }
                        Ok(token)
                    }
                    Err(err) => {
                        let _ = store.unlock(fence).await;
                        Err(err)
                    }
                };
            }
            if Instant::now() >= deadline {
                return Err(AuthError::Store(format!(
                    "another process held the token refresh lock for over {} s without saving a token",
                    self.lock_lease.saturating_mul(2).as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Marks `rejected` as unusable (the server answered 401 to it). Does nothing if the cache
    /// already moved on to a newer token, so N concurrent 401s cause one new fetch.
    pub fn invalidate(&self, rejected: &CachedToken) {
        self.invalidate_generation(rejected.generation);
    }

    fn invalidate_generation(&self, generation: u64) {
        let mut shared = self.lock();
        if let Some(e) = shared.entry.as_mut().filter(|e| e.cached.generation == generation) {
            e.rejected = true;
        }
    }

    /// Removes the token held and returns it if it is still valid: for a logout, which
    /// revokes it at the vendor (the next call fetches a new one). Nothing is fetched.
    pub fn take_current(&self) -> Option<CachedToken> {
        let entry = self.lock().entry.take()?;
        entry.valid(Instant::now()).then_some(entry.cached)
    }

    /// How many fetches have completed (successful or not).
    pub fn fetch_count(&self) -> u64 {
        self.lock().flights
    }

    fn backing_off(&self, shared: &Shared, now: Instant) -> bool {
        shared.last_failure.as_ref().is_some_and(|(_, at)| now < *at + self.policy.retry_interval)
    }

    fn install(&self, shared: &mut Shared, token: Token, now: Instant) -> CachedToken {
        shared.generations += 1;
        let lifetime = token.expires_in().or(self.policy.assumed_lifetime);
        let (refresh_at, expires_at) = match lifetime {
            Some(lifetime) => {
                let lifetime = lifetime.clamp(self.policy.min_lifetime, super::MAX_TOKEN_LIFETIME);
                let jitter_ms = u64::try_from(self.policy.jitter.as_millis()).unwrap_or(u64::MAX);
                let jitter = Duration::from_millis(
                    self.rng.lock().unwrap_or_else(|p| p.into_inner()).u64(0..=jitter_ms),
                );
                let early = (self.policy.margin + jitter).min(lifetime / 2);
                (Some(now + (lifetime - early)), Some(now + lifetime))
            }
            None => (None, None),
        };
        let generation = shared.generations;
        let credential = Credential::new(vec![("authorization".into(), token.authorization())], generation);
        let cached = CachedToken { token: Arc::new(token), generation, credential };
        shared.entry = Some(Entry { cached: cached.clone(), refresh_at, expires_at, rejected: false });
        cached
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // The state stays consistent at every await point, so a poisoned lock is still usable.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Authenticator for TokenCache {
    async fn credential(&self) -> Result<Credential, AuthError> {
        Ok(self.token().await?.credential)
    }

    fn reject(&self, credential: &Credential) -> bool {
        self.invalidate_generation(credential.generation());
        true
    }
}
