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
