//! Wire types of the Webex Contact Center API, as the OpenAPI spec names them.
//!
//! Lenient where the vendor varies: unknown fields are ignored (or kept, where a model is sent
//! back: [`Site::extra`]), enum values are open, numbers may arrive as strings, and fields the
//! spec marks required but a real tenant may omit (a queued task has no owner) are optional.
//! Strict where pagination and correlation depend on a field: a task needs `id` and
//! `attributes.createdTime`.

pub mod events;
pub mod notification;

use std::collections::BTreeMap;

use cc_core::EpochMillis;
use cc_core::de::{OrRaw, lenient_opt_f64, lenient_opt_i64};
use serde::{Deserialize, Serialize};
use serde_json::Value;

cc_core::id_type! {
    /// A task (contact) id.
    pub struct TaskId;
}

cc_core::open_enum! {
    /// A task's channel.
    pub enum ChannelType {
        /// Email.
        Email = "email",
        /// Chat.
        Chat = "chat",
        /// Voice.
        Telephony = "telephony",
        /// Social messaging.
        Social = "social",
    }
}

cc_core::open_enum! {
    /// A task's status (the search API reports `ended` as well).
    pub enum TaskStatus {
        /// Created.
        Created = "created",
        /// Waiting in a queue.
        Queued = "queued",
        /// Offered to an agent.
        Offered = "offered",
        /// Assigned to an agent.
        Assigned = "assigned",
        /// Abandoned by the customer.
        Abandoned = "abandoned",
        /// Completed.
        Completed = "completed",
        /// Ended (search API).
        Ended = "ended",
    }
}

/// `meta` of the reporting APIs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// The organization the data belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

/// An id and a display name (task owner, task queue).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// The id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `GET /v1/tasks` response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskPage {
    /// The organization.
    #[serde(default)]
    pub meta: Meta,
    /// The tasks, sorted by `createdTime` ascending.
    #[serde(default)]
    pub data: Vec<Task>,
}

/// A task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The task id.
    pub id: TaskId,
    /// Its attributes.
    pub attributes: TaskAttributes,
}

/// A task's attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskAttributes {
    /// The agent who owns it (absent before assignment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Named>,
    /// Its queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<Named>,
    /// Its channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<ChannelType>,
    /// Its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskStatus>,
    /// When it was created: the key the task list is sorted and paged by.
    pub created_time: EpochMillis,
    /// Last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_time: Option<EpochMillis>,
    /// Whether a recording was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_requested: Option<bool>,
    /// Caller number or customer address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Dialled number or entry point address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// `inbound`, `outbound`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// Wrap-up reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
}

/// `GET /v1/queues/statistics` response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueStatisticsPage {
    /// The organization.
    #[serde(default)]
    pub meta: Meta,
    /// One entry per queue, channel and interval.
    #[serde(default)]
    pub data: Vec<QueueStatistics>,
}

/// Statistics of one queue for one interval. Counts of a contact spanning intervals are in
/// the interval it started in; averages in the one it ended in (spec).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStatistics {
    /// Start of the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_start_time: Option<EpochMillis>,
    /// The queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    /// The channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<ChannelType>,
    /// Offered tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_offered_tasks: Option<i64>,
    /// Enqueued tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_enqueued_tasks: Option<i64>,
    /// Assigned tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_assigned_tasks: Option<i64>,
    /// Accepted tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_accepted_tasks: Option<i64>,
    /// Rejected tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_rejected_tasks: Option<i64>,
    /// Abandoned tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_abandoned_tasks: Option<i64>,
    /// Average time in queue, ms.
    #[serde(default, deserialize_with = "lenient_opt_f64", skip_serializing_if = "Option::is_none")]
    pub average_enqueued_time: Option<f64>,
    /// Average handle time, ms.
    #[serde(default, deserialize_with = "lenient_opt_f64", skip_serializing_if = "Option::is_none")]
    pub average_handled_time: Option<f64>,
    /// Service level, percent.
    #[serde(default, deserialize_with = "lenient_opt_f64", skip_serializing_if = "Option::is_none")]
    pub service_level_threshold_percentage: Option<f64>,
}

