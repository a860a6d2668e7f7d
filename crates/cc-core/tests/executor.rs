//! The HTTP executor against a scripted server on a real loopback socket: retries by
//! idempotency, Retry-After, resets, timeouts, re-login on 401, error contents, redaction.
#![cfg(feature = "client")]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cc_core::Secret;
use cc_core::auth::{ClientAuth, Grant, StaticAuth, TokenCache, TokenEndpoint};
use cc_core::http::{Error, Executor, OAuth2Source, Request, RetryPolicy, TransportKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply { status, headers: vec![], body: body.into(), delay: Duration::ZERO }
}

impl Reply {
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// What the server saw.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Default)]
struct Script {
    /// Answers per path, in order; the last one repeats.
    replies: Mutex<Vec<(String, VecDeque<Reply>)>>,
    seen: Mutex<Vec<Seen>>,
}

impl Script {
    fn on(&self, path: &str, replies: Vec<Reply>) {
        self.replies.lock().unwrap().push((path.into(), replies.into()));
    }
    fn seen(&self, path: &str) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.path == path).cloned().collect()
    }
    fn next(&self, path: &str) -> Reply {
        let mut replies = self.replies.lock().unwrap();
        let queue = &mut replies.iter_mut().find(|(p, _)| p == path).expect("scripted path").1;
        if queue.len() > 1 { queue.pop_front().unwrap() } else { queue.front().unwrap().clone() }
    }
}

async fn serve(script: Arc<Script>) -> SocketAddr {
    let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let script = script.clone();
        async move {
            let path = uri.path().to_owned();
            script.seen.lock().unwrap().push(Seen {
                path: path.clone(),
                headers,
                body: String::from_utf8_lossy(&body).into(),
            });
            let r = script.next(&path);
            tokio::time::sleep(r.delay).await;
            let mut resp: Response = (StatusCode::from_u16(r.status).unwrap(), r.body).into_response();
            for (n, v) in r.headers {
                resp.headers_mut().insert(n, v.parse().unwrap());
            }
            resp
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A server that reads each request and closes the connection without answering.
async fn resetting_server() -> (SocketAddr, Arc<Mutex<u32>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(Mutex::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            *c.lock().unwrap() += 1;
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock.shutdown().await;
        }
    });
    (addr, count)
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn executor() -> Executor {
    Executor::builder()
        .retry_policy(fast_policy())
        .attempt_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

#[tokio::test]
async fn idempotent_calls_are_retried_on_5xx() {
    let script = Arc::new(Script::default());
    script.on("/r", vec![reply(503, ""), reply(502, ""), reply(200, r#"{"ok":true}"#)]);
    let addr = serve(script.clone()).await;
    let v: serde_json::Value = executor().send_json(&Request::get(format!("http://{addr}/r"))).await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(script.seen("/r").len(), 3);
}

#[tokio::test]
async fn non_idempotent_calls_are_not_retried_on_500_and_the_error_says_why() {
    let script = Arc::new(Script::default());
    script.on(
        "/send",
        vec![
            reply(500, r#"{"code":"500-1","message":"boom","trackingId":"body-tid"}"#)
                .header("TrackingID", "hdr-tid"),
        ],
    );
    let addr = serve(script.clone()).await;
    let err = executor()
        .send(&Request::post(format!("http://{addr}/send")).operation("test.send"))
        .await
        .unwrap_err();
    assert_eq!(script.seen("/send").len(), 1);
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.vendor_code(), Some("500-1"));
    assert_eq!(err.tracking_id(), Some("hdr-tid"));
    let api = err.as_api().unwrap();
    assert_eq!(api.vendor.message.as_deref(), Some("boom"));
    assert!(api.body.contains(r#""message":"boom""#));
    assert_eq!(err.to_string(), "test.send failed: HTTP 500, code 500-1: boom (tracking id hdr-tid)");
}

#[tokio::test]
async fn non_idempotent_calls_are_retried_when_the_vendor_asks() {
    let script = Arc::new(Script::default());
    script.on(
        "/send",
        vec![
            reply(429, "").header("Retry-After", "0"),
            reply(503, "").header("Retry-After", "0"),
            reply(204, ""),
        ],
    );
    let addr = serve(script.clone()).await;
    let resp = executor().send(&Request::post(format!("http://{addr}/send"))).await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(script.seen("/send").len(), 3);
}

#[tokio::test]
async fn retry_after_beyond_the_limit_is_surfaced_not_waited() {
    let script = Arc::new(Script::default());
    script.on("/r", vec![reply(429, "").header("Retry-After", "3600")]);
    let addr = serve(script.clone()).await;
    let err = executor().send(&Request::get(format!("http://{addr}/r"))).await.unwrap_err();
    assert_eq!(err.as_api().unwrap().retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(script.seen("/r").len(), 1);
}

#[tokio::test]
async fn connection_resets_are_retried_only_when_idempotent() {
    let (addr, count) = resetting_server().await;
    let err = executor().send(&Request::post(format!("http://{addr}/x"))).await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: TransportKind::Io, attempts: 1, .. }), "{err}");
    assert_eq!(*count.lock().unwrap(), 1, "a POST that may have arrived is not repeated");
    let err = executor().send(&Request::get(format!("http://{addr}/x"))).await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: TransportKind::Io, attempts: 3, .. }), "{err}");
    assert_eq!(*count.lock().unwrap(), 4);
}

#[tokio::test]
async fn connect_failures_are_retried_even_for_posts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = executor().send(&Request::post(format!("http://{addr}/x?email=a@b.c"))).await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: TransportKind::Connect, attempts: 3, .. }), "{err}");
    assert!(!err.to_string().contains("a@b.c"), "URLs stay out of errors: {err}");
}

