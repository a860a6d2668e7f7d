//! `cckit decode`: parse a captured payload with the vendor's model.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::Failure;

/// Decode flags.
pub struct Options {
    /// Print ConversationEvents too.
    pub events: bool,
    /// List dropped fields.
    pub roundtrip: bool,
    /// lp secret.
    pub secret: Option<String>,
    /// lp / wxcc signature.
    pub signature: Option<String>,
    /// wxcc: the `X-WebExCC-Timestamp` value.
    pub timestamp: Option<String>,
    /// lp account id.
    pub account_id: Option<String>,
    /// lp client id.
    pub client_id: Option<String>,
}

const KINDS: &[(&str, &[&str])] = &[
    ("ece", &["webhook"]),
    ("alvaria", &["callback"]),
    ("icc-website", &["routing"]),
    ("icc-simprot", &["frames", "message"]),
    ("lp", &["notification"]),
    ("wxcc", &["tasks", "captures", "sites", "search", "token", "event"]),
    ("wxcc-legacy", &["csv", "record"]),
];

/// A WxCC response as its model, in wire names. Sites: an array (v1 list), a `{meta, data}`
/// page (v2), or one site. A token is shown with its secrets redacted.
fn wxcc_value(kind: &str, bytes: &[u8]) -> Result<Value, Failure> {
    use cc_core::de::parse_json;
    use wxcc_api::model::{CaptureList, SearchResponse, Site, SitePage, TaskPage};
    let bad = |e: &dyn std::fmt::Display| Failure::failed(e.to_string());
    match kind {
        "tasks" => to_value(&parse_json::<TaskPage>(bytes).map_err(|e| bad(&e))?),
        "captures" => to_value(&parse_json::<CaptureList>(bytes).map_err(|e| bad(&e))?),
        "search" => to_value(&parse_json::<SearchResponse>(bytes).map_err(|e| bad(&e))?),
        // The shape decides (an array, a v2 page with `data`, or one site), so a page with one bad
        // site reports that site's field path instead of failing as a site itself.
        "sites" => match parse_json::<Value>(bytes).map_err(|e| bad(&e))? {
            Value::Array(_) => to_value(&parse_json::<Vec<Site>>(bytes).map_err(|e| bad(&e))?),
            Value::Object(o) if o.contains_key("data") => {
                to_value(&parse_json::<SitePage>(bytes).map_err(|e| bad(&e))?)
            }
            _ => to_value(&parse_json::<Site>(bytes).map_err(|e| bad(&e))?),
        },
        _ => {
            let token: cc_core::auth::Token = parse_json(bytes).map_err(|e| bad(&e))?;
            let access = token.access_token().expose_secret();
            let mut out = serde_json::json!({"access_token": "[redacted]"});
            if let Some(t) = token.expires_in() {
                out["expires_in"] = t.as_secs().into();
            }
            if token.refresh_token().is_some() {
                out["refresh_token"] = "[redacted]".into();
            }
            if let Some(t) = token.refresh_token_expires_in() {
                out["refresh_token_expires_in"] = t.as_secs().into();
            }
            if let Some(t) = token.token_type() {
                out["token_type"] = t.into();
            }
            if let Some(scope) = token.scope() {
                out["scope"] = scope.into();
            }
            for (k, v) in token.extra() {
                // `id_token` and whatever token-like field a vendor adds are credentials too.
                out[k] = if cc_core::secret::looks_secret(k) { "[redacted]".into() } else { v.clone() };
            }
            if let Some(org) = wxcc_api::auth::org_id_from_token(access) {
                eprintln!("org id (from the access token): {org}");
            }
            Ok(out)
        }
    }
}

/// Prints vendors and kinds; for wxcc also every operation of the spec, as `--kind` takes it.
pub fn list() {
    for (vendor, kinds) in KINDS {
        println!("{vendor}: {}", kinds.join(", "));
    }
    let operations = wxcc_api::api::operations();
    println!("wxcc operations ({}; --kind '<METHOD> <path>' decodes a success body):", operations.len());
    for info in operations {
        println!("  {}", info.key());
    }
}

/// Whether `kind` names a WxCC operation (`GET /v1/tasks`) rather than a payload kind.
fn is_operation(kind: &str) -> bool {
    kind.contains(' ')
}

fn read_input(file: Option<&Path>) -> Result<Vec<u8>, Failure> {
    match file {
        Some(path) if path != Path::new("-") => {
            std::fs::read(path).map_err(|e| Failure::failed(format!("cannot read {}: {e}", path.display())))
        }
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| Failure::failed(format!("cannot read stdin: {e}")))?;
            Ok(bytes)
        }
    }
}

