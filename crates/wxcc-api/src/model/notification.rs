//! Messages of the notification and realtime WebSocket: JSON text frames shaped
//! `{type, orgId, trackingId, data}` (confirmed by the vendor's JavaScript SDK, whose every
//! socket message has that shape), and the keepalive frames both sides send.
//!
//! Names and shapes come from the SDK and the desktop samples (sources in
//! `docs/vendors/wxcc.md`, "The notification WebSocket"); nothing here is in the OpenAPI
//! spec. So `type` is an open enum, `data` stays raw JSON with typed accessors for what is
//! confirmed (the Welcome's `agentId`, a task's `interactionId`, a failure's
//! `reasonCode`/`reason`), and members this version does not know are kept in `extra`.

use cc_core::de::JsonError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::TaskId;
use super::events::text;

cc_core::open_enum! {
    /// A message's `type` (and the `data.type` of agent and task messages): the SDK's
    /// `CC_AGENT_EVENTS` and the task names seen in its examples; a new name arrives as
    /// `Unknown`.
    pub enum MessageType {
        /// The first server message of a connection, `data.agentId`.
        Welcome = "Welcome",
        /// An agent message (`data.type` says which: `AgentStateChangeSuccess`…).
        AgentStateChange = "AgentStateChange",
        /// A task message (`data.type` says which: `AgentContact`, `AgentOfferContact`…).
        RoutingMessage = "RoutingMessage",
        /// Another login of the same user and client type took over this socket: the SDK
        /// closes it and does not reconnect.
        AgentMultiLogin = "AGENT_MULTI_LOGIN",
        /// The user has too many connections (seen only in commented sample code; its shape
        /// is unconfirmed).
        AgentMaxConnectionsExceeded = "AGENT_MAX_CONNECTIONS_EXCEEDED",
        /// The server's keepalive (`data.type` of a keepalive frame).
        KeepaliveEvent = "KeepaliveEvent",
        /// A relogin succeeded.
        AgentReloginSuccess = "AgentReloginSuccess",
        /// A relogin failed.
        AgentReloginFailed = "AgentReloginFailed",
        /// The agent's dial number registered.
        AgentDnRegistered = "AgentDNRegistered",
        /// A logout message.
        Logout = "Logout",
        /// A logout succeeded.
        AgentLogoutSuccess = "AgentLogoutSuccess",
        /// A logout failed.
        AgentLogoutFailed = "AgentLogoutFailed",
        /// A station login message.
        StationLogin = "StationLogin",
        /// A station login succeeded.
        AgentStationLoginSuccess = "AgentStationLoginSuccess",
        /// A station login failed.
        AgentStationLoginFailed = "AgentStationLoginFailed",
        /// A state change succeeded.
        AgentStateChangeSuccess = "AgentStateChangeSuccess",
        /// A state change failed.
        AgentStateChangeFailed = "AgentStateChangeFailed",
        /// The buddy agents list.
        BuddyAgents = "BuddyAgents",
        /// The buddy agents list could not be retrieved.
        BuddyAgentsRetrieveFailed = "BuddyAgentsRetrieveFailed",
        /// A contact was reserved for the agent.
        AgentContactReserved = "AgentContactReserved",
        /// A task for the agent.
        AgentContact = "AgentContact",
        /// A task is offered to the agent.
        AgentOfferContact = "AgentOfferContact",
        /// A task was assigned to the agent.
        AgentContactAssigned = "AgentContactAssigned",
        /// A consult was created.
        AgentConsultCreated = "AgentConsultCreated",
        /// A task ended.
        ContactEnded = "ContactEnded",
        /// A task went to wrap-up.
        AgentWrapup = "AgentWrapup",
        /// A task was wrapped up.
        AgentWrappedUp = "AgentWrappedUp",
    }
}

/// One message (not a keepalive) from the socket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// What the message is.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// The organization.
    #[serde(rename = "orgId", default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The vendor's tracking id (quote it to Cisco support).
    #[serde(rename = "trackingId", default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// The payload, as received.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a failed agent or task request reports (`data {reasonCode, reason, …}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// `reasonCode` (a number; read from a string too).
    pub reason_code: Option<i64>,
    /// `reason`.
    pub reason: Option<String>,
}

