//! Webhook events: the CloudEvents-style envelope Webex Contact Center POSTs to a
//! subscription's `destinationUrl`, and its `data` typed per resource.
//!
//! Sources and confirmation marks are in `docs/vendors/wxcc.md` ("Receiving events"). The
//! envelope fields are confirmed (`id`, `type`, `source`, `comciscoorgid`,
//! `comciscotimestamp`, `data`); the members of `data` come from the vendor's samples and
//! community consumers, so every one is optional, ids and times are read from strings or
//! numbers, enums are open, and members this version does not know are kept in `extra`.
//! An event type of a resource this version does not know keeps its `data` raw.

use cc_core::EpochMillis;
use cc_core::de::json_kind;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::{ChannelType, TaskId};

cc_core::id_type! {
    /// A webhook event's id (`id`, a UUID): the key duplicates are dropped by.
    pub struct EventId;
}

cc_core::open_enum! {
    /// An event type, `resource:action`. The documented and observed names; the authoritative
    /// list is `GET /v1|v2/event-types`, and a new name arrives as `Unknown`.
    pub enum EventType {
        /// An agent logged in.
        AgentLogin = "agent:login",
        /// An agent logged out.
        AgentLogout = "agent:logout",
        /// An agent's state changed (resource version `agent:1.0.0`).
        AgentStateChange = "agent:state_change",
        /// An agent's state on one channel changed (`agent:2.0.0`; third-party source only).
        AgentChannelStateChange = "agent:channel_state_change",
        /// An agent's state on a channel type changed (`agent:2.0.0`; third-party source only).
        AgentChannelTypeStateChange = "agent:channelType_state_change",
        /// A recording is ready to download.
        CaptureAvailable = "capture:available",
        /// A task was created.
        TaskNew = "task:new",
        /// A task is being connected to an agent.
        TaskConnect = "task:connect",
        /// A task was connected to an agent.
        TaskConnected = "task:connected",
        /// A task ended.
        TaskEnded = "task:ended",
        /// A task failed.
        TaskFailed = "task:failed",
        /// A task was parked in a queue.
        TaskParked = "task:parked",
        /// A task went into a consult.
        TaskConsulting = "task:consulting",
        /// A task went into a conference.
        TaskConferencing = "task:conferencing",
        /// A task was put on hold.
        TaskOnHold = "task:on-hold",
        /// A task was taken off hold.
        TaskHoldDone = "task:hold-done",
        /// A consult ended.
        TaskConsultDone = "task:consult-done",
        /// A conference ended.
        TaskConferenceDone = "task:conference-done",
        /// A conference was transferred.
        TaskConferenceTransferred = "task:conference-transferred",
        /// A task's origin changed.
        TaskOriginUpdated = "task:origin-updated",
        /// A message was appended to a task (Custom Messaging, Work Items).
        TaskMessageAppended = "task-message:appended",
        /// Appending a message failed.
        TaskMessageAppendFailed = "task-message:append-failed",
    }
}

impl EventType {
    /// The resource (`agent` of `agent:login`).
    pub fn resource(&self) -> &str {
        self.as_str().split_once(':').map_or(self.as_str(), |(resource, _)| resource)
    }

    /// The action (`login` of `agent:login`).
    pub fn action(&self) -> &str {
        self.as_str().split_once(':').map_or("", |(_, action)| action)
    }

    /// The type from a name, also in the hyphenated form some tools write
    /// (`capture-available` for `capture:available`).
    pub fn from_name(name: &str) -> Self {
        let parsed = Self::parse(name);
        if !parsed.is_unknown() || name.contains(':') {
            return parsed;
        }
        // `resource-action` → `resource:action` at each hyphen until a known name appears
        // (`task-message-appended` → `task-message:appended`).
        for (i, _) in name.match_indices('-') {
            let candidate = Self::parse(&format!("{}:{}", &name[..i], &name[i + 1..]));
            if !candidate.is_unknown() {
                return candidate;
            }
        }
        parsed
    }
}

/// One delivery: the envelope and its `data`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// `id`: the event's id.
    pub id: EventId,
    /// `type`.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// `source`: `/com/cisco/wxcc/{subscriptionId}`.
    pub source: String,
    /// `specversion` (`1.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specversion: Option<String>,
    /// `comciscoorgid`: the organization.
    #[serde(rename = "comciscoorgid", skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// `comciscotimestamp`: when it was dispatched (V2 subscriptions; a string or a number).
    #[serde(rename = "comciscotimestamp", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<EpochMillis>,
    /// `datacontenttype` (`application/json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datacontenttype: Option<String>,
    /// `data`, typed by the resource of `type`.
    pub data: EventData,
    /// Envelope members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Event {
    /// The subscription that sent it: what follows the last `/` of `source`.
    pub fn subscription_id(&self) -> &str {
        subscription_of(&self.source)
    }

    /// When it happened: `data.createdTime`, else the dispatch time.
    pub fn time(&self) -> Option<EpochMillis> {
        self.data.created_time().or(self.timestamp)
    }
}

