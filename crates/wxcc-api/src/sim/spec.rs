//! The spec-driven part of the simulator, like stripe-mock: every operation the hand-written
//! handlers do not model is answered from the spec. A request is matched to its operation by
//! method and path template, admitted like every API call (bearer, rate limit, queued faults),
//! checked (the organization, required query parameters, the body decoded into the
//! operation's generated type: a 400 names the field), and answered with the spec's example
//! or a schema-valid value. Resources with a collection (`POST /x`) and items (`/x/{id}`)
//! keep state: created, they are seen by get, list, update and delete; an unknown id is a 404.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cc_core::sim::lock;
use serde_json::{Map, Value};

use super::Shared;
use super::data::uuid;
use super::http::{admit, echo, error_body, respond, tracking};
use crate::api::Sample;
use crate::api::samples;

/// One path segment of a template: literal, or a parameter with what surrounds it in the
/// segment (`{flowId}:publish`).
#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param { name: String, prefix: String, suffix: String },
}

/// What an operation does to the simulator's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// `POST /x` where `/x/{id}` exists.
    Create,
    /// `GET /x` where `POST /x` creates.
    List,
    /// `GET|PUT|PATCH|DELETE /x/{id}` where `POST /x` creates.
    Item,
    /// Anything else: answered from the spec.
    Plain,
}

struct Route {
    sample: Sample,
    segments: Vec<Segment>,
    role: Role,
}

/// Every operation's route, and the resources created so far (by collection path, then id).
pub(super) struct Spec {
    routes: Vec<Route>,
    resources: std::sync::Mutex<HashMap<String, BTreeMap<String, Value>>>,
}

fn segments(template: &str) -> Vec<Segment> {
    template
        .trim_matches('/')
        .split('/')
        .map(|segment| match (segment.find('{'), segment.find('}')) {
            (Some(open), Some(close)) if open < close => Segment::Param {
                name: segment[open + 1..close].to_owned(),
                prefix: segment[..open].to_owned(),
                suffix: segment[close + 1..].to_owned(),
            },
            _ => Segment::Literal(segment.to_owned()),
        })
        .collect()
}

/// A path without its version segments (`/organization/o/v3/address-book` →
/// `/organization/o/address-book`): the versions of an endpoint serve the same resources.
fn unversioned(path: &str) -> String {
    let mut out = String::new();
    for (i, segment) in path.trim_end_matches('/').split('/').enumerate() {
        let version = segment.len() >= 2
            && segment.starts_with('v')
            && segment[1..].chars().all(|c| c.is_ascii_digit());
        if i > 1 && version {
            continue;
        }
        if i > 0 {
            out.push('/');
        }
        out.push_str(segment);
    }
    out
}

/// An empty page for a page past the first of a list answer, so that paging ends.
fn emptied(example: Value) -> Value {
    match example {
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Object(mut members) if members.get("data").is_some_and(Value::is_array) => {
            members.insert("data".into(), Value::Array(Vec::new()));
            Value::Object(members)
        }
        other => other,
    }
}

impl Spec {
    pub(super) fn new() -> Self {
        let samples = samples::operations();
        // Templates compared by shape: versions dropped, parameter names erased.
        let shape = |template: &str| -> String {
            segments(&unversioned(template))
                .iter()
                .map(|s| match s {
                    Segment::Literal(l) => l.clone(),
                    Segment::Param { prefix, suffix, .. } => format!("{prefix}{{}}{suffix}"),
                })
                .collect::<Vec<_>>()
                .join("/")
        };
        let templates: Vec<(String, String)> =
            samples.iter().map(|s| (s.info.method.as_str().to_owned(), shape(s.info.path))).collect();
        let has = |method: &str, template: &str| templates.iter().any(|(m, t)| m == method && t == template);
        let item_of = |template: &str| {
            templates.iter().any(|(m, t)| m == "GET" && t.strip_prefix(template) == Some("/{}"))
        };
        let routes = samples
            .into_iter()
            .map(|sample| {
                let template = shape(sample.info.path);
                let method = sample.info.method.as_str();
                let parent = template.rsplit_once('/').map(|(p, last)| (p.to_owned(), last == "{}"));
                let role = match (method, parent) {
                    ("POST", _) if item_of(&template) => Role::Create,
                    ("GET", _) if item_of(&template) && has("POST", &template) => Role::List,
                    ("GET" | "PUT" | "PATCH" | "DELETE", Some((parent, true))) if has("POST", &parent) => {
                        Role::Item
                    }
                    _ => Role::Plain,
                };
                Route { segments: segments(sample.info.path), sample, role }
            })
            .collect();
        Self { routes, resources: std::sync::Mutex::new(HashMap::new()) }
    }

