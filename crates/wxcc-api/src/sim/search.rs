//! Search: the GraphQL endpoint over the generated tasks, paged by cursor.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::http::{api, bad, check_org};

pub(super) fn argument(query: &str, variables: &Value, name: &str) -> Option<Value> {
    let at = query.find(&format!("{name}:"))? + name.len() + 1;
    let rest = query[at..].trim_start();
    if let Some(var) = rest.strip_prefix('$') {
        let end = var.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(var.len());
        return variables.get(&var[..end]).cloned();
    }
    if let Some(text) = rest.strip_prefix('"') {
        return text.find('"').map(|end| Value::from(&text[..end]));
    }
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(rest.len());
    rest[..end].parse::<i64>().ok().map(Value::from)
}

pub(super) fn as_i64(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

pub(super) fn graphql_error(message: &str, classification: &str) -> Value {
    json!({"errors": [{"message": message, "locations": [{"line": 1, "column": 1}],
        "extensions": {"classification": classification}}], "data": null})
}

pub(super) async fn search(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        check_org(&shared, &params)?;
        let request: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let query = request["query"].as_str().ok_or_else(|| bad("query: required"))?;
        let variables = request.get("variables").cloned().unwrap_or(Value::Null);
        // The root field: the first name after the first `{`.
        let root = query
            .split_once('{')
            .map(|(_, rest)| rest.trim_start())
            .map(|rest| rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default())
            .unwrap_or_default();
        if !["task", "taskDetails", "agentSession", "taskLegDetails"].contains(&root) {
            let message = format!(
                "Validation error (FieldUndefined@[{root}]) : Field '{root}' in type 'Query' is undefined"
            );
            return Ok((StatusCode::OK, graphql_error(&message, "ValidationError")));
        }
        // Arguments are read after the root field, not in the variable declarations.
        let body = query.split_once('{').map_or("", |(_, rest)| rest);
        let (Some(from), Some(to)) = (
            argument(body, &variables, "from").as_ref().and_then(as_i64),
            argument(body, &variables, "to").as_ref().and_then(as_i64),
        ) else {
            return Ok((
                StatusCode::OK,
                graphql_error("Arguments 'from' and 'to' are required", "ValidationError"),
            ));
        };
        let cursor =
            argument(body, &variables, "cursor").as_ref().and_then(as_i64).unwrap_or(0).max(0) as usize;
        let matching: Vec<&Value> = shared
            .tasks
            .iter()
            .filter(|t| {
                let created = t["attributes"]["createdTime"].as_i64().unwrap_or(0);
                created >= from && created < to
            })
            .collect();
        let size = shared.config.search_page_size.max(1);
        let items: Vec<Value> = matching
            .iter()
            .skip(cursor)
            .take(size)
            .map(|t| {
                let a = &t["attributes"];
                json!({
                    "id": t["id"], "channelType": a["channelType"], "createdTime": a["createdTime"],
                    "endedTime": a["lastUpdatedTime"], "captureRequested": a["captureRequested"],
                    "isActive": false, "status": a["status"], "queue": [a["queue"]], "owner": a["owner"],
                })
            })
            .collect();
        let next = cursor + items.len();
        let list_name = if root == "agentSession" { "agentSessions" } else { "tasks" };
        let data = json!({root: {
            list_name: items,
            "pageInfo": {"hasNextPage": next < matching.len(), "endCursor": next.to_string()},
        }});
        Ok((StatusCode::OK, json!({"data": data})))
    })())
}
