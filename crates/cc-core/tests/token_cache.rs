//! Token cache behaviour under tokio's paused clock: single flight, jittered early refresh,
//! failures not cached, invalidation after a 401, persistence of rotated refresh tokens.
#![cfg(feature = "cache")]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cc_core::auth::{AuthError, Authenticator, RefreshPolicy, Token, TokenCache, TokenSource, TokenStore};

/// Issues `tok-N` (and refresh token `ref-N`) after a 1 s delay; fails the calls listed in
/// `fail_on` (1-based). Records the refresh token of the `previous` token it was given.
#[derive(Default)]
struct Source {
    calls: AtomicU32,
    fail_on: Vec<u32>,
    lifetime_s: u64,
    seen_previous: Mutex<Vec<Option<String>>>,
}

impl Source {
    fn new(lifetime_s: u64) -> Self {
        Self { lifetime_s, ..Self::default() }
    }
}

#[async_trait]
impl TokenSource for Source {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.seen_previous
            .lock()
            .unwrap()
            .push(previous.and_then(|p| p.refresh_token()).map(|r| r.expose_secret().clone()));
        tokio::time::sleep(Duration::from_secs(1)).await;
        if self.fail_on.contains(&n) {
            return Err(AuthError::Rejected {
                status: 503,
                error: None,
                description: Some(format!("outage {n}")),
            });
        }
        Ok(Token::bearer(format!("tok-{n}"), Some(Duration::from_secs(self.lifetime_s)))
            .with_refresh_token(format!("ref-{n}")))
    }
}

fn access(cache_token: &cc_core::auth::CachedToken) -> String {
    cache_token.token().access_token().expose_secret().clone()
}

#[tokio::test(start_paused = true)]
async fn a_thousand_concurrent_callers_cause_one_fetch() {
    let source = Arc::new(Source::new(3600));
    let cache = Arc::new(TokenCache::new(source.clone()));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.token().await.map(|t| access(&t)) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "tok-1");
    }
    assert_eq!(source.calls.load(Ordering::SeqCst), 1);
    assert_eq!(cache.fetch_count(), 1);
}

/// Time (seconds after the first fetch) at which the cache fetches its second token.
async fn refresh_point(seed: u64) -> u64 {
    let source = Arc::new(Source::new(3600));
    let policy = RefreshPolicy {
        margin: Duration::from_secs(300),
        jitter: Duration::from_secs(60),
        ..RefreshPolicy::default()
    };
    let cache = TokenCache::new(source.clone()).with_policy(policy).with_jitter_seed(seed);
    cache.token().await.unwrap(); // issued at t=1 s, after the fetch delay
    let mut elapsed = 0;
    loop {
        tokio::time::advance(Duration::from_secs(1)).await;
        elapsed += 1;
        let before = source.calls.load(Ordering::SeqCst);
        let t = cache.token().await.unwrap();
        if source.calls.load(Ordering::SeqCst) > before {
            assert_eq!(access(&t), "tok-2");
            return elapsed;
        }
        assert_eq!(access(&t), "tok-1");
        assert!(elapsed < 3600, "never refreshed");
    }
}

#[tokio::test(start_paused = true)]
async fn refresh_happens_early_with_jitter() {
    let mut points = Vec::new();
    for seed in 1..=8 {
        let at = refresh_point(seed).await;
        // Refresh at lifetime - margin - jitter: between 3600-360 and 3600-300.
        assert!((3240..=3300).contains(&at), "seed {seed}: refreshed at {at}s");
        points.push(at);
    }
    points.sort();
    points.dedup();
    assert!(points.len() > 1, "jitter must spread refresh points: {points:?}");
}

