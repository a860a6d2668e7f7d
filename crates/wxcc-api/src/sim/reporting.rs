//! Reporting: tasks, queue and agent statistics per interval, agent activities.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::data::{CHANNELS, uuid};
use super::http::{api, bad, check_org, list_param, meta, paged_window, param_i64};

pub(super) async fn tasks(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let (from, to, size) = paged_window(&params)?;
        let channels = list_param(&params, "channelTypes");
        let data: Vec<&Value> = shared
            .tasks
            .iter()
            .filter(|t| {
                let created = t["attributes"]["createdTime"].as_i64().unwrap_or(0);
                created >= from && created < to
            })
            .filter(|t| {
                channels.is_empty() || channels.iter().any(|c| t["attributes"]["channelType"] == c.as_str())
            })
            .take((size as usize).min(shared.config.task_page_cap))
            .collect();
        Ok((StatusCode::OK, json!({"meta": meta(&shared), "data": data})))
    })())
}

pub(super) fn statistics_window(
    params: &HashMap<String, String>,
) -> Result<(i64, i64, i64), (StatusCode, String)> {
    let from = param_i64(params, "from")?.ok_or_else(|| bad("from: required"))?;
    let to = param_i64(params, "to")?.ok_or_else(|| bad("to: required"))?;
    let interval = param_i64(params, "interval")?.unwrap_or(15);
    if ![15, 30, 60].contains(&interval) {
        return Err(bad("interval: must be 15, 30 or 60"));
    }
    if to <= from || to - from >= 24 * 3_600_000 {
        return Err(bad("the window between from and to must be positive and under 24 hours"));
    }
    let step = interval * 60_000;
    // The API rounds `from` down to 15 minutes.
    let start = from - from.rem_euclid(15 * 60_000);
    Ok((start, to, step))
}

/// One row per interval of `window` and per generated entity (`count` ids from `salt`) that
/// `wanted` lets through (all when empty).
pub(super) fn per_interval(
    (start, to, step): (i64, i64, i64),
    count: u64,
    salt: u64,
    wanted: &[String],
    row: impl Fn(i64, u64, String) -> Value,
) -> Vec<Value> {
    let mut data = Vec::new();
    let mut at = start;
    while at < to {
        for n in 0..count {
            let id = uuid(n, salt);
            if wanted.is_empty() || wanted.contains(&id) {
                data.push(row(at, n, id));
            }
        }
        at += step;
    }
    data
}

pub(super) async fn queue_statistics(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let (start, to, step) = statistics_window(&params)?;
        let wanted = list_param(&params, "queueIds");
        let data = per_interval((start, to, step), 3, 0x51, &wanted, |at, q, id| {
            let n = (at / step) as u64 % 7 + q;
            json!({
                "intervalStartTime": at, "queueId": id, "queueName": format!("Queue {}", q + 1),
                "channelType": CHANNELS[q as usize], "totalOfferedTasks": n + 2, "totalEnqueuedTasks": n + 2,
                "totalAssignedTasks": n, "totalAcceptedTasks": n, "totalRejectedTasks": 1,
                "totalAbandonedTasks": 1, "averageEnqueuedTime": 20349.12 + n as f64,
                "averageHandledTime": 93729.01, "serviceLevelThresholdPercentage": 25.34,
            })
        });
        Ok((StatusCode::OK, json!({"meta": meta(&shared), "data": data})))
    })())
}

pub(super) async fn agent_statistics(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let (start, to, step) = statistics_window(&params)?;
        let wanted = list_param(&params, "agentIds");
        if wanted.len() > 100 {
            return Err(bad("agentIds: at most 100"));
        }
        let data = per_interval((start, to, step), 7, 0xa6, &wanted, |at, a, id| {
            json!({
                "intervalStartTime": at, "agentId": id, "agentName": format!("Agent {}", a + 1),
                "teamId": uuid(a % 2, 0x7e), "teamName": format!("Team {}", a % 2 + 1),
                "channels": [{
                    "channelType": "chat", "totalAssignedTasks": 3, "totalOfferedTasks": 3,
                    "totalAcceptedTasks": 3, "totalRejectedTasks": 0, "totalTransferredTasks": 1,
                    "totalEngagedDuration": 40302, "totalHoldDuration": 10198, "totalWrapUpDuration": 3552,
                    "totalAvailableTime": 234947, "totalUnAvailableTime": 22300, "averageHandledTime": 22300,
                }],
            })
        });
        Ok((StatusCode::OK, json!({"meta": meta(&shared), "data": data})))
    })())
}

pub(super) async fn activities(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let (from, to, size) = paged_window(&params)?;
        let page = param_i64(&params, "page")?.unwrap_or(0).max(0);
        let agents = list_param(&params, "agentIds");
        let data: Vec<&Value> = shared
            .activities
            .iter()
            .filter(|a| {
                let start = a["startTime"].as_i64().unwrap_or(0);
                start >= from && start < to
            })
            .filter(|a| agents.is_empty() || agents.iter().any(|id| a["agentId"] == id.as_str()))
            .take(shared.config.activity_record_cap)
            .skip((page * size) as usize)
            .take(size as usize)
            .collect();
        Ok((StatusCode::OK, json!({"meta": meta(&shared), "data": data})))
    })())
}
