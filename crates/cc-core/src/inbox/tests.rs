//! The rules, run against both implementations.

use std::path::PathBuf;
use std::time::Duration;

use super::*;

fn config() -> InboxConfig {
    InboxConfig { max_hold: Duration::from_millis(200), ..InboxConfig::default() }
}

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cc-inbox-{}-{name}-{}", std::process::id(), fastrand_id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("inbox.db")
}

fn fastrand_id() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes)
}

/// Keeps a test's own redis-server running while its inbox is used.
#[cfg(feature = "redis")]
type Server = Option<redis::RedisServer>;
#[cfg(not(feature = "redis"))]
type Server = Option<std::convert::Infallible>;

/// Every implementation: memory, SQLite and (feature `redis`) Redis on a server of its own.
/// Named implementations under test.
type Named<T> = Vec<(&'static str, T)>;

fn both(name: &str, config: InboxConfig) -> (Named<Box<dyn Inbox>>, Server) {
    let mut stores: Named<Box<dyn Inbox>> = vec![
        ("memory", Box::new(MemoryInbox::new(config.clone()))),
        ("sqlite", Box::new(SqliteInbox::open(temp_db(name), config.clone()).unwrap())),
    ];
    #[cfg(feature = "redis")]
    let server = {
        let server = redis::RedisServer::for_test(name);
        if let Some(server) = &server {
            stores.push(("redis", Box::new(redis::RedisInbox::open(&server.url(), config).unwrap())));
        }
        server
    };
    #[cfg(not(feature = "redis"))]
    let server = None;
    (stores, server)
}

fn delivery(keys: &[&str], conversation: Option<&str>, order: Option<i64>) -> NewDelivery {
    let mut d = NewDelivery::new("test", format!("body of {keys:?}"));
    d.keys = keys.iter().map(|k| (*k).to_owned()).collect();
    d.conversation = conversation.map(str::to_owned);
    d.order = order;
    d
}

const LEASE: Duration = Duration::from_secs(30);

async fn claim_keys(inbox: &dyn Inbox) -> Vec<(Vec<String>, LeaseToken)> {
    inbox.claim(100, LEASE).await.unwrap().into_iter().map(|l| (l.keys, l.token)).collect()
}

#[tokio::test]
async fn dedupe_happens_in_the_append() {
    let (stores, _server) = both("dedupe", config());
    for (name, inbox) in stores {
        let first = inbox.append(delivery(&["a", "b"], None, None)).await.unwrap();
        assert!(matches!(first, Appended::Stored { ref fresh, .. } if fresh == &["a", "b"]), "{name}");
        assert_eq!(
            inbox.append(delivery(&["b", "a"], None, None)).await.unwrap(),
            Appended::Duplicate,
            "{name}"
        );
        // Partly seen: stored with the new keys only.
        match inbox.append(delivery(&["b", "c", "c", ""], None, None)).await.unwrap() {
            Appended::Stored { fresh, .. } => assert_eq!(fresh, ["c"], "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        // No keys: the body's hash.
        let unkeyed = NewDelivery::new("test", "same bytes");
        assert!(matches!(inbox.append(unkeyed.clone()).await.unwrap(), Appended::Stored { .. }), "{name}");
        assert_eq!(inbox.append(unkeyed).await.unwrap(), Appended::Duplicate, "{name}");
        // Keys are per vendor.
        let mut other = delivery(&["a"], None, None);
        other.vendor = "other".into();
        assert!(matches!(inbox.append(other).await.unwrap(), Appended::Stored { .. }), "{name}");
        let stats = inbox.stats().await.unwrap();
        assert_eq!((stats.pending, stats.leased, stats.remembered), (4, 0, 5), "{name}");
    }
}

#[tokio::test]
async fn leases_fence_and_expire() {
    let (stores, _server) = both("leases", config());
    for (name, inbox) in stores {
        inbox.append(delivery(&["a"], None, None)).await.unwrap();
        let claimed = inbox.claim(10, Duration::from_millis(100)).await.unwrap();
        assert_eq!(claimed.len(), 1, "{name}");
        let first = claimed[0].token;
        assert_eq!(first.attempt, 1);
        assert!(inbox.claim(10, LEASE).await.unwrap().is_empty(), "{name}: leased");
        assert_eq!(inbox.stats().await.unwrap().leased, 1, "{name}");
        tokio::time::sleep(Duration::from_millis(150)).await;
        // The consumer died: it comes back, fenced.
        let again = inbox.claim(10, LEASE).await.unwrap();
        assert_eq!(again.len(), 1, "{name}");
        assert_eq!(again[0].token.attempt, 2, "{name}");
        assert!(!inbox.ack(first).await.unwrap(), "{name}: the old lease cannot ack");
        assert!(inbox.ack(again[0].token).await.unwrap(), "{name}");
        assert!(!inbox.ack(again[0].token).await.unwrap(), "{name}: acked once");
        assert_eq!(inbox.stats().await.unwrap().pending, 0, "{name}");
        // Released with a delay: back after it.
        inbox.append(delivery(&["b"], None, None)).await.unwrap();
        let token = inbox.claim(10, LEASE).await.unwrap()[0].token;
        assert!(inbox.release(token, Duration::from_millis(100)).await.unwrap(), "{name}");
        assert!(inbox.claim(10, LEASE).await.unwrap().is_empty(), "{name}: delayed");
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(inbox.claim(10, LEASE).await.unwrap()[0].token.attempt, 2, "{name}");
    }
}

#[tokio::test]
async fn one_at_a_time_per_conversation_in_vendor_order() {
    let (stores, _server) = both("order", config());
    for (name, inbox) in stores {
        inbox.append(delivery(&["c2"], Some("c"), Some(2))).await.unwrap();
        inbox.append(delivery(&["c1"], Some("c"), Some(1))).await.unwrap();
        inbox.append(delivery(&["x"], None, None)).await.unwrap();
        inbox.append(delivery(&["d1"], Some("d"), None)).await.unwrap();
        inbox.append(delivery(&["d2"], Some("d"), None)).await.unwrap();
        let claimed = claim_keys(inbox.as_ref()).await;
        let keys: Vec<&str> = claimed.iter().map(|(k, _)| k[0].as_str()).collect();
        // Each conversation's head only; vendor order beats arrival.
        assert_eq!(keys, ["c1", "x", "d1"], "{name}");
        assert!(claim_keys(inbox.as_ref()).await.is_empty(), "{name}: heads are leased");
        for (_, token) in &claimed {
            assert!(inbox.ack(*token).await.unwrap());
        }
        let keys: Vec<String> = claim_keys(inbox.as_ref())
            .await
            .into_iter()
            .map(|(k, t)| k[0].clone() + &format!("@{}", t.attempt))
            .collect();
        assert_eq!(keys, ["c2@1", "d2@1"], "{name}");
    }
}

#[tokio::test]
async fn a_gap_is_waited_for_at_most_max_hold_and_late_ones_still_go_out() {
    let (stores, _server) = both("gap", config());
    for (name, inbox) in stores {
        inbox.append(delivery(&["1"], Some("c"), Some(1))).await.unwrap();
        let (_, token) = claim_keys(inbox.as_ref()).await.remove(0);
        inbox.ack(token).await.unwrap();
        inbox.append(delivery(&["3"], Some("c"), Some(3))).await.unwrap();
        assert!(claim_keys(inbox.as_ref()).await.is_empty(), "{name}: 3 waits for 2");
        // 2 arrives in time: it goes first.
        inbox.append(delivery(&["2"], Some("c"), Some(2))).await.unwrap();
        let (keys, token) = claim_keys(inbox.as_ref()).await.remove(0);
        assert_eq!(keys, ["2"], "{name}");
        inbox.ack(token).await.unwrap();
        let (keys, token) = claim_keys(inbox.as_ref()).await.remove(0);
        assert_eq!(keys, ["3"], "{name}");
        inbox.ack(token).await.unwrap();
        // 5 after a gap that never fills: out after max_hold; 4 arrives late and still goes out.
        inbox.append(delivery(&["5"], Some("c"), Some(5))).await.unwrap();
        assert!(claim_keys(inbox.as_ref()).await.is_empty(), "{name}");
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (keys, token) = claim_keys(inbox.as_ref()).await.remove(0);
        assert_eq!(keys, ["5"], "{name}");
        inbox.ack(token).await.unwrap();
        inbox.append(delivery(&["4"], Some("c"), Some(4))).await.unwrap();
        assert_eq!(claim_keys(inbox.as_ref()).await.remove(0).0, ["4"], "{name}: late, not lost");
    }
}

#[tokio::test]
async fn keys_are_forgotten_after_their_ttl() {
    let config = InboxConfig { dedupe_ttl: Duration::from_millis(100), vendor_ttl: vec![], ..config() };
    let (stores, _server) = both("ttl", config);
    for (name, inbox) in stores {
        inbox.append(delivery(&["a"], None, None)).await.unwrap();
        assert_eq!(inbox.append(delivery(&["a"], None, None)).await.unwrap(), Appended::Duplicate);
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            matches!(inbox.append(delivery(&["a"], None, None)).await.unwrap(), Appended::Stored { .. }),
            "{name}"
        );
    }
    assert_eq!(InboxConfig::default().ttl("alvaria"), Duration::from_secs(24 * 3600));
}

#[tokio::test]
async fn sqlite_keeps_deliveries_keys_leases_and_order_across_reopening() {
    let path = temp_db("reopen");
    {
        let inbox = SqliteInbox::open(&path, config()).unwrap();
        let mut d = delivery(&["a"], Some("c"), Some(1));
        d.content_type = Some("application/xml".into());
        inbox.append(d).await.unwrap();
        inbox.append(delivery(&["b"], Some("c"), Some(2))).await.unwrap();
        inbox.append(delivery(&["z"], None, None)).await.unwrap();
        // `z` is leased when the process goes away.
        let claimed = inbox.claim(10, Duration::from_millis(300)).await.unwrap();
        let head = claimed.iter().find(|l| l.keys == ["a"]).unwrap().token;
        inbox.ack(head).await.unwrap();
    }
    let inbox = SqliteInbox::open(&path, config()).unwrap();
    assert_eq!(inbox.append(delivery(&["a"], None, None)).await.unwrap(), Appended::Duplicate);
    let claimed = inbox.claim(10, LEASE).await.unwrap();
    let keys: Vec<&str> = claimed.iter().map(|l| l.keys[0].as_str()).collect();
    assert_eq!(keys, ["b"], "z is still leased; b follows a");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let claimed = inbox.claim(10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].keys.as_slice(), claimed[0].token.attempt), (&["z".to_owned()][..], 2));
    assert_eq!(claimed[0].body, b"body of [\"z\"]");
}

