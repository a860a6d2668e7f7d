//! The client against the simulator over loopback: HMAC auth, records, CSV and JSON queries,
//! activity chains, a bad signature.
#![cfg(feature = "sim")]

use cc_core::{EpochMillis, Secret};
use wxcc_legacy::client::{ChainEnd, ChainOptions, Separator};
use wxcc_legacy::model::{Query, RecordType};
use wxcc_legacy::sim::{LegacySim, SimConfig, Simulator};
use wxcc_legacy::{Error, LegacyClient, LegacyConfig};

const KEY: &str = "myRandomApiKeY";
const FROM: &str = "userID@portal-controlhub.com";

fn config(sim: &LegacySim) -> LegacyConfig {
    LegacyConfig::new(Secret::from(KEY), FROM, "387").base_url(sim.base_url())
}

async fn sim(contacts: usize) -> LegacySim {
    let mut config = SimConfig::new(Secret::from(KEY), FROM, "387");
    config.contacts = contacts;
    LegacySim::start(config).await.unwrap()
}

fn whole_day() -> Query {
    Query::new("11894", EpochMillis::new(1_612_155_600_000), EpochMillis::new(1_612_328_400_000))
}

#[test]
fn authorization_is_the_worked_hmac_check() {
    let config = LegacyConfig::new(Secret::from(KEY), FROM, "xx");
    assert_eq!(config.authorization().expose_secret(), "yDkJq/aXwm9YYs2xgyWRqRnqgfQ=; tenantId=xx");
    let seed_style = LegacyConfig { separator: Separator::Semicolon, ..config };
    assert_eq!(seed_style.authorization().expose_secret(), "yDkJq/aXwm9YYs2xgyWRqRnqgfQ=;tenantId=xx");
    assert!(!format!("{seed_style:?}").contains(KEY));
}

#[test]
fn the_query_is_encoded_exactly_once() {
    let seed: Query =
        cc_core::de::parse_json(include_bytes!("../../../fixtures/wxcc-legacy/seed-query.json")).unwrap();
    let client = LegacyClient::new(LegacyConfig::new(Secret::from(KEY), FROM, "387")).unwrap();
    let url = client.query_url(&RecordType::Csrs, &seed);
    assert!(url.starts_with("https://rest.wxcc-us1.cisco.com/aws/api/csrs?q=%7B%22anchorId%22"), "{url}");
    let encoded = url.split_once("?q=").unwrap().1;
    assert!(!encoded.contains("%25") && !encoded.contains('+') && !encoded.contains('"'), "{encoded}");
    let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8().unwrap();
    let round_trip: Query = serde_json::from_str(&decoded).unwrap();
    assert_eq!(round_trip, seed);
}

#[tokio::test]
async fn records_by_id_and_missing_ones() {
    let sim = sim(2).await;
    let client = LegacyClient::new(config(&sim)).unwrap();
    let sid = sim.csrs()[0].sid().unwrap().to_owned();
    let csr = client.record(&RecordType::Csrs, &sid).await.unwrap().unwrap();
    assert_eq!(csr.sid(), Some(sid.as_str()));
    assert_eq!(csr.string("queueName"), Some("Support, Tier 1"));
    assert!(client.record(&RecordType::Csrs, "nope").await.unwrap().is_none());
}

