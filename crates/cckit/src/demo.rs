//! `cckit demo`: each implemented vendor's real flow — client, receiver, simulator — on
//! loopback, with a transcript.

use cc_core::sim::Simulator as _;
use std::time::{Duration, Instant};

use axum::Router;
use cc_core::{ConversationEvent, Secret};
use tokio::sync::mpsc;

use crate::Failure;

/// Vendors with a demo, in the order `all` runs them.
pub const VENDORS: &[&str] = &["ece", "alvaria", "icc-website", "icc-simprot", "lp", "wxcc", "wxcc-legacy"];
const WAIT: Duration = Duration::from_secs(5);

type Step = Result<(), String>;

/// Prints one transcript line.
fn line(vendor: &str, text: impl AsRef<str>) {
    println!("  [{vendor}] {}", text.as_ref());
}

fn event_line(event: &ConversationEvent) -> String {
    match event {
        ConversationEvent::Started { .. } => "conversation started".into(),
        ConversationEvent::AgentJoined { agent, .. } => {
            format!(
                "agent joined: {}",
                agent.name.as_deref().or(agent.id.as_ref().map(|i| i.as_str())).unwrap_or("?")
            )
        }
        ConversationEvent::Message { message, .. } => format!(
            "{} says: {}",
            message.sender.name.as_deref().unwrap_or(message.sender.role.as_str()),
            message.text.as_deref().or(message.html.as_deref()).unwrap_or("[attachment]")
        ),
        ConversationEvent::Typing { on, .. } => {
            if *on { "agent is typing…" } else { "agent stopped typing" }.into()
        }
        ConversationEvent::Receipt { kind, .. } => format!("receipt: {kind}"),
        ConversationEvent::Transferred { to, .. } => {
            format!("transferred to {}", to.as_deref().unwrap_or("?"))
        }
        ConversationEvent::Ended { reason, .. } => {
            format!("conversation ended ({})", reason.as_deref().unwrap_or("-"))
        }
        ConversationEvent::Other { kind, .. } => format!("other event: {kind}"),
        _ => "event".into(),
    }
}

async fn serve(app: Router) -> Result<String, String> {
    let listener = cc_core::serve::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()).await;
    });
    Ok(format!("http://{addr}"))
}

/// Runs the demo of `vendor` (or all).
pub async fn run(vendor: &str) -> Result<(), Failure> {
    let selected: Vec<&str> = match vendor {
        "all" => VENDORS.to_vec(),
        v if VENDORS.contains(&v) => vec![v],
        other => {
            return Err(Failure::usage(format!(
                "unknown vendor `{other}`; one of {} or all",
                VENDORS.join(", ")
            )));
        }
    };
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for v in selected {
        println!("▶ {v}");
        let started = Instant::now();
        let result = match v {
            "ece" => ece().await,
            "alvaria" => alvaria().await,
            "icc-website" => icc_website().await,
            "icc-simprot" => icc_simprot().await,
            "lp" => lp().await,
            "wxcc" => wxcc().await,
            "wxcc-legacy" => wxcc_legacy().await,
            _ => unreachable!("selected from VENDORS"),
        };
        let took = started.elapsed().as_millis();
        match result {
            Ok(()) => summary.push(format!("{v}: ok in {took} ms")),
            Err(e) => {
                summary.push(format!("{v}: FAILED after {took} ms: {e}"));
                failures.push(v);
            }
        }
    }
    println!("\nsummary");
    for s in &summary {
        println!("  {s}");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::failed(format!("demo failed for {}", failures.join(", "))))
    }
}

