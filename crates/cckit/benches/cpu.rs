//! The CPU-bound rows: each group runs one thing of ours next to a baseline on the same
//! bytes, timed by criterion (wall clock, median) and, where valgrind is installed, counted
//! in instructions by callgrind, which repeats to the instruction whatever else the machine
//! is doing. Only the loop over the routine is counted (`--toggle-collect`), and the count of
//! one iteration is the difference between a run of `LONG` and a run of `SHORT` iterations
//! (first-call costs such as lazy statics cancel), divided by `LONG - SHORT`.
//!
//! `cargo bench -p cckit --bench cpu [-- --quick]`; counts go to `target/cc-bench/counts.json`
//! for `cargo xtask bench` (`CC_BENCH_COUNTS=0` leaves them out).

mod common;

use std::hint::black_box;

use cc_core::Secret;
use criterion::{Criterion, Throughput};
use serde_json::{Value, json};

const LP_BODY: &[u8] = include_bytes!(
    "../../../fixtures/lp/cqm.ExConversationChangeNotification.UPSERT.close-by-consumer.signed.json"
);
const LP_SIGNATURE: &str = "sha1=CKiT6u4nb4Mpi0tdbCbgBXKAF1E=";
const SENTENCE: &[u8] = include_bytes!("../../../fixtures/icc-simprot/es_chat_sentence.json");
const ECE_BATCH: &[u8] = include_bytes!("../../../fixtures/ece/constructed.callback.batch-1000.json");
const ALVARIA_BODY: &[u8] = include_bytes!("../../../fixtures/alvaria/seed.callback.message.json");

const SHORT: u64 = 5;
const LONG: u64 = 55;

/// A benchmarked routine: it passes its result through `black_box` and drops it (both sides
/// pay their own drop; nothing is boxed per call).
type Routine = Box<dyn FnMut()>;

