//! The fault matrix against the simulator: throttling, server errors, resets, timeouts,
//! expired and refused credentials, unknown accounts, and input refused before any call.
//! A publish is never sent twice once LivePerson may have acted on it.

mod common;

use std::time::{Duration, Instant};

use cc_core::sim::{Fault, Simulator as _};
use cc_core::{ConversationId, Secret, VendorError};
use common::{SECRET, client, config, start};
use lp_connector::client::Consumer;
use lp_connector::model::{FileType, FileUpload, MAX_FILE_BYTES, MAX_PREVIEW_BYTES, OpenConversation};
use lp_connector::sim::{AGENT_PNG, LpSim};
use lp_connector::{Error, LpClient};

/// A consumer with an open conversation, its credentials already fetched (so that the next
/// queued fault meets the call under test).
async fn opened(client: &LpClient, ext: &str) -> (Consumer, ConversationId) {
    let consumer = client.consumer(ext);
    let conversation = consumer.open(&OpenConversation::new()).await.unwrap();
    (consumer, conversation)
}

fn sends(sim: &LpSim) -> usize {
    sim.stats().requests.iter().filter(|r| r.path.ends_with("/conversation/send")).count()
}

#[tokio::test]
async fn a_429_is_retried_after_at_least_a_second_even_when_retry_after_says_zero() {
    let lp = start().await;
    let mut config = config(&lp.sim);
    config.retry.min_delay = Duration::from_secs(1);
    let client = LpClient::new(config).unwrap();
    let (consumer, conversation) = opened(&client, "c1").await;
    lp.sim.inject(Fault::Status { status: 429, retry_after: Some(0) });
    let before = (Instant::now(), sends(&lp.sim));
    assert!(consumer.send_text(&conversation, "hi").await.unwrap().is_some());
    assert!(before.0.elapsed() >= Duration::from_secs(1), "LivePerson: at least 1 s after a 429");
    assert_eq!(sends(&lp.sim) - before.1, 2, "refused, then accepted");
    assert_eq!(lp.sim.stats().published.len(), 1);
}

#[tokio::test]
async fn a_publish_that_may_have_been_processed_is_not_sent_again() {
    let lp = start().await;
    let client = client(&lp.sim);
    let (consumer, conversation) = opened(&client, "c1").await;
    let cases = [
        (Fault::Status { status: 500, retry_after: None }, Some(500)),
        (Fault::Status { status: 503, retry_after: None }, Some(503)),
        (Fault::Reset, None),
        (Fault::Delay(Duration::from_secs(3)), None),
    ];
    for (fault, status) in cases {
        let before = sends(&lp.sim);
        lp.sim.inject(fault.clone());
        let error = consumer.send_text(&conversation, "once").await.unwrap_err();
        assert_eq!(error.status(), status, "{fault:?}: {error}");
        assert_eq!(sends(&lp.sim) - before, 1, "{fault:?}: sent exactly once");
    }
    let accepted = lp.sim.stats().published.len();
    assert_eq!(accepted, 1, "only the reset one was processed (and its answer lost)");
}

#[tokio::test]
async fn a_503_with_retry_after_and_idempotent_calls_are_retried() {
    let lp = start().await;
    let client = client(&lp.sim);
    // CSDS (a GET) through a 500 and a reset.
    lp.sim.inject(Fault::Status { status: 500, retry_after: None });
    lp.sim.inject(Fault::Reset);
    let domains = client.domains().await.unwrap();
    assert_eq!(domains.services().len(), 4);
    let (consumer, conversation) = opened(&client, "c1").await;
    // A 503 with Retry-After: LivePerson asked for the repeat; nothing was processed.
    lp.sim.inject(Fault::Status { status: 503, retry_after: Some(0) });
    consumer.send_text(&conversation, "hi").await.unwrap();
    // A download (a GET on Swift) through a reset.
    let uploaded =
        consumer.upload(&conversation, &FileUpload::image(AGENT_PNG.to_vec()).unwrap()).await.unwrap();
    let stored = lp.sim.file(&uploaded.relative_path).unwrap();
    // The next admitted call is the download-URL request; then the GET meets the reset.
    lp.sim.inject(Fault::Delay(Duration::ZERO));
    lp.sim.inject(Fault::Reset);
    assert_eq!(consumer.download(&uploaded.relative_path).await.unwrap(), stored);
}

#[tokio::test]
async fn an_expired_app_jwt_is_fetched_again_once_and_the_call_repeated() {
    let lp = start().await;
    let client = client(&lp.sim);
    let (consumer, conversation) = opened(&client, "c1").await;
    lp.sim.expire_app_jwts();
    consumer.send_text(&conversation, "after expiry").await.unwrap();
    let stats = lp.sim.stats();
    assert_eq!(stats.app_jwts, 2);
    assert_eq!(stats.published.len(), 1, "the refused attempt did nothing; the repeat did");
    let refused = stats.requests.iter().rev().nth(2).unwrap();
    assert_eq!(refused.headers.get("authorization").map(String::as_str), Some("<AppJWT 1>"));
}

#[tokio::test]
async fn a_revoked_consumer_jws_is_fetched_again_once() {
    let lp = start().await;
    let client = client(&lp.sim);
    let (consumer, conversation) = opened(&client, "c1").await;
    lp.sim.revoke_consumer_jws("c1");
    consumer.send_text(&conversation, "after revocation").await.unwrap();
    let stats = lp.sim.stats();
    assert_eq!((stats.consumer_jwss, stats.app_jwts), (2, 1), "a new JWS, the same AppJWT");
}