async fn ece() -> Step {
    use ece_messaging::channel::conversation_event;
    use ece_messaging::model::MessageType;
    use ece_messaging::sim::{EceSim, SimConfig};
    use ece_messaging::start::{CustomerLookup, StartConversation};
    use ece_messaging::webhook::WebhookAuth;
    use ece_messaging::{EceClient, EceConfig, EceWebhook};

    let v = "ece";
    let sim = EceSim::start(SimConfig::new("ABCD", Secret::from("01234"), "hook", Secret::from("hook-pass")))
        .await
        .map_err(|e| e.to_string())?;
    let (tx, mut rx) = mpsc::channel(100);
    let hook = EceWebhook::new(WebhookAuth::basic("hook", Secret::from("hook-pass")));
    let url = serve(Router::new().route("/webhook", hook.into_route(tx))).await?;
    sim.set_callback_url(format!("{url}/webhook"));
    line(v, format!("simulator at {}, webhook at {url}/webhook (Basic)", sim.base_url()));

    let client = EceClient::new(EceConfig::new(sim.base_url(), "ABCD", Secret::from("01234")))
        .map_err(|e| e.to_string())?;
    let start = StartConversation::new("1001", CustomerLookup::Email("charlie@example.com".into()))
        .names("Charlie", "Cheeze")
        .subject("Bananas")
        .typing_notifications(true);
    let started = client.start(&start).await.map_err(|e| e.to_string())?;
    line(
        v,
        format!("✓ logged in, started conversation {} (activity {})", started.conversation, started.activity),
    );
    let mut replied = false;
    loop {
        let batch = tokio::time::timeout(WAIT, rx.recv())
            .await
            .map_err(|_| "no callback in time")?
            .ok_or("webhook closed")?;
        for message in &batch.message {
            line(v, format!("← {}", event_line(&conversation_event(message))));
            match message.kind.value {
                MessageType::TextHtml if !replied => {
                    replied = true;
                    client.start_typing(&started.conversation).await.map_err(|e| e.to_string())?;
                    client
                        .send_text(&started.conversation, "Hi! I want to discuss bananas.")
                        .await
                        .map_err(|e| e.to_string())?;
                    line(v, "→ me: Hi! I want to discuss bananas.");
                }
                MessageType::TextHtml => {
                    client.end(&started.conversation).await.map_err(|e| e.to_string())?;
                    line(v, "→ ended the conversation");
                }
                MessageType::Complete => return Ok(()),
                _ => {}
            }
        }
    }
}

async fn alvaria() -> Step {
    use alvaria_servermsg::channel::conversation_event;
    use alvaria_servermsg::client::TokenHost;
    use alvaria_servermsg::model::{Callback, Message, NewSession, WorkTypeId};
    use alvaria_servermsg::sim::{AlvariaSim, PUBLIC_KEY_PEM, SimConfig};
    use alvaria_servermsg::{AlvariaClient, AlvariaConfig, AlvariaWebhook};

    let v = "alvaria";
    let sim =
        AlvariaSim::start(SimConfig::new("acme", Secret::from("key"), "client", Secret::from("secret")))
            .await
            .map_err(|e| e.to_string())?;
    let config = AlvariaConfig::new(
        "acme",
        Secret::from("key"),
        "client",
        Secret::from("secret"),
        TokenHost::Url(sim.token_url()),
    )
    .api_base(sim.base_url());
    let client = AlvariaClient::new(config).map_err(|e| e.to_string())?;
    let (tx, mut rx) = mpsc::channel(100);
    let verifier = AlvariaWebhook::from_public_keys([PUBLIC_KEY_PEM]).map_err(|e| e.to_string())?;
    let url = serve(Router::new().route("/callbacks", client.callback_route(verifier, tx))).await?;
    sim.set_callback_url(format!("{url}/callbacks"));
    line(v, format!("simulator at {}, callbacks at {url}/callbacks (RS256 JWT)", sim.base_url()));

    let session = client
        .create_session(&NewSession {
            work_type_id: WorkTypeId::new("32"),
            contact_name: "Ada".into(),
            integration: Some("demo".into()),
        })
        .await
        .map_err(|e| e.to_string())?;
    line(v, format!("✓ token fetched, session {} created (provisional)", session.id()));
    session.wait_confirmed(WAIT).await.map_err(|e| e.to_string())?;
    line(v, "✓ session confirmed by NEW_SESSION");
    let mut sent = false;
    loop {
        let callback = tokio::time::timeout(WAIT, rx.recv())
            .await
            .map_err(|_| "no callback in time")?
            .ok_or("receiver closed")?;
        line(v, format!("← {}", event_line(&conversation_event(&callback))));
        match &callback {
            Callback::Message { .. } if !sent => {
                sent = true;
                client
                    .send_message(&session, &Message::text("My order is late"))
                    .await
                    .map_err(|e| e.to_string())?;
                line(v, "→ me: My order is late");
            }
            Callback::Message { .. } => {
                client.delete_session(&session).await.map_err(|e| e.to_string())?;
                line(v, "→ deleted the session");
            }
            Callback::SessionEnd { .. } => return Ok(()),
            _ => {}
        }
    }
}