/// One row: `ours` next to `baseline`, with the throughput one call stands for.
struct Group {
    name: &'static str,
    throughput: Throughput,
    ours: (&'static str, Routine),
    baseline: (&'static str, Routine),
}

fn routine<R>(mut f: impl FnMut() -> R + 'static) -> Routine {
    Box::new(move || {
        black_box(f());
    })
}

/// Every row, each built only when run (a count builds just its own).
const GROUPS: [fn() -> Group; 5] = [liveperson, simprot, ece_batch, wxcc_page, alvaria];

fn liveperson() -> Group {
    use lp_notifications::webhook::{LpHeaders, LpWebhook};
    let hook = LpWebhook::new(
        "42257269",
        "81fad476-88af-4d08-bc0e-20bc69439ed4",
        Secret::from("rl9hacst6kqilbofup64n11ga3"),
    );
    Group {
        name: "liveperson notification (1020 bytes)",
        throughput: Throughput::Elements(1),
        ours: (
            "verify signature + parse",
            routine(move || {
                let headers = LpHeaders {
                    account_id: Some("42257269"),
                    client_id: Some("81fad476-88af-4d08-bc0e-20bc69439ed4"),
                    signature: Some(LP_SIGNATURE),
                };
                hook.verify_and_parse(black_box(&headers), black_box(LP_BODY)).unwrap()
            }),
        ),
        baseline: (
            "serde_json::Value",
            routine(|| serde_json::from_slice::<Value>(black_box(LP_BODY)).unwrap()),
        ),
    }
}

fn simprot() -> Group {
    use icc_simprot::catalogue::{Message, MessageName, Payload};
    use icc_simprot::framing::{Framing, LengthPrefixed};
    use icc_simprot::model::ChatSentenceInfo;
    let fixture: Value = serde_json::from_slice(SENTENCE).unwrap();
    let info: ChatSentenceInfo = serde_json::from_value(fixture["payload"].clone()).unwrap();
    let message = Message {
        name: MessageName::EsChatSentence,
        payload: Payload::ChatSentenceInfo(Box::new(info.clone())),
    };
    let framing = LengthPrefixed::default();
    let mut out = Vec::with_capacity(512);
    Group {
        name: "ChatSentenceInfo encode + decode",
        throughput: Throughput::Elements(1),
        ours: (
            "frame (icc-simprot)",
            routine(move || {
                out.clear();
                framing.encode(black_box(&message), &mut out).unwrap();
                framing.decode(black_box(&out)).unwrap()
            }),
        ),
        baseline: (
            "rmp_serde on the same struct",
            routine(move || {
                let bytes = rmp_serde::to_vec_named(black_box(&info)).unwrap();
                rmp_serde::from_slice::<ChatSentenceInfo>(black_box(&bytes)).unwrap()
            }),
        ),
    }
}

fn ece_batch() -> Group {
    use ece_messaging::webhook::parse_callback;
    Group {
        name: "ece callback batch (1000 messages)",
        throughput: Throughput::Bytes(ECE_BATCH.len() as u64),
        ours: (
            "parse (ece-messaging)",
            routine(|| parse_callback(Some("application/json"), black_box(ECE_BATCH)).unwrap()),
        ),
        baseline: (
            "serde_json::Value",
            routine(|| serde_json::from_slice::<Value>(black_box(ECE_BATCH)).unwrap()),
        ),
    }
}

/// A page shaped like the spec's example, 1000 tasks, with the variety real pages have
/// (queued tasks without owner, several channels and statuses).
fn task_page() -> Vec<u8> {
    let data: Vec<_> = (0..1000u64)
        .map(|i| {
            let channel = ["email", "chat", "telephony", "social"][(i % 4) as usize];
            let status = ["created", "queued", "assigned", "completed"][(i % 4) as usize];
            let mut attributes = json!({
                "queue": {"id": "89cf3b93-f020-42c6-84dc-87db6a92eae7", "name": "Technical Support Queue"},
                "channelType": channel,
                "status": status,
                "createdTime": 1_591_702_170_000u64 + i * 1_000,
                "lastUpdatedTime": 1_591_712_170_099u64 + i * 1_000,
                "captureRequested": i % 2 == 0,
                "origin": "chatuser@email.com",
                "destination": "+18005555555",
                "direction": "inbound",
            });
            if i % 4 != 1 {
                attributes["owner"] =
                    json!({"id": "e0c7611b-8035-443a-b7a8-dca9f8b8289b", "name": "Joseph Lambert"});
            }
            json!({"id": format!("93912f11-6017-404b-bf14-{i:012x}"), "attributes": attributes})
        })
        .collect();
    serde_json::to_vec(&json!({"meta": {"orgId": "3dae8fdd-06e2-411a-9035-51f3719f5b65"}, "data": data}))
        .unwrap()
}

fn wxcc_page() -> Group {
    use cc_core::de::parse_json;
    use wxcc_api::model::TaskPage;
    let body: &'static [u8] = task_page().leak();
    assert_eq!(parse_json::<TaskPage>(body).unwrap().data.len(), 1000);
    Group {
        name: "wxcc 1000-task page",
        throughput: Throughput::Bytes(body.len() as u64),
        ours: ("TaskPage (typed)", routine(|| parse_json::<TaskPage>(black_box(body)).unwrap())),
        baseline: (
            "serde_json::Value",
            routine(|| serde_json::from_slice::<Value>(black_box(body)).unwrap()),
        ),
    }
}

fn alvaria() -> Group {
    use alvaria_servermsg::AlvariaWebhook;
    use alvaria_servermsg::sim::{PUBLIC_KEY_PEM, test_callback_jwt};
    // Signed now, valid for 5 minutes: longer than any run of this bench.
    let authorization = format!("Bearer {}", test_callback_jwt("bench").unwrap());
    let verifier = AlvariaWebhook::from_public_keys([PUBLIC_KEY_PEM]).unwrap();
    Group {
        name: "alvaria callback",
        throughput: Throughput::Elements(1),
        ours: (
            "verify JWT (RS256, 2048-bit) + parse",
            routine(move || {
                verifier.verify_and_parse(Some(black_box(&authorization)), black_box(ALVARIA_BODY)).unwrap()
            }),
        ),
        baseline: (
            "serde_json::Value",
            routine(|| serde_json::from_slice::<Value>(black_box(ALVARIA_BODY)).unwrap()),
        ),
    }
}

fn main() {
    // The child side of a count: `<group index>/<ours|baseline>/<iterations>`.
    if let Ok(spec) = std::env::var("CC_BENCH_COUNT") {
        let [group, side, iterations] = spec.split('/').collect::<Vec<_>>()[..] else {
            panic!("CC_BENCH_COUNT={spec:?} is not `<group>/<ours|baseline>/<iterations>`")
        };
        let mut group = GROUPS[group.parse::<usize>().expect("a group index")]();
        let routine = if side == "ours" { &mut group.ours.1 } else { &mut group.baseline.1 };
        run_iterations(routine, iterations.parse().expect("an iteration count"));
        return;
    }
    if common::counts_wanted("CPU rows") {
        count_instructions();
    }
    let mut criterion = Criterion::default().configure_from_args();
    for mut group in GROUPS.map(|make| make()) {
        let mut g = criterion.benchmark_group(group.name);
        g.throughput(group.throughput.clone());
        g.bench_function(format!("ours: {}", group.ours.0), |b| b.iter(&mut group.ours.1));
        g.bench_function(format!("baseline: {}", group.baseline.0), |b| b.iter(&mut group.baseline.1));
        g.finish();
    }
    criterion.final_summary();
}

/// The counted part of a count run: callgrind collects only inside this function, so setup
/// whose cost varies (the Alvaria group signs its JWT with randomised RSA blinding) stays out.
#[inline(never)]
fn run_iterations(routine: &mut Routine, iterations: u64) {
    for _ in 0..iterations {
        routine();
    }
}

/// Instructions per iteration of every routine, by callgrind, into `counts.json`.
fn count_instructions() {
    let per_iteration = |group: usize, side: &str| {
        let spec = |n| format!("{group}/{side}/{n}");
        common::per_iteration_count(spec, Some("*run_iterations*"), SHORT, LONG)
    };
    let counts: Vec<Value> = (0..GROUPS.len())
        .map(|i| {
            let name = GROUPS[i]().name;
            let (ours, baseline) = (per_iteration(i, "ours"), per_iteration(i, "baseline"));
            println!("{name}: ours {ours:.0} instructions, baseline {baseline:.0}");
            json!({"group": name, "ours": ours, "baseline": baseline})
        })
        .collect();
    std::fs::write(common::results_dir().join("counts.json"), serde_json::to_vec_pretty(&counts).unwrap())
        .unwrap();
}
