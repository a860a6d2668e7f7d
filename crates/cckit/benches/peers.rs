//! Our receivers next to what integrators write today: a Node express receiver doing the same
//! checks (`xtask/peers/express/server.js`: raw body, timing-safe HMAC or Basic check,
//! `JSON.parse`, a capped dedupe map). Both run as child processes pinned to core 1 (where
//! `taskset` works), driven by one load generator pinned to core 0 with the same connections
//! and payloads, in alternating rounds. Per server: requests/s, p99, CPU-seconds per 1,000
//! requests (from `/proc/<pid>/stat`) and peak RSS (`VmHWM`).
//!
//! Run by `cargo xtask bench --peers` (which installs the peer's packages and sets
//! `CC_BENCH_PEERS` to its folder); without that variable this bench only says it was skipped.
//! Rows go to `target/cc-bench/peers.json`.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cc_core::Secret;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const ACCOUNT: &str = "42257269";
const CLIENT: &str = "81fad476-88af-4d08-bc0e-20bc69439ed4";
const LP_SECRET: &str = "rl9hacst6kqilbofup64n11ga3";
const ECE_USER: &str = "ece";
const ECE_PASSWORD: &str = "callback-secret";
const BATCH: &[u8] = include_bytes!("../../../fixtures/ece/constructed.callback.batch-1000.json");
/// Both servers remember this many ids (the ECE route's default).
const DEDUPE_CAP: usize = 1_000_000;

