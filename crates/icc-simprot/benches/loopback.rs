//! Message round trips per second through the simulator over loopback, next to a raw TCP
//! echo of the same bytes (the frame codec's CPU row is in `cckit`'s `cpu` bench).
//! `cargo bench -p icc-simprot --bench loopback --features sim`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use icc_simprot::catalogue::{Message, MessageName, Payload};

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

criterion_group!(benches, loopback);
criterion_main!(benches);