#[tokio::test]
async fn a_401_that_a_new_token_cannot_fix_is_returned_without_fetching_one() {
    let lp = start().await;
    let client = client(&lp.sim);
    let (_, theirs) = opened(&client, "owner").await;
    let intruder = client.consumer("intruder");
    intruder.jws().await.unwrap();
    let before = lp.sim.stats();
    let error = intruder.send_text(&theirs, "not mine").await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.code(), None, "no errorCode: not a credential problem");
    assert!(error.to_string().contains("does not own"), "{error}");
    let after = lp.sim.stats();
    assert_eq!((after.app_jwts, after.consumer_jwss), (before.app_jwts, before.consumer_jwss));
    assert_eq!(after.requests.len(), before.requests.len() + 1, "sent once");
}

#[tokio::test]
async fn refused_app_credentials_are_an_app_jwt_error_that_names_no_secret() {
    let lp = start().await;
    let mut config = config(&lp.sim);
    config.client_secret = Secret::from("wrong-secret-value");
    let client = LpClient::new(config).unwrap();
    let error = client.consumer("c1").open(&OpenConversation::new()).await.unwrap_err();
    assert!(matches!(error, Error::AppJwt(_)), "{error:?}");
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("401") && shown.contains("invalid_client"), "{shown}");
    assert!(!shown.contains("wrong-secret-value") && !shown.contains(SECRET), "{shown}");
    assert!(
        lp.sim.stats().requests.iter().all(|r| !r.path.contains("/messaging/")),
        "nothing sent to the Send API"
    );
    assert_eq!(error.channel_kind(), cc_core::ChannelErrorKind::Unauthorized);
}

#[tokio::test]
async fn an_unknown_account_is_a_clear_error() {
    let lp = start().await;
    let mut config = config(&lp.sim);
    config.account_id = "99999999".into();
    let error = LpClient::new(config).unwrap().domains().await.unwrap_err();
    assert!(matches!(error, Error::UnknownAccount { status: Some(404), .. }), "{error:?}");
    assert!(error.to_string().contains("99999999"), "{error}");
}

#[tokio::test]
async fn bad_files_and_paths_are_refused_before_any_call() {
    let lp = start().await;
    let client = client(&lp.sim);
    let (consumer, conversation) = opened(&client, "c1").await;
    let before = lp.sim.stats().requests.len();
    let png = AGENT_PNG.to_vec();
    let mut too_big = png.clone();
    too_big.resize(MAX_FILE_BYTES + 1, 0);
    let bad = [
        FileUpload { bytes: too_big, file_type: FileType::Png, caption: None, preview: None },
        FileUpload { bytes: png.clone(), file_type: FileType::Gif, caption: None, preview: None },
        FileUpload { bytes: b"%PDF-1.7".to_vec(), file_type: FileType::Png, caption: None, preview: None },
        FileUpload { bytes: png.clone(), file_type: FileType::parse("PDF"), caption: None, preview: None },
        FileUpload { bytes: Vec::new(), file_type: FileType::Png, caption: None, preview: None },
        FileUpload::image(png.clone())
            .unwrap()
            .preview(format!("data:image/png;base64,{}", "A".repeat(MAX_PREVIEW_BYTES))),
        FileUpload::image(png.clone()).unwrap().preview("https://evil.example/x.png"),
    ];
    for file in &bad {
        let error = consumer.upload(&conversation, file).await.unwrap_err();
        assert!(matches!(error, Error::Invalid { .. }), "{file:?}: {error}");
    }
    assert!(FileUpload::image(b"GIF89a....".to_vec()).is_ok());
    assert!(FileUpload::image(b"plain text".to_vec()).is_err());
    for path in [
        "",
        "v1/AUTH_async-images/x",
        "//evil.example/x",
        "@evil.example/x",
        "/v1/../../etc/passwd",
        "/v1/a?b=c",
        "/v1/a#b",
        "/v1/%2e%2e/x",
        "/v1/a\\b",
        "/v1//a",
        "/v1/a b",
    ] {
        let error = consumer.download(path).await.unwrap_err();
        assert!(matches!(error, Error::Invalid { .. }), "{path:?}: {error}");
    }
    assert!(matches!(consumer.send_text(&conversation, "").await, Err(Error::Invalid { .. })));
    assert!(matches!(
        consumer.receipt(&conversation, lp_connector::model::AcceptStatus::Read, vec![]).await,
        Err(Error::Invalid { .. })
    ));
    assert_eq!(lp.sim.stats().requests.len(), before, "none of them reached LivePerson");
}

#[tokio::test]
async fn a_closed_conversation_is_refused_with_the_vendor_error() {
    let lp = start().await;
    let client = client(&lp.sim);
    let (consumer, conversation) = opened(&client, "c1").await;
    consumer.close(&conversation).await.unwrap();
    // The simulator's agent closes asynchronously.
    let mut error = None;
    for _ in 0..200 {
        match consumer.send_text(&conversation, "late").await {
            Err(e) => {
                error = Some(e);
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    let error = error.expect("refused once closed");
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.channel_kind(), cc_core::ChannelErrorKind::InvalidInput);
    assert!(error.to_string().contains("closed"), "{error}");
}
