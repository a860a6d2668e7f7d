//! Client overhead: send-message calls through `EceClient` (token cache, retries, timeouts,
//! tracing, error decoding) next to raw reqwest sending the same request (same headers, same
//! body bytes) to the same simulator on loopback:
//! - sequential: one call at a time;
//! - cold: a new client (empty token cache) making 1,000 concurrent calls, which must cause
//!   exactly one login; the baseline is what a caller writes by hand: a new reqwest client,
//!   the same login request, then the 1,000 calls.
//!
//! Wall clock: alternating rounds (ours, baseline, baseline, ours, …), each side's median
//! round and the median of the paired ratios (see `common::Paired`), so that a slow or fast
//! stretch of the shared machine falls on both. Instructions:
//! callgrind over the whole process (client, simulator and runtime, every thread) per call,
//! a long run minus a short one, so setup and start-up cancel.
//!
//! `cargo bench -p cckit --bench client [-- --quick]`; rows go to
//! `target/cc-bench/client.json` for `cargo xtask bench` (`CC_BENCH_COUNTS=0` leaves the
//! counts out).

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cc_core::{ConversationId, Secret};
use ece_messaging::client::API_PATH;
use ece_messaging::sim::{EceSim, SimConfig, Simulator};
use ece_messaging::start::{CustomerLookup, StartConversation};
use ece_messaging::{EceClient, EceConfig};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

const CONCURRENT: usize = 1000;
/// What `EceClient` sends as its user agent (every crate of the workspace has one version):
/// the baseline sends the same headers.
const USER_AGENT: &str = concat!("cc-core/", env!("CARGO_PKG_VERSION"));

const SEQUENTIAL: &str = "ece client: sequential send-message calls";
const COLD: &str = "ece client: 1000 concurrent calls, cold token cache";

/// The simulator, a started conversation, and what raw reqwest needs to send the same request.
struct Bench {
    runtime: Runtime,
    sim: EceSim,
    client: EceClient,
    conversation: Arc<ConversationId>,
    raw: Raw,
}

/// The request by hand: the token fetched once, the body built once.
#[derive(Clone)]
struct Raw {
    http: reqwest::Client,
    /// The API's root, for the login.
    root: Arc<str>,
    url: Arc<str>,
    bearer: Arc<str>,
    body: Vec<u8>,
}

impl Raw {
    /// The login `EceClient` makes (the same request): `Bearer <token>`.
    async fn login(http: &reqwest::Client, root: &str) -> Arc<str> {
        let answer = http
            .post(format!("{root}/authentication/oauth2/token"))
            .basic_auth("ABCD", Some("01234"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let token: Value = serde_json::from_slice(&answer).unwrap();
        format!("Bearer {}", token["access_token"].as_str().unwrap()).into()
    }

    async fn send(&self) {
        let response = self
            .http
            .post(&*self.url)
            .header("authorization", &*self.bearer)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("accept-language", "en-US")
            .body(self.body.clone())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        black_box(response.bytes().await.unwrap());
    }
}

fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().user_agent(USER_AGENT).build().unwrap()
}

impl Bench {
    fn new() -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        // Every cold round logs in anew: lift the simulator's cap of ECE's ~10 sessions.
        let sim_config = SimConfig {
            max_sessions: usize::MAX,
            ..SimConfig::new("ABCD", Secret::from("01234"), "u", Secret::from("p"))
        };
        let sim = runtime.block_on(EceSim::start(sim_config)).unwrap();
        let client = EceClient::new(config(&sim)).unwrap();
        let conversation = runtime
            .block_on(client.start(&StartConversation::new("1001", CustomerLookup::Anonymous)))
            .unwrap()
            .conversation;
        let http = raw_client();
        let root: Arc<str> = format!("{}{API_PATH}", sim.base_url()).into();
        let bearer = runtime.block_on(Raw::login(&http, &root));
        let body = serde_json::to_vec(&json!({
            "conversation": {"id": conversation.as_str()}, "type": {"value": "text/plain"}, "content": "hi",
        }))
        .unwrap();
        let raw = Raw { http, url: format!("{root}/messaging/sendmessage").into(), root, bearer, body };
        Self { runtime, sim, client, conversation: Arc::new(conversation), raw }
    }

    /// `calls` sequential calls; calls per second.
    fn sequential(&self, ours: bool, calls: u64) -> f64 {
        let started = Instant::now();
        self.runtime.block_on(async {
            for _ in 0..calls {
                if ours {
                    self.client.send_text(black_box(&self.conversation), "hi").await.unwrap();
                } else {
                    self.raw.send().await;
                }
            }
        });
        calls as f64 / started.elapsed().as_secs_f64()
    }