async fn icc_website() -> Step {
    use cc_core::ConversationId;
    use icc_website_rest::channel::conversation_event;
    use icc_website_rest::client::{WebSiteClient, WebSiteConfig};
    use icc_website_rest::model::WebApp;
    use icc_website_rest::poller::{ChatPoller, PollerConfig};
    use icc_website_rest::sim::{SimConfig, WebSiteSim};

    let v = "icc-website";
    let sim = WebSiteSim::start(SimConfig::default()).await.map_err(|e| e.to_string())?;
    let client = WebSiteClient::new(WebSiteConfig::new(sim.base_url())).map_err(|e| e.to_string())?;
    line(v, format!("simulator at {}", sim.base_url()));
    let visitor = client.visitor();
    let routing = visitor
        .routing(&WebApp::WebChat, None, true)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("webchat not configured")?;
    line(
        v,
        format!(
            "✓ Routing: signal {:?}, tracking id {}",
            routing.signal,
            visitor.tracking_id().unwrap_or_default()
        ),
    );
    let chat = routing.chat_running.map(|c| c.chat_id).ok_or("no chat running")?;
    let config = PollerConfig {
        fast: Duration::from_millis(15),
        slow: Duration::from_millis(25),
        max_backoff: Duration::from_millis(200),
    };
    let (tx, mut rx) = mpsc::channel(100);
    let poller = tokio::spawn(ChatPoller::new(visitor.clone(), WebApp::WebChat, config).run(tx, 5));
    let conversation = ConversationId::new(chat.as_str());
    while let Some(event) =
        tokio::time::timeout(WAIT, rx.recv()).await.map_err(|_| "no chat event in time")?
    {
        line(v, format!("← {}", event_line(&conversation_event(&conversation, &event))));
    }
    poller.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    let agent = "5f0c6a2e-8d1b-4c3a-9e7f-1a2b3c4d5e6f".into();
    let image = visitor.agent_image(&agent, Some(48), Some(48)).await.map_err(|e| e.to_string())?;
    line(
        v,
        format!("✓ agent image: {} bytes of {}", image.bytes.len(), image.content_type.unwrap_or_default()),
    );
    Ok(())
}

async fn icc_simprot() -> Step {
    use icc_simprot::catalogue::{Message, MessageName as N, Payload};
    use icc_simprot::connection::Connection;
    use icc_simprot::model::{ChatSentenceInfo, ChatServiceInfo};
    use icc_simprot::sim::{SimConfig, SimProtSim};

    let v = "icc-simprot";
    let sim = SimProtSim::start(SimConfig::default()).await.map_err(|e| e.to_string())?;
    line(v, format!("simulator at {} (framing: length prefix + MessagePack, an assumption)", sim.addr()));
    let mut c = Connection::connect(sim.addr()).await.map_err(|e| e.to_string())?;
    let service = ChatServiceInfo {
        peer: Some("demo-gateway".into()),
        tracking_id: Some("demo-1".into()),
        party_name: Some("Jana".into()),
        ..Default::default()
    };
    let sentence = ChatSentenceInfo {
        peer: service.peer.clone(),
        tracking_id: service.tracking_id.clone(),
        id: Some("demo-m1".into()),
        party_name: Some("Jana".into()),
        text: Some("Where is my order?".into()),
        ..Default::default()
    };
    let outgoing = [
        (N::EsChatRequest, Payload::ChatServiceInfo(Box::new(service.clone())), 1),
        (N::EsChatStart, Payload::ChatServiceInfo(Box::new(service)), 2),
        (N::EsChatSentence, Payload::ChatSentenceInfo(Box::new(sentence)), 3),
    ];
    for (name, payload, replies) in outgoing {
        line(v, format!("→ {name}"));
        c.send(&Message { name, payload }).await.map_err(|e| e.to_string())?;
        for _ in 0..replies {
            let m = tokio::time::timeout(WAIT, c.recv())
                .await
                .map_err(|_| "no reply in time")?
                .map_err(|e| e.to_string())?
                .ok_or("the simulator closed the connection")?;
            let detail = match &m.payload {
                Payload::ChatServiceInfo(s) => {
                    format!("signal {}", s.signal.as_ref().map_or("-", |s| s.as_str()))
                }
                Payload::ChatStatusInfo(s) => {
                    format!("status {}", s.status.as_ref().map_or("-", |s| s.as_str()))
                }
                Payload::ChatSentenceInfo(s) => {
                    format!("#{} {}", s.counter, s.text.as_deref().unwrap_or_default())
                }
                _ => String::new(),
            };
            line(v, format!("← {} {detail}", m.name));
        }
    }
    Ok(())
}