#[tokio::test(start_paused = true)]
async fn a_failed_fetch_reaches_its_waiters_and_is_not_cached() {
    let source = Arc::new(Source { fail_on: vec![1], ..Source::new(3600) });
    let cache = Arc::new(TokenCache::new(source.clone()));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.token().await.map(|t| access(&t)) })
        })
        .collect();
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert!(matches!(err, AuthError::Rejected { status: 503, .. }), "{err}");
    }
    assert_eq!(source.calls.load(Ordering::SeqCst), 1, "waiters share the failed fetch");
    // The next caller tries again and succeeds.
    assert_eq!(access(&cache.token().await.unwrap()), "tok-2");
    assert_eq!(source.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn early_refresh_failure_keeps_the_valid_token_and_backs_off() {
    let source = Arc::new(Source { fail_on: vec![2], ..Source::new(600) });
    let policy = RefreshPolicy {
        margin: Duration::from_secs(60),
        jitter: Duration::ZERO,
        retry_interval: Duration::from_secs(5),
        ..RefreshPolicy::default()
    };
    let cache = TokenCache::new(source.clone()).with_policy(policy);
    assert_eq!(access(&cache.token().await.unwrap()), "tok-1");
    tokio::time::advance(Duration::from_secs(545)).await; // inside the refresh window
    assert_eq!(access(&cache.token().await.unwrap()), "tok-1", "failed refresh, token still valid");
    assert_eq!(source.calls.load(Ordering::SeqCst), 2);
    assert_eq!(access(&cache.token().await.unwrap()), "tok-1");
    assert_eq!(source.calls.load(Ordering::SeqCst), 2, "no new attempt within the retry interval");
    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(access(&cache.token().await.unwrap()), "tok-3");
}

#[tokio::test(start_paused = true)]
async fn concurrent_401s_cause_one_refetch_that_keeps_the_refresh_token() {
    let source = Arc::new(Source::new(3600));
    let cache = Arc::new(TokenCache::new(source.clone()));
    let credential = cache.credential().await.unwrap();
    assert_eq!(credential.headers()[0].1.expose_secret(), "Bearer tok-1");
    // Ten requests made with tok-1 all got 401.
    for _ in 0..10 {
        assert!(cache.reject(&credential));
    }
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(
                async move { cache.credential().await.unwrap().headers()[0].1.expose_secret().clone() },
            )
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "Bearer tok-2");
    }
    assert_eq!(source.calls.load(Ordering::SeqCst), 2);
    // The re-fetch was handed the rejected token, so a refresh grant can use ref-1.
    assert_eq!(*source.seen_previous.lock().unwrap(), vec![None, Some("ref-1".to_string())]);
    // A late 401 for the old credential does not invalidate the new token.
    assert!(cache.reject(&credential));
    cache.token().await.unwrap();
    assert_eq!(source.calls.load(Ordering::SeqCst), 2);
}

/// Keeps every saved token; `load` gives the last one.
#[derive(Default)]
struct Store(Mutex<Vec<Token>>);

impl Store {
    fn refresh_tokens(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().map(|t| t.refresh_token().unwrap().expose_secret().clone()).collect()
    }
}

#[async_trait]
impl TokenStore for Store {
    async fn load(&self) -> Result<Option<Token>, AuthError> {
        Ok(self.0.lock().unwrap().last().cloned())
    }

    async fn save(&self, token: &Token) -> Result<(), AuthError> {
        self.0.lock().unwrap().push(token.clone());
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn every_new_token_is_saved_and_a_new_cache_resumes_from_the_store() {
    let source = Arc::new(Source::new(100));
    let store = Arc::new(Store::default());
    let policy =
        RefreshPolicy { margin: Duration::from_secs(10), jitter: Duration::ZERO, ..RefreshPolicy::default() };
    let cache = TokenCache::new(source.clone()).with_policy(policy).with_store(store.clone());
    assert!(cache.restore().await.unwrap().is_none(), "empty store: nothing to resume");
    cache
        .seed_and_save(Token::bearer("seeded", Some(Duration::from_secs(100))).with_refresh_token("ref-0"))
        .await
        .unwrap();
    assert_eq!(store.refresh_tokens(), ["ref-0"], "the exchanged token is saved before use");
    assert_eq!(access(&cache.token().await.unwrap()), "seeded");
    tokio::time::advance(Duration::from_secs(95)).await;
    assert_eq!(access(&cache.token().await.unwrap()), "tok-1");
    assert_eq!(*source.seen_previous.lock().unwrap(), vec![Some("ref-0".to_string())]);
    assert_eq!(store.refresh_tokens(), ["ref-0", "ref-1"]);

    // A restarted process: a new cache over the same store resumes with the rotated pair.
    let restarted = TokenCache::new(source.clone()).with_policy(policy).with_store(store.clone());
    assert_eq!(access(&restarted.restore().await.unwrap().unwrap()), "tok-1");
    assert_eq!(access(&restarted.token().await.unwrap()), "tok-1", "still valid: no fetch");
    assert_eq!(source.calls.load(Ordering::SeqCst), 1);
    tokio::time::advance(Duration::from_secs(95)).await;
    assert_eq!(access(&restarted.token().await.unwrap()), "tok-2");
    assert_eq!(source.seen_previous.lock().unwrap().last().unwrap().as_deref(), Some("ref-1"));
}

#[tokio::test(start_paused = true)]
async fn tokens_without_expiry_live_until_invalidated() {
    struct NoExpiry(AtomicU32);
    #[async_trait]
    impl TokenSource for NoExpiry {
        async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Token::bearer(format!("t{n}"), None))
        }
    }
    let cache = TokenCache::new(NoExpiry(AtomicU32::new(0)));
    let first = cache.token().await.unwrap();
    tokio::time::advance(Duration::from_secs(365 * 86400)).await;
    assert_eq!(access(&cache.token().await.unwrap()), "t1");
    cache.invalidate(&first);
    assert_eq!(access(&cache.token().await.unwrap()), "t2");
    assert!(format!("{cache:?}").contains("fetches: 2"));
}

