//! What the generator takes from the crate or corrects in the spec, each in one table: the
//! schemas `crate::model` defines by hand, the POSTs that only read, and the list parameters
//! the spec describes as comma-separated.

/// A schema that `wxcc_api::model` defines by hand. The hand-written layers (task stream,
/// statistics windows, activity caps, captures, sites, search) read these with typed ids and
/// timestamps, and each was written member for member from the schema; the generated code
/// names them through an alias, so an endpoint has one definition. The generator still reads
/// the schema (examples, paging), and the spec's examples are decoded into the hand-written
/// types by the crate's tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandWritten {
    /// The component schema.
    pub schema: &'static str,
    /// The type in `crate::model`.
    pub model: &'static str,
    /// Whether that type implements `Default` (the generated types containing it derive it then).
    pub default: bool,
    /// Whether it keeps unknown members: required when a PUT or PATCH sends it.
    pub extra: bool,
}

const fn hand(schema: &'static str, model: &'static str, default: bool, extra: bool) -> HandWritten {
    HandWritten { schema, model, default, extra }
}

pub const HAND_WRITTEN: &[HandWritten] = &[
    hand("TaskApiResponse", "TaskPage", false, false),
    hand("Meta", "Meta", true, false),
    hand("Task", "Task", false, false),
    hand("TaskAttributes", "TaskAttributes", false, false),
    hand("TaskOwner", "Named", true, false),
    hand("TaskQueue", "Named", true, false),
    hand("QueueApiResponse", "QueueStatisticsPage", false, false),
    hand("OutQueueStatistics", "QueueStatistics", false, false),
    hand("AgentApiResponse", "AgentStatisticsPage", false, false),
    hand("OutAgentStatistics", "AgentStatistics", false, false),
    hand("ChannelResponse", "ChannelStatistics", false, false),
    hand("AgentActivitiesApiResponse", "AgentActivityPage", false, false),
    hand("AgentActivity", "AgentActivity", false, false),
    hand("RecordingBodyParams", "CaptureQueryBody", false, false),
    hand("RecordingQuery", "CaptureQuery", false, false),
    hand("DownloadMultipleInteractionsResponse", "CaptureList", false, false),
    hand("RecordingMetaData", "CaptureMeta", true, false),
    hand("MultipleInteractionsRecording", "TaskCaptures", false, false),
    hand("RecordingMulti", "Recording", false, false),
    hand("RecordingAttributes", "RecordingAttributes", true, false),
    hand("TranscriptMulti", "Transcript", false, false),
    hand("SiteDTO", "Site", true, true),
    hand("ResponseEnvelopeSiteDTO", "SitePage", false, false),
    hand("BulkRequestDTOSiteDTO", "BulkRequest", true, false),
    hand("BulkRequestItemDTOSiteDTO", "BulkItem", false, false),
    hand("BulkResponseDTO", "BulkResponse", true, false),
    hand("BulkResponseItemDTO", "BulkResult", false, false),
    hand("ApiErrorResponse", "ApiErrorBody", true, false),
    hand("ErrorDetails", "ErrorDetails", true, false),
    hand("OperationError", "ErrorMessage", true, false),
    hand("BulkExportDTOSiteBulkExportDTO", "BulkExport", true, false),
    hand("SiteBulkExportDTO", "SiteExport", true, true),
    hand("SearchRequest", "SearchRequest", true, false),
];

/// Answers whose schema the spec gets wrong, modelled by hand: `(operation key, model type)`.
/// The search API's schema says "string"; its example (and the wire) is a GraphQL answer.
pub const HAND_WRITTEN_OUTPUTS: &[(&str, &str)] = &[("POST /search", "SearchResponse")];

/// POSTs that only read (their names and descriptions say query, search or fetch): retried
/// like GETs. An assumption from the spec's wording; the vendor does not state idempotency.
pub const POST_READS: &[&str] = &[
    "POST /search",
    "POST /v1/captures/query",
    "POST /generated-summaries/search",
    "POST /organization/{orgid}/contact-service-queue/fetch-by-dynamic-skills-and-skillProfile",
    "POST /organization/{orgid}/contact-service-queue/fetch-by-userId-skillProfileId",
    "POST /organization/{orgid}/contact-service-queue/fetch-manually-assignable-queues",
    "POST /organization/{orgid}/v2/contact-service-queue/fetch-by-grouped-assistant-skill",
    "POST /organization/{orgid}/user/fetch-by-skill-requirements",
    "POST /organization/{orgid}/user/fetch-user-details-by-ids",
];

/// Members and parameters that hold an id with a type of its own in `wxcc_api::model`, by
/// wire name. The spec marks ids only by name (no format tells them apart), so this names
/// them: task ids, which the hand-written layers read (`Task::id`) and the call-control
/// operations take (`/v1/tasks/{taskId}/hold`); an interaction id is a task id (the vendor's
/// SDK keys task events by `interactionId`: vendor-notes/wxcc-events.md, confirmed). Other
/// ids stay strings.
pub const TYPED_IDS: &[(&str, &str)] = &[("taskId", "TaskId"), ("interactionId", "TaskId")];

/// `ty`, or the typed id `wire` names when `ty` is a string.
pub fn typed_id(wire: &str, ty: super::model::Ty) -> super::model::Ty {
    match TYPED_IDS.iter().find(|(name, _)| *name == wire) {
        Some((_, model)) if ty == super::model::Ty::Str => super::model::Ty::Id(model),
        _ => ty,
    }
}

/// Whether a list query parameter is sent as one comma-joined value: the spec says so with
/// `explode: false`, or in words ("comma-separated", "separate values with commas") while
/// leaving `explode` at its default, which would repeat the name. Every list parameter of
/// this spec is one of the two.
pub fn joined(explode: Option<bool>, description: Option<&str>) -> bool {
    explode == Some(false)
        || (explode.is_none() && description.is_some_and(|d| d.to_ascii_lowercase().contains("comma")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_described_as_comma_separated_are_joined() {
        assert!(joined(Some(false), None));
        assert!(joined(None, Some("Separate values with commas.")));
        assert!(joined(None, Some("Comma-separated list of queue IDs.")));
        assert!(!joined(None, Some("The ids.")));
        assert!(!joined(Some(true), Some("comma-separated")), "an explicit explode wins");
    }

    #[test]
    fn task_ids_are_typed_only_where_the_schema_says_string() {
        use super::super::model::Ty;
        assert_eq!(typed_id("taskId", Ty::Str), Ty::Id("TaskId"));
        assert_eq!(typed_id("taskId", Ty::I64), Ty::I64);
        assert_eq!(typed_id("agentId", Ty::Str), Ty::Str);
    }

    #[test]
    fn tables_name_each_thing_once() {
        let mut schemas: Vec<&str> = HAND_WRITTEN.iter().map(|h| h.schema).collect();
        schemas.sort_unstable();
        schemas.dedup();
        assert_eq!(schemas.len(), HAND_WRITTEN.len());
        assert!(POST_READS.iter().all(|k| k.starts_with("POST /")));
    }
}
