//! `cckit listen <vendor>`: a standalone receiver that acknowledges a delivery only once it
//! is committed to the inbox, then hands each one on (stdout, `--forward-to`, `--exec`) and
//! removes it after that succeeded. See docs/deployment.md.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::routing::get;
use cc_core::inbox::{
    Appended, Inbox, InboxConfig, InboxError, InboxStats, LeaseToken, Leased, MemoryInbox, NewDelivery,
    SqliteInbox, StateStore,
};
use cc_core::webhook::server::{ReceiverConfig, durable_receiver};
use cc_core::{ConversationEvent, ConversationId, Secret};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;

use lp_notifications::sequencer::durable::Step;

use crate::Failure;

/// The vendors `listen` serves.
pub const VENDORS: &[&str] = &["ece", "alvaria", "lp", "wxcc"];

/// `cckit listen` settings.
#[derive(clap::Args)]
pub struct Options {
    /// Port to listen on (0: any free one, printed on stderr).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: String,
    /// Path deliveries are POSTed to.
    #[arg(long, default_value = "/")]
    pub path: String,
    /// Where deliveries are kept until handed on: `sqlite:PATH`, `redis://[:PASSWORD@]HOST:PORT[/DB]`
    /// (several replicas on one Redis), or memory (tests).
    #[arg(long, default_value = "sqlite:./cckit-inbox.db")]
    pub store: String,
    /// POST each delivery (its neutral events and the raw body) here; retried with backoff until 2xx.
    #[arg(long)]
    pub forward_to: Option<String>,
    /// Run this shell command per delivery with its JSON on stdin; exit 0 acknowledges.
    #[arg(long)]
    pub exec: Option<String>,
    /// ECE: the Basic user.
    #[arg(long)]
    pub user: Option<String>,
    /// ECE: the Basic password (or CCKIT_PASSWORD).
    #[arg(long)]
    pub password: Option<String>,
    /// Alvaria: the PEM public key the callback JWTs are signed for.
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// LivePerson, Webex CC: the webhook secret (or CCKIT_SECRET).
    #[arg(long)]
    pub secret: Option<String>,
    /// Webex CC: the subscription the secret belongs to.
    #[arg(long, default_value = "cckit-subscription")]
    pub subscription: String,
    /// LivePerson: the account id.
    #[arg(long)]
    pub account_id: Option<String>,
    /// LivePerson: the app's client id.
    #[arg(long)]
    pub client_id: Option<String>,
    /// How long a delivery being handed on is reserved, in seconds.
    #[arg(long, default_value_t = 60)]
    pub lease: u64,
}

/// A secret from its flag or, failing that, the environment.
fn secret(flag: &Option<String>, env: &str, what: &str) -> Result<Secret<String>, Failure> {
    flag.clone()
        .or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
        .map(Secret::new)
        .ok_or_else(|| Failure::usage(format!("{what}: pass it or set {env}")))
}

fn required<'a>(flag: &'a Option<String>, name: &str) -> Result<&'a str, Failure> {
    flag.as_deref().ok_or_else(|| Failure::usage(format!("--{name} is required for this vendor")))
}

