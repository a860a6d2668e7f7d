//! Verify + parse one callback, with JWT verification and parsing measured apart, next to
//! `serde_json::Value` parsing the same bytes. `cargo bench -p alvaria-servermsg`

use std::hint::black_box;

use alvaria_servermsg::AlvariaWebhook;
use alvaria_servermsg::model::Callback;
use alvaria_servermsg::sim::PUBLIC_KEY_PEM;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

const BODY: &[u8] = include_bytes!("../../../fixtures/alvaria/seed.callback.message.json");

fn bench(c: &mut Criterion) {
    let key = EncodingKey::from_rsa_pem(include_bytes!("../src/sim_key.pem")).unwrap();
    let claims = serde_json::json!({"iss": "alvaria", "exp": jsonwebtoken::get_current_timestamp() + 86_400});
    let authorization =
        format!("Bearer {}", jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap());
    let verifier = AlvariaWebhook::from_public_keys([PUBLIC_KEY_PEM]).unwrap();

    let mut group = c.benchmark_group("alvaria callback");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ours: verify JWT + parse", |b| {
        b.iter(|| verifier.verify_and_parse(Some(black_box(&authorization)), black_box(BODY)).unwrap())
    });
    group.bench_function("verify JWT only (RS256, 2048-bit)", |b| {
        b.iter(|| verifier.verify(Some(black_box(&authorization))).unwrap())
    });
    group.bench_function("parse only", |b| b.iter(|| Callback::parse(black_box(BODY)).unwrap()));
    group.bench_function("baseline: serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(BODY)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
