//! Client overhead: send-message calls through `EceClient` (token cache, retries, tracing,
//! error decoding) next to raw reqwest sending the same requests to the same simulator on
//! loopback; and 1000 concurrent calls from a cold token cache, which must cause exactly one
//! login. `cargo bench -p ece-messaging --bench client --features sim`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cc_core::Secret;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ece_messaging::client::API_PATH;
use ece_messaging::sim::{EceSim, SimConfig, Simulator};
use ece_messaging::start::{CustomerLookup, StartConversation};
use ece_messaging::{EceClient, EceConfig};

const CONCURRENT: usize = 1000;

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // Every cold-cache iteration logs in anew: lift the simulator's cap of ECE's ~10 sessions.
    let sim_config = SimConfig {
        max_sessions: usize::MAX,
        ..SimConfig::new("ABCD", Secret::from("01234"), "u", Secret::from("p"))
    };
    let sim = runtime.block_on(EceSim::start(sim_config)).unwrap();
    let config = || EceConfig::new(sim.base_url(), "ABCD", Secret::from("01234"));
    let client = EceClient::new(config()).unwrap();
    let conversation = runtime
        .block_on(client.start(&StartConversation::new("1001", CustomerLookup::Anonymous)))
        .unwrap()
        .conversation;

    // What the client sends, by hand: the token once, then the same POST.
    let http = reqwest::Client::new();
    let root = format!("{}{API_PATH}", sim.base_url());
    let token: serde_json::Value = serde_json::from_slice(&runtime.block_on(async {
        http.post(format!("{root}/authentication/oauth2/token"))
            .basic_auth("ABCD", Some("01234"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    }))
    .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let url = format!("{root}/messaging/sendmessage");
    let body = serde_json::to_vec(&serde_json::json!({
        "conversation": {"id": conversation.as_str()}, "type": {"value": "text/plain"}, "content": "hi",
    }))
    .unwrap();
    let raw_send = |http: reqwest::Client, bearer: String, body: Vec<u8>, url: String| async move {
        let response = http
            .post(url)
            .header("authorization", bearer)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap()
    };

    let mut group = c.benchmark_group("ece client: sequential send-message calls");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ours: EceClient::send_text", |b| {
        b.iter(|| runtime.block_on(client.send_text(black_box(&conversation), "hi")).unwrap())
    });
    group.bench_function("baseline: raw reqwest, same request", |b| {
        b.iter(|| runtime.block_on(raw_send(http.clone(), bearer.clone(), body.clone(), url.clone())))
    });
    group.finish();

    let mut group = c.benchmark_group("ece client: 1000 concurrent calls, cold token cache");
    group.throughput(Throughput::Elements(CONCURRENT as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    let conversation = Arc::new(conversation);
    // Each iteration opens 1000 connections: a pause between iterations (not measured) lets
    // the previous ones close, so the run stays far from the file-descriptor limit.
    let timed = |iters: u64, run: &dyn Fn()| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let started = Instant::now();
            run();
            total += started.elapsed();
            std::thread::sleep(Duration::from_millis(100));
        }
        total
    };
    group.bench_function("ours: new EceClient, 1000 × send_text", |b| {
        b.iter_custom(|iters| {
            timed(iters, &|| {
                let before = sim.logins();
                let cold = EceClient::new(config()).unwrap();
                runtime.block_on(async {
                    let calls: Vec<_> = (0..CONCURRENT)
                        .map(|_| {
                            let (cold, conversation) = (cold.clone(), conversation.clone());
                            tokio::spawn(async move { cold.send_text(&conversation, "hi").await })
                        })
                        .collect();
                    for call in calls {
                        call.await.unwrap().unwrap();
                    }
                });
                assert_eq!(sim.logins(), before + 1, "exactly one token request for 1000 callers");
            })
        })
    });
    group.bench_function("baseline: raw reqwest, 1000 × the same request", |b| {
        b.iter_custom(|iters| {
            timed(iters, &|| {
                // A new connection pool too, as a new client has: only the token is known already.
                let http = reqwest::Client::new();
                runtime.block_on(async {
                    let calls: Vec<_> = (0..CONCURRENT)
                        .map(|_| {
                            tokio::spawn(raw_send(http.clone(), bearer.clone(), body.clone(), url.clone()))
                        })
                        .collect();
                    for call in calls {
                        call.await.unwrap();
                    }
                })
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