#[tokio::test]
async fn sqlite_refuses_what_it_cannot_open() {
    let dir = temp_db("bad").parent().unwrap().to_path_buf();
    let error = SqliteInbox::open(&dir, config()).unwrap_err().to_string();
    assert!(
        error.starts_with("inbox storage failed: ") && error.contains(&dir.display().to_string()),
        "{error}"
    );
    let newer = temp_db("version");
    {
        let conn = rusqlite::Connection::open(&newer).unwrap();
        conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    }
    let error = SqliteInbox::open(&newer, config()).unwrap_err().to_string();
    assert!(error.contains("schema version 99"), "{error}");
}

#[tokio::test]
async fn sqlite_commits_concurrent_appends_together() {
    let inbox =
        std::sync::Arc::new(SqliteInbox::open_with(temp_db("group"), config(), Synchronous::Normal).unwrap());
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let inbox = std::sync::Arc::clone(&inbox);
            tokio::spawn(async move { inbox.append(delivery(&[&format!("k{}", i % 150)], None, None)).await })
        })
        .collect();
    let mut stored = 0;
    for task in tasks {
        if matches!(task.await.unwrap().unwrap(), Appended::Stored { .. }) {
            stored += 1;
        }
    }
    assert_eq!(stored, 150, "each key stored once however the commits were grouped");
    assert_eq!(inbox.stats().await.unwrap().pending, 150);
}