/// The subscription id at the end of a `source` (`/com/cisco/wxcc/{id}`).
pub fn subscription_of(source: &str) -> &str {
    source.rsplit('/').next().unwrap_or(source).trim()
}

/// `data` by resource. A resource this version does not know keeps its JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    /// `agent:*`.
    Agent(AgentData),
    /// `task:*`.
    Task(TaskData),
    /// `task-message:*`.
    TaskMessage(TaskMessageData),
    /// `capture:*`.
    Capture(CaptureData),
    /// Any other resource, as sent.
    Other(Value),
}

impl EventData {
    /// `createdTime`, where the data has one.
    pub fn created_time(&self) -> Option<EpochMillis> {
        match self {
            Self::Agent(d) => d.created_time,
            Self::Task(d) => d.created_time,
            Self::TaskMessage(d) => d.created_time,
            Self::Capture(d) => d.created_time,
            Self::Other(v) => v.get("createdTime").and_then(|t| serde_json::from_value(t.clone()).ok()),
        }
    }

    /// The task this event is about, where it names one.
    pub fn task_id(&self) -> Option<&TaskId> {
        match self {
            Self::Agent(d) => d.task_id.as_ref(),
            Self::Task(d) => d.task_id.as_ref(),
            Self::TaskMessage(d) => d.task_id.as_ref(),
            Self::Capture(d) => d.task_id.as_ref(),
            Self::Other(_) => None,
        }
    }
}

cc_core::open_enum! {
    /// An agent's state in agent events (`currentState`): the v1 values (community code),
    /// and those of the v2 channel events (a third-party source only: unconfirmed).
    pub enum AgentState {
        /// `idle`.
        Idle = "idle",
        /// `available`.
        Available = "available",
        /// `ringing`.
        Ringing = "ringing",
        /// `not-responding`.
        NotResponding = "not-responding",
        /// `connected`.
        Connected = "connected",
        /// `on-hold`.
        OnHold = "on-hold",
        /// `hold-done`.
        HoldDone = "hold-done",
        /// `consulting`.
        Consulting = "consulting",
        /// `conferencing`.
        Conferencing = "conferencing",
        /// `consult-done`.
        ConsultDone = "consult-done",
        /// `conference-done`.
        ConferenceDone = "conference-done",
        /// `wrapup`.
        Wrapup = "wrapup",
        /// `wrapup-done`.
        WrapupDone = "wrapup-done",
        /// `logged-out`.
        LoggedOut = "logged-out",
        /// `Engaged` (channel type events).
        Engaged = "Engaged",
        /// `EngagedOther` (channel type events).
        EngagedOther = "EngagedOther",
        /// `WrapUp` (channel type events).
        WrapUp = "WrapUp",
        /// `Reserved` (channel type events).
        Reserved = "Reserved",
        /// `LoggedOut` (channel type events).
        LoggedOutV2 = "LoggedOut",
        /// `Available` (channel type events).
        AvailableV2 = "Available",
        /// `Idle` (channel type events).
        IdleV2 = "Idle",
    }
}

cc_core::open_enum! {
    /// A task's direction.
    pub enum Direction {
        /// `INBOUND`.
        Inbound = "INBOUND",
        /// `OUTBOUND`.
        Outbound = "OUTBOUND",
    }
}

