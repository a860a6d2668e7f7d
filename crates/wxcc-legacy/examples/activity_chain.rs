//! Runs against the bundled simulator: query today's CSRs as CSV, then walk each session's
//! activity chain. `cargo run -p wxcc-legacy --example activity_chain --features sim`

use cc_core::{EpochMillis, Secret};
use wxcc_legacy::client::ChainOptions;
use wxcc_legacy::model::{Query, RecordType};
use wxcc_legacy::sim::{LegacySim, SimConfig, Simulator};
use wxcc_legacy::{LegacyClient, LegacyConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = Secret::from("myRandomApiKeY");
    let login = "userID@portal-controlhub.com";
    let sim = LegacySim::start(SimConfig::new(key.clone(), login, "387")).await?;
    let client = LegacyClient::new(LegacyConfig::new(key, login, "387").base_url(sim.base_url()))?;

    let query = Query::new("11894", EpochMillis::new(1_612_155_600_000), EpochMillis::new(1_612_328_400_000))
        .timezone("America/New_York");
    let mut rows = client.query_csv(&RecordType::Csrs, &query).await?;
    while let Some(csr) = rows.next().await {
        let csr = csr?;
        let (Some(sid), Some(start)) = (csr.sid(), csr.cstts()) else { continue };
        let chain = client.activity_chain(sid, start, &ChainOptions::default()).await?;
        let events: Vec<&str> = chain.activities.iter().map(|(id, _)| id.event.as_str()).collect();
        println!("{sid} {} {:?}: {}", csr.string("agentName").unwrap_or("-"), chain.end, events.join(" > "));
    }
    Ok(())
}
