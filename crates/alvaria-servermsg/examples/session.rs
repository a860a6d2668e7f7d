//! A whole Server Messaging session against the bundled simulator: token, session,
//! confirmation, messages both ways, deletion. No Alvaria account needed.
//! `cargo run -p alvaria-servermsg --example session --features sim`

use std::time::Duration;

use alvaria_servermsg::client::TokenHost;
use alvaria_servermsg::model::{Callback, Message, NewSession, WorkTypeId};
use alvaria_servermsg::sim::{AlvariaSim, PUBLIC_KEY_PEM, SimConfig, Simulator};
use alvaria_servermsg::{AlvariaClient, AlvariaConfig, AlvariaWebhook};
use cc_core::Secret;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim =
        AlvariaSim::start(SimConfig::new("acme", Secret::from("key"), "client", Secret::from("secret")))
            .await?;
    let config = AlvariaConfig::new(
        "acme",
        Secret::from("key"),
        "client",
        Secret::from("secret"),
        TokenHost::Url(sim.token_url()),
    )
    .api_base(sim.base_url());
    let client = AlvariaClient::new(config)?;

    // The callback URL: verified, de-duplicated callbacks update the client's sessions and
    // land in this queue.
    let (tx, mut callbacks) = tokio::sync::mpsc::channel(100);
    let verifier = AlvariaWebhook::from_public_keys([PUBLIC_KEY_PEM])?;
    let app = axum::Router::new().route("/alvaria", client.callback_route(verifier, tx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    sim.set_callback_url(format!("http://{}/alvaria", listener.local_addr()?));
    tokio::spawn(cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()));

    let session = client
        .create_session(&NewSession {
            work_type_id: WorkTypeId::new("32"),
            contact_name: "Ada".into(),
            integration: None,
        })
        .await?;
    session.wait_confirmed(Duration::from_secs(5)).await?;
    println!("session {} confirmed", session.id());
    client.send_message(&session, &Message::text("Hello, my order is late")).await?;
    println!("me: Hello, my order is late");

    let mut deleted = false;
    while let Ok(Some(callback)) = tokio::time::timeout(Duration::from_secs(2), callbacks.recv()).await {
        match &callback {
            Callback::Message { sender_id, message, .. } => {
                println!("{sender_id}: {}", message.text.as_deref().unwrap_or("[attachment]"));
                // The agent answered us: end the session.
                if !deleted && message.text.as_deref().is_some_and(|t| t.starts_with("You said")) {
                    client.delete_session(&session).await?;
                    deleted = true;
                }
            }
            Callback::SessionEnd { .. } => {
                println!("SESSION_END: session {} is over", session.id());
                break;
            }
            other => println!("{}", other.event_name()),
        }
    }
    Ok(())
}