/// `data` of `agent:*` events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentData {
    /// The agent.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The agent's Common Identity user id.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub agent_ci_user_id: Option<String>,
    /// The agent's team.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// The task, where the state concerns one.
    #[serde(default, deserialize_with = "opt_text_id", skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// The queue.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    /// The state the agent is now in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_state: Option<AgentState>,
    /// The channel (v2 channel events).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// The channel type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<ChannelType>,
    /// Origin (ANI, address).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Destination (the dial number at login).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// The idle code.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub idle_code_id: Option<String>,
    /// The wrap-up code.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub wrap_up_aux_code_id: Option<String>,
    /// When it happened.
    #[serde(default, deserialize_with = "opt_time", skip_serializing_if = "Option::is_none")]
    pub created_time: Option<EpochMillis>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `task:*` events (`task:failed` adds `reason`, `errorMessage`, `failureType`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskData {
    /// The task.
    #[serde(default, deserialize_with = "opt_text_id", skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// The queue.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    /// The agent, where one has it.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The channel type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<ChannelType>,
    /// The channel (a digital channel's name).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Inbound or outbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// Origin.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Destination.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// The media manager (`digitalmm`).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub media_mgr: Option<String>,
    /// Why it failed (`ENTRY_POINT_NOT_FOUND`…).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The failure, in words.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// `failed`.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub failure_type: Option<String>,
    /// When it happened.
    #[serde(default, deserialize_with = "opt_time", skip_serializing_if = "Option::is_none")]
    pub created_time: Option<EpochMillis>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `task-message:*` events (Custom Messaging, Work Items).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskMessageData {
    /// The task.
    #[serde(default, deserialize_with = "opt_text_id", skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// The task's direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The message's direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_direction: Option<Direction>,
    /// The channel type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<ChannelType>,
    /// The channel.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Origin.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Destination.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// `system` or `agent` (outbound).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub sender_type: Option<String>,
    /// Who sent it (outbound).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
    /// The message (`type`, `message {aliasId, text | workItemData, timestamp, attachments}`);
    /// `null` when appending failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_params: Option<Value>,
    /// `eventDetails`, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_details: Option<Value>,
    /// Why appending failed (`INVALID_CONTENT`, `NOT_FOUND`, `INTERNAL_ERROR`).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The failure, in words.
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// When it happened.
    #[serde(default, deserialize_with = "opt_time", skip_serializing_if = "Option::is_none")]
    pub created_time: Option<EpochMillis>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of `capture:available`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureData {
    /// The task recorded.
    #[serde(default, deserialize_with = "opt_text_id", skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// Where the recording is (fetch it with `WxccClient::captures` for a download URL).
    #[serde(default, deserialize_with = "opt_text", skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    /// When it became available.
    #[serde(default, deserialize_with = "opt_time", skip_serializing_if = "Option::is_none")]
    pub created_time: Option<EpochMillis>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The envelope as read, `data` still raw.
#[derive(Deserialize)]
struct RawEvent {
    #[serde(deserialize_with = "required_text")]
    id: String,
    #[serde(rename = "type", deserialize_with = "required_text")]
    event_type: String,
    #[serde(deserialize_with = "required_text")]
    source: String,
    #[serde(default, deserialize_with = "opt_text")]
    specversion: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    comciscoorgid: Option<String>,
    #[serde(default)]
    comciscotimestamp: Option<Value>,
    #[serde(default, deserialize_with = "opt_text")]
    datacontenttype: Option<String>,
    #[serde(default)]
    data: Value,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// Parses a delivery. Strict where correlation depends on it: `id`, `type` and `source` are
/// required non-empty strings, and a `comciscotimestamp` that is present must be epoch
/// milliseconds. `data` is typed by the resource of `type`; within it nothing is required.
pub fn parse_event(body: &[u8]) -> Result<Event, cc_core::de::JsonError> {
    let raw: RawEvent = cc_core::de::parse_json(body)?;
    let invalid = |path: &str, message: String| cc_core::de::JsonError {
        path: path.to_owned(),
        message,
        line: 0,
        column: 0,
    };
    let timestamp = match raw.comciscotimestamp {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            serde_json::from_value::<EpochMillis>(value)
                .map_err(|e| invalid("comciscotimestamp", format!("not epoch milliseconds: {e}")))?,
        ),
    };
    let event_type = EventType::parse(&raw.event_type);
    let data = match raw.data {
        // A known resource whose `data` is not an object is kept as sent.
        value @ Value::Object(_) => match event_type.resource() {
            "agent" => EventData::Agent(typed(&value)?),
            "task" => EventData::Task(typed(&value)?),
            "task-message" => EventData::TaskMessage(typed(&value)?),
            "capture" => EventData::Capture(typed(&value)?),
            _ => EventData::Other(value),
        },
        other => EventData::Other(other),
    };
    Ok(Event {
        id: EventId::new(raw.id),
        event_type,
        source: raw.source,
        specversion: raw.specversion,
        org_id: raw.comciscoorgid,
        timestamp,
        datacontenttype: raw.datacontenttype,
        data,
        extra: raw.extra,
    })
}

/// `data` as `T`; an error names the member under `data`.
fn typed<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, cc_core::de::JsonError> {
    T::deserialize(value).map_err(|plain| {
        // Only a failure pays for locating it: the parser tracks paths over bytes.
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        let mut error = cc_core::de::parse_json::<T>(&bytes).err().unwrap_or(cc_core::de::JsonError {
            path: ".".into(),
            message: plain.to_string(),
            line: 0,
            column: 0,
        });
        error.path = if error.path == "." { "data".into() } else { format!("data.{}", error.path) };
        // Positions were in the re-encoded `data`, not in the delivery.
        (error.line, error.column) = (0, 0);
        error
    })
}

/// A string, or a number as its text; empty and `null` are `None`.
fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        Some(v @ (Value::String(_) | Value::Number(_))) => Ok(text(&v)),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(serde::de::Error::custom(format!("expected a string, got {}", json_kind(&other)))),
    }
}

/// An id or code as the vendor sends it: a non-blank string, or a number's digits.
pub(super) fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn opt_text_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TaskId>, D::Error> {
    Ok(opt_text(d)?.map(TaskId::new))
}

fn required_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_text(d)?.ok_or_else(|| serde::de::Error::custom("must be a non-empty string"))
}

/// Epoch milliseconds from a number or a digit string; an empty string, `null`, or a value
/// that is no time (seen in other APIs of the vendor) is `None` rather than an error, since
/// an event time is never what the event is about.
fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EpochMillis>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(value.and_then(|v| serde_json::from_value::<EpochMillis>(v).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_task_failed_example_parses() {
        let body = br#"{"id":"8be34eb4-d64f-4552-96cc-c9b6e73063c2","specversion":"1.0","type":"task:failed",
 "source":"/com/cisco/wxcc/ed9357d0-3f5d-4c6a-a4fd-222222222222","comciscoorgid":"cb5901fb-ab66-4377-a7bc-5f0b21896952",
 "comciscotimestamp":1779785508649,"datacontenttype":"application/json",
 "data":{"taskId":"141897a0-6212-49be-be9d-4823ab1e4dc7","origin":"crm-lead-10040","destination":"claims-work-items@example.biz",
  "direction":"INBOUND","channel":"ClaimsReview","channelType":"workItem","mediaMgr":"digitalmm","reason":"ENTRY_POINT_NOT_FOUND",
  "errorMessage":"The Work Item asset does not resolve to an active entry point.","failureType":"failed","createdTime":1779785508649}}"#;
        let event = parse_event(body).unwrap();
        assert_eq!(event.event_type, EventType::TaskFailed);
        assert_eq!(event.subscription_id(), "ed9357d0-3f5d-4c6a-a4fd-222222222222");
        assert_eq!(event.timestamp, Some(EpochMillis::new(1_779_785_508_649)));
        let EventData::Task(data) = &event.data else { panic!("{:?}", event.data) };
        assert_eq!(data.reason.as_deref(), Some("ENTRY_POINT_NOT_FOUND"));
        assert_eq!(data.channel_type.as_ref().map(ChannelType::as_str), Some("workItem"), "open enum");
        assert_eq!(event.data.task_id().map(TaskId::as_str), Some("141897a0-6212-49be-be9d-4823ab1e4dc7"));
    }

    #[test]
    fn strict_on_the_envelope_lenient_in_data() {
        let ok = br#"{"id":"e","type":"agent:login","source":"/com/cisco/wxcc/s","comciscotimestamp":"1697211697694",
            "data":{"agentId":42,"createdTime":"","currentState":"dancing","newMember":true}}"#;
        let event = parse_event(ok).unwrap();
        let EventData::Agent(data) = &event.data else { panic!() };
        assert_eq!(data.agent_id.as_deref(), Some("42"), "a numeric id is its text");
        assert_eq!(data.created_time, None, "an empty time is no time");
        assert!(data.current_state.as_ref().unwrap().is_unknown());
        assert_eq!(data.extra.get("newMember"), Some(&Value::Bool(true)));
        assert_eq!(event.time(), Some(EpochMillis::new(1_697_211_697_694)), "falls back to dispatch");

        for (body, path) in [
            (&br#"{"type":"agent:login","source":"/s","data":{}}"#[..], "id"),
            (br#"{"id":"","type":"agent:login","source":"/s","data":{}}"#, "id"),
            (
                br#"{"id":"e","type":"agent:login","source":"/s","comciscotimestamp":"soon"}"#,
                "comciscotimestamp",
            ),
            (br#"{"id":"e","type":"task:new","source":"/s","data":{"taskId":{}}}"#, "data"),
        ] {
            let err = parse_event(body).unwrap_err();
            assert!(err.path.starts_with(path) || err.to_string().contains(path), "{path}: {err}");
        }
        let other =
            parse_event(br#"{"id":"e","type":"journey:thing","source":"/s","data":{"x":1}}"#).unwrap();
        assert_eq!(other.data, EventData::Other(serde_json::json!({"x": 1})));
    }

    #[test]
    fn names_in_hyphen_form_are_understood() {
        assert_eq!(EventType::from_name("capture-available"), EventType::CaptureAvailable);
        assert_eq!(EventType::from_name("task-message-appended"), EventType::TaskMessageAppended);
        assert_eq!(EventType::from_name("task:new"), EventType::TaskNew);
        assert!(EventType::from_name("made-up").is_unknown());
        assert_eq!(EventType::AgentLogin.resource(), "agent");
        assert_eq!(EventType::TaskMessageAppended.action(), "appended");
    }
}
