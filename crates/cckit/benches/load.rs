//! Figures criterion cannot take, each next to a baseline measured in the same run:
//! - a webhook receiver under load (the LivePerson route: signature check, parse, enqueue)
//!   against a bare axum handler reading the body and answering 200, both driven by the same
//!   bounded, self-stopping load generator over 64 loopback connections, in alternating
//!   rounds (each side's median round, and the median of the paired ratios): requests/s and
//!   p99 (left out of `--quick` runs: too few requests), and instructions per request of the
//!   whole process by callgrind (a long run minus a short one);
//! - memory per tracked conversation at 100,000 and 1,000,000 conversations (100,000 only
//!   with `--quick`) in the LivePerson sequencer and the ECE webhook's duplicate filter,
//!   against a `HashSet<String>` of the same ids, given as conversations per MiB (higher is
//!   better), read from a counting allocator.
//!
//! `cargo bench -p cckit --bench load [-- --quick]`; rows go to `target/cc-bench/load.json`
//! and `memory.json` for `cargo xtask bench`.

mod common;

use common::notification;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use cc_core::Secret;
use serde_json::{Value, json};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CONNECTIONS: usize = 64;
const ACCOUNT: &str = "42257269";
const CLIENT: &str = "81fad476-88af-4d08-bc0e-20bc69439ed4";
const SECRET: &str = "rl9hacst6kqilbofup64n11ga3";

struct Load {
    per_second: f64,
    p99: Duration,
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A request body and its signature, for connection `c`, request `i`.
type Make = Arc<dyn Fn(usize, usize) -> (Vec<u8>, String) + Send + Sync>;

/// The load generator: `CONNECTIONS` reqwest clients, each holding one keep-alive connection
/// per server, built once (building a client reads the system's CA certificates, which cost
/// as much CPU as thousands of requests and would be counted in whichever round built it).
struct Generator {
    clients: Arc<[reqwest::Client]>,
}

impl Generator {
    fn new() -> Self {
        let client = || reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
        Self { clients: (0..CONNECTIONS).map(|_| client()).collect() }
    }

    /// One task per client, each sending `per_connection` requests one after another; stops
    /// when all are answered.
    async fn drive(&self, url: &str, per_connection: usize, body: Vec<u8>, signature: String) -> Load {
        let make: Make = Arc::new(move |_, _| (body.clone(), signature.clone()));
        self.drive_with(&[url.to_owned()], per_connection, make).await
    }

    /// [`Self::drive`] with a body per request (built before its latency clock starts),
    /// connection `c` going to `urls[c % urls.len()]` (replicas behind a round-robin balancer).
    async fn drive_with(&self, urls: &[String], per_connection: usize, make: Make) -> Load {
        let started = Instant::now();
        let tasks: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                let (url, make, http) =
                    (urls[c % urls.len()].clone(), Arc::clone(&make), self.clients[c].clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(per_connection);
                    for i in 0..per_connection {
                        let (body, signature) = make(c, i);
                        let sent = Instant::now();
                        let response = http
                            .post(&url)
                            .header("content-type", "application/json")
                            .header("x-liveperson-account-id", ACCOUNT)
                            .header("x-liveperson-client-id", CLIENT)
                            .header("x-liveperson-signature", &signature)
                            .body(body)
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(response.status(), 200);
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let latencies = common::sorted_latencies(tasks).await;
        let elapsed = started.elapsed();
        Load { per_second: latencies.len() as f64 / elapsed.as_secs_f64(), p99: common::p99(&latencies) }
    }
}

/// The LivePerson route and the bare handler, each on its own loopback port, and the request
/// both are sent.
struct Receivers {
    runtime: tokio::runtime::Runtime,
    generator: Generator,
    ours: String,
    bare: String,
    body: Vec<u8>,
    signature: String,
}

impl Receivers {
    fn start() -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (ours, bare) = runtime.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(async move { while rx.recv().await.is_some() {} });
            let webhook = lp_notifications::webhook::LpWebhook::new(ACCOUNT, CLIENT, Secret::from(SECRET));
            let ours = serve(Router::new().route("/lp", webhook.into_route(tx))).await;
            // Any receiver reads the body it is sent; this one does nothing else.
            let bare = serve(Router::new().route("/lp", post(|_: axum::body::Bytes| async { "" }))).await;
            (format!("http://{ours}/lp"), format!("http://{bare}/lp"))
        });
        let body = notification("b3aea67d-01ca-4bf7-af4f-9897cf6b77a7", 1);
        let parsed = lp_notifications::model::parse_notification(&body).unwrap();
        assert!(matches!(&parsed.changes[..], [lp_notifications::model::Change::Messaging(_)]));
        let signature = format!("sha1={}", cc_core::auth::hmac_sha1_base64(SECRET.as_bytes(), &body));
        Self { runtime, generator: Generator::new(), ours, bare, body, signature }
    }

