//! What every API handler does: admission (bearer, rate limit, queued faults), query
//! parameters, JSON answers (gzip over the threshold) with the tracking id echoed.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cc_core::sim::{Admitted, lock, with_retry_after};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Shared;
use super::oauth::bearer_is_live;

pub(super) fn error_body(status: StatusCode, tracking: &str, message: &str) -> Response {
    let body = json!({
        "trackingId": tracking,
        "error": {"key": status.as_u16().to_string(), "message": [{"description": message}]},
    });
    (status, axum::Json(body)).into_response()
}

pub(super) fn tracking(headers: &HeaderMap) -> String {
    headers.get("trackingid").and_then(|v| v.to_str().ok()).unwrap_or("sim-untracked").to_owned()
}

pub(super) fn echo(mut response: Response, tracking: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(tracking) {
        response.headers_mut().insert("TrackingId", value);
    }
    response
}
/// Auth, rate limit, then the admission step (`cc_core::sim::Faults::admit`); `Err` is the
/// answer to send instead.
pub(super) async fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    tracking: &str,
) -> Result<Admitted, Response> {
    if !bearer_is_live(shared, headers) {
        return Err(error_body(StatusCode::UNAUTHORIZED, tracking, "Incorrect Credentials."));
    }
    {
        let now = Instant::now();
        let mut window = lock(&shared.window);
        while window.front().is_some_and(|t| now.duration_since(*t) >= shared.config.rate_window) {
            window.pop_front();
        }
        if window.len() >= shared.config.rate_limit {
            let oldest = *window.front().expect("a full window has a front");
            let wait = (oldest + shared.config.rate_window).saturating_duration_since(now);
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            lock(&shared.stats).rate_limited += 1;
            // The API may send 429 with no body.
            return Err(with_retry_after(
                StatusCode::TOO_MANY_REQUESTS.into_response(),
                Some(seconds.max(1)),
            ));
        }
        window.push_back(now);
        let mut stats = lock(&shared.stats);
        stats.api_calls += 1;
        stats.max_in_window = stats.max_in_window.max(window.len());
    }
    shared.faults.admit(|status| error_body(status, tracking, "fault injected by the simulator")).await
}

/// A JSON answer, gzipped when asked for and over the threshold, with the tracking id echoed.
pub(super) fn respond(
    shared: &Shared,
    headers: &HeaderMap,
    status: StatusCode,
    body: Value,
    tracking: &str,
) -> Response {
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")));
    // Like the API: compressed only when asked for and larger than the threshold.
    if accepts_gzip && bytes.len() > shared.config.gzip_threshold {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        if encoder.write_all(&bytes).is_ok()
            && let Ok(compressed) = encoder.finish()
        {
            lock(&shared.stats).gzipped += 1;
            let headers = [(header::CONTENT_TYPE, "application/json"), (header::CONTENT_ENCODING, "gzip")];
            return echo((status, headers, compressed).into_response(), tracking);
        }
    }
    echo((status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(), tracking)
}

/// Runs `handler` after [`admit`], answering 400 for its `Err`.
macro_rules! api {
    ($shared:expr, $headers:expr, |$tracking:ident| $body:expr) => {{
        let $tracking = $crate::sim::http::tracking(&$headers);
        match $crate::sim::http::admit(&$shared, &$headers, &$tracking).await {
            Err(response) => $crate::sim::http::echo(response, &$tracking),
            Ok(admitted) => {
                let result: Result<(StatusCode, Value), (StatusCode, String)> = $body;
                match result {
                    Ok((status, body)) => admitted
                        .respond($crate::sim::http::respond(&$shared, &$headers, status, body, &$tracking)),
                    Err((status, message)) => $crate::sim::http::echo(
                        $crate::sim::http::error_body(status, &$tracking, &message),
                        &$tracking,
                    ),
                }
            }
        }
    }};
}

pub(super) fn bad(message: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, message.into())
}

pub(super) fn param_i64(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<i64>, (StatusCode, String)> {
    params.get(name).map(|v| v.parse::<i64>().map_err(|_| bad(format!("{name}: not a number")))).transpose()
}

/// `from` (required), `to` (default: open) and `pageSize` (1..=1000, default 100).
pub(super) fn paged_window(
    params: &HashMap<String, String>,
) -> Result<(i64, i64, i64), (StatusCode, String)> {
    let from = param_i64(params, "from")?.ok_or_else(|| bad("from: required"))?;
    let to = param_i64(params, "to")?.unwrap_or(i64::MAX);
    let size = param_i64(params, "pageSize")?.unwrap_or(100);
    if !(1..=1000).contains(&size) {
        return Err(bad("pageSize: must be between 1 and 1000"));
    }
    Ok((from, to, size))
}

pub(super) fn check_org(
    shared: &Shared,
    params: &HashMap<String, String>,
) -> Result<(), (StatusCode, String)> {
    match params.get("orgId") {
        Some(org) if *org != shared.config.org_id => {
            Err((StatusCode::FORBIDDEN, "Token is not authorized for this organization".into()))
        }
        _ => Ok(()),
    }
}

pub(super) fn list_param(params: &HashMap<String, String>, name: &str) -> Vec<String> {
    params
        .get(name)
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

pub(super) fn meta(shared: &Shared) -> Value {
    json!({"orgId": shared.config.org_id})
}

pub(super) use api;