/// Decodes and prints.
pub fn run(
    vendor: Option<&str>,
    kind: Option<&str>,
    file: Option<&Path>,
    options: &Options,
) -> Result<(), Failure> {
    let vendor = vendor.ok_or_else(|| Failure::usage("decode needs a vendor (see `cckit decode --list`)"))?;
    let kinds =
        KINDS.iter().find(|(v, _)| *v == vendor).map(|(_, k)| *k).ok_or_else(|| {
            Failure::usage(format!("unknown vendor `{vendor}` (see `cckit decode --list`)"))
        })?;
    let kind = kind.unwrap_or(kinds[0]);
    if vendor == "wxcc" && is_operation(kind) {
        let bytes = read_input(file)?;
        let decoded = wxcc_api::api::decode(kind, &bytes)
            .ok_or_else(|| {
                Failure::usage(format!("no wxcc operation `{kind}` (see `cckit decode --list`; method and path template, as `GET /v1/tasks`)"))
            })?
            .map_err(|e| Failure::failed(e.to_string()))?;
        println!("{}", serde_json::to_string_pretty(&decoded).unwrap_or_default());
        return Ok(());
    }
    if !kinds.contains(&kind) {
        return Err(Failure::usage(format!("{vendor} has no kind `{kind}`; kinds: {}", kinds.join(", "))));
    }
    let bytes = read_input(file)?;
    let bad = |e: &dyn std::fmt::Display| Failure::failed(e.to_string());
    let (decoded, events): (Value, Vec<cc_core::ConversationEvent>) = match (vendor, kind) {
        ("ece", _) => {
            let batch = ece_messaging::webhook::parse_callback(None, &bytes).map_err(|e| bad(&e))?;
            let events = batch.message.iter().map(ece_messaging::channel::conversation_event).collect();
            (to_value(&batch)?, events)
        }
        ("alvaria", _) => {
            let callback = alvaria_servermsg::model::Callback::parse(&bytes).map_err(|e| bad(&e))?;
            let events = vec![alvaria_servermsg::channel::conversation_event(&callback)];
            (to_value(&callback)?, events)
        }
        ("icc-website", _) => {
            let routing: Option<icc_website_rest::model::RoutingModel> =
                cc_core::de::parse_json(&bytes).map_err(|e| bad(&e))?;
            let events = match routing.as_ref().and_then(|r| r.chat_running.as_ref()) {
                Some(chat) => {
                    let conversation = cc_core::ConversationId::new(chat.chat_id.as_str());
                    icc_website_rest::diff::ChatDiff::new()
                        .apply(chat)
                        .iter()
                        .map(|e| icc_website_rest::channel::conversation_event(&conversation, e))
                        .collect()
                }
                None => Vec::new(),
            };
            (to_value(&routing)?, events)
        }
        ("icc-simprot", "frames") => {
            let messages = simprot_frames(&bytes)?;
            let events = simprot_events(&messages);
            let value = messages.iter().map(simprot_value).collect();
            (Value::Array(value), events)
        }
        ("icc-simprot", _) => {
            /// The JSON form of one message, as `decode` prints it.
            #[derive(serde::Deserialize)]
            struct JsonMessage {
                name: String,
                #[serde(default)]
                payload: Value,
            }
            let input: JsonMessage = cc_core::de::parse_json(&bytes).map_err(|e| bad(&e))?;
            if input.name.trim().is_empty() {
                return Err(Failure::failed("malformed payload at `name`: the message name is empty"));
            }
            let name = icc_simprot::catalogue::MessageName::parse(&input.name);
            let payload =
                icc_simprot::catalogue::Payload::from_json(&name, input.payload).map_err(|e| bad(&e))?;
            let message = icc_simprot::catalogue::Message { name, payload };
            let events = simprot_events(std::slice::from_ref(&message));
            (simprot_value(&message), events)
        }
        ("lp", _) => {
            if let Some(secret) = &options.secret {
                verify_lp(secret, options, &bytes)?;
            }
            let notification = lp_notifications::model::parse_notification(&bytes).map_err(|e| bad(&e))?;
            let mut sequencer = lp_notifications::sequencer::Sequencer::default();
            let value = to_value(&notification)?;
            let events = sequencer
                .push_notification(notification)
                .iter()
                .flat_map(lp_notifications::channel::delivery_events)
                .collect();
            (value, events)
        }
        ("wxcc", "event") => {
            if let Some(secret) = &options.secret {
                verify_wxcc(secret, options, &bytes)?;
            }
            let event = wxcc_api::model::events::parse_event(&bytes).map_err(|e| bad(&e))?;
            (to_value(&event)?, Vec::new())
        }
        ("wxcc", kind) => (wxcc_value(kind, &bytes)?, Vec::new()),
        ("wxcc-legacy", "csv") => {
            let records = wxcc_legacy::csv::CsvDecoder::decode_all(&bytes).map_err(|e| bad(&e))?;
            (to_value(&records)?, Vec::new())
        }
        ("wxcc-legacy", _) => {
            let record: wxcc_legacy::model::Record = cc_core::de::parse_json(&bytes).map_err(|e| bad(&e))?;
            (to_value(&record)?, Vec::new())
        }
        _ => unreachable!("kinds checked above"),
    };
    println!("{}", serde_json::to_string_pretty(&decoded).map_err(|e| bad(&e))?);
    if options.events {
        println!("{}", serde_json::to_string_pretty(&events).map_err(|e| bad(&e))?);
    }
    if options.roundtrip {
        if vendor == "wxcc-legacy" && kind == "csv" {
            println!("roundtrip: CSV keeps every column (lossless)");
        } else if vendor == "icc-simprot" && kind == "frames" {
            let mut again = Vec::new();
            for message in simprot_frames(&bytes)? {
                icc_simprot::framing::Framing::encode(
                    &icc_simprot::framing::LengthPrefixed::default(),
                    &message,
                    &mut again,
                )
                .map_err(|e| bad(&e))?;
            }
            if again == bytes {
                println!("roundtrip: re-encoding gives the same bytes (lossless)");
            } else {
                println!(
                    "roundtrip: re-encoding gives different bytes ({} vs {}): members dropped, reordered or nil-filled",
                    again.len(),
                    bytes.len()
                );
            }
        } else {
            let input: Value = serde_json::from_slice(&bytes).map_err(|e| bad(&e))?;
            let mut dropped = Vec::new();
            missing_paths(&input, &decoded, String::new(), &mut dropped);
            if dropped.is_empty() {
                println!("roundtrip: lossless");
            } else {
                println!("roundtrip: {} field(s) dropped by the model:", dropped.len());
                for path in dropped {
                    println!("  {path}");
                }
            }
        }
    }
    Ok(())
}

