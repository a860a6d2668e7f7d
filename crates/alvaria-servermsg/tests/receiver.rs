//! Callback authentication: only RS256 JWTs signed with the configured key get through.
#![cfg(feature = "sim")]

use alvaria_servermsg::sim::PUBLIC_KEY_PEM;
use alvaria_servermsg::{AlvariaWebhook, Error};
use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cc_core::http::{Body, Executor, Request, RetryPolicy};
use cc_core::webhook::VerifyError;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;
use tokio::net::TcpListener;

const SIM_PRIVATE: &str = include_str!("../src/sim_key.pem");
const OTHER_PRIVATE: &str = include_str!("../../cc-core/tests/keys/test-rsa-b.pem");
const BODY: &[u8] = include_bytes!("../../../fixtures/alvaria/seed.callback.agent-joined.json");

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn rs256(private: &str, exp: u64) -> String {
    let key = EncodingKey::from_rsa_pem(private.as_bytes()).unwrap();
    encode(&Header::new(Algorithm::RS256), &json!({"iss": "alvaria", "exp": exp}), &key).unwrap()
}

fn no_exp(private: &str) -> String {
    let key = EncodingKey::from_rsa_pem(private.as_bytes()).unwrap();
    encode(&Header::new(Algorithm::RS256), &json!({"iss": "alvaria"}), &key).unwrap()
}

/// Serves `app` on a free loopback port, as a deployment would.
async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()));
    addr
}

fn verifier() -> AlvariaWebhook {
    AlvariaWebhook::from_public_keys([PUBLIC_KEY_PEM]).unwrap()
}

fn bad_tokens() -> Vec<(&'static str, String)> {
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({"exp": now() + 300}).to_string());
    let hs256 = encode(
        &Header::new(Algorithm::HS256),
        &json!({"exp": now() + 300}),
        &EncodingKey::from_secret(PUBLIC_KEY_PEM.as_bytes()),
    )
    .unwrap();
    vec![
        ("expired", rs256(SIM_PRIVATE, now() - 3600)),
        ("wrong key", rs256(OTHER_PRIVATE, now() + 300)),
        ("alg none", format!("{none_header}.{claims}.")),
        ("HS256 with the public key", hs256),
        ("garbage", "not-a-jwt".into()),
        ("no exp", no_exp(SIM_PRIVATE)),
    ]
}

#[test]
fn valid_tokens_pass_bearer_or_bare() {
    let token = rs256(SIM_PRIVATE, now() + 300);
    assert!(verifier().verify_and_parse(Some(&format!("Bearer {token}")), BODY).is_ok());
    assert!(verifier().verify_and_parse(Some(&token), BODY).is_ok());
    assert!(verifier().issuer(["alvaria"]).verify(Some(&token)).is_ok());
    // `exp` is required unless the opt-out is taken.
    assert!(verifier().verify(Some(&no_exp(SIM_PRIVATE))).is_err());
    assert!(verifier().allow_missing_exp().verify(Some(&no_exp(SIM_PRIVATE))).is_ok());
    assert_eq!(
        verifier().issuer(["someone-else"]).verify(Some(&token)),
        Err(VerifyError::ClaimMismatch("iss"))
    );
}

#[test]
fn bad_tokens_are_rejected() {
    for (case, token) in bad_tokens() {
        let err = verifier().verify_and_parse(Some(&format!("Bearer {token}")), BODY).unwrap_err();
        assert!(matches!(err, Error::Verify(_)), "{case}: {err}");
    }
    assert!(matches!(
        verifier().verify_and_parse(None, BODY),
        Err(Error::Verify(VerifyError::MissingHeader(_)))
    ));
    assert!(matches!(
        verifier().verify_and_parse(Some(&rs256(SIM_PRIVATE, now() - 3600)), BODY),
        Err(Error::Verify(VerifyError::Expired))
    ));
}

#[tokio::test]
async fn the_route_answers_401_and_never_calls_the_handler() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let addr = serve(Router::new().route("/cb", verifier().into_route(tx))).await;
    let http = Executor::builder().retry_policy(RetryPolicy::no_retries()).build().unwrap();
    let post = |token: String, body: &'static [u8]| {
        Request::post(format!("http://{addr}/cb"))
            .without_auth()
            .header("authorization", format!("Bearer {token}"))
            .body(Body::Bytes { content_type: "application/json".into(), data: body.to_vec() })
    };
    for (case, token) in bad_tokens() {
        let status = http.send(&post(token, BODY)).await.unwrap_err().status();
        assert_eq!(status, Some(401), "{case}");
    }
    assert!(rx.try_recv().is_err(), "no unverified callback reached the handler");

    let good = rs256(SIM_PRIVATE, now() + 300);
    assert_eq!(http.send(&post(good.clone(), BODY)).await.unwrap().status(), 200);
    assert_eq!(
        http.send(&post(good.clone(), BODY)).await.unwrap().status(),
        200,
        "a redelivery is acknowledged"
    );
    assert!(rx.try_recv().is_ok());
    assert!(rx.try_recv().is_err(), "and dropped");
    let malformed =
        http.send(&post(good.clone(), br#"{"event":"AGENT_JOINED","sessionId":"s"}"#)).await.unwrap_err();
    assert_eq!(malformed.status(), Some(400));
    assert!(malformed.as_api().unwrap().body.contains("agentAlias"), "{malformed}");
    // Bodies over the 1 MiB limit are refused before verification or parsing.
    let huge: &'static [u8] = Box::leak(vec![b' '; 1024 * 1024 + 1].into_boxed_slice());
    assert_eq!(http.send(&post(good, huge)).await.unwrap_err().status(), Some(413));
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn blank_event_ids_are_no_dedupe_key() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let addr = serve(Router::new().route("/cb", verifier().into_route(tx))).await;
    let http = Executor::builder().retry_policy(RetryPolicy::no_retries()).build().unwrap();
    let token = rs256(SIM_PRIVATE, now() + 300);
    for session in ["s-1", "s-2"] {
        let body = json!({"event": "AGENT_JOINED", "sessionId": session, "agentAlias": "Ann", "eventId": ""});
        let request = Request::post(format!("http://{addr}/cb"))
            .without_auth()
            .header("authorization", format!("Bearer {token}"))
            .json(&body)
            .unwrap();
        assert_eq!(http.send(&request).await.unwrap().status(), 200);
    }
    let sessions: Vec<String> =
        (0..2).map(|_| rx.try_recv().unwrap().session_id().unwrap().to_string()).collect();
    assert_eq!(sessions, ["s-1", "s-2"], "both callbacks reached the handler");
}

#[tokio::test]
async fn bad_credentials_are_answered_before_the_body_arrives() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (tx, _rx) = tokio::sync::mpsc::channel::<alvaria_servermsg::model::Callback>(8);
    let addr = serve(Router::new().route("/cb", verifier().into_route(tx))).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /cb HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-length: 900000\r\n\r\n",
        rs256(OTHER_PRIVATE, now() + 300)
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 12];
    tokio::time::timeout(std::time::Duration::from_secs(2), s.read_exact(&mut buf))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    assert_eq!(&buf, b"HTTP/1.1 401");
}
