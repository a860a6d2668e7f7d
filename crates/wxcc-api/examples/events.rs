//! Receiving events, against the bundled simulator:
//! `cargo run -p wxcc-api --example events --features sim,events`
//!
//! Registers a V2 subscription with a secret, serves the verified webhook route on loopback,
//! lets the simulator deliver task events (repeated, out of order, some lost), keeps the
//! latest state per task, and reconciles the window against the task list.

use std::sync::Arc;

use cc_core::auth::State;
use cc_core::http::Executor;
use cc_core::{EpochMillis, Secret};
use futures_util::StreamExt as _;
use wxcc_api::api::models::SubscriptionRequestEnhanced;
use wxcc_api::api::subscriptions::RegisterSubscriptionV2;
use wxcc_api::auth::{FileTokenStore, Integration, Region};
use wxcc_api::model::events::{Event, EventType};
use wxcc_api::query::DAY_MS;
use wxcc_api::sim::events::Emission;
use wxcc_api::sim::{SimConfig, Simulator, WxccSim};
use wxcc_api::tracking::EventTracker;
use wxcc_api::webhook::Secrets;
use wxcc_api::{WxccClient, WxccConfig, WxccWebhook};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut sim_config = SimConfig::demo();
    sim_config.tasks = 30;
    let sim = WxccSim::start(sim_config).await?;
    let config = sim.config();
    let integration =
        Integration::new(&config.client_id, config.client_secret.clone(), "https://my-app.example/auth")
            .scopes(["cjp:config_read", "cjp:config_write"])
            .oauth_base(sim.oauth_base());
    let state = State::generate()?;
    let redirect = sim.consent(&integration.authorize_url(&state))?;
    let plain = Executor::builder().build()?;
    let token = integration.complete(&plain, &redirect, &state).await?;
    let store = Arc::new(FileTokenStore::new(std::env::temp_dir().join("wxcc-events-token.json")));
    let auth = integration.token_cache(plain, token, store).await?;
    let client = WxccClient::new(WxccConfig::new(Region::Custom(sim.base_url())), auth)?;

    // The receiver: one route for every subscription; events go to a queue.
    let secrets = Secrets::new();
    let (queue, mut events) = tokio::sync::mpsc::channel::<Event>(1024);
    let route = WxccWebhook::new(secrets.clone()).require_timestamp(true).into_route(queue);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhooks/wxcc", listener.local_addr()?);
    let app = axum::Router::new().route("/webhooks/wxcc", route);
    tokio::spawn(cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()));

    // Subscribe (V2), keeping the secret for verification.
    let secret = "my-32-plus-character-long-secret-value";
    let request = SubscriptionRequestEnhanced {
        name: "Task events".into(),
        event_types: vec!["task:new".into()],
        destination_url: url,
        secret: Some(secret.into()),
        resource_version: "task:1.0.0".into(),
        ..Default::default()
    };
    let created = client.call(&RegisterSubscriptionV2::new(request)).await?;
    let subscription = created.data.map(|d| d.id).unwrap_or_default();
    secrets.add(subscription.clone(), Secret::from(secret));
    println!("subscribed: {subscription}");

    // The simulator delivers one task:new per task: twice each, newest first, every 7th lost.
    let how = Emission { duplicates: true, reverse: true, drop_every: 7 };
    let deliveries = sim.emit_for_tasks(&EventType::TaskNew, 30, how).await;
    let lost = deliveries.iter().filter(|d| d.dropped).count();
    println!("{} deliveries, {lost} lost on the way", deliveries.len());

    let mut tracker = EventTracker::new();
    while let Ok(event) = events.try_recv() {
        tracker.apply(&event);
    }
    println!("tasks known from events: {}", tracker.tasks().len());

    // Nightly reconciliation: what the API lists that no event named.
    let from = config.start;
    let to = EpochMillis::new(from.as_i64() + DAY_MS);
    let mut missing = std::pin::pin!(tracker.missing_tasks(&client, from, to));
    while let Some(task) = missing.next().await {
        let task = task?;
        println!("missing an event for task {} (created {})", task.id, task.attributes.created_time);
    }
    Ok(())
}