#[tokio::test]
async fn timeouts_are_per_attempt_and_respect_idempotency() {
    let script = Arc::new(Script::default());
    script.on("/slow", vec![reply(200, "late").delayed(Duration::from_millis(400))]);
    let addr = serve(script.clone()).await;
    let exec = Executor::builder()
        .retry_policy(fast_policy())
        .attempt_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = exec.send(&Request::post(format!("http://{addr}/slow"))).await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: TransportKind::Timeout, attempts: 1, .. }), "{err}");
    let err = exec.send(&Request::get(format!("http://{addr}/slow"))).await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: TransportKind::Timeout, attempts: 3, .. }), "{err}");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(script.seen("/slow").len(), 4);
}

#[tokio::test]
async fn retry_budget_limits_retries_across_calls() {
    let script = Arc::new(Script::default());
    script.on("/r", vec![reply(503, "")]);
    let addr = serve(script.clone()).await;
    let exec = Executor::builder().retry_policy(fast_policy()).retry_budget(5).build().unwrap();
    exec.send(&Request::get(format!("http://{addr}/r"))).await.unwrap_err();
    assert_eq!(script.seen("/r").len(), 2, "one retry fits in the budget");
    exec.send(&Request::get(format!("http://{addr}/r"))).await.unwrap_err();
    assert_eq!(script.seen("/r").len(), 3, "budget empty: no retry");
    assert_eq!(exec.retry_budget_available(), 0);
}