    /// The resources created in `collection` (`/v1/subscriptions`), by id.
    pub(super) fn stored(&self, collection: &str) -> Vec<(String, Value)> {
        lock(&self.resources)
            .get(collection)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// The best route for `path` (most literal segments), with its parameters; `Err(true)`
    /// when the path is known but not for `method`.
    fn route(&self, method: &Method, path: &str) -> Result<(&Route, HashMap<String, String>), bool> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(usize, &Route, HashMap<String, String>)> = None;
        let mut path_known = false;
        for route in &self.routes {
            let Some(params) = matches(&route.segments, &parts) else { continue };
            path_known = true;
            if route.sample.info.method.as_str() != method.as_str() {
                continue;
            }
            let literals = route.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
            if best.as_ref().is_none_or(|(n, _, _)| literals > *n) {
                best = Some((literals, route, params));
            }
        }
        best.map(|(_, route, params)| (route, params)).ok_or(path_known)
    }
}

fn matches(template: &[Segment], parts: &[&str]) -> Option<HashMap<String, String>> {
    if template.len() != parts.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (segment, part) in template.iter().zip(parts) {
        match segment {
            Segment::Literal(literal) if literal == part => {}
            Segment::Literal(_) => return None,
            Segment::Param { name, prefix, suffix } => {
                let value = part.strip_prefix(prefix.as_str())?.strip_suffix(suffix.as_str())?;
                if value.is_empty() {
                    return None;
                }
                // A path segment is percent-encoded; `+` is a plus there, not a space.
                params.insert(
                    name.clone(),
                    percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned(),
                );
            }
        }
    }
    Some(params)
}

/// The status an operation answers with: 201 for a create and 204 for a delete where the spec
/// lists them, else its first success status.
fn status(sample: &Sample, preferred: u16) -> StatusCode {
    let code = if sample.info.success.contains(&preferred) {
        preferred
    } else {
        sample.info.success.first().copied().unwrap_or(200)
    };
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

/// `stored` laid over the spec's answer, so what was created shows with every member the
/// answer type has.
/// A stored resource as an answer shows it: over the example, inside its `data` where the
/// answer is an envelope (`{meta, data}`, the subscriptions'), without a `secret` (the API
/// never returns one).
fn shown(example: Value, stored: &Value) -> Value {
    let mut stored = stored.clone();
    if let Value::Object(members) = &mut stored {
        members.remove("secret");
    }
    match example {
        Value::Object(mut envelope)
            if envelope.get("data").is_some_and(Value::is_object) && stored.get("data").is_none() =>
        {
            let data = overlay(&envelope["data"], &stored);
            envelope.insert("data".into(), data);
            Value::Object(envelope)
        }
        other => overlay(&other, &stored),
    }
}

fn overlay(base: &Value, stored: &Value) -> Value {
    match (base, stored) {
        (Value::Object(base), Value::Object(stored)) => {
            let mut out = base.clone();
            for (k, v) in stored {
                out.insert(k.clone(), v.clone());
            }
            Value::Object(out)
        }
        (_, stored) => stored.clone(),
    }
}

/// The axum fallback: every request no hand-written route took.
pub(super) async fn fallback(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tracking = tracking(&headers);
    let spec = &shared.spec;
    let (route, params) = match spec.route(&method, uri.path()) {
        Ok(found) => found,
        Err(true) => {
            return echo(
                error_body(StatusCode::METHOD_NOT_ALLOWED, &tracking, "method not allowed"),
                &tracking,
            );
        }
        Err(false) => {
            return echo(error_body(StatusCode::NOT_FOUND, &tracking, "no such resource"), &tracking);
        }
    };
    let admitted = match admit(&shared, &headers, &tracking).await {
        Ok(admitted) => admitted,
        Err(response) => return echo(response, &tracking),
    };
    let answer =
        |status: StatusCode, message: String| echo(error_body(status, &tracking, &message), &tracking);
    let query: HashMap<String, String> =
        uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    for org in ["orgid", "orgId"].iter().filter_map(|k| params.get(*k).or_else(|| query.get(*k))) {
        if *org != shared.config.org_id {
            return answer(StatusCode::FORBIDDEN, "Token is not authorized for this organization".into());
        }
    }
    let sample = &route.sample;
    if let Some(missing) = sample.required_query.iter().find(|name| !query.contains_key(**name)) {
        return answer(StatusCode::BAD_REQUEST, format!("{missing}: required"));
    }
    if let Some(check) = sample.check_body {
        if body.iter().all(u8::is_ascii_whitespace) {
            if sample.body_required {
                return answer(StatusCode::BAD_REQUEST, "body: required".into());
            }
        } else if let Err(e) = check(&body) {
            return answer(StatusCode::BAD_REQUEST, e.to_string());
        }
    }
    let example: Value = serde_json::from_str(sample.response).unwrap_or(Value::Null);
    let json = |status: StatusCode, value: Value| respond(&shared, &headers, status, value, &tracking);
    let path = unversioned(uri.path());
    let path = path.as_str();
    let page = query.get("page").and_then(|p| p.parse::<u64>().ok()).unwrap_or(0);
    let response = match route.role {
        Role::Plain => match example {
            Value::Null => echo(status(sample, 200).into_response(), &tracking),
            example if page > 0 => json(status(sample, 200), emptied(example)),
            example => json(status(sample, 200), example),
        },
        Role::Create => {
            let mut created = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Object(Map::new()));
            let id = match created.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()) {
                Some(id) => id.to_owned(),
                None => uuid(shared.counter.fetch_add(1, Ordering::Relaxed), 0x5bec),
            };
            if let Value::Object(members) = &mut created {
                members.insert("id".into(), Value::String(id.clone()));
            }
            lock(&spec.resources).entry(path.to_owned()).or_default().insert(id, created.clone());
            json(status(sample, 201), shown(example, &created))
        }
        Role::List => {
            let stored: Vec<Value> =
                lock(&spec.resources).get(path).map(|m| m.values().cloned().collect()).unwrap_or_default();
            // Every stored resource on page 0; later pages are empty, so paging ends.
            let stored = if page == 0 { stored } else { Vec::new() };
            let item = |list: &Value| list.as_array().and_then(|a| a.first()).cloned().unwrap_or(Value::Null);
            match example {
                Value::Array(_) => {
                    let base = item(&example);
                    json(
                        status(sample, 200),
                        Value::Array(stored.iter().map(|s| overlay(&base, s)).collect()),
                    )
                }
                Value::Object(mut members) if members.get("data").is_some_and(Value::is_array) => {
                    let base = item(&members["data"]);
                    members.insert(
                        "data".into(),
                        Value::Array(stored.iter().map(|s| overlay(&base, s)).collect()),
                    );
                    json(status(sample, 200), Value::Object(members))
                }
                other => json(status(sample, 200), other),
            }
        }
        Role::Item => {
            // An item template ends in its id parameter, decoded by the match.
            let (Some((collection, _)), Some(Segment::Param { name, .. })) =
                (path.rsplit_once('/'), route.segments.last())
            else {
                return answer(StatusCode::NOT_FOUND, "no such resource".into());
            };
            let id = params.get(name).cloned().unwrap_or_default();
            let mut resources = lock(&spec.resources);
            let Some(stored) = resources.get_mut(collection).and_then(|m| m.get_mut(&id)) else {
                drop(resources);
                if !shared.config.stateful {
                    let answer = match (method.as_str(), example) {
                        ("DELETE", _) | (_, Value::Null) => {
                            echo(status(sample, 204).into_response(), &tracking)
                        }
                        (_, example) => json(status(sample, 200), example),
                    };
                    return admitted.respond(answer);
                }
                return answer(StatusCode::NOT_FOUND, format!("no resource with id {id}"));
            };
            match method.as_str() {
                "GET" => {
                    let value = stored.clone();
                    drop(resources);
                    json(status(sample, 200), shown(example, &value))
                }
                "DELETE" => {
                    resources.get_mut(collection).map(|m| m.remove(&id));
                    drop(resources);
                    echo(status(sample, 204).into_response(), &tracking)
                }
                _ => {
                    let change = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
                    *stored = if method == Method::PATCH { overlay(stored, &change) } else { change };
                    if let Value::Object(members) = stored {
                        members.insert("id".into(), Value::String(id.clone()));
                    }
                    let value = stored.clone();
                    drop(resources);
                    json(status(sample, 200), shown(example, &value))
                }
            }
        }
    };
    admitted.respond(response)
}

