//! OAuth: authorize (consent), the token endpoint with rotating refresh tokens, service-app
//! tokens, and the live-token check the API handlers use.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cc_core::sim::lock;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Shared;

pub(super) struct Grant {
    pub(super) refresh_token: String,
    pub(super) refresh_expires: Instant,
}

#[derive(Default)]
pub(super) struct Tokens {
    /// Live access tokens and their expiry.
    pub(super) access: HashMap<String, Instant>,
    /// Live refresh tokens.
    pub(super) refresh: HashMap<String, Grant>,
    /// Refresh tokens rotated away.
    pub(super) rotated: Vec<String>,
    /// Codes not yet exchanged: code → redirect URI.
    pub(super) codes: HashMap<String, String>,
}
pub(super) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, axum::Json(json!({"error": error, "error_description": description}))).into_response()
}
pub(super) fn random_token(shared: &Shared, kind: &str) -> String {
    let n = shared.counter.fetch_add(1, Ordering::Relaxed);
    let noise: String = (0..24).map(|_| fastrand::alphanumeric()).collect();
    format!("{kind}{n}{noise}")
}

pub(super) fn issue(shared: &Shared, tokens: &mut Tokens) -> Value {
    let config = &shared.config;
    let access = format!("{}_P0A1_{}", random_token(shared, "AT"), config.org_id);
    let refresh = random_token(shared, "RT");
    let now = Instant::now();
    tokens.access.insert(access.clone(), now + config.access_token_lifetime);
    tokens.refresh.insert(
        refresh.clone(),
        Grant { refresh_token: refresh.clone(), refresh_expires: now + config.refresh_token_lifetime },
    );
    json!({
        "access_token": access,
        "expires_in": config.access_token_lifetime.as_secs(),
        "refresh_token": refresh,
        // Lifetimes sometimes arrive as strings: the simulator sends one that way.
        "refresh_token_expires_in": config.refresh_token_lifetime.as_secs().to_string(),
        "token_type": "Bearer",
    })
}

pub(super) fn consent(shared: &Shared, params: &HashMap<String, String>) -> Result<(String, String), String> {
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    if get("response_type") != "code" {
        return Err("response_type must be code".into());
    }
    if get("client_id") != shared.config.client_id {
        return Err("unknown client_id".into());
    }
    let redirect = get("redirect_uri");
    if redirect.is_empty() {
        return Err("redirect_uri is required".into());
    }
    let code = random_token(shared, "CODE");
    lock(&shared.tokens).codes.insert(code.clone(), redirect.clone());
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("code", &code);
    if let Some(state) = params.get("state") {
        query.append_pair("state", state);
    }
    Ok((redirect, query.finish()))
}

pub(super) fn bearer_is_live(shared: &Shared, headers: &HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    lock(&shared.tokens).access.get(token).is_some_and(|expires| Instant::now() < *expires)
}

pub(super) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match consent(&shared, &params) {
        Ok((redirect, query)) => {
            let sep = if redirect.contains('?') { '&' } else { '?' };
            let location = format!("{redirect}{sep}{query}");
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        Err(message) => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &message),
    }
}

pub(super) async fn access_token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("client_id") != shared.config.client_id
        || get("client_secret") != shared.config.client_secret.expose_secret()
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    }
    let mut tokens = lock(&shared.tokens);
    match get("grant_type") {
        "authorization_code" => match tokens.codes.remove(get("code")) {
            Some(redirect) if redirect == get("redirect_uri") => {
                let body = issue(&shared, &mut tokens);
                drop(tokens);
                lock(&shared.stats).codes_exchanged += 1;
                axum::Json(body).into_response()
            }
            Some(_) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "redirect_uri does not match"),
            None => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown or used code"),
        },
        "refresh_token" => {
            let presented = get("refresh_token");
            match tokens.refresh.remove(presented) {
                Some(grant) if Instant::now() < grant.refresh_expires => {
                    tokens.rotated.push(grant.refresh_token);
                    let body = issue(&shared, &mut tokens);
                    drop(tokens);
                    lock(&shared.stats).refreshes += 1;
                    axum::Json(body).into_response()
                }
                Some(_) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "refresh token expired"),
                None => {
                    let stale = tokens.rotated.iter().any(|t| t == presented);
                    drop(tokens);
                    if stale {
                        lock(&shared.stats).stale_refreshes += 1;
                    }
                    oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "refresh token is not valid (rotated or unknown)",
                    )
                }
            }
        }
        other => {
            oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", &format!("grant_type {other:?}"))
        }
    }
}

pub(super) async fn service_app_token(
    State(shared): State<Arc<Shared>>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !bearer_is_live(&shared, &headers) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "a valid admin token is required");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "body is not JSON");
    };
    let known = shared.config.service_apps.get(&app_id).is_some_and(|(id, secret)| {
        request["clientId"] == id.as_str() && request["clientSecret"] == secret.expose_secret().as_str()
    });
    if !known {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown service app or wrong credentials",
        );
    }
    if request["targetOrgId"] != shared.config.org_id.as_str() {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "the app is not authorized in targetOrgId",
        );
    }
    let body = issue(&shared, &mut lock(&shared.tokens));
    lock(&shared.stats).service_app_tokens += 1;
    axum::Json(body).into_response()
}