/// The LivePerson demo: a connector's whole loop, then the receiver's ordering.
async fn lp() -> Step {
    lp_connector_loop().await?;
    lp_ordering().await
}

/// Receives LivePerson notifications, ordered, as the connector's own events.
struct LpInbound {
    notifications: mpsc::Receiver<lp_notifications::model::Notification>,
    sequencer: lp_notifications::sequencer::Sequencer,
    pending: std::collections::VecDeque<ConversationEvent>,
}

impl LpInbound {
    /// Prints the channel's events until one matches `want`; returns it.
    async fn until(
        &mut self,
        channel: &lp_connector::channel::LpChannel,
        want: impl Fn(&ConversationEvent) -> bool,
    ) -> Result<ConversationEvent, String> {
        loop {
            while let Some(event) = self.pending.pop_front() {
                line("lp", format!("← {}", event_line(&event)));
                if want(&event) {
                    return Ok(event);
                }
            }
            let notification = tokio::time::timeout(WAIT, self.notifications.recv())
                .await
                .map_err(|_| "no notification from the simulator")?
                .ok_or("receiver closed")?;
            for delivery in self.sequencer.push_notification(notification) {
                let events = lp_notifications::channel::delivery_events(&delivery);
                self.pending.extend(channel.own_events(events));
            }
        }
    }
}

