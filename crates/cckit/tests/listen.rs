//! `cckit listen` as a child process on loopback: acknowledged means stored, and nothing
//! stored is lost when the process is killed with SIGKILL and restarted on the same store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use cc_core::Secret;
use lp_notifications::sim::{LpSim, RetryMode, SimConfig};
use serde_json::{Value, json};

const ACCOUNT: &str = "42257269";
const CLIENT: &str = "81fad476-88af-4d08-bc0e-20bc69439ed4";
const SECRET: &str = "listen-test-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn temp_store(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cckit-listen-{name}-{}-{}", std::process::id(), fastrand()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("inbox.db")
}

fn fastrand() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// `cckit listen lp` on `store` (`sqlite:PATH`, `redis://…`), forwarding to `forward`.
fn listen(port: u16, store: &str, forward: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cckit"))
        .args(["listen", "lp", "--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--account-id", ACCOUNT, "--client-id", CLIENT, "--forward-to", forward, "--lease", "2"])
        .args(["--store", store])
        .env("CCKIT_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cckit runs")
}

async fn wait_healthy(port: u16) {
    let url = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(&url).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("cckit listen never became healthy");
}

fn content(dialog: &str, seq: u64) -> Vec<u8> {
    let change = json!({"sequence": seq, "serverTimestamp": 1_700_000_000_000u64 + seq, "originatorId": "c-1",
        "originatorMetadata": {"id": "c-1", "role": "CONSUMER"}, "dialogId": dialog, "conversationId": dialog,
        "event": {"type": "ContentEvent", "contentType": "text/plain", "message": format!("{dialog} #{seq}")}});
    serde_json::to_vec(&json!({"kind": "notification", "type": "ms.MessagingEventNotification",
        "body": {"changes": [change]}}))
    .unwrap()
}

/// What the forward target saw: per delivery id the (dialog, sequence) it carried, and the
/// order first arrivals came in.
#[derive(Default)]
struct Sink {
    by_id: HashMap<String, (String, u64)>,
    repeats: usize,
    first_order: BTreeMap<String, Vec<u64>>,
}

impl Sink {
    /// Each notification under one delivery id only (redeliveries, also to another replica,
    /// were stored once) and first arrivals in sequence order per dialog; returns how many
    /// notifications came through.
    fn check_once_and_in_order(&self) -> usize {
        let mut ids_per_notification: HashMap<&(String, u64), usize> = HashMap::new();
        for notification in self.by_id.values() {
            *ids_per_notification.entry(notification).or_default() += 1;
        }
        let twice: Vec<_> = ids_per_notification.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "stored more than once: {twice:?}");
        for (dialog, seqs) in &self.first_order {
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{dialog} out of order: {seqs:?}");
        }
        ids_per_notification.len()
    }
}