fn route(
    vendor: &Decoder,
    o: &Options,
    inbox: Arc<dyn Inbox>,
) -> Result<axum::routing::MethodRouter, Failure> {
    let config = ReceiverConfig::default();
    Ok(match vendor {
        Decoder::Ece => {
            let password = secret(&o.password, "CCKIT_PASSWORD", "--password")?;
            let auth = ece_messaging::webhook::WebhookAuth::basic(required(&o.user, "user")?, password);
            let config = ReceiverConfig { body_limit: ece_messaging::webhook::BODY_LIMIT, ..config };
            durable_receiver(ece_messaging::EceWebhook::new(auth), inbox, "ece", config)
        }
        Decoder::Alvaria => {
            let path = o
                .public_key
                .as_ref()
                .ok_or_else(|| Failure::usage("--public-key PEM is required for alvaria"))?;
            let pem = std::fs::read(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
            let hook = alvaria_servermsg::AlvariaWebhook::from_public_keys([pem])
                .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
            durable_receiver(hook, inbox, "alvaria", config)
        }
        Decoder::Lp(_) => {
            let secret = secret(&o.secret, "CCKIT_SECRET", "--secret")?;
            let hook = lp_notifications::LpWebhook::new(
                required(&o.account_id, "account-id")?,
                required(&o.client_id, "client-id")?,
                secret,
            );
            durable_receiver(hook, inbox, "lp", config)
        }
        Decoder::Wxcc => {
            let secret = secret(&o.secret, "CCKIT_SECRET", "--secret")?;
            let secrets = wxcc_api::webhook::Secrets::new().with(o.subscription.clone(), secret);
            durable_receiver(wxcc_api::WxccWebhook::new(secrets), inbox, "wxcc", config)
        }
    })
}

/// The inbox and, in the same store, the state decoders keep (the LivePerson sequencer's).
type Stores = (Arc<dyn Inbox>, Arc<dyn StateStore>);

fn open_store(store: &str) -> Result<Stores, Failure> {
    if store == "memory" {
        let inbox = Arc::new(MemoryInbox::default());
        return Ok((inbox.clone(), inbox));
    }
    if store.starts_with("redis://") {
        // Connected lazily: a Redis that is down now means 503s until it is back.
        let inbox = Arc::new(
            cc_core::inbox::redis::RedisInbox::open(store, InboxConfig::default())
                .map_err(|e| Failure::usage(format!("--store: {e}")))?,
        );
        return Ok((inbox.clone(), inbox));
    }
    let Some(path) = store.strip_prefix("sqlite:") else {
        return Err(Failure::usage(format!(
            "--store {}: use sqlite:PATH, redis://HOST:PORT (or memory, for tests)",
            redacted(store)
        )));
    };
    let inbox = Arc::new(
        SqliteInbox::open(path, InboxConfig::default()).map_err(|e| Failure::failed(e.to_string()))?,
    );
    Ok((inbox.clone(), inbox))
}

/// A store URL without its credentials (`redis://:secret@host` → `redis://***@host`).
fn redacted(store: &str) -> String {
    match (store.find("://"), store.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &store[..scheme + 3], &store[at..]),
        _ => store.to_owned(),
    }
}

/// What happened, for the status line.
#[derive(Default)]
struct Counters {
    received: AtomicU64,
    stored: AtomicU64,
    duplicates: AtomicU64,
    forwarded: AtomicU64,
    retrying: AtomicU64,
}

/// Counts what the receiver commits.
struct Counted {
    inner: Arc<dyn Inbox>,
    counters: Arc<Counters>,
}