fn main() {
    if std::env::var_os("CC_BENCH_SERVE").is_some() {
        serve_ours();
        return;
    }
    let Some(peer_dir) = std::env::var_os("CC_BENCH_PEERS").map(PathBuf::from) else {
        println!("peers: skipped (run `cargo xtask bench --peers`, which needs node)");
        return;
    };
    let quick = std::env::args().any(|a| a == "--quick");
    let pinned = Command::new("taskset").args(["-c", "0", "true"]).status().is_ok_and(|s| s.success());
    if pinned {
        // The generator (this process and the threads it starts) on core 0, servers on core 1.
        let pid = std::process::id().to_string();
        let _ = Command::new("taskset").args(["-apc", "0", &pid]).stdout(Stdio::null()).status();
    } else {
        eprintln!("peers: taskset does not work here; generator and servers share the cores");
    }
    let node_version = command_output("node", &["--version"]).unwrap_or_else(|| "node".into());
    let express_version = std::fs::read_to_string(peer_dir.join("node_modules/express/package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    let peer_name = format!("Node express peer (express {express_version}, node {node_version})");

    let rounds = if quick { 1 } else { 3 };
    let scenarios = [
        Scenario {
            name: "LivePerson notification (~560 bytes): verify + parse + dedupe, 64 connections",
            path: "/lp",
            connections: 64,
            per_connection: if quick { 60 } else { 300 },
            make: lp_request,
        },
        Scenario {
            name: "ECE callback batch (1,000 messages, 366 KiB): Basic check + parse + dedupe, 8 connections",
            path: "/ece",
            connections: 8,
            per_connection: if quick { 5 } else { 25 },
            make: ece_request,
        },
    ];
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut rows = Vec::new();
    for scenario in &scenarios {
        let mut ours = Server::ours(pinned);
        let mut node = Server::node(&peer_dir, pinned);
        let (mut ours_rounds, mut node_rounds) = (Vec::new(), Vec::new());
        let mut batch = 0;
        // A short warm-up each, then alternate so drift of the machine hits both alike.
        for server in [&ours, &node] {
            batch += 1;
            runtime.block_on(scenario.run(server, batch, 5));
        }
        for _ in 0..rounds {
            for (server, results) in [(&ours, &mut ours_rounds), (&node, &mut node_rounds)] {
                batch += 1;
                results.push(runtime.block_on(scenario.run(server, batch, scenario.per_connection)));
            }
        }
        let (o, n) = (Round::median(&ours_rounds), Round::median(&node_rounds));
        let (ours_rss, node_rss) = (ours.peak_rss_mib(), node.peak_rss_mib());
        println!(
            "{}: ours {:.0} req/s (p99 {:.1} ms, {:.3} CPU-s/1k, {ours_rss:.0} MiB), node {:.0} req/s \
             (p99 {:.1} ms, {:.3} CPU-s/1k, {node_rss:.0} MiB)",
            scenario.name, o.per_second, o.p99_ms, o.cpu_per_1k, n.per_second, n.p99_ms, n.cpu_per_1k
        );
        rows.push(json!({
            "benchmark": format!("peers: {}", scenario.name),
            "ours": o.per_second, "baseline": n.per_second,
            "baseline_name": peer_name, "unit": "requests/s",
            // A `--quick` run has too few requests for a p99.
            "p99_ms": if quick { Value::Null } else { json!({"ours": o.p99_ms, "baseline": n.p99_ms}) },
            "cpu_s_per_1k": {"ours": o.cpu_per_1k, "baseline": n.cpu_per_1k},
            "rss_mib": {"ours": ours_rss, "baseline": node_rss},
            "rounds": rounds, "pinned": pinned,
        }));
        ours.stop();
        node.stop();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/cc-bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("peers.json"), serde_json::to_vec_pretty(&rows).unwrap()).unwrap();
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The child process side: our LivePerson and ECE routes on one tokio worker thread, each
/// handing to an in-memory queue behind the same dedupe the Node peer does.
fn serve_ours() {
    use axum::Router;
    use cc_core::webhook::DuplicateFilter;
    use cc_core::webhook::server::Deduplicate;
    use ece_messaging::webhook::{EceWebhook, WebhookAuth};
    use lp_notifications::model::{Change, Notification};
    use lp_notifications::webhook::LpWebhook;

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async {
        let (lp_tx, mut lp_rx) = tokio::sync::mpsc::unbounded_channel();
        let (ece_tx, mut ece_rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move { while lp_rx.recv().await.is_some() {} });
        tokio::spawn(async move { while ece_rx.recv().await.is_some() {} });
        // The Node peer's key: `<dialogId>:<sequence>` of the first messaging change.
        let key = |n: &Notification| {
            n.changes.iter().find_map(|c| match c {
                Change::Messaging(m) => m.sequence.map(|s| format!("{}:{s}", m.dialog_id.as_str())),
                _ => None,
            })
        };
        let day = Duration::from_secs(24 * 3600);
        let lp = LpWebhook::new(ACCOUNT, CLIENT, Secret::from(LP_SECRET)).into_route(Deduplicate::new(
            lp_tx,
            key,
            DuplicateFilter::new(DEDUPE_CAP, day),
        ));
        let ece = EceWebhook::new(WebhookAuth::basic(ECE_USER, Secret::from(ECE_PASSWORD)))
            .dedupe(DEDUPE_CAP, day)
            .into_route(ece_tx);
        let app = Router::new().route("/lp", lp).route("/ece", ece);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("listening {}", listener.local_addr().unwrap().port());
        axum::serve(listener, app).await.unwrap();
    });
}

/// A server under test: a child process listening on loopback.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn ours(pinned: bool) -> Self {
        let exe = std::env::current_exe().unwrap();
        let mut command = pinned_command(exe.as_os_str(), pinned);
        command.env("CC_BENCH_SERVE", "1");
        Self::start(command)
    }

    fn node(dir: &Path, pinned: bool) -> Self {
        let mut command = pinned_command("node".as_ref(), pinned);
        command
            .arg(dir.join("server.js"))
            .env("PORT", "0")
            .env("LP_ACCOUNT", ACCOUNT)
            .env("LP_CLIENT", CLIENT)
            .env("LP_SECRET", LP_SECRET)
            .env("ECE_BASIC", format!("{ECE_USER}:{ECE_PASSWORD}"))
            .env("DEDUPE_CAP", DEDUPE_CAP.to_string());
        Self::start(command)
    }

    fn start(mut command: Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("start the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the server said {line:?}, not `listening <port>`"));
        Self { child, port }
    }

    /// User + system CPU time of the whole process (every thread) so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the `(comm)`: utime and stime are the 12th and 13th, in clock ticks.
        let fields: Vec<u64> = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
        Duration::from_millis(ticks * 1000 / clock_ticks())
    }

    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn clock_ticks() -> u64 {
    command_output("getconf", &["CLK_TCK"]).and_then(|t| t.parse().ok()).unwrap_or(100)
}