/// `GET /v1/agents/statistics` response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentStatisticsPage {
    /// The organization.
    #[serde(default)]
    pub meta: Meta,
    /// One entry per agent and interval.
    #[serde(default)]
    pub data: Vec<AgentStatistics>,
}

/// Statistics of one agent for one interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentStatistics {
    /// Start of the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_start_time: Option<EpochMillis>,
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Agent name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// Team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Team name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_name: Option<String>,
    /// Per channel figures.
    #[serde(default)]
    pub channels: Vec<ChannelStatistics>,
}

/// An agent's figures on one channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelStatistics {
    /// The channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<ChannelType>,
    /// Assigned tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_assigned_tasks: Option<i64>,
    /// Offered tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_offered_tasks: Option<i64>,
    /// Accepted tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_accepted_tasks: Option<i64>,
    /// Rejected tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_rejected_tasks: Option<i64>,
    /// Transferred tasks.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_transferred_tasks: Option<i64>,
    /// Engaged time, ms.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_engaged_duration: Option<i64>,
    /// Hold time, ms.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_hold_duration: Option<i64>,
    /// Wrap-up time, ms.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_wrap_up_duration: Option<i64>,
    /// Available time, ms.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_available_time: Option<i64>,
    /// Unavailable time, ms.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_un_available_time: Option<i64>,
    /// Average handle time, ms.
    #[serde(default, deserialize_with = "lenient_opt_f64", skip_serializing_if = "Option::is_none")]
    pub average_handled_time: Option<f64>,
}

/// `GET /v1/agents/activities` response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentActivityPage {
    /// The organization.
    #[serde(default)]
    pub meta: Meta,
    /// Activities, sorted by start time ascending.
    #[serde(default)]
    pub data: Vec<AgentActivity>,
}

/// One agent state interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentActivity {
    /// Whether the activity is still going on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The agent's dial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_dn: Option<String>,
    /// The agent's login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_login: Option<String>,
    /// The login session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_session_id: Option<String>,
    /// Agent name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// `idle`, `available`, `connected`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// Site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// Site name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    /// Team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Team name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_name: Option<String>,
    /// 1 when logged in.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub is_login: Option<i64>,
    /// The task being handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The channel instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// The channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<ChannelType>,
    /// Sub-channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_channel_type: Option<String>,
    /// Idle code name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_code_name: Option<String>,
    /// Idle code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_code: Option<String>,
    /// Queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    /// Queue name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    /// Wrap-up code name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_code_name: Option<String>,
    /// Reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<EpochMillis>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<EpochMillis>,
    /// Multimedia profile type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mm_profile_type: Option<String>,
}

/// `POST /v1/captures/query` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureQueryBody {
    /// The query.
    pub query: CaptureQuery,
}

/// Which captures to list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureQuery {
    /// The organization (inferred from the token when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Minutes the download URLs stay valid (1..=60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_expiration: Option<u32>,
    /// At most 10 task ids.
    pub task_ids: Vec<TaskId>,
    /// One recording per segment instead of one per task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_segments: Option<bool>,
    /// Include virtual-agent recordings.
    #[serde(default, rename = "includeVARecordings", skip_serializing_if = "Option::is_none")]
    pub include_va_recordings: Option<bool>,
}

/// `POST /v1/captures/query` response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaptureList {
    /// The organization and URL lifetime.
    #[serde(default)]
    pub meta: CaptureMeta,
    /// One entry per task (unknown task ids give empty lists, not errors).
    #[serde(default)]
    pub data: Vec<TaskCaptures>,
}

/// `meta` of a capture list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureMeta {
    /// The organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Minutes the URLs stay valid.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub url_expiration: Option<i64>,
}

/// The recordings and transcripts of one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskCaptures {
    /// The task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// Recordings.
    #[serde(default)]
    pub recording: Vec<Recording>,
    /// Transcripts.
    #[serde(default)]
    pub transcription: Vec<Transcript>,
}

/// One recording (or segment).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// Recording id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Whether this is one segment of the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<bool>,
    /// File and timing.
    #[serde(default)]
    pub attributes: RecordingAttributes,
}