#[async_trait]
impl Inbox for Counted {
    async fn append(&self, delivery: NewDelivery) -> Result<Appended, InboxError> {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        let appended = self.inner.append(delivery).await?;
        let counter = match appended {
            Appended::Stored { .. } => &self.counters.stored,
            Appended::Duplicate => &self.counters.duplicates,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(appended)
    }
    async fn claim(&self, max: usize, lease: Duration) -> Result<Vec<Leased>, InboxError> {
        self.inner.claim(max, lease).await
    }
    async fn ack(&self, token: LeaseToken) -> Result<bool, InboxError> {
        self.inner.ack(token).await
    }
    async fn release(&self, token: LeaseToken, delay: Duration) -> Result<bool, InboxError> {
        self.inner.release(token, delay).await
    }
    async fn stats(&self) -> Result<InboxStats, InboxError> {
        self.inner.stats().await
    }
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(vendor: &str, options: Options) -> Result<(), Failure> {
    if options.forward_to.is_some() && options.exec.is_some() {
        return Err(Failure::usage("--forward-to and --exec exclude each other"));
    }
    let (store, state) = open_store(&options.store)?;
    let decoder = Decoder::new(vendor, state)?;
    let counters = Arc::new(Counters::default());
    let inbox: Arc<dyn Inbox> = Arc::new(Counted { inner: store, counters: Arc::clone(&counters) });
    let path =
        if options.path.starts_with('/') { options.path.clone() } else { format!("/{}", options.path) };
    let health = {
        let inbox = Arc::clone(&inbox);
        get(move || {
            let inbox = Arc::clone(&inbox);
            async move {
                match inbox.stats().await {
                    Ok(s) => (
                        axum::http::StatusCode::OK,
                        axum::Json(json!({"status": "ok", "pending": s.pending, "leased": s.leased})),
                    ),
                    Err(e) => (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(json!({"status": "store unavailable", "error": e.to_string()})),
                    ),
                }
            }
        })
    };
    let app =
        Router::new().route(&path, route(&decoder, &options, Arc::clone(&inbox))?).route("/healthz", health);
    let listener = cc_core::serve::bind((options.bind.as_str(), options.port))
        .await
        .map_err(|e| Failure::failed(format!("binding {}:{}: {e}", options.bind, options.port)))?;
    let addr = listener.local_addr().map_err(|e| Failure::failed(e.to_string()))?;
    eprintln!(
        "cckit listen {vendor}: http://{addr}{path} (store {}), health at /healthz",
        redacted(&options.store)
    );

    let stop = Arc::new(AtomicBool::new(false));
    let output = Output::new(&options)?;
    let consumer = tokio::spawn(consume(
        decoder,
        Arc::clone(&inbox),
        output,
        Duration::from_secs(options.lease.max(1)),
        Arc::clone(&counters),
        Arc::clone(&stop),
    ));
    let status = tokio::spawn(status_line(Arc::clone(&inbox), Arc::clone(&counters)));
    cc_core::serve::serve_with_shutdown(listener, app, cc_core::serve::ServerLimits::default(), shutdown())
        .await;
    // In-flight requests have finished (their commits included): stop handing out.
    stop.store(true, Ordering::Relaxed);
    let _ = consumer.await;
    status.abort();
    eprintln!("\ncckit listen: stopped; undelivered deliveries stay in the store");
    Ok(())
}

async fn shutdown() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn status_line(inbox: Arc<dyn Inbox>, c: Arc<Counters>) {
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal { Duration::from_secs(1) } else { Duration::from_secs(10) };
    loop {
        tokio::time::sleep(every).await;
        let stats = inbox.stats().await.unwrap_or_default();
        let line = format!(
            "received {} stored {} duplicates {} forwarded {} pending {} retrying {}",
            c.received.load(Ordering::Relaxed),
            c.stored.load(Ordering::Relaxed),
            c.duplicates.load(Ordering::Relaxed),
            c.forwarded.load(Ordering::Relaxed),
            stats.pending,
            c.retrying.load(Ordering::Relaxed),
        );
        if terminal {
            eprint!("\r\x1b[2K{line}");
        } else {
            eprintln!("{line}");
        }
    }
}

/// Where deliveries go.
enum Output {
    Stdout,
    Forward(reqwest::Client, String),
    Exec(String),
}

impl Output {
    fn new(o: &Options) -> Result<Self, Failure> {
        Ok(match (&o.forward_to, &o.exec) {
            (Some(url), _) => {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .map_err(|e| Failure::failed(e.to_string()))?;
                Self::Forward(http, url.clone())
            }
            (None, Some(cmd)) => Self::Exec(cmd.clone()),
            (None, None) => Self::Stdout,
        })
    }

    /// Hands one delivery on; `Err` says why it must be retried.
    async fn send(&self, record: &Value, events: &[ConversationEvent], id: &str) -> Result<(), String> {
        match self {
            Self::Stdout => {
                let mut out = String::new();
                for event in events {
                    let line = json!({"delivery": id, "vendor": record["vendor"], "event": event});
                    out.push_str(&line.to_string());
                    out.push('\n');
                }
                let mut stdout = tokio::io::stdout();
                stdout.write_all(out.as_bytes()).await.map_err(|e| e.to_string())?;
                stdout.flush().await.map_err(|e| e.to_string())
            }
            Self::Forward(http, url) => {
                let response = http
                    .post(url)
                    .header("Idempotency-Key", id)
                    .header("content-type", "application/json")
                    .body(record.to_string())
                    .send()
                    .await
                    .map_err(|e| format!("forwarding: {e}"))?;
                match response.status() {
                    s if s.is_success() => Ok(()),
                    s => Err(format!("forwarding: {url} answered {s}")),
                }
            }
            Self::Exec(cmd) => {
                let mut child = tokio::process::Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .stdin(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("--exec: {e}"))?;
                if let Some(mut stdin) = child.stdin.take() {
                    stdin
                        .write_all(record.to_string().as_bytes())
                        .await
                        .map_err(|e| format!("--exec stdin: {e}"))?;
                }
                let status = child.wait().await.map_err(|e| format!("--exec: {e}"))?;
                if status.success() { Ok(()) } else { Err(format!("--exec exited with {status}")) }
            }
        }
    }
}

/// The backoff before handing a failed delivery out again: 200 ms doubling, at most 30 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << attempt.saturating_sub(1).min(8)))
        .min(Duration::from_secs(30))
}

async fn consume(
    decoder: Decoder,
    inbox: Arc<dyn Inbox>,
    output: Output,
    lease: Duration,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
) {
    let (output, decoder) = (Arc::new(output), Arc::new(decoder));
    while !stop.load(Ordering::Relaxed) {
        let batch = match inbox.claim(32, lease).await {
            Ok(batch) => batch,
            Err(e) => {
                eprintln!("cckit listen: claiming from the store failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        // One delivery per conversation at most: the batch runs concurrently.
        let work = batch.into_iter().map(|leased| {
            let (inbox, output, counters, decoder) =
                (Arc::clone(&inbox), Arc::clone(&output), Arc::clone(&counters), Arc::clone(&decoder));
            async move {
                let id = leased.id();
                let result = match decoder.events(&leased).await {
                    // Nothing left (all of it was handed on before a crash, or a stale
                    // snapshot): acknowledged without handing on.
                    Ok((events, step)) if events.is_empty() => decoder.commit(step).await.map(|()| false),
                    Ok((events, step)) => match output.send(&record(&leased, &events), &events, &id).await {
                        // The sequencer's state moves on only after the hand-on, before the ack.
                        Ok(()) => decoder.commit(step).await.map(|()| true),
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(format!("stored delivery {id}: {e}")),
                };
                match result {
                    Ok(handed_on) => {
                        if handed_on {
                            counters.forwarded.fetch_add(1, Ordering::Relaxed);
                        }
                        if let Err(e) = inbox.ack(leased.token).await {
                            eprintln!("cckit listen: ack of {id} failed (it will be handed on again): {e}");
                        }
                    }
                    Err(e) => {
                        counters.retrying.fetch_add(1, Ordering::Relaxed);
                        let delay = backoff(leased.token.attempt);
                        eprintln!("cckit listen: {id}: {e}; again in {} ms", delay.as_millis());
                        let _ = inbox.release(leased.token, delay).await;
                    }
                }
            }
        });
        futures_util::future::join_all(work).await;
    }
}

/// What `--forward-to` POSTs and `--exec` reads: the neutral events and the raw delivery.
fn record(leased: &Leased, events: &[ConversationEvent]) -> Value {
    let raw = match serde_json::from_slice::<Value>(&leased.body) {
        Ok(json) => json,
        Err(_) => Value::String(String::from_utf8_lossy(&leased.body).into_owned()),
    };
    json!({
        "delivery": leased.id(),
        "vendor": leased.vendor,
        "conversation": leased.conversation,
        "received_at": leased.received_at,
        "events": events,
        "raw": raw,
        "content_type": leased.content_type,
    })
}

/// Turns stored deliveries back into neutral events; for LivePerson through the durable
/// sequencer, whose state lives in the same store as the inbox.
enum Decoder {
    Ece,
    Alvaria,
    Lp(lp_notifications::sequencer::durable::DurableSequencer),
    Wxcc,
}

impl Decoder {
    fn new(vendor: &str, state: Arc<dyn StateStore>) -> Result<Self, Failure> {
        use lp_notifications::sequencer::{SequencerConfig, durable::DurableSequencer};
        Ok(match vendor {
            "ece" => Self::Ece,
            "alvaria" => Self::Alvaria,
            "lp" => Self::Lp(DurableSequencer::new(state, SequencerConfig::default())),
            "wxcc" => Self::Wxcc,
            other => {
                return Err(Failure::usage(format!(
                    "cckit listen serves {}; not `{other}`",
                    VENDORS.join(", ")
                )));
            }
        })
    }

    /// The neutral events of a stored delivery (only its parts that were new when it
    /// arrived) and the sequencer state to commit once they were handed on.
    async fn events(&self, d: &Leased) -> Result<(Vec<ConversationEvent>, Option<Step>), String> {
        let fresh = |key: &str| d.keys.iter().any(|k| k == key);
        let unreadable = |e: &dyn std::fmt::Display| format!("does not decode: {e}");
        let events = match self {
            Self::Ece => {
                let mut batch = ece_messaging::webhook::parse_callback(d.content_type.as_deref(), &d.body)
                    .map_err(|e| unreadable(&e))?;
                let mut seen = std::collections::HashSet::new();
                batch.message.retain(|m| {
                    let id = m.id.as_str().trim();
                    id.is_empty() || (fresh(id) && seen.insert(id.to_owned()))
                });
                batch.message.iter().map(ece_messaging::channel::conversation_event).collect()
            }
            Self::Alvaria => {
                let callback =
                    alvaria_servermsg::model::Callback::parse(&d.body).map_err(|e| unreadable(&e))?;
                vec![alvaria_servermsg::channel::conversation_event(&callback)]
            }
            Self::Lp(sequencer) => {
                use lp_notifications::model::Change;
                let mut n =
                    lp_notifications::model::parse_notification(&d.body).map_err(|e| unreadable(&e))?;
                n.changes.retain(|c| match c {
                    Change::Messaging(m) => {
                        m.sequence.is_none_or(|s| fresh(&format!("{}:{s}", m.dialog_id.as_str())))
                    }
                    _ => true,
                });
                let step = sequencer.push(n).await.map_err(|e| format!("sequencer state: {e}"))?;
                let events = step.deliveries.iter().flat_map(lp_notifications::channel::delivery_events);
                return Ok((events.collect(), Some(step)));
            }
            Self::Wxcc => {
                let event = wxcc_api::model::events::parse_event(&d.body).map_err(|e| unreadable(&e))?;
                vec![ConversationEvent::Other {
                    conversation: event.data.task_id().map(|t| ConversationId::new(t.as_str())),
                    kind: format!("wxcc:{}", event.event_type),
                    raw: serde_json::to_value(&event).map_err(|e| e.to_string())?,
                }]
            }
        };
        Ok((events, None))
    }

    /// Moves the sequencer's state on; an error hands the delivery on again.
    async fn commit(&self, step: Option<Step>) -> Result<(), String> {
        match (self, step) {
            (Self::Lp(sequencer), Some(step)) => {
                sequencer.commit(step).await.map_err(|e| format!("saving sequencer state: {e}"))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn store_urls_lose_their_credentials_before_they_are_printed() {
        assert_eq!(super::redacted("redis://:hunter2@10.0.0.5:6379/2"), "redis://***@10.0.0.5:6379/2");
        assert_eq!(super::redacted("redis://user:hunter2@host"), "redis://***@host");
        assert_eq!(super::redacted("redis://host:6379"), "redis://host:6379");
        assert_eq!(super::redacted("sqlite:./in@box.db"), "sqlite:./in@box.db");
    }
}
