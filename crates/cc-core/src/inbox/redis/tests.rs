//! What only the Redis implementation has: a server that goes away and comes back, and the
//! token single flight across caches that share nothing but Redis. The inbox and state rules
//! themselves run against all implementations in `inbox::tests`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::*;
use crate::auth::{AuthError, RefreshPolicy, Token, TokenCache, TokenSource, TokenStore as _};

/// An authorization server with rotating refresh tokens: each works once.
struct Rotating {
    current: Mutex<(u64, String)>,
    lifetime: Duration,
    refreshes: AtomicU64,
    reused: AtomicU64,
}

#[async_trait]
impl TokenSource for Rotating {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        tokio::time::sleep(Duration::from_millis(20)).await; // a round trip
        let presented = previous.and_then(|p| p.refresh_token()).map(|r| r.expose_secret().clone());
        let mut current = self.current.lock().unwrap();
        if presented.as_deref() != Some(current.1.as_str()) {
            self.reused.fetch_add(1, Ordering::SeqCst);
            return Err(AuthError::Rejected {
                status: 400,
                error: Some("invalid_grant".into()),
                description: Some("refresh token rotated away".into()),
            });
        }
        current.0 += 1;
        current.1 = format!("refresh-{}", current.0);
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Ok(Token::bearer(format!("access-{}", current.0), Some(self.lifetime))
            .with_refresh_token(current.1.clone()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_refresh_per_expiry_across_caches_sharing_redis() {
    let Some(server) = RedisServer::for_test("token single flight") else { return };
    let inbox = RedisInbox::open(&server.url(), InboxConfig::default()).unwrap();
    let lifetime = Duration::from_millis(1000);
    let source = std::sync::Arc::new(Rotating {
        current: Mutex::new((0, "refresh-0".into())),
        lifetime,
        refreshes: AtomicU64::new(0),
        reused: AtomicU64::new(0),
    });
    inbox
        .token_store("wxcc")
        .save(&Token::bearer("access-0", Some(lifetime)).with_refresh_token("refresh-0"))
        .await
        .unwrap();
    let policy = RefreshPolicy {
        margin: Duration::from_millis(300),
        jitter: Duration::from_millis(200),
        ..RefreshPolicy::default()
    };
    // Three "processes": caches that share only the Redis token.
    let caches: Vec<_> = (0..3)
        .map(|i| {
            std::sync::Arc::new(
                TokenCache::from_arc(source.clone())
                    .with_policy(policy)
                    .with_jitter_seed(i)
                    .with_shared_store(inbox.token_store("wxcc")),
            )
        })
        .collect();
    for cache in &caches {
        cache.restore().await.unwrap();
    }
    let until = Instant::now() + Duration::from_millis(3500);
    let seen = std::sync::Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let calls = std::sync::Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let (cache, seen, calls) = (caches[i % 3].clone(), seen.clone(), calls.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    let token = cache.token().await.expect("every call gets a token");
                    seen.lock().unwrap().insert(token.token().access_token().expose_secret().clone());
                    calls.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let refreshes = source.refreshes.load(Ordering::SeqCst);
    let distinct = seen.lock().unwrap().len() as u64;
    eprintln!("{} calls, {refreshes} refreshes, {distinct} tokens", calls.load(Ordering::Relaxed));
    assert_eq!(source.reused.load(Ordering::SeqCst), 0, "no refresh token presented twice");
    assert!(refreshes >= 4, "several expiries were crossed: {refreshes}");
    // At most one refresh per lifetime-minus-margin window, never one per cache.
    assert!(refreshes <= 3500 / 500 + 1, "{refreshes} refreshes in 3.5 s of 1 s tokens");
    assert!(distinct >= refreshes, "every new token was used: {distinct} of {refreshes}");
}

#[tokio::test]
async fn a_killed_and_restarted_redis_fails_calls_then_comes_back_with_its_data() {
    let Some(mut server) = RedisServer::for_test("redis restart") else { return };
    let inbox = RedisInbox::open(&server.url(), InboxConfig::default()).unwrap();
    let delivery = |key: &str| {
        let mut d = NewDelivery::new("test", format!("body {key}"));
        d.keys = vec![key.to_owned()];
        d
    };
    assert!(matches!(inbox.append(delivery("before")).await.unwrap(), Appended::Stored { .. }));
    server.kill();
    let started = Instant::now();
    let error = inbox.append(delivery("during")).await.unwrap_err();
    assert!(matches!(error, InboxError::Storage(_)), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10), "fails promptly: {:?}", started.elapsed());
    server.restart().unwrap();
    // The connection manager reconnects on the next calls.
    let deadline = Instant::now() + Duration::from_secs(10);
    let stored = loop {
        match inbox.append(delivery("after")).await {
            Ok(appended) => break appended,
            Err(e) if Instant::now() < deadline => {
                eprintln!("not yet back: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("never reconnected: {e}"),
        }
    };
    assert!(matches!(stored, Appended::Stored { .. }), "{stored:?}");
    // The append-only file kept the delivery acknowledged before the crash.
    let keys: Vec<Vec<String>> =
        inbox.claim(10, Duration::from_secs(30)).await.unwrap().into_iter().map(|l| l.keys).collect();
    assert_eq!(keys, [vec!["before".to_owned()], vec!["after".to_owned()]]);
    assert_eq!(inbox.append(delivery("before")).await.unwrap(), Appended::Duplicate, "dedupe kept too");
}

#[tokio::test]
async fn debug_output_and_errors_carry_no_password() {
    let inbox = RedisInbox::open("redis://:hunter2-secret@127.0.0.1:1/", InboxConfig::default()).unwrap();
    assert!(!format!("{inbox:?}").contains("hunter2"), "{inbox:?}");
    let error = inbox.append(NewDelivery::new("test", "x")).await.unwrap_err().to_string();
    assert!(!error.contains("hunter2"), "{error}");
    let bad =
        RedisInbox::open("redis://:hunter2-secret@[bad", InboxConfig::default()).unwrap_err().to_string();
    assert!(bad.contains("does not parse") && !bad.contains("hunter2"), "{bad}");
}

#[tokio::test]
async fn keys_and_bodies_survive_the_scripts_byte_for_byte() {
    let Some(server) = RedisServer::for_test("redis bytes") else { return };
    let inbox = RedisInbox::open(&server.url(), InboxConfig::default()).unwrap();
    let keys = ["ü/\"quoted\"\\back", "line\nbreak", "日本語:42"];
    let mut d = NewDelivery::new("vendor:with:colons", vec![0u8, 159, 146, 150, 255, b'\n']);
    d.keys = keys.iter().map(|k| (*k).to_owned()).collect();
    d.conversation = Some("conv:1".into());
    d.order = Some(-3);
    d.content_type = Some(String::new());
    assert!(
        matches!(inbox.append(d.clone()).await.unwrap(), Appended::Stored { ref fresh, .. } if fresh == &keys)
    );
    let leased = inbox.claim(1, Duration::from_secs(30)).await.unwrap().remove(0);
    assert_eq!(leased.keys, keys);
    assert_eq!(leased.body, d.body);
    assert_eq!(
        (leased.vendor.as_str(), leased.conversation.as_deref()),
        ("vendor:with:colons", Some("conv:1"))
    );
    assert_eq!((leased.order, leased.content_type.as_deref()), (Some(-3), Some("")));
    // The same key under another vendor is another key.
    let mut other = d.clone();
    other.vendor = "vendor".into();
    assert!(matches!(inbox.append(other).await.unwrap(), Appended::Stored { .. }));
    assert_eq!(inbox.append(d).await.unwrap(), Appended::Duplicate);
}

#[tokio::test]
async fn a_refresh_lock_whose_holder_died_is_taken_over_after_its_lease() {
    use crate::auth::SharedTokenStore as _;
    let Some(server) = RedisServer::for_test("token lock takeover") else { return };
    let inbox = RedisInbox::open(&server.url(), InboxConfig::default()).unwrap();
    let store = inbox.token_store("wxcc");
    store
        .save(&Token::bearer("access-0", Some(Duration::ZERO)).with_refresh_token("refresh-0"))
        .await
        .unwrap();
    // Another process took the lock and died before saving (a SIGKILL mid-refresh).
    let dead = store.try_lock(Duration::from_millis(400)).await.unwrap().expect("the lock is free");
    assert_eq!(store.try_lock(Duration::from_millis(400)).await.unwrap(), None, "held");
    let source = std::sync::Arc::new(Rotating {
        current: Mutex::new((0, "refresh-0".into())),
        lifetime: Duration::from_secs(60),
        refreshes: AtomicU64::new(0),
        reused: AtomicU64::new(0),
    });
    let cache = TokenCache::from_arc(source.clone())
        .with_lock_lease(Duration::from_millis(400))
        .with_shared_store(inbox.token_store("wxcc"));
    let started = Instant::now();
    let token = cache.token().await.unwrap();
    assert_eq!(token.token().access_token().expose_secret(), "access-1");
    assert!(started.elapsed() >= Duration::from_millis(300), "waited for the lease: {:?}", started.elapsed());
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
    // The dead holder's fence no longer saves over the new token, nor unlocks anything.
    let stale = Token::bearer("access-stale", Some(Duration::from_secs(60)));
    assert!(!store.save_fenced(&stale, dead, Some(&Token::bearer("access-0", None))).await.unwrap());
    assert_eq!(store.load().await.unwrap().unwrap().access_token().expose_secret(), "access-1");
}
