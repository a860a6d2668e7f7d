//! Encode + decode one ChatSentenceInfo frame, next to raw `rmp_serde` on the same struct; and
//! message round trips per second through the simulator over loopback.
//! `cargo bench -p icc-simprot --all-features`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use icc_simprot::catalogue::{Message, MessageName, Payload};
use icc_simprot::framing::{Framing, LengthPrefixed};
use icc_simprot::model::ChatSentenceInfo;

const SENTENCE: &[u8] = include_bytes!("../../../fixtures/icc-simprot/es_chat_sentence.json");

fn sentence() -> ChatSentenceInfo {
    let fixture: serde_json::Value = serde_json::from_slice(SENTENCE).unwrap();
    serde_json::from_value(fixture["payload"].clone()).unwrap()
}

fn codec(c: &mut Criterion) {
    let info = sentence();
    let message = Message {
        name: MessageName::EsChatSentence,
        payload: Payload::ChatSentenceInfo(Box::new(info.clone())),
    };
    let framing = LengthPrefixed::default();
    let mut group = c.benchmark_group("ChatSentenceInfo encode + decode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ours: frame (icc-simprot)", |b| {
        let mut out = Vec::with_capacity(512);
        b.iter(|| {
            out.clear();
            framing.encode(black_box(&message), &mut out).unwrap();
            framing.decode(black_box(&out)).unwrap()
        })
    });
    group.bench_function("baseline: rmp_serde on the same struct", |b| {
        b.iter(|| {
            let bytes = rmp_serde::to_vec_named(black_box(&info)).unwrap();
            rmp_serde::from_slice::<ChatSentenceInfo>(black_box(&bytes)).unwrap()
        })
    });
    group.finish();
}

#[cfg(feature = "sim")]
fn loopback(c: &mut Criterion) {
    use icc_simprot::connection::Connection;
    use icc_simprot::model::ChatCommandInfo;
    use icc_simprot::sim::{SimConfig, SimProtSim};

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (_sim, mut connection) = runtime.block_on(async {
        let sim = SimProtSim::start(SimConfig::default()).await.unwrap();
        let connection = Connection::connect(sim.addr()).await.unwrap();
        (sim, connection)
    });
    // ES_CHAT_RESYNC → SE_CHAT_LIST: one request, one answer.
    let resync = Message {
        name: MessageName::EsChatResync,
        payload: Payload::ChatCommandInfo(Box::new(ChatCommandInfo {
            peer: Some("bench".into()),
            ..Default::default()
        })),
    };
    let mut group = c.benchmark_group("loopback round trip (simulator)");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ours: ES_CHAT_RESYNC → SE_CHAT_LIST", |b| {
        b.iter(|| {
            runtime.block_on(async {
                connection.send(&resync).await.unwrap();
                connection.recv().await.unwrap().unwrap()
            })
        })
    });

    // The floor: a raw TCP echo of the same request bytes, no decoding, no simulator logic.
    let mut frame = Vec::new();
    icc_simprot::framing::Framing::encode(
        &icc_simprot::framing::LengthPrefixed::default(),
        &resync,
        &mut frame,
    )
    .unwrap();
    let mut echo = runtime.block_on(async {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let len = frame.len();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            socket.set_nodelay(true).unwrap();
            let mut buf = vec![0u8; len];
            while socket.read_exact(&mut buf).await.is_ok() {
                if socket.write_all(&buf).await.is_err() {
                    break;
                }
            }
        });
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    });
    let mut buf = vec![0u8; frame.len()];
    group.bench_function("baseline: raw TCP echo of the same bytes", |b| {
        b.iter(|| {
            runtime.block_on(async {
                use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                echo.write_all(&frame).await.unwrap();
                echo.read_exact(&mut buf).await.unwrap();
            })
        })
    });
    group.finish();
}

#[cfg(not(feature = "sim"))]
fn loopback(_: &mut Criterion) {}

criterion_group!(benches, codec, loopback);
criterion_main!(benches);