fn both_state(name: &str) -> (Named<std::sync::Arc<dyn StateStore>>, Server) {
    let mut stores: Named<std::sync::Arc<dyn StateStore>> = vec![
        ("memory", std::sync::Arc::new(MemoryInbox::default())),
        ("sqlite", std::sync::Arc::new(SqliteInbox::open(temp_db(name), config()).unwrap())),
    ];
    #[cfg(feature = "redis")]
    let server = {
        let server = redis::RedisServer::for_test(name);
        if let Some(server) = &server {
            stores.push((
                "redis",
                std::sync::Arc::new(redis::RedisInbox::open(&server.url(), config()).unwrap()),
            ));
        }
        server
    };
    #[cfg(not(feature = "redis"))]
    let server = None;
    (stores, server)
}

#[tokio::test]
async fn state_values_by_scope_with_ttl() {
    let (stores, _server) = both_state("state");
    for (name, store) in stores {
        store.put("a", "k1", b"one".to_vec(), None).await.unwrap();
        store.put("a", "k2", b"two".to_vec(), Some(Duration::from_millis(100))).await.unwrap();
        store.put("b", "k1", b"other".to_vec(), None).await.unwrap();
        store.put("a", "k1", b"uno".to_vec(), None).await.unwrap();
        assert_eq!(store.get("a", "k1").await.unwrap().as_deref(), Some(&b"uno"[..]), "{name}");
        let keys: Vec<String> = store.scan("a").await.unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["k1", "k2"], "{name}");
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(store.get("a", "k2").await.unwrap(), None, "{name}: expired");
        assert_eq!(store.scan("a").await.unwrap().len(), 1, "{name}");
        store.delete("a", "k1").await.unwrap();
        store.delete("a", "never").await.unwrap();
        assert_eq!(store.get("a", "k1").await.unwrap(), None, "{name}");
        assert_eq!(store.get("b", "k1").await.unwrap().as_deref(), Some(&b"other"[..]), "{name}");
    }
}