async fn lp_connector_loop() -> Step {
    use cc_core::MessagingChannel as _;
    use cc_core::conversation::{Role, StartConversation};
    use lp_connector::channel::{EXT_CONSUMER_ID, LpChannel};
    use lp_connector::model::FileUpload;
    use lp_connector::sim::{AGENT_PNG, LpSim, SimConfig};
    use lp_connector::{LpClient, LpConfig};
    use lp_notifications::webhook::LpWebhook;

    let v = "lp";
    let (account, client_id, secret) =
        ("42257269", "81fad476-88af-4d08-bc0e-20bc69439ed4", "rl9hacst6kqilbofup64n11ga3");
    let sim = LpSim::start(SimConfig::new(account, client_id, Secret::from(secret)))
        .await
        .map_err(|e| e.to_string())?;
    let (tx, notifications) = mpsc::channel(100);
    let url = serve(
        Router::new().route("/lp", LpWebhook::new(account, client_id, Secret::from(secret)).into_route(tx)),
    )
    .await?;
    sim.set_webhook_url(format!("{url}/lp"));
    line(v, format!("LivePerson simulator at {} (CSDS, Sentinel, IdP, Send API, Swift)", sim.base_url()));
    line(v, format!("webhook receiver at {url}/lp (x-liveperson-signature checked)"));
    let mut config = LpConfig::new(account, client_id, Secret::from(secret));
    config.csds_url = sim.base_url();
    let channel = LpChannel::new(LpClient::new(config).map_err(|e| e.to_string())?);
    let mut inbound = LpInbound {
        notifications,
        sequencer: lp_notifications::sequencer::Sequencer::default(),
        pending: Default::default(),
    };
    let agent_says = |e: &ConversationEvent| matches!(e, ConversationEvent::Message { message, .. } if message.sender.role == Role::Agent);

    let started = channel
        .start(StartConversation::new().customer_name("Ada Lovelace").attribute(EXT_CONSUMER_ID, "ada-1"))
        .await
        .map_err(|e| e.to_string())?;
    let conversation = started.id;
    line(
        v,
        format!(
            "→ opened conversation {conversation} as consumer ada-1 (domains discovered, AppJWT, ConsumerJWS)"
        ),
    );
    inbound.until(&channel, agent_says).await?;
    let id = channel.send_text(&conversation, "My parcel is late.").await.map_err(|e| e.to_string())?;
    line(
        v,
        format!("→ sent \"My parcel is late.\" (message {})", id.map(|m| m.to_string()).unwrap_or_default()),
    );
    inbound.until(&channel, agent_says).await?;
    let consumer = channel.consumer_of(&conversation).ok_or("the channel forgot its consumer")?;
    let mut png = AGENT_PNG.to_vec();
    png.extend_from_slice(b"ada");
    let uploaded = consumer
        .upload(&conversation, &FileUpload::image(png).map_err(|e| e.to_string())?.caption("receipt.png"))
        .await
        .map_err(|e| e.to_string())?;
    line(v, format!("→ uploaded receipt.png to {} and published it", uploaded.relative_path));
    let file = inbound
        .until(
            &channel,
            |e| matches!(e, ConversationEvent::Message { message, .. } if !message.attachments.is_empty()),
        )
        .await?;
    let ConversationEvent::Message { message, .. } = file else { return Err("expected a file".into()) };
    let bytes = consumer.download(&message.attachments[0].url).await.map_err(|e| e.to_string())?;
    line(v, format!("✓ downloaded the agent's file: {} bytes", bytes.len()));
    channel.end(&conversation).await.map_err(|e| e.to_string())?;
    inbound.until(&channel, ConversationEvent::is_end).await?;
    let stats = sim.stats();
    line(
        v,
        format!(
            "✓ {} signed notifications delivered; {} AppJWT, {} ConsumerJWS; the consumer's own echoes dropped",
            stats.notifications.0, stats.app_jwts, stats.consumer_jwss
        ),
    );
    if stats.notifications.1 != 0 {
        return Err(format!("{} notifications were not delivered", stats.notifications.1));
    }
    Ok(())
}

/// The receiver's part alone: notifications out of order and duplicated, put right.
async fn lp_ordering() -> Step {
    use lp_notifications::channel::delivery_events;
    use lp_notifications::sequencer::Sequencer;
    use lp_notifications::sim::{LpSim, RetryMode, SimConfig};
    use lp_notifications::webhook::LpWebhook;
    use serde_json::json;

    let v = "lp";
    let (account, client_id, secret) =
        ("42257269", "81fad476-88af-4d08-bc0e-20bc69439ed4", "rl9hacst6kqilbofup64n11ga3");
    let (tx, mut rx) = mpsc::channel(100);
    let url = serve(
        Router::new().route("/lp", LpWebhook::new(account, client_id, Secret::from(secret)).into_route(tx)),
    )
    .await?;
    line(v, format!("receiver at {url}/lp (x-liveperson-signature, account and client id checked)"));
    let mut config = SimConfig::new(account, client_id, Secret::from(secret));
    config.retry = RetryMode::Count(2);
    config.first_delay = Duration::from_millis(20);
    let sender = LpSim::new(config).map_err(|e| e.to_string())?;

    let conv = "b3aea67d-01ca-4bf7-af4f-9897cf6b77a7";
    let snapshot = |updated: i64, agent: bool, stage: &str| {
        let mut participants = vec![json!({"id": "consumer-1", "role": "CONSUMER"})];
        if agent {
            participants.push(json!({"id": "agent-7", "role": "ASSIGNED_AGENT"}));
        }
        json!({"kind": "notification", "type": "cqm.ExConversationChangeNotification", "body": {"changes": [{"type": "UPSERT", "result": {
            "convId": conv, "conversationDetails": {"participants": participants, "state": stage, "stage": stage,
            "closeReason": if stage == "CLOSE" { "CONSUMER" } else { "" }, "startTs": 1_700_000_000_000i64, "metaDataLastUpdateTs": updated}}}]}})
    };
    let content = |seq: u64, who: &str, role: &str, text: &str| {
        json!({"kind": "notification", "type": "ms.MessagingEventNotification", "body": {"changes": [{
            "sequence": seq, "originatorId": who, "originatorMetadata": {"id": who, "role": role},
            "serverTimestamp": 1_700_000_000_000i64 + seq as i64, "conversationId": conv, "dialogId": conv,
            "event": {"type": "ContentEvent", "contentType": "text/plain", "message": text}}]}})
    };
    // Sent out of order and with a duplicate: the sequencer puts it right.
    let notifications = [
        snapshot(1, false, "OPEN"),
        content(0, "consumer-1", "CONSUMER", "Hello, is anyone there?"),
        snapshot(2, true, "OPEN"),
        content(2, "consumer-1", "CONSUMER", "My parcel is late."),
        content(1, "agent-7", "ASSIGNED_AGENT", "Hi, this is Sam. How can I help?"),
        content(1, "agent-7", "ASSIGNED_AGENT", "Hi, this is Sam. How can I help?"),
        snapshot(3, true, "CLOSE"),
    ];
    for n in &notifications {
        let body = serde_json::to_vec(n).map_err(|e| e.to_string())?;
        let report = sender.send(&format!("{url}/lp"), &body).await;
        if !report.delivered {
            return Err(format!("notification not delivered: {:?}", report.attempts));
        }
    }
    line(
        v,
        format!("✓ {} signed notifications delivered (one out of order, one duplicate)", notifications.len()),
    );
    let mut sequencer = Sequencer::default();
    for _ in 0..notifications.len() {
        let notification =
            tokio::time::timeout(WAIT, rx.recv()).await.map_err(|_| "no notification")?.ok_or("closed")?;
        for delivery in sequencer.push_notification(notification) {
            for event in delivery_events(&delivery) {
                line(v, format!("← {}", event_line(&event)));
            }
        }
    }
    let stats = sequencer.stats();
    line(
        v,
        format!("✓ sequencer: {} duplicate dropped, {} gaps skipped", stats.duplicates, stats.gaps_skipped),
    );
    if stats.duplicates != 1 {
        return Err(format!("expected one duplicate dropped, got {}", stats.duplicates));
    }
    Ok(())
}