    fn round(&self, ours: bool, per_connection: usize) -> Load {
        let url = if ours { &self.ours } else { &self.bare };
        self.runtime.block_on(self.generator.drive(
            url,
            per_connection,
            self.body.clone(),
            self.signature.clone(),
        ))
    }
}

/// Alternating rounds of both (see `common::alternate`): each side's median round, the
/// paired ratios of their rates (see `common::Paired`) and each side's median p99.
fn receiver_under_load(quick: bool) -> (common::Paired, Duration, Duration) {
    let receivers = Receivers::start();
    let (rounds, per_connection) = if quick { (3, 40) } else { (9, 400) };
    receivers.round(true, 5);
    receivers.round(false, 5);
    let (ours, bare) = common::alternate(
        rounds,
        || receivers.round(true, per_connection),
        || receivers.round(false, per_connection),
    );
    let rates = |loads: &[Load]| loads.iter().map(|l| l.per_second).collect::<Vec<_>>();
    let p99 =
        |loads: &[Load]| Duration::from_secs_f64(common::median(loads.iter().map(|l| l.p99.as_secs_f64())));
    (common::Paired::new(&rates(&ours), &rates(&bare)), p99(&ours), p99(&bare))
}

/// Instructions per request of the whole process (generator, server and runtime), ours and
/// the bare handler's; none without valgrind or with `CC_BENCH_COUNTS=0`.
fn receiver_counts() -> Value {
    if !common::counts_wanted("receiver row") {
        return Value::Null;
    }
    let per_request = |side: &str| {
        common::per_iteration_count(|n| format!("receiver/{side}/{n}"), None, 20, 120) / CONNECTIONS as f64
    };
    json!({"ours": per_request("ours"), "baseline": per_request("baseline")})
}

/// What `durable_under_load` measured.
struct Durable {
    full: Load,
    normal: Load,
    memory: Load,
    /// Per replica count (1, 2, 3): the rate across all of them.
    redis: Vec<(usize, Load)>,
}

