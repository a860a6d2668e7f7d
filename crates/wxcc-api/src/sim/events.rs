//! Webhook deliveries as Webex Contact Center sends them: a sample event of each resource,
//! and the headers of a signed V1 or V2 delivery. `cckit trigger wxcc` and the simulator's
//! sender use these.

use cc_core::Secret;
use cc_core::auth::{HmacAlgorithm, SignatureEncoding, hmac};
use serde_json::{Value, json};

use crate::model::events::EventType;
use crate::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, VERSION_HEADER};

/// A delivery's `source` for `subscription_id`.
pub fn source(subscription_id: &str) -> String {
    format!("/com/cisco/wxcc/{subscription_id}")
}

/// A sample event of `event_type` for `subscription_id` at `now` (epoch ms), its `data`
/// shaped like the vendor's samples for the resource. `id` is fresh.
pub fn sample_event(event_type: &EventType, subscription_id: &str, org_id: &str, now: i64) -> Value {
    let task = "141897a0-6212-49be-be9d-4823ab1e4dc7";
    let data = match event_type.resource() {
        "agent" => {
            let state = match event_type {
                EventType::AgentLogout => "logged-out",
                EventType::AgentLogin => "idle",
                _ => "available",
            };
            json!({"agentId": "a1b2c3d4-0000-4000-8000-000000000001", "teamId": "team-1",
                   "destination": "5551234", "currentState": state, "createdTime": now})
        }
        "capture" => {
            json!({"taskId": task, "filePath": format!("recordings/{task}.wav"), "createdTime": now})
        }
        "task-message" => json!({"taskId": task, "direction": "INBOUND", "messageDirection": "INBOUND",
            "channelType": "workItem", "channel": "ClaimsReview", "origin": "crm-lead-10040",
            "channelParams": {"type": "text", "message": {"aliasId": "m-1", "text": "Hello from cckit", "timestamp": now}},
            "createdTime": now}),
        _ => json!({"taskId": task, "queueId": "queue-1", "channelType": "telephony", "direction": "INBOUND",
            "origin": "+15550001111", "destination": "+15550002222", "createdTime": now}),
    };
    json!({
        "id": format!("{:032x}", fastrand::u128(..)),
        "specversion": "1.0",
        "type": event_type.as_str(),
        "source": source(subscription_id),
        "comciscoorgid": org_id,
        "comciscotimestamp": now.to_string(),
        "datacontenttype": "application/json",
        "data": data,
    })
}

/// The headers of a delivery of `body` signed with `secret`: the signature, and for a V2
/// subscription (`version`, e.g. `agent:1.0.0`) the timestamp (the body's
/// `comciscotimestamp`) and the version.
pub fn signed_headers(
    body: &[u8],
    secret: &Secret<String>,
    version: Option<&str>,
) -> Vec<(&'static str, String)> {
    let signature = hmac(HmacAlgorithm::Sha256, secret.expose_secret().as_bytes(), body);
    let mut headers = vec![(SIGNATURE_HEADER, SignatureEncoding::Hex.encode(&signature))];
    if let Some(version) = version {
        let timestamp = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| {
                v.get("comciscotimestamp").map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned))
            })
            .unwrap_or_default();
        headers.push((TIMESTAMP_HEADER, timestamp));
        headers.push((VERSION_HEADER, version.to_owned()));
    }
    headers
}

/// How [`WxccSim::emit`](super::WxccSim::emit) misbehaves, as the vendor may: deliveries are
/// not guaranteed, not ordered and may repeat.
#[derive(Clone, Copy, Debug, Default)]
pub struct Emission {
    /// Send every delivery twice.
    pub duplicates: bool,
    /// Send them newest first.
    pub reverse: bool,
    /// Drop every n-th delivery (0: none).
    pub drop_every: usize,
}

/// One delivery the simulator made, or dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// The subscription.
    pub subscription_id: String,
    /// The event.
    pub event_id: String,
    /// Its type.
    pub event_type: EventType,
    /// The task the event names.
    pub task_id: Option<String>,
    /// What the receiver answered (`None`: dropped, or no answer).
    pub status: Option<u16>,
    /// Dropped on purpose ([`Emission::drop_every`]).
    pub dropped: bool,
}