async fn wxcc() -> Step {
    use cc_core::EpochMillis;
    use cc_core::auth::State;
    use cc_core::http::Executor;
    use wxcc_api::auth::{FileTokenStore, Integration, Region};
    use wxcc_api::model::Site;
    use wxcc_api::query::{Captures, DAY_MS, Interval, StatisticsQuery, TaskQuery};
    use wxcc_api::sim::{SimConfig, WxccSim};
    use wxcc_api::{WxccClient, WxccConfig};

    let v = "wxcc";
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let sim = WxccSim::start(SimConfig::demo()).await.map_err(|e| err(&e))?;
    let config = sim.config();
    line(v, format!("simulator at {} (OAuth at {})", sim.base_url(), sim.oauth_base()));
    let integration =
        Integration::new(&config.client_id, config.client_secret.clone(), "https://demo.example/auth")
            .scopes(["cjp:config_read", "cjp:config_write"])
            .oauth_base(sim.oauth_base());
    let state = State::generate().map_err(|e| err(&e))?;
    let redirect = sim.consent(&integration.authorize_url(&state))?;
    let plain = Executor::builder().build().map_err(|e| err(&e))?;
    let token = integration.complete(&plain, &redirect, &state).await.map_err(|e| err(&e))?;
    line(v, "✓ OAuth: consent, state checked, code exchanged for an access/refresh pair");
    let dir = std::env::temp_dir().join(format!("cckit-demo-wxcc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| err(&e))?;
    let store = std::sync::Arc::new(FileTokenStore::new(dir.join("token.json")));
    let auth = integration.token_cache(plain, token, store).await.map_err(|e| err(&e))?;
    let client =
        WxccClient::new(WxccConfig::new(Region::Custom(sim.base_url())), auth).map_err(|e| err(&e))?;
    line(v, format!("  org id from the token: {}", client.org_id().await.map_err(|e| err(&e))?));

    let from = config.start;
    let page = client
        .tasks(&TaskQuery::new(from, EpochMillis::new(from.as_i64() + DAY_MS)).page_size(100))
        .await
        .map_err(|e| err(&e))?;
    line(v, format!("✓ tasks: a page of {}", page.data.len()));
    let stats = client
        .queue_statistics(&StatisticsQuery::new(
            from,
            EpochMillis::new(from.as_i64() + 4 * 3_600_000),
            Interval::Minutes60,
        ))
        .await
        .map_err(|e| err(&e))?;
    line(v, format!("✓ queue statistics: {} rows (4 hourly intervals × queues)", stats.len()));
    let recorded: Vec<_> = page
        .data
        .iter()
        .filter(|t| t.attributes.capture_requested == Some(true))
        .map(|t| t.id.clone())
        .take(3)
        .collect();
    let captures = client.captures(&Captures::of(recorded).url_expiration(5)).await.map_err(|e| err(&e))?;
    let url = captures
        .data
        .iter()
        .flat_map(|c| &c.recording)
        .find_map(|r| r.attributes.file_path.clone())
        .ok_or("no recording in the captures")?;
    let bytes = client.download(&url, &dir.join("recording.wav")).await.map_err(|e| err(&e))?;
    line(v, format!("✓ capture downloaded from its pre-signed URL without Authorization: {bytes} bytes"));
    let mut site = client.create_site(&Site::new("Demo Site", "mm-profile-1")).await.map_err(|e| err(&e))?;
    line(v, format!("✓ site created: {} (version {:?})", site.id.as_deref().unwrap_or("?"), site.version));
    site.name = "Demo Site Renamed".into();
    let site = client.update_site(&site).await.map_err(|e| err(&e))?;
    line(v, format!("✓ site updated: {:?} (version {:?})", site.name, site.version));
    wxcc_events(&sim, &client).await?;
    wxcc_socket(&sim, &client).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A V2 subscription with a secret delivers signed task events to a verified route; the
/// simulator repeats them and sends them newest first; the tracker keeps the latest state.
async fn wxcc_events(sim: &wxcc_api::sim::WxccSim, client: &wxcc_api::WxccClient) -> Step {
    use wxcc_api::api::models::SubscriptionRequestEnhanced;
    use wxcc_api::api::subscriptions::RegisterSubscriptionV2;
    use wxcc_api::model::events::{Event, EventType};
    use wxcc_api::sim::events::Emission;
    use wxcc_api::tracking::EventTracker;
    use wxcc_api::webhook::Secrets;

    let v = "wxcc";
    let secrets = Secrets::new();
    let (queue, mut events) = mpsc::channel::<Event>(256);
    let route = wxcc_api::WxccWebhook::new(secrets.clone()).require_timestamp(true).into_route(queue);
    let base = serve(Router::new().route("/wxcc/events", route)).await?;
    let secret = "demo-subscription-secret-of-32-characters";
    let request = SubscriptionRequestEnhanced {
        name: "cckit demo".into(),
        event_types: vec!["task:new".into()],
        destination_url: format!("{base}/wxcc/events"),
        secret: Some(secret.into()),
        resource_version: "task:1.0.0".into(),
        ..Default::default()
    };
    let created = client.call(&RegisterSubscriptionV2::new(request)).await.map_err(|e| e.to_string())?;
    let subscription = created.data.map(|d| d.id).unwrap_or_default();
    secrets.add(subscription.clone(), Secret::from(secret));
    line(v, format!("✓ subscription {subscription} registered (V2, with a secret)"));
    let how = Emission { duplicates: true, reverse: true, drop_every: 0 };
    let deliveries = sim.emit_for_tasks(&EventType::TaskNew, 5, how).await;
    let mut tracker = EventTracker::new();
    let mut received = 0;
    while received < deliveries.len() {
        match tokio::time::timeout(WAIT, events.recv()).await {
            Ok(Some(event)) => {
                tracker.apply(&event);
                received += 1;
            }
            _ => return Err(format!("{received} of {} events arrived", deliveries.len())),
        }
    }
    line(
        v,
        format!(
            "✓ {} signed deliveries (each sent twice, newest first): {received} verified events, duplicates dropped, {} tasks tracked",
            deliveries.len() * 2,
            tracker.tasks().len()
        ),
    );
    Ok(())
}

/// The notification WebSocket: Welcome, a task message, a dropped connection and the
/// reconnect with a fresh subscribe.
async fn wxcc_socket(sim: &wxcc_api::sim::WxccSim, client: &wxcc_api::WxccClient) -> Step {
    use wxcc_api::model::notification::MessageType;
    use wxcc_api::notification::{Notice, NotificationConfig, Subscribe};

    let v = "wxcc";
    let config = NotificationConfig {
        reconnect_interval: Duration::from_millis(200),
        ..NotificationConfig::default()
    };
    let mut stream = client.notifications(Subscribe::notification().client_type("cckit-demo"), config);
    let mut next = async || match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut stream)).await
    {
        Ok(Some(Ok(notice))) => Ok(notice),
        Ok(Some(Err(e))) => Err(e.to_string()),
        Ok(None) => Err("the notification stream ended".to_owned()),
        Err(_) => Err("nothing on the notification socket".to_owned()),
    };
    let Notice::Connected { agent_id, .. } = next().await? else { return Err("no Welcome first".into()) };
    line(v, format!("✓ notification socket: Welcome for agent {}", agent_id.as_deref().unwrap_or("?")));
    let org = sim.config().org_id.clone();
    sim.notify(&wxcc_api::sim::socket::sample_message(&MessageType::AgentOfferContact, &org, "demo-task-1"));
    let Notice::Message(message) = next().await? else { return Err("no message".into()) };
    line(
        v,
        format!(
            "  {} {} for task {}",
            message.kind,
            message.data_type().map(|t| t.to_string()).unwrap_or_default(),
            message.interaction_id().map(|t| t.to_string()).unwrap_or_default()
        ),
    );
    sim.drop_sockets();
    let Notice::Lost { cause } = next().await? else { return Err("the drop went unnoticed".into()) };
    let Notice::Connected { reconnected: true, .. } = next().await? else {
        return Err("no reconnect".into());
    };
    line(v, format!("✓ connection lost ({cause}) and restored with a fresh subscribe"));
    Ok(())
}

async fn wxcc_legacy() -> Step {
    use cc_core::EpochMillis;
    use wxcc_legacy::client::ChainOptions;
    use wxcc_legacy::model::{Query, RecordType};
    use wxcc_legacy::sim::{LegacySim, SimConfig};
    use wxcc_legacy::{LegacyClient, LegacyConfig};

    let v = "wxcc-legacy";
    let key = Secret::from("myRandomApiKeY");
    let from = "userID@portal-controlhub.com";
    let sim = LegacySim::start(SimConfig::new(key.clone(), from, "387")).await.map_err(|e| e.to_string())?;
    let config = LegacyConfig::new(key, from, "387").base_url(sim.base_url());
    line(v, format!("simulator at {}; Authorization: <HMAC-SHA1 of From>; tenantId=387", sim.base_url()));
    let client = LegacyClient::new(config).map_err(|e| e.to_string())?;
    let query = Query::new("11894", EpochMillis::new(1_612_155_600_000), EpochMillis::new(1_612_328_400_000))
        .timezone("America/New_York");
    let mut rows = client.query_csv(&RecordType::Csrs, &query).await.map_err(|e| e.to_string())?;
    let mut csrs = Vec::new();
    while let Some(row) = rows.next().await {
        csrs.push(row.map_err(|e| e.to_string())?);
    }
    line(v, format!("✓ CSR query (CSV, streamed): {} contact sessions", csrs.len()));
    let csr = csrs.first().ok_or("no CSR")?;
    let (sid, start) = (csr.sid().ok_or("CSR without sid")?, csr.cstts().ok_or("CSR without cstts")?);
    line(
        v,
        format!(
            "  {sid}: agent {}, queue {}, talk {} s",
            csr.string("agentName").unwrap_or("-"),
            csr.string("queueName").unwrap_or("-"),
            csr.long("talkDuration").unwrap_or(0)
        ),
    );
    let chain =
        client.activity_chain(sid, start, &ChainOptions::default()).await.map_err(|e| e.to_string())?;
    let events: Vec<&str> = chain.activities.iter().map(|(id, _)| id.event.as_str()).collect();
    line(v, format!("✓ activity chain: {} ({:?})", events.join(" → "), chain.end));
    Ok(())
}