/// A recording's file and timing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingAttributes {
    /// File name (`recording-1.wav`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Pre-signed download URL: fetch it **without** `Authorization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    /// Start (an odd value is kept raw rather than rejecting the capture list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<OrRaw<EpochMillis>>,
    /// Stop (kept raw when odd).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_time: Option<OrRaw<EpochMillis>>,
    /// Participants (agent ids, masked numbers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<String>,
    /// Who is on channel 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel1: Option<String>,
    /// Who is on channel 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel2: Option<String>,
    /// `main`, `consult`, `va-main`, `va-consult`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_type: Option<String>,
    /// Marked sensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
}

/// A transcript. The spec spells `Source` and `Provider` capitalised, samples lowercase:
/// both are read; the lowercase spelling is written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transcript {
    /// `recording`, `chat`, `sms`…
    #[serde(default, alias = "Source", skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `CISCO`…
    #[serde(default, alias = "Provider", skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Transcript id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Pre-signed download URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    /// Start (the spec sends a string of digits; an odd value is kept raw rather than
    /// rejecting the capture list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<OrRaw<EpochMillis>>,
    /// Language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    /// Creation (a string of digits in the spec; `""` and other odd values are kept raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<OrRaw<EpochMillis>>,
}

/// A site (`SiteDTO`). Fields this crate does not know are kept in [`Site::extra`] and sent
/// back on update, so a read-modify-write never drops them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    /// The organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Site id (absent when creating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Optimistic-lock version: an update must carry the version it read.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Name: 1..=80 of letters, digits, `-`, `_` and spaces.
    pub name: String,
    /// Whether the site is active.
    #[serde(default = "default_true")]
    pub active: bool,
    /// The multimedia profile.
    #[serde(default)]
    pub multimedia_profile_id: String,
    /// Description (at most 255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The organization's default site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_default: Option<bool>,
    /// Created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<EpochMillis>,
    /// Last updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_time: Option<EpochMillis>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

fn default_true() -> bool {
    true
}

impl Site {
    /// A new active site.
    pub fn new(name: impl Into<String>, multimedia_profile_id: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            active: true,
            multimedia_profile_id: multimedia_profile_id.into(),
            ..Self::default()
        }
    }

    /// Checks the spec's constraints (name 1..=80 of `[a-zA-Z0-9-_ ]`, description ≤255,
    /// a multimedia profile) and names the first field that breaks one.
    pub fn validate(&self) -> Result<(), String> {
        let chars = self.name.chars().count();
        if chars == 0 || chars > 80 {
            return Err(format!("name: must be 1 to 80 characters, got {chars}"));
        }
        if let Some(bad) = self
            .name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_') || c.is_whitespace()))
        {
            return Err(format!(
                "name: character {bad:?} is not allowed (letters, digits, '-', '_', spaces)"
            ));
        }
        if let Some(d) = &self.description
            && d.chars().count() > 255
        {
            return Err(format!("description: at most 255 characters, got {}", d.chars().count()));
        }
        if self.multimedia_profile_id.trim().is_empty() {
            return Err("multimediaProfileId: required".into());
        }
        Ok(())
    }
}

/// `GET /organization/{orgid}/v2/site` response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SitePage {
    /// Paging.
    #[serde(default)]
    pub meta: PageMeta,
    /// The sites of this page.
    #[serde(default)]
    pub data: Vec<Site>,
}

/// `meta` of the configuration APIs' v2 lists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    /// The organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orgid: Option<String>,
    /// This page's number (from 0).
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub page: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
    /// Number of pages.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<i64>,
    /// Number of records.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_records: Option<i64>,
    /// `self`, `next`, `prev`, `first`, `last`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub links: BTreeMap<String, String>,
}

impl PageMeta {
    /// Whether a page follows this one: a `next` link, or a page number below the last.
    pub fn has_next(&self) -> bool {
        if self.links.contains_key("next") {
            return true;
        }
        matches!((self.page, self.total_pages), (Some(page), Some(total)) if page + 1 < total)
    }
}

cc_core::open_enum! {
    /// What a bulk item asks for.
    pub enum BulkAction {
        /// Create or update.
        Save = "SAVE",
        /// Delete.
        Delete = "DELETE",
    }
}