/// An event to send: its type, and the task (id, `createdTime`) it is about, if any.
pub(super) type Planned = (EventType, Option<(String, i64)>);

/// Each planned event for every subscription (v1 and v2) that lists its type, POSTed to its
/// `destinationUrl`: signed when it has a secret, V2 headers when it has a
/// `resourceVersion`. The receiver has the vendor's 5 seconds.
pub(super) async fn emit(shared: &super::Shared, events: &[Planned], how: Emission) -> Vec<Delivery> {
    let now = cc_core::EpochMillis::now().as_i64();
    let mut planned = Vec::new();
    for collection in ["/v1/subscriptions", "/v2/subscriptions"] {
        for (id, subscription) in shared.spec.stored(collection) {
            let listed: Vec<&str> = subscription
                .get("eventTypes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let Some(url) = subscription.get("destinationUrl").and_then(Value::as_str) else { continue };
            let inactive = subscription.get("status").and_then(Value::as_str) == Some("inactive");
            if inactive {
                continue;
            }
            let secret =
                subscription.get("secret").and_then(Value::as_str).map(|s| Secret::new(s.to_owned()));
            let version = subscription.get("resourceVersion").and_then(Value::as_str).map(str::to_owned);
            for (i, (kind, task)) in events.iter().enumerate() {
                let wildcard = format!("{}:*", kind.resource());
                if !listed.iter().any(|l| *l == kind.as_str() || *l == wildcard) {
                    continue;
                }
                let mut event = sample_event(kind, &id, &shared.config.org_id, now + i as i64);
                if let Some((task_id, created)) = task {
                    event["data"]["taskId"] = Value::from(task_id.as_str());
                    event["data"]["createdTime"] = Value::from(*created);
                }
                planned.push((
                    id.clone(),
                    url.to_owned(),
                    secret.clone(),
                    version.clone(),
                    kind.clone(),
                    event,
                ));
            }
        }
    }
    if how.reverse {
        planned.reverse();
    }
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build();
    let mut out = Vec::new();
    for (n, (subscription_id, url, secret, version, event_type, event)) in planned.into_iter().enumerate() {
        let event_id = event["id"].as_str().unwrap_or_default().to_owned();
        let task_id = event["data"]["taskId"].as_str().map(str::to_owned);
        let mut delivery =
            Delivery { subscription_id, event_id, event_type, task_id, status: None, dropped: false };
        if how.drop_every > 0 && (n + 1) % how.drop_every == 0 {
            delivery.dropped = true;
            out.push(delivery);
            continue;
        }
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let headers = match &secret {
            Some(secret) => signed_headers(&body, secret, version.as_deref()),
            None => Vec::new(),
        };
        for _ in 0..if how.duplicates { 2 } else { 1 } {
            let Ok(http) = &http else { break };
            let mut request = http.post(&url).header("content-type", "application/json").body(body.clone());
            for (name, value) in &headers {
                request = request.header(*name, value);
            }
            delivery.status = request.send().await.ok().map(|r| r.status().as_u16());
        }
        out.push(delivery);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::{Secrets, WxccHeaders, WxccWebhook};

    #[test]
    fn samples_pass_the_receiver_and_parse_typed() {
        let secret = Secret::from("my-32-plus-character-long-secret-value".to_owned());
        let hook = WxccWebhook::new(Secrets::new().with("sub-1", secret.clone()));
        let now = cc_core::EpochMillis::now().as_i64();
        for kind in [
            EventType::AgentLogin,
            EventType::TaskConnected,
            EventType::CaptureAvailable,
            EventType::TaskMessageAppended,
        ] {
            let body = serde_json::to_vec(&sample_event(&kind, "sub-1", "org-1", now)).unwrap();
            for version in [None, Some("agent:1.0.0")] {
                let headers = signed_headers(&body, &secret, version);
                let get = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
                let wx = WxccHeaders {
                    signature: get(SIGNATURE_HEADER),
                    timestamp: get(TIMESTAMP_HEADER),
                    version: get(VERSION_HEADER),
                };
                let event = hook.verify(&wx, &body).unwrap().parse().unwrap();
                assert_eq!(event.event_type, kind);
                assert!(!matches!(event.data, crate::model::events::EventData::Other(_)), "{kind}");
            }
        }
    }
}
