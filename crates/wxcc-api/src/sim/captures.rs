//! Captures: the query for pre-signed recording URLs and the downloads they point at.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cc_core::EpochMillis;
use cc_core::sim::{lock, record};
use serde_json::{Value, json};

use super::Shared;
use super::data::{recording_body, uuid};
use super::http::{api, bad};

pub(super) async fn captures(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    api!(shared, headers, |tracking| (|| {
        let request: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let query = request.get("query").ok_or_else(|| bad("query: required"))?;
        let ids: Vec<String> = query["taskIds"]
            .as_array()
            .ok_or_else(|| bad("query.taskIds: required"))?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        if ids.is_empty() || ids.len() > 10 {
            return Err(bad("query.taskIds: 1 to 10 ids"));
        }
        let expiration = query.get("urlExpiration").map_or(Some(30), Value::as_i64).unwrap_or(0);
        if !(1..=60).contains(&expiration) {
            return Err(bad("query.urlExpiration: must be 1 to 60"));
        }
        if let Some(org) = query["orgId"].as_str()
            && org != shared.config.org_id
        {
            return Err((StatusCode::FORBIDDEN, "Token is not authorized for this organization".into()));
        }
        record(&mut lock(&shared.stats).capture_batches, ids.len());
        let expires = EpochMillis::now().as_i64() + expiration * 60_000;
        let data: Vec<Value> = ids
            .iter()
            .map(|id| {
                let task = shared.tasks.iter().find(|t| t["id"] == id.as_str());
                let recorded = task.is_some_and(|t| t["attributes"]["captureRequested"] == true);
                let recording = if recorded {
                    let created = task.map_or(0, |t| t["attributes"]["createdTime"].as_i64().unwrap_or(0));
                    vec![json!({
                        "id": uuid(created as u64, 0x4ec), "segment": false,
                        "attributes": {
                            "fileName": format!("{id}.wav"),
                            "filePath": format!("{}/recordings/{id}.wav?expires={expires}&sig={}", shared.base, signature(id, expires)),
                            "startTime": created, "stopTime": created + 60_000,
                            "participants": [uuid(1, 0xa6), "+121****1219"],
                            "channel1": "Caller", "channel2": "Agent", "callType": "main", "sensitive": false,
                        },
                    })]
                } else {
                    Vec::new()
                };
                json!({"taskId": id, "recording": recording, "transcription": []})
            })
            .collect();
        Ok((
            StatusCode::OK,
            json!({"meta": {"orgId": shared.config.org_id, "urlExpiration": expiration}, "data": data}),
        ))
    })())
}

pub(super) fn signature(file: &str, expires: i64) -> String {
    let mac = cc_core::auth::hmac_sha1_base64(b"sim-presign-key", format!("{file}:{expires}").as_bytes());
    mac.replace(['+', '/', '='], "")
}

pub(super) async fn recording(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        // What S3 answers to a pre-signed URL sent with an Authorization header.
        return (StatusCode::BAD_REQUEST, "InvalidArgument: Only one auth mechanism allowed").into_response();
    }
    let params: HashMap<String, String> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let task_id = file.strip_suffix(".wav").unwrap_or(&file);
    let expires = params.get("expires").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    if params.get("sig").map(String::as_str) != Some(signature(task_id, expires).as_str()) {
        return (StatusCode::FORBIDDEN, "SignatureDoesNotMatch").into_response();
    }
    if EpochMillis::now().as_i64() > expires {
        return (StatusCode::FORBIDDEN, "Request has expired").into_response();
    }
    lock(&shared.stats).downloads += 1;
    ([(header::CONTENT_TYPE, "audio/wav")], recording_body(task_id)).into_response()
}