fn token_body(n: u32) -> String {
    format!(r#"{{"access_token":"tok-{n}","expires_in":"86400","token_type":"Bearer"}}"#)
}

#[tokio::test]
async fn a_401_causes_exactly_one_relogin_and_retry() {
    let script = Arc::new(Script::default());
    script.on(
        "/token",
        vec![reply(200, &token_body(1)), reply(200, &token_body(2)), reply(200, &token_body(3))],
    );
    script.on("/api", vec![reply(401, ""), reply(200, "{}")]);
    script.on("/always401", vec![reply(401, "")]);
    let addr = serve(script.clone()).await;
    let plain = executor();
    let endpoint = TokenEndpoint::new(format!("http://{addr}/token"), "key", Secret::from("secret"));
    let cache = Arc::new(TokenCache::new(OAuth2Source::client_credentials(endpoint, plain)));
    let exec = Executor::builder().retry_policy(fast_policy()).auth(cache.clone()).build().unwrap();

    // A POST may be repeated after a 401: the server refused it without acting.
    exec.send(&Request::post(format!("http://{addr}/api"))).await.unwrap();
    let api = script.seen("/api");
    assert_eq!(api.len(), 2);
    assert_eq!(api[0].headers["authorization"], "Bearer tok-1");
    assert_eq!(api[1].headers["authorization"], "Bearer tok-2");
    let token_calls = script.seen("/token");
    assert_eq!(token_calls.len(), 2);
    assert_eq!(token_calls[0].headers["authorization"], "Basic a2V5OnNlY3JldA==");
    assert_eq!(token_calls[0].body, "grant_type=client_credentials");

    // A credential that keeps failing: one re-login, then the 401 is returned.
    let err = exec.send(&Request::get(format!("http://{addr}/always401"))).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(script.seen("/always401").len(), 2);
    assert_eq!(script.seen("/token").len(), 3);
}

#[tokio::test]
async fn static_credentials_are_not_retried_on_401() {
    let script = Arc::new(Script::default());
    script.on("/api", vec![reply(401, "")]);
    let addr = serve(script.clone()).await;
    let exec =
        Executor::builder().auth(Arc::new(StaticAuth::basic("u", &Secret::from("p")))).build().unwrap();
    assert_eq!(exec.send(&Request::get(format!("http://{addr}/api"))).await.unwrap_err().status(), Some(401));
    assert_eq!(script.seen("/api").len(), 1);
}

#[tokio::test]
async fn secrets_never_reach_errors_or_debug_output() {
    let script = Arc::new(Script::default());
    script.on(
        "/token",
        vec![reply(200, r#"{"access_token":"SEKRIT-TOKEN","refresh_token":"SEKRIT-REFRESH"}"#)],
    );
    script.on("/api", vec![reply(400, r#"{"message":"bad"}"#)]);
    script.on(
        "/bad-token",
        vec![reply(400, r#"{"error":"invalid_client","error_description":"nope","echo":"SEKRIT-SECRET"}"#)],
    );
    script.on("/garbled-token", vec![reply(200, r#"{"access_token":42,"refresh_token":"SEKRIT-REFRESH"}"#)]);
    let addr = serve(script.clone()).await;
    let endpoint = TokenEndpoint::new(format!("http://{addr}/token"), "id", Secret::from("SEKRIT-SECRET"))
        .client_auth(ClientAuth::Form);
    let cache = Arc::new(TokenCache::new(OAuth2Source::client_credentials(endpoint, executor())));
    let exec = Executor::builder()
        .auth(cache.clone())
        .default_secret_header("x-api-key", Secret::from("SEKRIT-KEY"))
        .build()
        .unwrap();
    let err = exec.send(&Request::get(format!("http://{addr}/api"))).await.unwrap_err();
    assert_eq!(script.seen("/api")[0].headers["x-api-key"], "SEKRIT-KEY");

    let bad = TokenEndpoint::new(format!("http://{addr}/bad-token"), "id", Secret::from("SEKRIT-SECRET"));
    let auth_err = executor().fetch_token(&bad, &Grant::ClientCredentials).await.unwrap_err();
    assert_eq!(auth_err.to_string(), "token endpoint answered HTTP 400: invalid_client - nope");
    let garbled =
        TokenEndpoint::new(format!("http://{addr}/garbled-token"), "id", Secret::from("SEKRIT-SECRET"));
    let garbled_err = executor().fetch_token(&garbled, &Grant::ClientCredentials).await.unwrap_err();
    assert!(garbled_err.to_string().contains("access_token"), "{garbled_err}");

    for text in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{exec:?}"),
        format!("{cache:?}"),
        format!("{auth_err:?}"),
        format!("{garbled_err:?}"),
        format!("{:?}", cache.token().await.unwrap()),
    ] {
        assert!(!text.contains("SEKRIT"), "secret leaked: {text}");
    }
}

#[tokio::test]
async fn error_bodies_are_bounded_and_large_bodies_refused() {
    let script = Arc::new(Script::default());
    script.on("/err", vec![reply(404, &"x".repeat(100_000))]);
    script.on("/big", vec![reply(200, &"y".repeat(2048))]);
    let addr = serve(script.clone()).await;
    let err = executor().send(&Request::get(format!("http://{addr}/err"))).await.unwrap_err();
    assert_eq!(err.as_api().unwrap().body.len(), 4096);
    let exec = Executor::builder().max_body(1024).build().unwrap();
    let err = exec.send(&Request::get(format!("http://{addr}/big"))).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 1024, .. }), "{err}");
    assert_eq!(script.seen("/big").len(), 1, "a too-large answer is not retried");
}

#[tokio::test]
async fn decode_errors_name_the_field_path() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Page {
        data: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        id: String,
    }
    let script = Arc::new(Script::default());
    script.on("/page", vec![reply(200, r#"{"data":[{"id":"a"},{"id":null}]}"#).header("TrackingID", "t-1")]);
    let addr = serve(script.clone()).await;
    let err = executor()
        .send_json::<Page>(&Request::get(format!("http://{addr}/page")).operation("test.page"))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Decode { error, .. } if error.path == "data[1].id"), "{err}");
    assert_eq!(err.tracking_id(), Some("t-1"));
}

#[tokio::test]
async fn streaming_reads_chunks_after_headers() {
    let script = Arc::new(Script::default());
    script.on("/file", vec![reply(200, &"z".repeat(300_000))]);
    let addr = serve(script.clone()).await;
    let mut resp =
        executor().send_streaming(&Request::get(format!("http://{addr}/file")).without_auth()).await.unwrap();
    let mut total = 0;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        total += chunk.len();
    }
    assert_eq!(total, 300_000);
}

#[tokio::test]
async fn refresh_grants_rotate_and_fall_back_to_client_credentials() {
    let script = Arc::new(Script::default());
    script.on(
        "/token",
        vec![
            reply(200, r#"{"access_token":"a1","expires_in":1,"refresh_token":"r1"}"#),
            reply(200, r#"{"access_token":"a2","expires_in":3600,"refresh_token":"r2"}"#),
        ],
    );
    let addr = serve(script.clone()).await;
    let endpoint = TokenEndpoint::new(format!("http://{addr}/token"), "cid", Secret::from("cs"))
        .client_auth(ClientAuth::Form);
    let code = executor()
        .fetch_token(
            &endpoint,
            &Grant::AuthorizationCode {
                code: Secret::from("the-code"),
                redirect_uri: "https://app/cb".into(),
            },
        )
        .await
        .unwrap();
    let cache = TokenCache::new(OAuth2Source::refresh_only(endpoint, executor()));
    cache.seed(code);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(cache.token().await.unwrap().token().access_token().expose_secret(), "a2");
    let calls = script.seen("/token");
    assert_eq!(
        calls[0].body,
        "grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fapp%2Fcb&client_id=cid&client_secret=cs"
    );
    assert_eq!(calls[1].body, "grant_type=refresh_token&refresh_token=r1&client_id=cid&client_secret=cs");
    assert!(calls[1].headers.get("authorization").is_none());
}

#[tokio::test]
async fn no_redirect_is_followed_by_default_and_no_secret_leaves_for_another_host() {
    let (a, b) = (Arc::new(Script::default()), Arc::new(Script::default()));
    let (addr_a, addr_b) = (serve(a.clone()).await, serve(b.clone()).await);
    b.on("/steal", vec![reply(200, "{}")]);
    a.on("/token", vec![reply(307, "").header("location", &format!("http://{addr_b}/steal"))]);
    let http = Executor::builder()
        .retry_policy(fast_policy())
        .default_secret_header("x-api-key", Secret::from("k-123"))
        .build()
        .unwrap();
    let token = Request::post(format!("http://{addr_a}/token"))
        .without_auth()
        .body(cc_core::http::Body::Form(Secret::from("grant_type=client_credentials&client_secret=s3cr3t")));
    let err = http.send(&token).await.unwrap_err();
    assert_eq!(err.status(), Some(307), "{err}");
    assert!(b.seen("/steal").is_empty(), "nothing reached the other host");

    // Opt-in: same-origin redirects are followed, others still are not.
    let same = Executor::builder()
        .retry_policy(fast_policy())
        .redirects(cc_core::http::Redirects::SameOrigin { max: 3 })
        .default_secret_header("x-api-key", Secret::from("k-123"))
        .build()
        .unwrap();
    a.on("/moved", vec![reply(308, "").header("location", "/here")]);
    a.on("/here", vec![reply(200, r#"{"ok":true}"#)]);
    let moved =
        Request::post(format!("http://{addr_a}/moved")).without_auth().json(&serde_json::json!({})).unwrap();
    assert_eq!(same.send(&moved).await.unwrap().status(), 200);
    assert_eq!(a.seen("/here").len(), 1);
    assert_eq!(same.send(&token).await.unwrap_err().status(), Some(307));
    assert!(b.seen("/steal").is_empty(), "a cross-origin redirect is never followed");
}

#[tokio::test]
async fn executors_that_share_connections_reuse_one_connection() {
    use axum::extract::ConnectInfo;
    let peers = Arc::new(Mutex::new(Vec::new()));
    let seen = peers.clone();
    let app = Router::new().fallback(move |ConnectInfo(peer): ConnectInfo<SocketAddr>| {
        seen.lock().unwrap().push(peer);
        async { "{}" }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap()
    });
    let url = format!("http://{addr}/x");
    let first = executor();
    let shared = Executor::builder().share_connections(&first).build().unwrap();
    let separate = executor();
    for exec in [&first, &shared, &separate] {
        let _: serde_json::Value = exec.send_json(&Request::get(url.clone())).await.unwrap();
    }
    let peers = peers.lock().unwrap().clone();
    assert_eq!(peers[0], peers[1], "the second executor reused the first one's connection");
    assert_ne!(peers[0], peers[2], "an executor of its own opens its own");
}

/// Default headers, then the request's, then the credential's: a later one of the same name
/// wins (the body's content type loses to an explicit header); the answer's tracking id is
/// the first of the configured names it carries, whatever the order on the wire.
#[tokio::test]
async fn headers_go_out_in_precedence_and_tracking_ids_come_back_by_rank() {
    let script = Arc::new(Script::default());
    script.on(
        "/h",
        vec![
            reply(500, r#"{"message":"boom"}"#)
                .header("x-correlation-id", "corr")
                .header("x-request-id", "req"),
        ],
    );
    let addr = serve(script.clone()).await;
    let exec = Executor::builder()
        .auth(Arc::new(StaticAuth::new(vec![("authorization".into(), Secret::from("Bearer cred"))])))
        .default_header("Accept-Language", "en-US")
        .default_header("x-b", "default")
        .default_header("authorization", "Bearer default")
        .retry_policy(fast_policy())
        .build()
        .unwrap();
    let request = Request::post(format!("http://{addr}/h?q=1"))
        .header("x-b", "request")
        .header("content-type", "application/vnd.test+json")
        .json(&serde_json::json!({"a": 1}))
        .unwrap();
    let err = exec.send(&request).await.unwrap_err();
    let seen = &script.seen("/h")[0];
    assert_eq!(seen.headers["accept-language"], "en-US");
    assert_eq!(seen.headers["x-b"], "request");
    assert_eq!(seen.headers["authorization"], "Bearer cred");
    assert_eq!(seen.headers["content-type"], "application/vnd.test+json");
    assert_eq!(seen.headers.get_all("x-b").iter().count(), 1);
    assert_eq!(seen.body, r#"{"a":1}"#);
    // x-request-id ranks before x-correlation-id in DEFAULT_TRACKING_HEADERS.
    assert_eq!(err.tracking_id(), Some("req"));
}

/// A header that cannot be sent is refused by name, never by value (it may be a secret):
/// a default one when the executor is built, a request's before anything is sent.
#[tokio::test]
async fn headers_that_cannot_be_sent_are_named_without_their_values() {
    let built = Executor::builder().default_secret_header("x-api-key", Secret::from("SEKRIT\nline")).build();
    let err = built.unwrap_err().to_string();
    assert!(err.contains("`x-api-key`") && !err.contains("SEKRIT"), "{err}");
    let err = Executor::builder().default_header("bad name", "v").build().unwrap_err().to_string();
    assert!(err.contains("`bad name`"), "{err}");
    let err = Executor::builder().tracking_headers(["x-ok", "no good"]).build().unwrap_err().to_string();
    assert!(err.contains("`no good`"), "{err}");

    let script = Arc::new(Script::default());
    script.on("/h", vec![reply(200, "{}")]);
    let addr = serve(script.clone()).await;
    let request =
        Request::get(format!("http://{addr}/h")).secret_header("x-token", Secret::from("SEKRIT\r\n"));
    let err = executor().send(&request).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(err.to_string().contains("`x-token`") && !format!("{err} {err:?}").contains("SEKRIT"), "{err}");
    assert!(script.seen("/h").is_empty(), "nothing was sent");
}