fn pinned_command(program: &std::ffi::OsStr, pinned: bool) -> Command {
    if pinned {
        let mut command = Command::new("taskset");
        command.args(["-c", "1"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// One measured round against one server.
#[derive(Clone, Copy)]
struct Round {
    per_second: f64,
    p99_ms: f64,
    cpu_per_1k: f64,
}

impl Round {
    /// Each figure's median over the rounds.
    fn median(rounds: &[Round]) -> Round {
        let median = |f: fn(&Round) -> f64| {
            let mut values: Vec<f64> = rounds.iter().map(f).collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        Round {
            per_second: median(|r| r.per_second),
            p99_ms: median(|r| r.p99_ms),
            cpu_per_1k: median(|r| r.cpu_per_1k),
        }
    }
}

/// Whole HTTP/1.1 requests (head and body) for connection `c`, request `i` of batch `b`:
/// every request new, so no dedupe map ever drops one.
type Make = fn(b: usize, c: usize, i: usize) -> Vec<u8>;

struct Scenario {
    name: &'static str,
    path: &'static str,
    connections: usize,
    per_connection: usize,
    make: Make,
}

impl Scenario {
    /// `connections` keep-alive connections, each sending `per_connection` requests one after
    /// another (built before the clock starts), with a minimal HTTP/1.1 client so that the
    /// generator costs little next to either server.
    async fn run(&self, server: &Server, batch: usize, per_connection: usize) -> Round {
        let requests: Vec<Vec<Arc<[u8]>>> = (0..self.connections)
            .map(|c| {
                (0..per_connection).map(|i| Arc::from(request(self.path, (self.make)(batch, c, i)))).collect()
            })
            .collect();
        let cpu_before = server.cpu();
        let started = Instant::now();
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|requests| {
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], server.port));
                tokio::spawn(async move {
                    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut buf = Vec::with_capacity(4096);
                    let mut latencies = Vec::with_capacity(requests.len());
                    for request in requests {
                        let sent = Instant::now();
                        stream.write_all(&request).await.unwrap();
                        let status = read_response(&mut stream, &mut buf).await;
                        assert_eq!(status, 200, "the server refused a request");
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let latencies = common::sorted_latencies(tasks).await;
        let elapsed = started.elapsed();
        let cpu = server.cpu().saturating_sub(cpu_before);
        let p99 = common::p99(&latencies);
        Round {
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p99_ms: p99.as_secs_f64() * 1e3,
            cpu_per_1k: cpu.as_secs_f64() * 1000.0 / latencies.len() as f64,
        }
    }
}

fn request(path: &str, mut head_and_body: Vec<u8>) -> Vec<u8> {
    let mut out = format!("POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n").into_bytes();
    out.append(&mut head_and_body);
    out
}

/// Headers from `content-length` on, then the body.
fn with_body(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out =
        format!("{headers}content-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len())
            .into_bytes();
    out.extend_from_slice(body);
    out
}

fn lp_request(b: usize, c: usize, i: usize) -> Vec<u8> {
    let dialog = format!("{b:04x}{c:04x}-01ca-4bf7-af4f-9897cf6b77a7");
    let body = common::notification(&dialog, i as u64);
    let signature = format!("sha1={}", cc_core::auth::hmac_sha1_base64(LP_SECRET.as_bytes(), &body));
    let headers = format!(
        "x-liveperson-account-id: {ACCOUNT}\r\nx-liveperson-client-id: {CLIENT}\r\nx-liveperson-signature: {signature}\r\n"
    );
    with_body(&headers, &body)
}

fn ece_request(b: usize, c: usize, i: usize) -> Vec<u8> {
    let mut batch: Value = serde_json::from_slice(BATCH).unwrap();
    for (k, message) in batch["message"].as_array_mut().unwrap().iter_mut().enumerate() {
        message["id"] = json!(format!("{b}-{c}-{i}-{k}"));
    }
    let basic = cc_core::auth::basic_authorization(ECE_USER, &Secret::from(ECE_PASSWORD));
    with_body(&format!("authorization: {}\r\n", basic.expose_secret()), &serde_json::to_vec(&batch).unwrap())
}

/// Reads one response: the head up to the blank line, then `content-length` bytes of body.
/// Returns the status.
async fn read_response(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> u16 {
    buf.clear();
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).expect("an ASCII response head");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let length: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("content-length")))
        .map(|(_, v)| v.trim().parse().expect("a numeric content-length"))
        .expect("responses carry content-length (no chunked encoding here)");
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
    status
}