/// Waits (at most a minute) until every acknowledged notification reached the sink.
async fn wait_forwarded(sink: &Mutex<Sink>, acknowledged: &HashSet<(String, u64)>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got: HashSet<(String, u64)> = sink.lock().unwrap().by_id.values().cloned().collect();
        if acknowledged.is_subset(&got) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} acknowledged never forwarded",
            acknowledged.difference(&got).count()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sink() -> (String, Arc<Mutex<Sink>>) {
    let seen = Arc::new(Mutex::new(Sink::default()));
    let state = Arc::clone(&seen);
    let app = Router::new().route(
        "/in",
        post(move |headers: HeaderMap, body: Bytes| {
            let state = Arc::clone(&state);
            async move {
                let id = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let record: Value = serde_json::from_slice(&body).unwrap();
                let change = &record["raw"]["body"]["changes"][0];
                let dialog = change["dialogId"].as_str().unwrap().to_owned();
                let seq = change["sequence"].as_u64().unwrap();
                assert_eq!(record["events"][0]["message"]["text"], format!("{dialog} #{seq}"));
                let mut sink = state.lock().unwrap();
                if sink.by_id.insert(id, (dialog.clone(), seq)).is_some() {
                    sink.repeats += 1;
                } else {
                    sink.first_order.entry(dialog).or_default().push(seq);
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/in", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn sender() -> LpSim {
    let mut config = SimConfig::new(ACCOUNT, CLIENT, Secret::from(SECRET));
    config.retry = RetryMode::Count(200);
    config.first_delay = Duration::from_millis(20);
    config.max_delay = Duration::from_millis(200);
    config.attempt_timeout = Duration::from_secs(2);
    LpSim::new(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_acknowledged_is_lost_across_kill_9() {
    const DIALOGS: usize = 30;
    const PER_DIALOG: u64 = 100;
    let (forward, sink) = sink().await;
    let store = format!("sqlite:{}", temp_store("crash").display());
    let port = free_port();
    let child = Arc::new(Mutex::new(listen(port, &store, &forward)));
    wait_healthy(port).await;
    let url = format!("http://127.0.0.1:{port}/");
    let sim = sender();

    // Each dialog's first notification goes alone (the inbox holds a gap only after the
    // first), the rest in pairs sent together in swapped order (reorders); every fifth one is
    // sent again after it was acknowledged (a redelivery).
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let senders: Vec<_> = (0..DIALOGS)
        .map(|d| {
            let (sim, url, acknowledged) = (sim.clone(), url.clone(), Arc::clone(&acknowledged));
            tokio::spawn(async move {
                let dialog = format!("dialog-{d:02}");
                let mut next = 1;
                while next <= PER_DIALOG {
                    let mut reports = Vec::new();
                    if next == 1 || next == PER_DIALOG {
                        reports.push((next, sim.send(&url, &content(&dialog, next)).await));
                        next += 1;
                    } else {
                        let (first, second) = (next + 1, next);
                        let body = content(&dialog, first);
                        let (a, b) = tokio::join!(sim.send(&url, &body), async {
                            tokio::time::sleep(Duration::from_millis(3)).await;
                            sim.send(&url, &content(&dialog, second)).await
                        });
                        reports.extend([(first, a), (second, b)]);
                        next += 2;
                    }
                    for (seq, report) in reports {
                        if report.delivered {
                            acknowledged.lock().unwrap().insert((dialog.clone(), seq));
                        }
                        if seq % 5 == 0 {
                            sim.send(&url, &content(&dialog, seq)).await;
                        }
                    }
                }
            })
        })
        .collect();

    // Kill it at random moments, restart on the same store and port.
    let killer = {
        let child = Arc::clone(&child);
        let store = store.clone();
        let forward = forward.clone();
        async move {
            let mut kills = 0;
            let mut rng = fastrand();
            for _ in 0..5 {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                tokio::time::sleep(Duration::from_millis(300 + (rng >> 33) % 700)).await;
                let mut c = child.lock().unwrap();
                c.kill().unwrap(); // SIGKILL
                c.wait().unwrap();
                *c = listen(port, &store, &forward);
                kills += 1;
            }
            kills
        }
    };
    let (kills, _) = tokio::join!(killer, futures_util::future::join_all(senders));

    // Everything acknowledged must come through; wait for the forwarder to drain.
    let acknowledged = acknowledged.lock().unwrap().clone();
    wait_forwarded(&sink, &acknowledged).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    {
        let mut c = child.lock().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    let sink = sink.lock().unwrap();
    let notifications = sink.check_once_and_in_order();
    println!(
        "{kills} kills; {} notifications acknowledged, {} forwarded under {} delivery ids, {} re-forwards of an id \
         (forwarded, then killed before the ack)",
        acknowledged.len(),
        notifications,
        sink.by_id.len(),
        sink.repeats
    );
    assert!(sink.repeats <= kills * 32, "re-forwards beyond the in-flight batches: {}", sink.repeats);
    assert_eq!(acknowledged.len(), DIALOGS * PER_DIALOG as usize, "the sender retries until acknowledged");
}

#[tokio::test]
async fn stdout_lines_health_usage_errors_and_a_graceful_stop() {
    use std::io::BufRead as _;
    let secret = "wxcc-listen-secret-of-32-characters!";
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cckit"))
        .args(["listen", "wxcc", "--bind", "127.0.0.1", "--port", &port.to_string(), "--store", "memory"])
        .args(["--subscription", "sub-1", "--path", "events"])
        .env("CCKIT_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port).await;
    let kind = wxcc_api::model::events::EventType::TaskNew;
    let body =
        serde_json::to_vec(&wxcc_api::sim::events::sample_event(&kind, "sub-1", "org-1", 1_700_000_000_000))
            .unwrap();
    let post = |body: Vec<u8>, signed: bool| {
        let mut request =
            reqwest::Client::new().post(format!("http://127.0.0.1:{port}/events")).body(body.clone());
        if signed {
            for (name, value) in wxcc_api::sim::events::signed_headers(&body, &Secret::from(secret), None) {
                request = request.header(name, value);
            }
        }
        request.send()
    };
    assert_eq!(post(body.clone(), true).await.unwrap().status(), 200);
    assert_eq!(post(body.clone(), true).await.unwrap().status(), 200, "a redelivery is acknowledged");
    assert_eq!(post(body.clone(), false).await.unwrap().status(), 401);

    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["delivery"], "wxcc:1");
    assert_eq!(line["event"]["kind"], "wxcc:task:new");
    assert_eq!(line["event"]["conversation"], "141897a0-6212-49be-be9d-4823ab1e4dc7");

    // SIGTERM: stops accepting, exits cleanly.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(lines.next().is_none(), "the redelivery was not handed on");

    // Missing credentials are a usage error (exit 2) naming the flag and the variable.
    let out = Command::new(env!("CARGO_BIN_EXE_cckit"))
        .args(["listen", "lp", "--store", "memory"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--secret: pass it or set CCKIT_SECRET"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_cckit"))
        .args(["listen", "wxcc", "--store", "postgres://x"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("use sqlite:PATH"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn snapshot(conv: &str, updated: i64, agent: &str, stage: &str) -> Vec<u8> {
    let state = if stage == "CLOSE" { "CLOSE" } else { "OPEN" };
    serde_json::to_vec(&json!({"kind": "notification", "type": "cqm.ExConversationChangeNotification",
        "body": {"changes": [{"type": "UPSERT", "result": {"convId": conv, "conversationDetails": {
            "participants": [{"id": "c-1", "role": "CONSUMER"}, {"id": agent, "role": "ASSIGNED_AGENT"}],
            "dialogs": [{"dialogId": conv, "dialogType": "MAIN", "state": state}],
            "state": state, "stage": stage, "closeReason": "AGENT", "metaDataLastUpdateTs": updated,
            "startTs": 1}}}]}}))
    .unwrap()
}

/// The sequencer's state is in the store: after a kill -9 a conversation is not started again,
/// an older snapshot is dropped and a repeated message is not handed on twice.
#[tokio::test]
async fn conversation_history_survives_kill_9() {
    use std::io::BufRead as _;
    let store = temp_store("history");
    let sim = sender();
    let start = || {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_cckit"))
            .args(["listen", "lp", "--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--account-id", ACCOUNT, "--client-id", CLIENT, "--secret", SECRET])
            .arg("--store")
            .arg(format!("sqlite:{}", store.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        (port, Killed(child))
    };
    // Events (kind, conversation, agent) printed for what was posted, in order.
    async fn post_and_read(
        sim: &LpSim,
        port: u16,
        child: &mut Child,
        bodies: &[Vec<u8>],
        expect: usize,
    ) -> Vec<String> {
        wait_healthy(port).await;
        for body in bodies {
            assert!(sim.send(&format!("http://127.0.0.1:{port}/"), body).await.delivered);
        }
        let mut lines = std::io::BufReader::new(child.stdout.as_mut().unwrap()).lines();
        let seen = (0..expect)
            .map(|_| {
                let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
                let e = &line["event"];
                format!("{} {}", e["event"].as_str().unwrap(), e["agent"]["id"].as_str().unwrap_or(""))
                    .trim()
                    .to_owned()
            })
            .collect();
        // Everything acked before the kill: this test is about the state, not the crash window.
        let health = format!("http://127.0.0.1:{port}/healthz");
        for _ in 0..200 {
            let h: Value =
                serde_json::from_slice(&reqwest::get(&health).await.unwrap().bytes().await.unwrap()).unwrap();
            if h["pending"] == 0 {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("deliveries still pending");
    }

    let (port, mut child) = start();
    let first = [snapshot("conv-1", 100, "agent-1", "OPEN"), content("conv-1", 1)];
    let seen = post_and_read(&sim, port, &mut child.0, &first, 3).await;
    assert_eq!(seen, ["started", "agent_joined agent-1", "message"]);
    drop(child);

    let (port, mut child) = start();
    let second = [
        snapshot("conv-1", 90, "agent-0", "OPEN"), // older than what was released: dropped
        snapshot("conv-1", 110, "agent-1", "OPEN"), // newer, same agent: no event
        content("conv-1", 1),                      // a redelivery: dropped
        snapshot("conv-1", 120, "agent-2", "OPEN"), // the agent changes
        content("conv-1", 2),
        snapshot("conv-1", 200, "agent-2", "CLOSE"), // the end
    ];
    // Snapshots and messages are ordered per key (conversation, dialog), not with each other.
    let mut seen = post_and_read(&sim, port, &mut child.0, &second, 3).await;
    seen.sort();
    assert_eq!(seen, ["agent_joined agent-2", "ended", "message"]);
}

/// A child process that is SIGKILLed when dropped, also when a test fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Three replicas on one Redis: deliveries spread round-robin, redeliveries sent to another
/// replica, one replica killed mid-load and restarted, Redis itself down for a moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_one_redis() {
    const DIALOGS: usize = 12;
    const PER_DIALOG: u64 = 60;
    let Some(mut redis) = cc_core::inbox::redis::RedisServer::for_test("replicas_share_one_redis") else {
        return;
    };
    let (forward, sink) = sink().await;
    let store = redis.url();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let replicas: Vec<Arc<Mutex<Killed>>> =
        ports.iter().map(|&p| Arc::new(Mutex::new(Killed(listen(p, &store, &forward))))).collect();
    for &port in &ports {
        wait_healthy(port).await;
    }
    let urls: Arc<Vec<String>> = Arc::new(ports.iter().map(|p| format!("http://127.0.0.1:{p}/")).collect());
    let sim = sender();

    // Notification n of a dialog goes to replica n % 3; every fourth is sent again, after its
    // 2xx, to the next replica (a redelivery that lands where nobody saw it).
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let senders: Vec<_> = (0..DIALOGS)
        .map(|d| {
            let (sim, urls, acknowledged) = (sim.clone(), Arc::clone(&urls), Arc::clone(&acknowledged));
            tokio::spawn(async move {
                let dialog = format!("dialog-{d:02}");
                for seq in 1..=PER_DIALOG {
                    let replica = (d + seq as usize) % 3;
                    if sim.send(&urls[replica], &content(&dialog, seq)).await.delivered {
                        acknowledged.lock().unwrap().insert((dialog.clone(), seq));
                    }
                    if seq % 4 == 0 {
                        sim.send(&urls[(replica + 1) % 3], &content(&dialog, seq)).await;
                    }
                }
            })
        })
        .collect();
    let killer = {
        let (replica, store, forward, port) =
            (Arc::clone(&replicas[1]), store.clone(), forward.clone(), ports[1]);
        let acknowledged = Arc::clone(&acknowledged);
        async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            let at_kill = acknowledged.lock().unwrap().len();
            let mut r = replica.lock().unwrap();
            let _ = r.0.kill(); // SIGKILL, mid-load
            let _ = r.0.wait();
            std::thread::sleep(Duration::from_millis(300));
            *r = Killed(listen(port, &store, &forward));
            at_kill
        }
    };
    let (at_kill, _) = tokio::join!(killer, futures_util::future::join_all(senders));
    assert!(at_kill > 0 && at_kill < DIALOGS * PER_DIALOG as usize, "killed mid-load: {at_kill}");

    let acknowledged = acknowledged.lock().unwrap().clone();
    wait_forwarded(&sink, &acknowledged).await;

    // Redis down: a replica answers 503 (the vendor retries) and says so on /healthz.
    redis.kill();
    let report_body = content("dialog-99", 1);
    let request = |url: &str| {
        let mut r = reqwest::Client::new().post(url).body(report_body.clone());
        for (name, value) in sim.headers(&report_body) {
            r = r.header(name, value);
        }
        r.send()
    };
    assert_eq!(request(&urls[0]).await.unwrap().status(), 503);
    let health = reqwest::get(format!("http://127.0.0.1:{}/healthz", ports[2])).await.unwrap();
    assert_eq!(health.status(), 503);
    redis.restart().unwrap();
    let mut status = 503;
    for _ in 0..50 {
        status = request(&urls[0]).await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the replicas reconnect to a restarted Redis");
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(replicas);

    let sink = sink.lock().unwrap();
    let notifications = sink.check_once_and_in_order();
    println!(
        "3 replicas, 1 killed after {at_kill}: {} notifications acknowledged, {} forwarded under {} delivery ids, {} re-forwards",
        acknowledged.len(),
        notifications,
        sink.by_id.len(),
        sink.repeats
    );
    assert!(sink.repeats <= 32, "re-forwards beyond one replica's in-flight batch: {}", sink.repeats);
    assert_eq!(acknowledged.len(), DIALOGS * PER_DIALOG as usize, "the sender retries until acknowledged");
}