    /// A new client making `CONCURRENT` calls at once; calls per second. Each side logs in
    /// exactly once.
    fn cold(&self, ours: bool) -> f64 {
        let before = self.sim.logins();
        let started = Instant::now();
        if ours {
            let cold = EceClient::new(config(&self.sim)).unwrap();
            self.runtime.block_on(join_all((0..CONCURRENT).map(|_| {
                let (cold, conversation) = (cold.clone(), self.conversation.clone());
                async move { cold.send_text(&conversation, "hi").await.unwrap() }
            })));
        } else {
            // What a caller writes by hand: a new client (and connection pool), one login,
            // then the calls.
            self.runtime.block_on(async {
                let http = raw_client();
                let bearer = Raw::login(&http, &self.raw.root).await;
                let raw = Raw { http, bearer, ..self.raw.clone() };
                join_all((0..CONCURRENT).map(|_| {
                    let raw = raw.clone();
                    async move { raw.send().await }
                }))
                .await
            });
        }
        let per_second = CONCURRENT as f64 / started.elapsed().as_secs_f64();
        let logins = self.sim.logins() - before;
        assert_eq!(logins, 1, "one token request for {CONCURRENT} callers");
        // The round's connections close before the next one opens its own (not measured): the
        // run stays far from the file-descriptor limit and from the accept queue's length.
        std::thread::sleep(Duration::from_millis(100));
        per_second
    }
}

fn config(sim: &EceSim) -> EceConfig {
    EceConfig::new(sim.base_url(), "ABCD", Secret::from("01234"))
}

/// Runs every future as its own task (as concurrent callers are) and waits for them all.
async fn join_all<F: std::future::Future<Output = ()> + Send + 'static>(calls: impl Iterator<Item = F>) {
    let tasks: Vec<_> = calls.map(tokio::spawn).collect();
    for task in tasks {
        task.await.unwrap();
    }
}

fn main() {
    // The child side of a count: `<sequential|cold>/<ours|baseline>/<iterations>`.
    if let Ok(spec) = std::env::var("CC_BENCH_COUNT") {
        let [row, side, iterations] = spec.split('/').collect::<Vec<_>>()[..] else {
            panic!("CC_BENCH_COUNT={spec:?} is not `<sequential|cold>/<ours|baseline>/<iterations>`")
        };
        let (bench, ours, iterations) = (Bench::new(), side == "ours", iterations.parse().unwrap());
        if row == "sequential" {
            bench.sequential(ours, iterations);
        } else {
            for _ in 0..iterations {
                bench.cold(ours);
            }
        }
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let bench = Bench::new();
    // Cold rounds are short (about 0.1 s) and swing most: more of them.
    let (rounds, cold_rounds, calls) = if quick { (5, 5, 300) } else { (41, 41, 600) };
    // Warm-up: connections, allocator, caches.
    bench.sequential(true, 300);
    bench.sequential(false, 300);
    // The first cold round of each side ran slower than any later one (down to 0.4 of them).
    bench.cold(true);
    bench.cold(false);
    let paired = |(ours, baseline): (Vec<f64>, Vec<f64>)| common::Paired::new(&ours, &baseline);
    let sequential = paired(common::alternate(
        rounds,
        || bench.sequential(true, calls),
        || bench.sequential(false, calls),
    ));
    let cold = paired(common::alternate(cold_rounds, || bench.cold(true), || bench.cold(false)));
    let counts = common::counts_wanted("client rows");
    let count = |row: &str, short: u64, long: u64| -> Value {
        if !counts {
            return Value::Null;
        }
        let per_call = |side: &str, calls_per_iteration: f64| {
            common::per_iteration_count(|n| format!("{row}/{side}/{n}"), None, short, long)
                / calls_per_iteration
        };
        let per_iteration = if row == "sequential" { 1.0 } else { CONCURRENT as f64 };
        json!({"ours": per_call("ours", per_iteration), "baseline": per_call("baseline", per_iteration)})
    };
    let rows = json!([
        {
            "benchmark": format!("{SEQUENTIAL}: EceClient::send_text"),
            "ours": sequential.ours, "baseline": sequential.baseline, "unit": "/s",
            "paired_ratio": sequential.ratio_json(),
            "baseline_name": "raw reqwest, same request",
            "instructions": count("sequential", 200, 1200),
        },
        {
            "benchmark": format!("{COLD}: new EceClient, 1000 × send_text"),
            "ours": cold.ours, "baseline": cold.baseline, "unit": "/s",
            "paired_ratio": cold.ratio_json(),
            "baseline_name": "raw reqwest, new client, one login, then 1000 × the same request",
            "instructions": count("cold", 1, 3),
        },
    ]);
    std::fs::write(common::results_dir().join("client.json"), serde_json::to_vec_pretty(&rows).unwrap())
        .unwrap();
    println!("{}", serde_json::to_string_pretty(&rows).unwrap());
}
