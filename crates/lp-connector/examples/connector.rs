//! A vendor-neutral bot on LivePerson, offline: the simulator plays LivePerson (domains,
//! Sentinel, IdP, Send API, Swift, an agent), `lp-notifications` receives its signed webhooks,
//! and the bot only sees cc-core's `MessagingChannel` and `ConversationEvent`s.
//!
//! `cargo run -p lp-connector --example connector --features sim`

use std::time::Duration;

use axum::Router;
use cc_core::conversation::{Role, StartConversation};
use cc_core::sim::Simulator as _;
use cc_core::{ConversationEvent, MessagingChannel, Secret};
use lp_connector::channel::{EXT_CONSUMER_ID, LpChannel};
use lp_connector::sim::{LpSim, SimConfig};
use lp_connector::{LpClient, LpConfig};
use lp_notifications::channel::delivery_events;
use lp_notifications::sequencer::Sequencer;
use lp_notifications::webhook::LpWebhook;
use tokio::sync::mpsc;

const ACCOUNT: &str = "12345678";
const CLIENT_ID: &str = "app-installation-id";
const SECRET: &str = "app-secret";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = LpSim::start(SimConfig::new(ACCOUNT, CLIENT_ID, Secret::from(SECRET))).await?;

    // The webhook: signatures checked, then ordered by the sequencer.
    let (notifications, mut inbox) = mpsc::channel(256);
    let app = Router::new()
        .route("/lp", LpWebhook::new(ACCOUNT, CLIENT_ID, Secret::from(SECRET)).into_route(notifications));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    sim.set_webhook_url(format!("http://{}/lp", listener.local_addr()?));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut config = LpConfig::new(ACCOUNT, CLIENT_ID, Secret::from(SECRET));
    config.csds_url = sim.base_url();
    let channel = LpChannel::new(LpClient::new(config)?);

    // The bot: vendor-neutral from here on.
    let bot: &dyn MessagingChannel = &channel;
    let conversation = bot
        .start(StartConversation::new().customer_name("Ada Lovelace").attribute(EXT_CONSUMER_ID, "ada-1"))
        .await?
        .id;
    println!("opened {conversation}");
    let mut sequencer = Sequencer::default();
    let mut replies = 0;
    while let Ok(Some(notification)) = tokio::time::timeout(Duration::from_secs(5), inbox.recv()).await {
        for delivery in sequencer.push_notification(notification) {
            for event in channel.own_events(delivery_events(&delivery)) {
                match &event {
                    ConversationEvent::Message { message, .. } if message.sender.role == Role::Agent => {
                        println!("agent: {}", message.text.as_deref().unwrap_or("[file]"));
                        replies += 1;
                        match replies {
                            1 => {
                                bot.send_text(&conversation, "Where is my parcel?").await?;
                            }
                            _ => bot.end(&conversation).await?,
                        }
                    }
                    ConversationEvent::Ended { .. } => {
                        println!("ended");
                        return Ok(());
                    }
                    other => println!("event: {}", serde_json::to_string(other)?),
                }
            }
        }
    }
    Err("the conversation did not end".into())
}
