//! A website visitor's chat against the bundled simulator: Routing, then a poller turning the
//! chat's states into events until it closes. `cargo run -p icc-website-rest --example visitor --features sim`

use std::time::Duration;

use cc_core::ConversationId;
use icc_website_rest::channel::conversation_event;
use icc_website_rest::client::{WebSiteClient, WebSiteConfig};
use icc_website_rest::model::WebApp;
use icc_website_rest::poller::{ChatPoller, PollerConfig};
use icc_website_rest::sim::{SimConfig, Simulator, WebSiteSim};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = WebSiteSim::start(SimConfig::default()).await?;
    let client = WebSiteClient::new(WebSiteConfig::new(sim.base_url()))?;
    let visitor = client.visitor();
    let routing = visitor.routing(&WebApp::WebChat, Some("anonymous"), true).await?;
    let Some(routing) = routing else {
        println!("webchat is not configured for this page");
        return Ok(());
    };
    println!("signal {:?}; tracking id {:?}", routing.signal, visitor.tracking_id());

    let config = PollerConfig {
        fast: Duration::from_millis(20),
        slow: Duration::from_millis(40),
        ..PollerConfig::default()
    };
    let (tx, mut events) = tokio::sync::mpsc::channel(100);
    let poller = tokio::spawn(ChatPoller::new(visitor.clone(), WebApp::WebChat, config).run(tx, 10));
    let chat = routing
        .chat_running
        .map(|c| ConversationId::new(c.chat_id.as_str()))
        .unwrap_or_else(|| ConversationId::new("chat"));
    while let Some(event) = events.recv().await {
        println!("{}", serde_json::to_string(&conversation_event(&chat, &event))?);
    }
    poller.await??;
    Ok(())
}