/// The LivePerson route committing to a SQLite inbox (FULL and NORMAL) and to Redis (1, 2 and
/// 3 receivers on one Redis, connections spread round-robin) beside the same route handing to
/// an in-memory queue; every request a new notification (a new sequence), so nothing is a
/// duplicate. Nothing consumes the inbox meanwhile.
fn durable_under_load(quick: bool) -> Durable {
    use cc_core::inbox::redis::{RedisInbox, RedisServer};
    use cc_core::inbox::{InboxConfig, SqliteInbox, Synchronous};
    use cc_core::webhook::server::{ReceiverConfig, durable_receiver};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("cc-bench-inbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let webhook = || lp_notifications::webhook::LpWebhook::new(ACCOUNT, CLIENT, Secret::from(SECRET));
        let mut routes = Vec::new();
        for sync in [Synchronous::Full, Synchronous::Normal] {
            let path = dir.join(format!("{sync:?}.db"));
            let inbox = Arc::new(SqliteInbox::open_with(path, InboxConfig::default(), sync).unwrap());
            let route = durable_receiver(webhook(), inbox, "lp", ReceiverConfig::default());
            routes.push(serve(Router::new().route("/lp", route)).await);
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let queue = serve(Router::new().route("/lp", webhook().into_route(tx))).await;
        let per_connection = if quick { 40 } else { 300 };
        let generator = Generator::new();
        let round = std::sync::atomic::AtomicUsize::new(0);
        let make = |round: usize| -> Make {
            Arc::new(move |c, i| {
                let body = notification(&format!("dialog-{round}-{c}"), i as u64 + 1);
                let signature = format!("sha1={}", cc_core::auth::hmac_sha1_base64(SECRET.as_bytes(), &body));
                (body, signature)
            })
        };
        let next = || make(round.fetch_add(1, Ordering::Relaxed));
        let url = |addr: &SocketAddr| vec![format!("http://{addr}/lp")];
        for addr in [routes[0], routes[1], queue] {
            generator.drive_with(&url(&addr), 5, next()).await;
        }
        let full = generator.drive_with(&url(&routes[0]), per_connection, next()).await;
        let normal = generator.drive_with(&url(&routes[1]), per_connection, next()).await;
        let memory = generator.drive_with(&url(&queue), per_connection, next()).await;
        let _ = std::fs::remove_dir_all(&dir);

        // Redis with every write fsynced (appendfsync always), as SQLite FULL.
        let mut redis = Vec::new();
        let server = if RedisServer::available() {
            Some(RedisServer::start().unwrap())
        } else {
            eprintln!("redis-server is not installed: the Redis rows are left out");
            None
        };
        if let Some(server) = &server {
            for replicas in 1..=3 {
                let mut urls = Vec::new();
                for _ in 0..replicas {
                    let inbox = Arc::new(RedisInbox::open(&server.url(), InboxConfig::default()).unwrap());
                    let route = durable_receiver(webhook(), inbox, "lp", ReceiverConfig::default());
                    urls.push(format!("http://{}/lp", serve(Router::new().route("/lp", route)).await));
                }
                generator.drive_with(&urls, 5, next()).await;
                redis.push((replicas, generator.drive_with(&urls, per_connection, next()).await));
            }
        }
        Durable { full, normal, memory, redis }
    })
}

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Bytes retained by `fill`, measured around it.
fn retained<T>(fill: impl FnOnce() -> T) -> (T, f64) {
    let before = live();
    let kept = fill();
    (kept, (live() - before) as f64)
}

fn per_mib(count: usize, bytes: f64) -> f64 {
    count as f64 / (bytes / (1024.0 * 1024.0))
}

fn ids(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{:08x}-01ca-4bf7-af4f-{:012x}", i, i * 7919)).collect()
}

fn memory_sequencer(count: usize) -> (f64, f64) {
    use lp_notifications::sequencer::{Sequencer, SequencerConfig};
    let ids = ids(count);
    // Sequence 0: delivered at once, so what remains is the steady state of a tracked dialog
    // (a later sequence would wait, whole, for its predecessors up to `max_hold`).
    let bodies: Vec<Vec<u8>> = ids.iter().map(|id| notification(id, 0)).collect();
    let (sequencer, bytes) = retained(|| {
        // The cap raised to the count: this row measures tracked dialogs, not eviction.
        let mut sequencer =
            Sequencer::new(SequencerConfig { max_dialogs: count, ..SequencerConfig::default() });
        for body in &bodies {
            let parsed = lp_notifications::model::parse_notification(body).unwrap();
            drop(sequencer.push_notification(parsed));
        }
        sequencer
    });
    assert_eq!(sequencer.tracked().0, count);
    let (set, baseline) = retained(|| ids.iter().cloned().collect::<HashSet<String>>());
    assert_eq!(set.len(), count);
    (per_mib(count, bytes), per_mib(count, baseline))
}

fn memory_duplicate_filter(count: usize) -> (f64, f64) {
    use cc_core::MessageId;
    use cc_core::webhook::DuplicateFilter;
    let ids = ids(count);
    // The ECE webhook's filter: capacity 1,000,000, 24 h.
    let (filter, bytes) = retained(|| {
        let mut filter = DuplicateFilter::new(1_000_000, Duration::from_secs(24 * 3600));
        for id in &ids {
            assert!(filter.first_time(MessageId::new(id.as_str())));
        }
        filter
    });
    let (set, baseline) = retained(|| ids.iter().cloned().collect::<HashSet<String>>());
    assert_eq!(set.len(), count);
    drop(filter);
    (per_mib(count, bytes), per_mib(count, baseline))
}

