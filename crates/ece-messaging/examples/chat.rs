//! A chat with the simulated ECE agent: login, start (typing notifications on), messages,
//! end, with the agent's callbacks arriving at a local webhook. No ECE account needed.
//! `cargo run -p ece-messaging --example chat --features sim`

use std::time::Duration;

use cc_core::Secret;
use ece_messaging::channel::conversation_event;
use ece_messaging::model::MessageType;
use ece_messaging::sim::{EceSim, SimConfig, Simulator};
use ece_messaging::start::{CustomerLookup, StartConversation};
use ece_messaging::webhook::WebhookAuth;
use ece_messaging::{EceClient, EceConfig, EceWebhook};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim =
        EceSim::start(SimConfig::new("ABCD", Secret::from("01234"), "hook-user", Secret::from("hook-pass")))
            .await?;

    // The webhook ECE calls: Basic credentials checked, redeliveries dropped, batches queued.
    let (tx, mut batches) = tokio::sync::mpsc::channel(100);
    let hook = EceWebhook::new(WebhookAuth::basic("hook-user", Secret::from("hook-pass")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    sim.set_callback_url(format!("http://{}/webhook1", listener.local_addr()?));
    let app = axum::Router::new().route("/webhook1", hook.into_route(tx));
    tokio::spawn(cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()));

    let client = EceClient::new(EceConfig::new(sim.base_url(), "ABCD", Secret::from("01234")))?;
    let start = StartConversation::new("1001", CustomerLookup::Email("charlie@example.com".into()))
        .names("Charlie", "Cheeze")
        .subject("Bananas")
        .typing_notifications(true);
    let conversation = client.start(&start).await?.conversation;
    println!("conversation {conversation} started");

    let mut asked = false;
    while let Ok(Some(batch)) = tokio::time::timeout(Duration::from_secs(2), batches.recv()).await {
        for message in &batch.message {
            println!("{}", serde_json::to_string(&conversation_event(message))?);
            match message.kind.value {
                MessageType::TextHtml if !asked => {
                    asked = true;
                    client.send_text(&conversation, "I want to discuss bananas").await?;
                }
                MessageType::TextHtml => client.end(&conversation).await?,
                MessageType::Complete => return Ok(()),
                _ => {}
            }
        }
    }
    Ok(())
}