#[tokio::test]
async fn csv_queries_stream_rows_and_honour_the_range_and_limits() {
    let sim = sim(20).await;
    let client = LegacyClient::new(config(&sim)).unwrap();
    let mut rows = client.query_csv(&RecordType::Csrs, &whole_day()).await.unwrap();
    let mut all = Vec::new();
    while let Some(row) = rows.next().await {
        all.push(row.unwrap());
    }
    assert_eq!(all.len(), 20);
    assert!(rows.columns().unwrap().contains(&"queueName__s".to_string()));
    assert_eq!(all[0].string("queueName"), Some("Support, Tier 1"), "quoted comma");
    assert_eq!(all[0].string("wrapupCode"), Some("Résolu ✓"), "unicode");
    assert_eq!(all[1].string("wrapupCode"), None, "literal null");
    assert_eq!(all[0].string_array("skills"), Some(vec!["billing".into(), "fr".into()]));

    // The range: sessions start a minute apart from the first one.
    let start = sim.csrs()[5].cstts().unwrap();
    let window = Query::new("11894", start, EpochMillis::new(start.as_i64() + 3 * 60_000));
    let mut rows = client.query_csv(&RecordType::Csrs, &window).await.unwrap();
    let mut sids = Vec::new();
    while let Some(row) = rows.next().await {
        sids.push(row.unwrap().sid().unwrap().to_owned());
    }
    let expected: Vec<String> = sim.csrs()[5..8].iter().map(|r| r.sid().unwrap().to_owned()).collect();
    assert_eq!(sids, expected);

    let last_two = client.query_json(&RecordType::Csrs, &whole_day().records(2, true)).await.unwrap();
    assert_eq!(
        last_two.iter().map(|r| r.sid()).collect::<Vec<_>>(),
        vec![sim.csrs()[18].sid(), sim.csrs()[19].sid()]
    );
}

#[tokio::test]
async fn activity_chains_are_walked_to_the_end() {
    let sim = sim(3).await;
    let client = LegacyClient::new(config(&sim)).unwrap();
    let csr = &sim.csrs()[1];
    let chain = client
        .activity_chain(csr.sid().unwrap(), csr.cstts().unwrap(), &ChainOptions::default())
        .await
        .unwrap();
    assert_eq!(chain.end, ChainEnd::Ended);
    let events: Vec<&str> = chain.activities.iter().map(|(id, _)| id.event.as_str()).collect();
    assert_eq!(events, ["new", "ivr-connected", "parked", "connected", "ended"]);
    for pair in chain.activities.windows(2) {
        assert_eq!(
            pair[1].0.timestamp,
            pair[0].1.cetts().unwrap(),
            "each next activity starts at the previous cetts"
        );
        assert_eq!(pair[1].1.session(), csr.sid());
    }
}

#[tokio::test]
async fn a_chain_stops_cleanly_at_a_missing_record_or_the_step_limit() {
    let mut config_sim = SimConfig::new(Secret::from(KEY), FROM, "387");
    config_sim.contacts = 1;
    config_sim.chain = ["new", "ivr-connected", "hold", "ended"].map(String::from).to_vec();
    let sim = LegacySim::start(config_sim).await.unwrap();
    let client = LegacyClient::new(config(&sim)).unwrap();
    let csr = &sim.csrs()[0];
    let (sid, start) = (csr.sid().unwrap(), csr.cstts().unwrap());

    let chain = client.activity_chain(sid, start, &ChainOptions::default()).await.unwrap();
    assert_eq!(chain.activities.len(), 2);
    assert!(matches!(chain.end, ChainEnd::Missing { .. }), "`hold` is not a default candidate");

    let mut options = ChainOptions { concurrency: 2, ..ChainOptions::default() };
    options.candidates.push("hold".into());
    let chain = client.activity_chain(sid, start, &options).await.unwrap();
    assert_eq!(chain.end, ChainEnd::Ended);
    assert_eq!(chain.activities.len(), 4);

    let short = ChainOptions { max_steps: 2, ..options };
    assert_eq!(client.activity_chain(sid, start, &short).await.unwrap().end, ChainEnd::StepLimit);

    let none = client.activity_chain("no-such-csr", start, &ChainOptions::default()).await.unwrap();
    assert_eq!(none.end, ChainEnd::Missing { timestamp: start });
    assert!(none.activities.is_empty());
}

#[tokio::test]
async fn the_seed_separator_is_accepted_too() {
    let sim = sim(1).await;
    let seed_style = LegacyConfig { separator: Separator::Semicolon, ..config(&sim) };
    let client = LegacyClient::new(seed_style).unwrap();
    assert!(client.record(&RecordType::Csrs, sim.csrs()[0].sid().unwrap()).await.unwrap().is_some());
}

