//! `cckit trigger`: one authenticated sample callback to your endpoint.

use std::path::PathBuf;

use cc_core::Secret;
use cc_core::http::{Body, Executor, Request, RetryPolicy};
use serde_json::{Value, json};

use crate::Failure;

/// Trigger flags.
pub struct Options {
    /// The endpoint.
    pub to: Option<String>,
    /// ece user.
    pub user: Option<String>,
    /// ece password.
    pub password: Option<String>,
    /// alvaria private key file.
    pub private_key: Option<PathBuf>,
    /// lp / wxcc secret.
    pub secret: Option<String>,
    /// wxcc subscription id.
    pub subscription: String,
    /// wxcc: V1 (no timestamp).
    pub v1: bool,
    /// lp account id.
    pub account_id: String,
    /// lp client id.
    pub client_id: String,
}

const CONVERSATION: &str = "02945e5e-d5a5-48c6-96f6-969c1c32d125";

fn ece_body(event: &str) -> Result<Value, Failure> {
    let agent = json!({"name": "eir support1", "screenName": "Banana Man"});
    let (sender, kind, content) = match event {
        "assigned" => (
            json!({"type": "system"}),
            json!({"value": "assigned", "user": agent}),
            Some("You are now chatting with Banana Man"),
        ),
        "message" => (json!({"type": "user", "user": agent}), json!({"value": "text/html"}), Some("Hello")),
        "typing" => (json!({"type": "user", "user": agent}), json!({"value": "startTyping"}), None),
        "complete" => {
            (json!({"type": "system"}), json!({"value": "complete"}), Some("Banana Man has ended the chat"))
        }
        other => {
            return Err(Failure::usage(format!(
                "ece has no sample `{other}`: assigned, message, typing, complete"
            )));
        }
    };
    let mut message = json!({"conversation": {"id": CONVERSATION}, "id": format!("{}", 7_000_000_000u64 + std::process::id() as u64),
        "sender": sender, "timeStamp": cc_core::EpochMillis::now().as_i64(), "type": kind});
    if let Some(content) = content {
        message["content"] = json!(content);
    }
    Ok(json!({"message": [message]}))
}

fn alvaria_body(event: &str) -> Result<Value, Failure> {
    let session = "38D1FBA0-2079-42FB-93C2-0DE301CF8FF5";
    let event_id = format!("CCKIT-{}-{}", std::process::id(), cc_core::EpochMillis::now().as_i64());
    Ok(match event {
        "new-session" => {
            json!({"sessionId": session, "event": "NEW_SESSION", "status": "SUCCESS", "eventId": event_id})
        }
        "agent-joined" => {
            json!({"sessionId": session, "event": "AGENT_JOINED", "agentAlias": "John", "eventId": event_id})
        }
        "message" => {
            json!({"sessionId": session, "senderId": "john", "message": {"text": "Hello there."}, "eventId": event_id})
        }
        "session-end" => {
            json!({"sessionId": session, "event": "SESSION_END", "status": "SUCCESS", "from": "SYSTEM", "eventId": event_id})
        }
        other => {
            return Err(Failure::usage(format!(
                "alvaria has no sample `{other}`: new-session, agent-joined, message, session-end"
            )));
        }
    })
}

