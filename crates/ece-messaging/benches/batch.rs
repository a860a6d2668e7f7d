//! Parse a 1000-message callback batch, next to `serde_json::Value` on the same bytes.
//! `cargo bench -p ece-messaging`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ece_messaging::webhook::parse_callback;

const BATCH: &[u8] = include_bytes!("../../../fixtures/ece/constructed.callback.batch-1000.json");

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("ece callback batch (1000 messages)");
    group.throughput(Throughput::Bytes(BATCH.len() as u64));
    group.bench_function("ours: parse (ece-messaging)", |b| {
        b.iter(|| parse_callback(Some("application/json"), black_box(BATCH)).unwrap())
    });
    group.bench_function("baseline: serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(BATCH)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