#[tokio::test]
async fn tokens_survive_in_the_store_file() {
    use crate::auth::{Token, TokenStore as _};
    let path = temp_db("tokens");
    {
        let store: std::sync::Arc<dyn StateStore> =
            std::sync::Arc::new(SqliteInbox::open(&path, config()).unwrap());
        let tokens = StateTokenStore::new(store, "wxcc");
        assert!(tokens.load().await.unwrap().is_none());
        let token = Token::bearer("access-secret-value", Some(Duration::from_secs(3600)))
            .with_refresh_token("refresh-secret");
        tokens.save(&token).await.unwrap();
        assert!(!format!("{tokens:?}").contains("secret"), "{tokens:?}");
    }
    let store: std::sync::Arc<dyn StateStore> =
        std::sync::Arc::new(SqliteInbox::open(&path, config()).unwrap());
    let loaded = StateTokenStore::new(store.clone(), "wxcc").load().await.unwrap().unwrap();
    assert_eq!(loaded.access_token().expose_secret(), "access-secret-value");
    assert_eq!(loaded.refresh_token().map(|s| s.expose_secret().as_str()), Some("refresh-secret"));
    assert!(loaded.expires_in().is_some_and(|left| left > Duration::from_secs(3590)));
    // A corrupt value is an error naming the token, never its content.
    store.put("tokens", "bad", br#"{"access_token": 7, "secret": "leaky"}"#.to_vec(), None).await.unwrap();
    let error = StateTokenStore::new(store, "bad").load().await.unwrap_err().to_string();
    assert!(error.contains("token `bad` is not a stored token") && !error.contains("leaky"), "{error}");
}

#[tokio::test]
async fn a_conversation_is_busy_while_one_of_its_deliveries_is_out() {
    let (stores, _server) = both("busy", config());
    for (name, inbox) in stores {
        inbox.append(delivery(&["c5"], Some("c"), Some(5))).await.unwrap();
        let first = claim_keys(inbox.as_ref()).await;
        assert_eq!(first.len(), 1, "{name}");
        // A lower order arrives while 5 is out: it becomes the head, but waits for the ack.
        inbox.append(delivery(&["c3"], Some("c"), Some(3))).await.unwrap();
        assert!(claim_keys(inbox.as_ref()).await.is_empty(), "{name}: busy");
        assert!(inbox.ack(first[0].1).await.unwrap(), "{name}");
        let next = claim_keys(inbox.as_ref()).await;
        assert_eq!(
            next.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            [vec!["c3".to_owned()]],
            "{name}"
        );
    }
}