/// `POST /organization/{orgid}/site/bulk` body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkRequest {
    /// The items.
    pub items: Vec<BulkItem>,
}

/// One item of a bulk request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkItem {
    /// Your id for the item; the response reports per identifier.
    pub item_identifier: i64,
    /// The site.
    pub item: Site,
    /// Save or delete.
    pub request_action: BulkAction,
}

/// The 207 answer of a bulk save.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkResponse {
    /// One result per item.
    #[serde(default)]
    pub items: Vec<BulkResult>,
}

cc_core::open_enum! {
    /// What a bulk item did.
    pub enum OperationType {
        /// Created.
        Create = "CREATE",
        /// Updated.
        Update = "UPDATE",
        /// Deleted.
        Delete = "DELETE",
        /// Read.
        Get = "GET",
    }
}

/// The outcome of one bulk item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    /// The identifier sent with the item.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub item_identifier: Option<i64>,
    /// HTTP-like status of this item.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// What was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<OperationType>,
    /// The resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_error: Option<ApiErrorBody>,
}

impl BulkResult {
    /// Whether this item succeeded (a 2xx status; no status and no error counts as success).
    pub fn is_success(&self) -> bool {
        match self.status {
            Some(status) => (200..300).contains(&status),
            None => self.api_error.is_none(),
        }
    }
}

/// `GET /organization/{orgid}/site/bulk-export` response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkExport {
    /// Total sites.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_resources: Option<i64>,
    /// This page (from 0).
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub page_number: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "lenient_opt_i64", skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
    /// `next` when more pages exist, otherwise `last`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// The exported sites.
    #[serde(default)]
    pub resources: Vec<SiteExport>,
}

/// A site as exported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteExport {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Multimedia profile name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multimedia_profile_name: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The usual error body: `{trackingId, error{key, message[{description}], reason}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiErrorBody {
    /// Tracking id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// The error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetails>,
}

/// `error` of an error body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// The key: a string or a number on the wire.
    #[serde(default, deserialize_with = "string_or_number", skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Messages.
    #[serde(default, deserialize_with = "messages", skip_serializing_if = "Vec::is_empty")]
    pub message: Vec<ErrorMessage>,
    /// Reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One message of an error body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The entity concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// What refers to it (why a delete was refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Named>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// `message` is an array of objects in the spec; a bare string is seen too.
fn messages<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ErrorMessage>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => vec![ErrorMessage { description: Some(s), ..ErrorMessage::default() }],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => ErrorMessage { description: Some(s), ..ErrorMessage::default() },
                other => serde_json::from_value(other).unwrap_or_default(),
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// `POST /search` body: a GraphQL query and its variables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// The GraphQL document.
    pub query: String,
    /// Its variables.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub variables: serde_json::Map<String, Value>,
}

impl SearchRequest {
    /// A query without variables.
    pub fn new(query: impl Into<String>) -> Self {
        Self { query: query.into(), variables: serde_json::Map::new() }
    }

    /// Sets a variable.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }
}

/// `POST /search` response: `data`, and GraphQL `errors` (which may come with a 200).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// The result, shaped by the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// GraphQL errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GraphQlError>,
    /// Response-level `extensions` (GraphQL's place for vendor details: tracing, cost), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

/// A GraphQL error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphQlError {
    /// The message.
    #[serde(default)]
    pub message: String,
    /// Where in the query.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<GraphQlLocation>,
    /// Which result field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<Value>,
    /// Vendor details (`classification`, `errorType`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

impl std::fmt::Display for GraphQlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(at) = self.locations.first() {
            write!(f, " (line {}, column {})", at.line, at.column)?;
        }
        if !self.path.is_empty() {
            let path: Vec<String> =
                self.path.iter().map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned)).collect();
            write!(f, " at {}", path.join("."))?;
        }
        Ok(())
    }
}

/// A position in a GraphQL document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphQlLocation {
    /// Line (from 1).
    #[serde(default)]
    pub line: u32,
    /// Column (from 1).
    #[serde(default)]
    pub column: u32,
}

/// `pageInfo` of a cursor-paginated search result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    /// Whether another page follows.
    #[serde(default)]
    pub has_next_page: bool,
    /// The cursor of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_cursor: Option<String>,
}
