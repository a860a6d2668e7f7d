//! Fault matrix of the legacy client against its simulator (docs/reliability.md). Every call
//! is a GET: 429 (after `Retry-After`), 503, a reset and a read timeout are retried. The
//! credentials are a static signature: a 401 cannot be repaired by re-login and is surfaced,
//! naming what was sent.
#![cfg(feature = "sim")]

use std::time::Duration;

use cc_core::Secret;
use cc_core::http::RetryPolicy;
use wxcc_legacy::model::RecordType;
use wxcc_legacy::sim::{Fault, LegacySim, SimConfig, Simulator};
use wxcc_legacy::{Error, LegacyClient, LegacyConfig};

#[tokio::test]
async fn fault_matrix() {
    let key = Secret::from("myRandomApiKeY");
    let login = "userID@portal-controlhub.com";
    let sim = LegacySim::start(SimConfig::new(key.clone(), login, "387")).await.unwrap();
    let mut config = LegacyConfig::new(key, login, "387").base_url(sim.base_url());
    config.attempt_timeout = Duration::from_millis(200);
    config.retry = RetryPolicy { base_delay: Duration::from_millis(5), ..RetryPolicy::default() };
    let client = LegacyClient::new(config).unwrap();
    let sid = sim.csrs()[0].sid().unwrap().to_owned();
    for fault in Fault::survivable(Duration::from_millis(400)) {
        sim.inject(fault.clone());
        let record =
            client.record(&RecordType::Csrs, &sid).await.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(record.unwrap().sid(), Some(sid.as_str()), "{fault:?}");
    }
    sim.inject(Fault::Status { status: 401, retry_after: None });
    let err = client.record(&RecordType::Csrs, &sid).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("tenantId=387") && !err.to_string().contains("myRandomApiKeY"), "{err}");
}
