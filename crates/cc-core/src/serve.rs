//! Serving a router with connection limits (feature `server`): what every receiver, example
//! and simulator listens with.
//!
//! `axum::serve` has no limits: a client that opens connections and sends a header byte a
//! minute holds a task and a socket each for as long as it likes. [`serve`] puts hyper's and
//! tower-http's limits in front of the router:
//!
//! | limit | default | what happens past it |
//! |---|---|---|
//! | [`ServerLimits::max_connections`] | 1024 open connections | no more are accepted until one closes (they wait in the kernel's backlog) |
//! | [`ServerLimits::header_read_timeout`] | 10 s | the request head is not complete: the connection is closed. hyper starts this clock whenever the connection waits for a request, so it also bounds an idle keep-alive connection |
//! | [`ServerLimits::request_timeout`] | 30 s | the request (body included) has no answer yet: 408, the handler's future is dropped |
//! | [`ServerLimits::idle_timeout`] | 60 s | no byte read or written (a stalled body, a client that does not read its answer): the connection is closed |
//!
//! [`bind`] opens the listening socket with a backlog of 4,096 finished handshakes (tokio's
//! `TcpListener::bind` takes 1,024): a burst of 1,000 connections then waits in the kernel
//! rather than in 1 s and 3 s SYN retries.
//!
//! Receivers add their own body-read deadline ([`crate::webhook::server::ReceiverConfig`])
//! so that they are protected when mounted in a server of yours too.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutLayer;

/// Connection limits of [`serve`]; see the module docs for what each one does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Open connections at most (default 1024).
    pub max_connections: usize,
    /// Time for a complete request head, counted from when the connection starts waiting
    /// for a request (default 10 s).
    pub header_read_timeout: Duration,
    /// Time from the request head to the answer, body included (default 30 s); answered 408.
    pub request_timeout: Duration,
    /// Time without a byte in either direction before the connection is closed (default 60 s).
    pub idle_timeout: Duration,
    /// On shutdown, time left to connections still answering before they are cut (default 10 s).
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// How many finished handshakes may wait for `accept`. A load test opening 1,000 connections
/// at once completes them all in the kernel before the server accepts the first; at tokio's
/// default of 1,024 the queue overflowed and clients waited out 1 s and 3 s SYN retries. The
/// kernel caps it at `net.core.somaxconn` (4,096 on current Linux).
const BACKLOG: u32 = 4096;

/// Binds a listening socket to the first address of `addr` that binds, as
/// `TcpListener::bind` does, with a backlog of 4,096 (see the module docs).
pub async fn bind(addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        match listen(addr) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the address resolved to no socket address")
    }))
}

fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As `TcpListener::bind` does: a restarted server may take its port back at once.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves `app` on `listener` with `limits` until the process ends.
pub async fn serve(listener: TcpListener, app: Router, limits: ServerLimits) {
    serve_with_shutdown(listener, app, limits, std::future::pending()).await;
}

/// Serves `app` until `shutdown` completes; then stops accepting, lets the requests in
/// progress finish (at most [`ServerLimits::shutdown_grace`]) and returns.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let app = app.layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout));
    let service = TowerToHyperService::new(app);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let permits = std::sync::Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = std::sync::Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // the semaphore is never closed
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut timed = tokio_io_timeout::TimeoutStream::new(stream);
        timed.set_read_timeout(Some(limits.idle_timeout));
        timed.set_write_timeout(Some(limits.idle_timeout));
        let connection = http.serve_connection(TokioIo::new(Box::pin(timed)), service.clone());
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that went away or timed out is not an error of ours.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the shutdown grace period were cut");
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::routing::post;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    use super::*;

    async fn start(limits: ServerLimits) -> SocketAddr {
        let listener = bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app =
            Router::new().route("/", post(|body: axum::body::Bytes| async move { body.len().to_string() }));
        tokio::spawn(serve(listener, app, limits));
        addr
    }

    #[tokio::test]
    async fn bind_takes_names_and_refuses_a_port_in_use() {
        let listener = bind(("localhost", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback(), "{addr}");
        let taken = bind(addr).await.unwrap_err();
        assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse, "{taken}");
        let nowhere = bind(std::net::SocketAddr::from(([192, 0, 2, 1], 0))).await.unwrap_err();
        assert_eq!(nowhere.kind(), std::io::ErrorKind::AddrNotAvailable, "{nowhere}");
    }

    async fn post_once(addr: SocketAddr) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    /// Reads until the server closes; `true` if it did within `within`.
    async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
        let mut buf = [0u8; 512];
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
                Err(_) => return false,
                Ok(Ok(0) | Err(_)) => return true,
                Ok(Ok(_)) => {}
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slowloris_connections_do_not_starve_a_delivery() {
        let limits = ServerLimits {
            max_connections: 300,
            header_read_timeout: Duration::from_millis(300),
            ..ServerLimits::default()
        };
        let addr = start(limits).await;
        // 300 connections that never finish their request head: they fill the cap.
        let mut slow = Vec::new();
        for _ in 0..300 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"POST / HTTP/1.1\r\nhost: x\r\n").await.unwrap();
            slow.push(s);
        }
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(1), post_once(addr))
            .await
            .expect("a legitimate delivery is answered within 1 s");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("\r\n\r\n2"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(1));
        for s in &mut slow {
            assert!(closed_within(s, Duration::from_secs(2)).await, "the server closed the slow connection");
        }
    }

    #[tokio::test]
    async fn a_stalled_body_is_answered_408_and_an_idle_connection_closed() {
        let limits = ServerLimits {
            request_timeout: Duration::from_millis(200),
            idle_timeout: Duration::from_millis(400),
            ..ServerLimits::default()
        };
        let addr = start(limits).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nabc").await.unwrap();
        let mut buf = vec![0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await.unwrap().unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 408"), "{}", String::from_utf8_lossy(&buf[..n]));

        // A connection that sends nothing at all is closed after the idle timeout at the latest.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        assert!(closed_within(&mut idle, Duration::from_secs(2)).await);
    }

    #[tokio::test]
    async fn shutdown_stops_accepting() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new().route("/", post(|| async { "ok" }));
        let server = tokio::spawn(serve_with_shutdown(listener, app, ServerLimits::default(), async move {
            let _ = rx.await;
        }));
        assert!(post_once(addr).await.starts_with("HTTP/1.1 200"));
        tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap();
        assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
    }
}
