//! Verify + parse one notification, next to `serde_json::Value` parsing the same bytes.
//! Run: `cargo bench -p lp-notifications`.

use std::hint::black_box;

use cc_core::Secret;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lp_notifications::model::parse_notification;
use lp_notifications::webhook::{LpHeaders, LpWebhook};

/// Exact signed bytes from the LivePerson reference vectors.
const BODY: &[u8] = include_bytes!(
    "../../../fixtures/lp/cqm.ExConversationChangeNotification.UPSERT.close-by-consumer.signed.json"
);
const SIGNATURE: &str = "sha1=CKiT6u4nb4Mpi0tdbCbgBXKAF1E=";

fn bench(c: &mut Criterion) {
    let hook = LpWebhook::new(
        "42257269",
        "81fad476-88af-4d08-bc0e-20bc69439ed4",
        Secret::from("rl9hacst6kqilbofup64n11ga3"),
    );
    let headers = LpHeaders {
        account_id: Some("42257269"),
        client_id: Some("81fad476-88af-4d08-bc0e-20bc69439ed4"),
        signature: Some(SIGNATURE),
    };
    let mut group = c.benchmark_group("liveperson notification (1020 bytes)");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ours: verify signature + parse", |b| {
        b.iter(|| hook.verify_and_parse(black_box(&headers), black_box(BODY)).unwrap())
    });
    group.bench_function("parse only (lp-notifications)", |b| {
        b.iter(|| parse_notification(black_box(BODY)).unwrap())
    });
    group.bench_function("baseline: serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(BODY)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