fn verify_lp(secret: &str, options: &Options, bytes: &[u8]) -> Result<(), Failure> {
    use lp_notifications::webhook::{LpHeaders, LpWebhook};
    // Without --account-id/--client-id only the signature is checked.
    let account = options.account_id.as_deref().unwrap_or("-");
    let client = options.client_id.as_deref().unwrap_or("-");
    let hook = LpWebhook::new(account, client, cc_core::Secret::new(secret.to_owned())).accept_sha256();
    let headers = LpHeaders {
        account_id: Some(account),
        client_id: Some(client),
        signature: options.signature.as_deref(),
    };
    hook.verify(&headers, bytes).map(|_| ()).map_err(|e| Failure::failed(format!("verification failed: {e}")))
}

/// Checks a captured Webex CC event: the signature under `secret` (for the subscription the
/// body names) and, where the body has `comciscotimestamp`, that `--timestamp` (if given)
/// equals it. A capture is old: its age is not checked.
fn verify_wxcc(secret: &str, options: &Options, bytes: &[u8]) -> Result<(), Failure> {
    use wxcc_api::webhook::{Secrets, WxccHeaders, WxccWebhook};
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| Failure::failed(format!("verification failed: not JSON: {e}")))?;
    let source = body.get("source").and_then(Value::as_str).unwrap_or_default();
    let subscription = wxcc_api::model::events::subscription_of(source);
    let hook = WxccWebhook::new(Secrets::new().with(subscription, cc_core::Secret::new(secret.to_owned())));
    let headers = WxccHeaders {
        signature: options.signature.as_deref(),
        timestamp: options.timestamp.as_deref(),
        version: None,
    };
    // Judged as of the signed time, so only the signature and the equality count.
    let now = options
        .timestamp
        .as_deref()
        .and_then(|t| t.trim().parse().ok())
        .map_or_else(cc_core::EpochMillis::now, cc_core::EpochMillis::new);
    hook.verify_at(&headers, bytes, now)
        .map(|_| ())
        .map_err(|e| Failure::failed(format!("verification failed: {e}")))
}

/// Every frame of a captured SimProt byte stream (the crate's assumed framing).
fn simprot_frames(bytes: &[u8]) -> Result<Vec<icc_simprot::catalogue::Message>, Failure> {
    let mut decoder = icc_simprot::framing::Decoder::default();
    decoder.extend(bytes);
    let mut messages = Vec::new();
    while let Some(message) =
        decoder.next_message().map_err(|e| Failure::failed(format!("frame {}: {e}", messages.len() + 1)))?
    {
        messages.push(message);
    }
    decoder.finish().map_err(|e| Failure::failed(format!("frame {}: {e}", messages.len() + 1)))?;
    Ok(messages)
}

fn simprot_value(message: &icc_simprot::catalogue::Message) -> Value {
    serde_json::json!({ "name": message.name.as_str(), "payload": message.payload })
}

fn simprot_events(messages: &[icc_simprot::catalogue::Message]) -> Vec<cc_core::ConversationEvent> {
    messages
        .iter()
        .flat_map(|m| {
            icc_simprot::channel::conversation_events(&icc_simprot::client::SimProtEvent::Message(m.clone()))
        })
        .collect()
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, Failure> {
    serde_json::to_value(v).map_err(|e| Failure::failed(e.to_string()))
}

/// Paths present in `input` but absent from `output`.
pub fn missing_paths(input: &Value, output: &Value, path: String, out: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match b.get(key) {
                    Some(other) => missing_paths(value, other, child, out),
                    None if value.is_null() => {}
                    None => out.push(child),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, value) in a.iter().enumerate() {
                match b.get(i) {
                    Some(other) => missing_paths(value, other, format!("{path}[{i}]"), out),
                    None => out.push(format!("{path}[{i}]")),
                }
            }
        }
        _ => {}
    }
}
