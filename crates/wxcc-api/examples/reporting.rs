//! The integration flow and the reporting calls against the bundled simulator:
//! `cargo run -p wxcc-api --example reporting --features sim`
//!
//! Against a real tenant, replace the simulator's URLs with `Region::Us1` (or yours) and the
//! integration's real client id, secret and redirect URI, and send the admin to the
//! authorize URL in a browser instead of calling `consent`.

use std::sync::Arc;

use cc_core::EpochMillis;
use cc_core::auth::State;
use cc_core::http::Executor;
use futures_util::StreamExt as _;
use wxcc_api::auth::{FileTokenStore, Integration, Region};
use wxcc_api::model::Site;
use wxcc_api::query::{Captures, DAY_MS, Interval, StatisticsQuery, TaskQuery};
use wxcc_api::sim::{SimConfig, Simulator, WxccSim};
use wxcc_api::{WxccClient, WxccConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = WxccSim::start(SimConfig::demo()).await?;
    let config = sim.config();

    // 1. Consent: the admin follows the authorize URL; the redirect brings code and state back.
    let integration =
        Integration::new(&config.client_id, config.client_secret.clone(), "https://my-app.example/auth")
            .scopes(["cjp:config_read", "cjp:config_write"])
            .oauth_base(sim.oauth_base());
    let state = State::generate()?;
    let redirect = sim.consent(&integration.authorize_url(&state))?;
    let plain = Executor::builder().build()?;
    let token = integration.complete(&plain, &redirect, &state).await?;

    // 2. Keep the pair: every refresh rotates the refresh token and saves the new one.
    let store = Arc::new(FileTokenStore::new(std::env::temp_dir().join("wxcc-example-token.json")));
    let auth = integration.token_cache(plain, token, store).await?;
    let client = WxccClient::new(WxccConfig::new(Region::Custom(sim.base_url())), auth)?;
    println!("org id (from the token): {}", client.org_id().await?);

    // 3. Every task of two days, page by page, each once.
    let from = config.start;
    let to = EpochMillis::new(from.as_i64() + 2 * DAY_MS);
    let mut tasks = std::pin::pin!(client.task_stream(TaskQuery::new(from, to).page_size(500)));
    let (mut count, mut recorded) = (0, Vec::new());
    while let Some(task) = tasks.next().await {
        let task = task?;
        count += 1;
        if task.attributes.capture_requested == Some(true) && recorded.len() < 3 {
            recorded.push(task.id.clone());
        }
    }
    println!("tasks in two days: {count}");

    // 4. Three days of hourly queue statistics: split into windows under 24 h.
    let stats = client
        .queue_statistics_range(&StatisticsQuery::new(
            from,
            EpochMillis::new(from.as_i64() + 3 * DAY_MS),
            Interval::Minutes60,
        ))
        .await?;
    println!("queue statistics rows: {}", stats.len());

    // 5. Recordings: query, then download from the pre-signed URL (no Authorization).
    let captures = client.captures(&Captures::of(recorded).url_expiration(10)).await?;
    if let Some(url) =
        captures.data.iter().flat_map(|c| &c.recording).find_map(|r| r.attributes.file_path.clone())
    {
        let path = std::env::temp_dir().join("wxcc-example-recording.wav");
        let bytes = client.download(&url, &path).await?;
        println!("downloaded {bytes} bytes to {}", path.display());
    }

    // 6. A site, created then renamed with the version it was read at.
    let mut site = client.create_site(&Site::new("Example Site", "mm-profile-1")).await?;
    site.name = "Example Site Renamed".into();
    let site = client.update_site(&site).await?;
    println!("site {} is at version {:?}", site.id.as_deref().unwrap_or("?"), site.version);
    Ok(())
}