impl Message {
    /// `data.type`: which agent or task message this is.
    pub fn data_type(&self) -> Option<MessageType> {
        self.data.get("type").and_then(Value::as_str).map(MessageType::from)
    }

    /// `data.agentId` (a number is read as its digits).
    pub fn agent_id(&self) -> Option<String> {
        self.data.get("agentId").and_then(text)
    }

    /// `data.interactionId`: the task a task message is about.
    pub fn interaction_id(&self) -> Option<TaskId> {
        self.data.get("interactionId").and_then(text).map(TaskId::from)
    }

    /// The failure a `…Failed` message reports: `Some` when `data` has a `reasonCode` or a
    /// `reason`.
    pub fn failure(&self) -> Option<Failure> {
        let reason_code = match self.data.get("reasonCode") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let reason = self.data.get("reason").and_then(Value::as_str).map(str::to_owned);
        (reason_code.is_some() || reason.is_some()).then_some(Failure { reason_code, reason })
    }
}

/// A text frame, read.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// A keepalive (`"keepalive": "true"`, as the server and the SDK send; `true` is read
    /// too).
    Keepalive,
    /// Anything else.
    Message(Message),
}

/// The keepalive a client sends (`{"keepalive":"true"}`, as the SDK does).
pub const CLIENT_KEEPALIVE: &str = r#"{"keepalive":"true"}"#;

/// Reads one text frame. A frame that is not a JSON object with a string `type` (or a
/// keepalive) is an error naming what is wrong.
pub fn parse_frame(text: &str) -> Result<Frame, JsonError> {
    let value: Value = cc_core::de::parse_json(text.as_bytes())?;
    match value.get("keepalive") {
        Some(Value::String(s)) if s == "true" => return Ok(Frame::Keepalive),
        Some(Value::Bool(true)) => return Ok(Frame::Keepalive),
        _ => {}
    }
    cc_core::de::parse_json(text.as_bytes()).map(Frame::Message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_leniently_and_errors_name_the_cause() {
        assert_eq!(
            parse_frame(r#"{"keepalive":"true","data":{"type":"KeepaliveEvent"}}"#).unwrap(),
            Frame::Keepalive
        );
        assert_eq!(parse_frame(r#"{"keepalive":true}"#).unwrap(), Frame::Keepalive);

        let welcome =
            r#"{"type":"Welcome","orgId":"o-1","trackingId":"t-1","data":{"agentId":"a-1"},"new":1}"#;
        let Frame::Message(m) = parse_frame(welcome).unwrap() else { panic!("a message") };
        assert_eq!(m.kind, MessageType::Welcome);
        assert_eq!(m.agent_id().as_deref(), Some("a-1"));
        assert_eq!(m.extra["new"], 1);
        // Unknown members survive a round trip.
        assert_eq!(serde_json::to_value(&m).unwrap(), serde_json::from_str::<Value>(welcome).unwrap());

        let task = r#"{"type":"RoutingMessage","data":{"type":"AgentOfferContact","interactionId":"i-9"}}"#;
        let Frame::Message(m) = parse_frame(task).unwrap() else { panic!("a message") };
        assert_eq!(m.data_type(), Some(MessageType::AgentOfferContact));
        assert_eq!(m.interaction_id(), Some(TaskId::from("i-9")));
        assert_eq!(m.failure(), None);

        let failed = r#"{"type":"AgentStateChange","data":{"type":"AgentStateChangeFailed","reasonCode":"1400","reason":"bad aux code"}}"#;
        let Frame::Message(m) = parse_frame(failed).unwrap() else { panic!("a message") };
        assert_eq!(
            m.failure(),
            Some(Failure { reason_code: Some(1400), reason: Some("bad aux code".into()) })
        );

        let Frame::Message(m) = parse_frame(r#"{"type":"SomethingNew"}"#).unwrap() else { panic!() };
        assert_eq!(m.kind, MessageType::Unknown("SomethingNew".into()));

        for (bad, says) in [
            ("[1]", "expected struct Message"),
            (r#"{"data":{}}"#, "type"),
            (r#"{"type":7}"#, "type"),
            ("{", "EOF"),
        ] {
            let error = parse_frame(bad).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