#[tokio::test]
async fn a_bad_signature_is_a_clear_401_without_secrets() {
    let sim = sim(1).await;
    let wrong = LegacyConfig { api_key: Secret::from("wrong-key"), ..config(&sim) };
    let signature = wrong.authorization().expose_secret().clone();
    let client = LegacyClient::new(wrong).unwrap();
    let err = client.query_csv(&RecordType::Csrs, &whole_day()).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(err.status(), Some(401));
    let text = err.to_string();
    assert!(
        text.contains(FROM) && text.contains("tenantId=387") && text.contains("signature does not match"),
        "{text}"
    );
    let sig = signature.split(';').next().unwrap();
    for shown in [text, format!("{err:?}"), format!("{client:?}")] {
        assert!(!shown.contains("wrong-key") && !shown.contains(sig), "{shown}");
    }
    let record_err = client.record(&RecordType::Csrs, "x").await.unwrap_err();
    assert!(matches!(record_err, Error::Unauthorized { .. }));
}

/// A chain with the events real sessions have beyond the seed's four.
fn long_chain_sim() -> SimConfig {
    let mut config = SimConfig::new(Secret::from(KEY), FROM, "387");
    config.contacts = 2;
    config.chain = [
        "new",
        "ivr-connected",
        "flow-started",
        "queued",
        "parked",
        "connected",
        "on-hold",
        "hold-done",
        "recording-started",
        "WrapUp",
        "ended",
    ]
    .map(String::from)
    .to_vec();
    config
}

#[tokio::test]
async fn the_default_candidates_walk_a_chain_of_observed_events() {
    let sim = LegacySim::start(long_chain_sim()).await.unwrap();
    let client = LegacyClient::new(config(&sim)).unwrap();
    let csr = &sim.csrs()[1];
    let chain = client
        .activity_chain(csr.sid().unwrap(), csr.cstts().unwrap(), &ChainOptions::default())
        .await
        .unwrap();
    assert_eq!(chain.end, ChainEnd::Ended);
    assert_eq!(
        chain.activities.len(),
        11,
        "{:?}",
        chain.activities.iter().map(|(id, _)| &id.event).collect::<Vec<_>>()
    );
    assert_eq!(chain.from_query, 0);
}

#[tokio::test]
async fn a_query_based_chain_takes_one_request_and_falls_back_to_probing() {
    use wxcc_legacy::client::ChainQuery;
    let sim = LegacySim::start(long_chain_sim()).await.unwrap();
    let client = LegacyClient::new(config(&sim)).unwrap();
    let csr = &sim.csrs()[0];
    let (sid, start) = (csr.sid().unwrap(), csr.cstts().unwrap());
    let probed = client.activity_chain(sid, start, &ChainOptions::default()).await.unwrap();
    let probing_requests = sim.requests();

    let options = ChainOptions { query: Some(ChainQuery::new("11894")), ..ChainOptions::default() };
    let before = sim.requests();
    let queried = client.activity_chain(sid, start, &options).await.unwrap();
    assert_eq!(
        sim.requests() - before,
        1,
        "one cars query for the whole chain (probing took {probing_requests})"
    );
    assert_eq!(
        (queried.end.clone(), queried.from_query, queried.query_error.clone()),
        (ChainEnd::Ended, 11, None)
    );
    assert_eq!(queried.activities, probed.activities, "the same chain either way");

    // The query finds part of it (a step limit on what it may take): probing goes on from there.
    let partial = ChainOptions { max_steps: 4, ..options.clone() };
    let chain = client.activity_chain(sid, start, &partial).await.unwrap();
    assert_eq!((chain.end, chain.activities.len()), (ChainEnd::StepLimit, 4));

    // The query fails: probing does it all, and says why.
    sim.inject(cc_core::sim::Fault::Status { status: 400, retry_after: None });
    let chain = client.activity_chain(sid, start, &options).await.unwrap();
    assert_eq!((chain.end, chain.from_query, chain.activities.len()), (ChainEnd::Ended, 0, 11));
    assert!(chain.query_error.as_deref().is_some_and(|e| e.contains("400")), "{:?}", chain.query_error);
}
