//! Fault matrix of the ECE client against its simulator (docs/reliability.md): what each fault
//! produces for a read (entry-point configuration, idempotent) and a send (not idempotent).
#![cfg(feature = "sim")]

use std::time::Duration;

use cc_core::Secret;
use cc_core::http::RetryPolicy;
use ece_messaging::sim::{EceSim, Fault, SimConfig, Simulator};
use ece_messaging::start::{CustomerLookup, StartConversation};
use ece_messaging::{EceClient, EceConfig};

#[tokio::test]
async fn fault_matrix() {
    let sim =
        EceSim::start(SimConfig::new("ABCD", Secret::from("01234"), "u", Secret::from("p"))).await.unwrap();
    let mut config = EceConfig::new(sim.base_url(), "ABCD", Secret::from("01234"));
    config.retry = RetryPolicy { base_delay: Duration::from_millis(5), ..RetryPolicy::default() };
    config.attempt_timeout = Duration::from_millis(200);
    let client = EceClient::new(config).unwrap();
    let conversation =
        client.start(&StartConversation::new("1001", CustomerLookup::Anonymous)).await.unwrap().conversation;
    let entry_point = "1001".into();
    let read = || client.configuration(&entry_point);
    let timeout = Fault::Delay(Duration::from_millis(400));

    // 429 with Retry-After: waited out and retried, for reads and sends.
    sim.inject(Fault::Status { status: 429, retry_after: Some(1) });
    read().await.unwrap();
    sim.inject(Fault::Status { status: 429, retry_after: Some(0) });
    client.send_text(&conversation, "after 429").await.unwrap();
    // 503 without Retry-After: a read is retried; a send is surfaced (it may have been processed).
    sim.inject(Fault::Status { status: 503, retry_after: None });
    read().await.unwrap();
    sim.inject(Fault::Status { status: 503, retry_after: None });
    assert_eq!(client.send_text(&conversation, "after 503").await.unwrap_err().status(), Some(503));
    // Connection reset after processing: a read is retried; a send is surfaced, never repeated.
    sim.inject(Fault::Reset);
    read().await.unwrap();
    sim.inject(Fault::Reset);
    assert!(client.send_text(&conversation, "reset").await.unwrap_err().status().is_none());
    // Read timeout: a read is retried; a send is surfaced (the simulator still processes it).
    sim.inject(timeout.clone());
    read().await.unwrap();
    sim.inject(timeout);
    assert!(client.send_text(&conversation, "slow").await.unwrap_err().to_string().contains("within"));
    // Expired token: one re-login, then the call goes through.
    let logins = sim.stats().logins;
    sim.expire_tokens();
    client.send_text(&conversation, "after 401").await.unwrap();
    assert_eq!(sim.stats().logins, logins + 1);

    tokio::time::sleep(Duration::from_millis(300)).await;
    // A send that timed out may or may not have been processed (here the simulator drops the
    // request with the connection); either way nothing is sent twice.
    let sent: Vec<_> =
        sim.stats().sent.into_iter().filter_map(|(_, text)| text).filter(|t| t != "slow").collect();
    assert_eq!(sent, ["after 429", "reset", "after 401"], "nothing sent twice, no 503 repeated");
}