fn lp_body(event: &str) -> Result<Value, Failure> {
    let conv = "b3aea67d-01ca-4bf7-af4f-9897cf6b77a7";
    let now = cc_core::EpochMillis::now().as_i64();
    let change = |seq: Option<u64>, role: &str, event: Value| {
        let mut c = json!({"originatorId": "cckit", "originatorMetadata": {"id": "cckit", "role": role},
            "event": event, "conversationId": conv, "dialogId": conv});
        if let Some(seq) = seq {
            c["sequence"] = json!(seq);
            c["serverTimestamp"] = json!(now);
        }
        c
    };
    let ms = |c: Value| json!({"kind": "notification", "body": {"changes": [c]}, "type": "ms.MessagingEventNotification"});
    Ok(match event {
        "content" => ms(change(
            Some(1),
            "ASSIGNED_AGENT",
            json!({"type": "ContentEvent", "contentType": "text/plain", "message": "Hello from cckit"}),
        )),
        "typing" => {
            ms(change(None, "ASSIGNED_AGENT", json!({"type": "ChatStateEvent", "chatState": "COMPOSING"})))
        }
        "accept" => ms(change(
            Some(2),
            "CONSUMER",
            json!({"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [1]}),
        )),
        "closed" => {
            json!({"kind": "notification", "body": {"changes": [{"type": "UPSERT", "result": {"convId": conv,
            "conversationDetails": {"participants": [{"id": "cckit", "role": "CONSUMER"}], "state": "CLOSE", "stage": "CLOSE",
            "closeReason": "CONSUMER", "startTs": now - 60_000, "endTs": now, "metaDataLastUpdateTs": now}}}]},
            "type": "cqm.ExConversationChangeNotification"})
        }
        other => {
            return Err(Failure::usage(format!(
                "lp has no sample `{other}`: content, typing, accept, closed"
            )));
        }
    })
}

/// Sends the sample and prints the status; fails unless the endpoint answered 2xx.
pub async fn run(vendor: Option<&str>, event: Option<&str>, options: &Options) -> Result<(), Failure> {
    let vendor = vendor.ok_or_else(|| Failure::usage("trigger needs a vendor: ece, alvaria, lp or wxcc"))?;
    let event = event.ok_or_else(|| Failure::usage("trigger needs an event (see `cckit trigger --help`)"))?;
    let to = options.to.clone().ok_or_else(|| Failure::usage("trigger needs --to URL"))?;
    let (body, headers): (Value, Vec<(String, Secret<String>)>) = match vendor {
        "ece" => {
            let user =
                options.user.as_deref().ok_or_else(|| Failure::usage("ece needs --user and --password"))?;
            let password =
                options.password.clone().ok_or_else(|| Failure::usage("ece needs --user and --password"))?;
            let authorization = cc_core::auth::basic_authorization(user, &Secret::new(password));
            (ece_body(event)?, vec![("authorization".into(), authorization)])
        }
        "alvaria" => {
            let jwt = match &options.private_key {
                None => alvaria_servermsg::sim::test_callback_jwt("cckit").map_err(Failure::failed)?,
                Some(path) => {
                    let pem = std::fs::read(path)
                        .map_err(|e| Failure::failed(format!("cannot read {}: {e}", path.display())))?;
                    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).map_err(|e| {
                        Failure::failed(format!("{} is not an RSA private key: {e}", path.display()))
                    })?;
                    let now = jsonwebtoken::get_current_timestamp();
                    let claims = json!({"iss": "cckit", "iat": now, "exp": now + 300});
                    jsonwebtoken::encode(
                        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
                        &claims,
                        &key,
                    )
                    .map_err(|e| Failure::failed(e.to_string()))?
                }
            };
            (alvaria_body(event)?, vec![("authorization".into(), Secret::new(format!("Bearer {jwt}")))])
        }
        "lp" => {
            let secret = options.secret.clone().ok_or_else(|| Failure::usage("lp needs --secret"))?;
            let body = lp_body(event)?;
            let bytes = serde_json::to_vec(&body).map_err(|e| Failure::failed(e.to_string()))?;
            let config = lp_notifications::sim::SimConfig::new(
                options.account_id.clone(),
                options.client_id.clone(),
                Secret::new(secret),
            );
            let sender =
                lp_notifications::sim::LpSim::new(config).map_err(|e| Failure::failed(e.to_string()))?;
            let headers =
                sender.headers(&bytes).into_iter().map(|(n, v)| (n.to_string(), Secret::new(v))).collect();
            (body, headers)
        }
        "wxcc" => {
            use wxcc_api::model::events::EventType;
            let secret = options.secret.clone().ok_or_else(|| Failure::usage("wxcc needs --secret"))?;
            let kind = EventType::from_name(event);
            if kind.is_unknown() {
                return Err(Failure::usage(format!(
                    "wxcc has no event type `{event}`: agent:login, agent:logout, agent:state_change, task:new, task:connected, task:ended, task:failed, capture:available, task-message:appended…"
                )));
            }
            let now = cc_core::EpochMillis::now().as_i64();
            let body = wxcc_api::sim::events::sample_event(&kind, &options.subscription, "cckit-org", now);
            let bytes = serde_json::to_vec(&body).map_err(|e| Failure::failed(e.to_string()))?;
            let version = format!("{}:1.0.0", kind.resource());
            let version = (!options.v1).then_some(version.as_str());
            let headers = wxcc_api::sim::events::signed_headers(&bytes, &Secret::new(secret), version)
                .into_iter()
                .map(|(n, v)| (n.to_string(), Secret::new(v)))
                .collect();
            (body, headers)
        }
        other => return Err(Failure::usage(format!("no samples for `{other}`: ece, alvaria, lp or wxcc"))),
    };
    let bytes = serde_json::to_vec(&body).map_err(|e| Failure::failed(e.to_string()))?;
    let mut request = Request::post(to.as_str())
        .without_auth()
        .operation("cckit.trigger")
        .body(Body::Bytes { content_type: "application/json".into(), data: bytes });
    for (name, value) in headers {
        request = request.secret_header(name, value);
    }
    let http = Executor::builder()
        .retry_policy(RetryPolicy::no_retries())
        .build()
        .map_err(|e| Failure::failed(e.to_string()))?;
    match http.send(&request).await {
        Ok(response) => {
            println!("{vendor} {event} → {to}: HTTP {}", response.status());
            Ok(())
        }
        Err(e) => match e.status() {
            Some(status) => Err(Failure::failed(format!("{vendor} {event} → {to}: HTTP {status}"))),
            None => Err(Failure::failed(format!("{vendor} {event} → {to}: {e}"))),
        },
    }
}