/// p99 of both sides in milliseconds; none for a `--quick` run (too few requests).
fn p99(quick: bool, ours: &Load, baseline: &Load) -> Value {
    if quick {
        Value::Null
    } else {
        json!({"ours": ours.p99.as_secs_f64() * 1e3, "baseline": baseline.p99.as_secs_f64() * 1e3})
    }
}

fn main() {
    // The child side of a count: `receiver/<ours|baseline>/<requests per connection>`.
    if let Ok(spec) = std::env::var("CC_BENCH_COUNT") {
        let [_, side, per_connection] = spec.split('/').collect::<Vec<_>>()[..] else {
            panic!("CC_BENCH_COUNT={spec:?} is not `receiver/<ours|baseline>/<requests per connection>`")
        };
        Receivers::start().round(side == "ours", per_connection.parse().unwrap());
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let (receiver, ours_p99, bare_p99) = receiver_under_load(quick);
    let (ours, bare) = (
        Load { per_second: receiver.ours, p99: ours_p99 },
        Load { per_second: receiver.baseline, p99: bare_p99 },
    );
    let receiver_instructions = receiver_counts();
    let Durable { full, normal, memory, redis } = durable_under_load(quick);
    let queue = "the same route handing to an in-memory queue";
    let mut rows = vec![
        json!({
            "benchmark": "webhook receiver under load (LivePerson: verify + parse + enqueue, 64 connections)",
            "ours": ours.per_second, "baseline": bare.per_second,
            "baseline_name": "bare axum handler reading the body, answering 200", "unit": "requests/s",
            "p99_ms": p99(quick, &ours, &bare), "instructions": receiver_instructions,
            "paired_ratio": receiver.ratio_json(),
        }),
        json!({
            "benchmark": "durable receiver (LivePerson, SQLite inbox, synchronous=FULL: fsync per group commit)",
            "ours": full.per_second, "baseline": memory.per_second, "baseline_name": queue,
            "unit": "requests/s", "p99_ms": p99(quick, &full, &memory),
        }),
        json!({
            "benchmark": "durable receiver (LivePerson, SQLite inbox, synchronous=NORMAL)",
            "ours": normal.per_second, "baseline": memory.per_second, "baseline_name": queue,
            "unit": "requests/s", "p99_ms": p99(quick, &normal, &memory),
        }),
    ];
    for (replicas, load) in redis {
        rows.push(json!({
            "benchmark": format!(
                "durable receiver (LivePerson, Redis inbox, appendfsync always, {replicas} receiver{} on one Redis)",
                if replicas == 1 { "" } else { "s" }
            ),
            "ours": load.per_second, "baseline": memory.per_second, "baseline_name": queue,
            "unit": "requests/s", "p99_ms": p99(quick, &load, &memory),
        }));
    }
    let mut memory_rows = Vec::new();
    for count in if quick { vec![100_000] } else { vec![100_000, 1_000_000] } {
        let (seq, seq_base) = memory_sequencer(count);
        let (dedupe, dedupe_base) = memory_duplicate_filter(count);
        let at = if count == 100_000 { "100,000" } else { "1,000,000" };
        memory_rows.push(json!({
            "benchmark": format!("memory: LivePerson sequencer at {at} conversations"),
            "ours": seq, "baseline": seq_base, "baseline_name": "HashSet<String> of the dialog ids",
            "unit": "conversations/MiB",
        }));
        memory_rows.push(json!({
            "benchmark": format!("memory: ECE webhook duplicate filter at {at} message ids"),
            "ours": dedupe, "baseline": dedupe_base, "baseline_name": "HashSet<String> of the ids",
            "unit": "ids/MiB",
        }));
    }
    let dir = common::results_dir();
    std::fs::write(dir.join("load.json"), serde_json::to_vec_pretty(&rows).unwrap()).unwrap();
    std::fs::write(dir.join("memory.json"), serde_json::to_vec_pretty(&memory_rows).unwrap()).unwrap();
    println!("{}", serde_json::to_string_pretty(&rows).unwrap());
    println!("{}", serde_json::to_string_pretty(&memory_rows).unwrap());
}