#[cfg(all(test, feature = "full"))]
mod tests {
    use super::*;

    #[test]
    fn roles_of_a_resource_group() {
        let spec = Spec::new();
        let role = |method: &str, path: &str| {
            spec.routes
                .iter()
                .find(|r| r.sample.info.method.as_str() == method && r.sample.info.path == path)
                .map(|r| r.role)
        };
        assert_eq!(role("POST", "/organization/{orgid}/contact-service-queue"), Some(Role::Create));
        assert_eq!(role("GET", "/organization/{orgid}/contact-service-queue/{id}"), Some(Role::Item));
        assert_eq!(role("GET", "/organization/{orgid}/v2/contact-service-queue"), Some(Role::List));
        assert_eq!(
            role("POST", "/organization/{orgid}/address-book/{addressBookId}/entry"),
            Some(Role::Create)
        );
        assert_eq!(unversioned("/organization/o/v3/address-book/"), "/organization/o/address-book");
        // Path segments are percent-decoded, a `+` staying a plus (phone numbers).
        let template = segments("/dnc/{number}:check");
        assert_eq!(matches(&template, &["dnc", "%2B1%20555:check"]).unwrap()["number"], "+1 555");
        assert_eq!(matches(&template, &["dnc", "+1555:check"]).unwrap()["number"], "+1555");
        assert!(matches(&template, &["dnc", ":check"]).is_none(), "an empty parameter");
        assert_eq!(unversioned("/v1/tasks"), "/v1/tasks");
    }
}
