//! An external chat application against the bundled simulator: ask, start, chat, stop, and a
//! dropped connection with its resync report.
//!
//! `cargo run -p icc-simprot --features sim --example external_chat`
//! Against a real ProServer, replace the simulator address (and check the framing first:
//! docs/simprot-framing.md).

use std::time::Duration;

use icc_simprot::catalogue::{Message, MessageName, Payload};
use icc_simprot::client::{SimProtConfig, SimProtEvent};
use icc_simprot::external::ExternalApp;
use icc_simprot::model::{ChatCommandInfo, ChatSentenceInfo, ChatServiceInfo};
use icc_simprot::sim::{SimConfig, SimProtSim};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = SimProtSim::start(SimConfig::default()).await?;
    let mut config = SimProtConfig::new(sim.addr().to_string(), "web-gateway");
    config.reconnect_initial = Duration::from_millis(100);
    let (app, mut events) = ExternalApp::connect(config).await?;

    let thread = ChatServiceInfo {
        tracking_id: Some("visitor-42".into()),
        party_name: Some("Jana".into()),
        preferred_culture: Some("cs-CZ".into()),
        ..Default::default()
    };
    let answer = app.request_chat(thread.clone()).await?;
    println!("can we chat? {:?}", answer.signal);

    app.send(Message { name: MessageName::EsChatStart, payload: Payload::ChatServiceInfo(Box::new(thread)) })
        .await?;
    let sentence = ChatSentenceInfo {
        tracking_id: Some("visitor-42".into()),
        id: Some("visitor-42/1".into()),
        party_name: Some("Jana".into()),
        text: Some("Where is my order?".into()),
        ..Default::default()
    };
    let echo = app.send_sentence(sentence).await?;
    println!("sent as #{}", echo.counter);

    sim.drop_connections();
    let stop = ChatCommandInfo { tracking_id: Some("visitor-42".into()), ..Default::default() };
    let mut stopped = false;
    while let Some(event) = tokio::time::timeout(Duration::from_secs(2), events.recv()).await.ok().flatten() {
        match event {
            SimProtEvent::Message(m) => println!("← {}", m.name),
            SimProtEvent::Disconnected(why) => println!("disconnected: {why}"),
            SimProtEvent::Resynced { chats, changed, ended } => {
                println!("resynced: {} open, {} changed, {} ended", chats.len(), changed.len(), ended.len());
                if !stopped {
                    let message = Message {
                        name: MessageName::EsChatStop,
                        payload: Payload::ChatCommandInfo(Box::new(stop.clone())),
                    };
                    app.send(message).await?;
                    stopped = true;
                }
            }
            other => println!("{other:?}"),
        }
    }
    Ok(())
}
