//! Parse a 1000-task `GET /v1/tasks` page into the typed model, next to `serde_json::Value`
//! parsing the same bytes. `cargo bench -p wxcc-api`

use std::hint::black_box;

use cc_core::de::parse_json;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use wxcc_api::model::TaskPage;

/// A page shaped like the spec's example, 1000 tasks, with the variety real pages have
/// (queued tasks without owner, several channels and statuses).
fn page() -> Vec<u8> {
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

fn bench(c: &mut Criterion) {
    let body = page();
    assert_eq!(parse_json::<TaskPage>(&body).unwrap().data.len(), 1000);
    let mut group = c.benchmark_group("wxcc 1000-task page");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("ours: TaskPage (typed)", |b| {
        b.iter(|| parse_json::<TaskPage>(black_box(&body)).unwrap())
    });
    group.bench_function("baseline: serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