/// Hands out the same parsed token response every time.
struct Parsed(&'static str, AtomicU32);

#[async_trait]
impl TokenSource for Parsed {
    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(cc_core::de::parse_json(self.0.as_bytes()).unwrap())
    }
}

#[tokio::test(start_paused = true)]
async fn absurd_lifetimes_from_the_server_are_clamped() {
    for body in [
        r#"{"access_token":"a","expires_in":9223372036854775807}"#,
        r#"{"access_token":"a","expires_in":"18446744073709551615"}"#,
    ] {
        let source = Arc::new(Parsed(body, AtomicU32::new(0)));
        let cache = TokenCache::new(source.clone());
        // Used to panic: "overflow when adding duration to instant".
        cache.token().await.unwrap();
        cache.token().await.unwrap();
        assert_eq!(source.1.load(Ordering::SeqCst), 1, "{body}");
        let token: Token = cc_core::de::parse_json(body.as_bytes()).unwrap();
        assert_eq!(token.expires_in(), Some(cc_core::auth::MAX_TOKEN_LIFETIME));
    }

    // `expires_in: 0` is short-lived, not one token request per call.
    let source = Arc::new(Parsed(r#"{"access_token":"a","expires_in":0}"#, AtomicU32::new(0)));
    let cache = TokenCache::new(source.clone());
    for _ in 0..10 {
        cache.token().await.unwrap();
    }
    assert_eq!(source.1.load(Ordering::SeqCst), 1);
    // The floor is 1 s.
    tokio::time::advance(Duration::from_millis(1001)).await;
    cache.token().await.unwrap();
    assert_eq!(source.1.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn take_current_hands_over_a_valid_token_without_fetching_and_the_next_call_fetches() {
    let source = Arc::new(Source::new(60));
    let cache = TokenCache::new(source.clone());
    assert!(cache.take_current().is_none(), "nothing held, nothing fetched");
    assert_eq!(source.calls.load(Ordering::SeqCst), 0);
    let first = access(&cache.token().await.unwrap());
    let taken = cache.take_current().expect("the token held");
    assert_eq!(access(&taken), first);
    assert!(cache.take_current().is_none(), "taken once");
    assert_eq!(access(&cache.token().await.unwrap()), "tok-2", "the next call fetches anew");
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(cache.take_current().is_none(), "an expired token is not handed out");
}

/// The caller running the fetch is cancelled (its request dropped) while others wait for it:
/// the waiters are woken, one of them fetches, and all get that token; none hangs.
#[tokio::test(start_paused = true)]
async fn a_cancelled_fetch_hands_the_flight_to_a_waiter() {
    let source = Arc::new(Source::new(3600));
    let cache = Arc::new(TokenCache::new(source.clone()));
    let first = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.token().await.map(|t| access(&t)) })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waiters: Vec<_> = (0..50)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.token().await.map(|t| access(&t)) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    first.abort();
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        let mut got = Vec::new();
        for waiter in waiters {
            got.push(waiter.await.unwrap().unwrap());
        }
        got
    })
    .await
    .expect("the waiters of a cancelled fetch are not left waiting");
    assert!(got.iter().all(|t| t == "tok-2"), "{got:?}");
    assert_eq!(source.calls.load(Ordering::SeqCst), 2, "the cancelled fetch and one more");
}
