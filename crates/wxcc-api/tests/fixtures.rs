//! Snapshot tests over `fixtures/wxcc/`: every response model parsed from the spec's examples
//! and edge cases, the requests the client builds (query strings and bodies), the sites CSV.
//! Run through `cargo xtask test-fixtures`. The kind is the second part of the file name.
#![cfg(feature = "reporting")]

use std::sync::Arc;

use async_trait::async_trait;
use cc_core::auth::{AuthError, Token, TokenCache, TokenSource};
use cc_core::de::parse_json;
use cc_core::http::ErrorDecoder;
use cc_core::{EpochMillis, Secret};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wxcc_api::api::Operation;
use wxcc_api::auth::Region;
use wxcc_api::model::{
    AgentActivityPage, AgentStatisticsPage, ApiErrorBody, BulkExport, BulkRequest, BulkResponse, CaptureList,
    CaptureQueryBody, ChannelType, PageInfo, QueueStatisticsPage, SearchRequest, SearchResponse, Site,
    SitePage, TaskPage,
};
use wxcc_api::query::{ActivityQuery, Captures, Interval, StatisticsQuery, TaskQuery};
use wxcc_api::{WxccClient, WxccConfig};

struct NoTokens;

#[async_trait]
impl TokenSource for NoTokens {
    async fn fetch(&self, _: Option<&Token>) -> Result<Token, AuthError> {
        Err(AuthError::Other("fixtures never send".into()))
    }
}

fn client() -> WxccClient {
    let auth = Arc::new(TokenCache::new(NoTokens));
    WxccClient::new(WxccConfig::new(Region::Us1), auth).unwrap()
}

fn parsed<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Value {
    match parse_json::<T>(bytes) {
        Ok(model) => serde_json::to_value(model).unwrap(),
        Err(err) => json!({"error": err.to_string(), "path": err.path}),
    }
}

/// The request `op` is sent as, as text, with the random tracking id replaced.
fn described<O: Operation>(client: &WxccClient, op: Result<O, wxcc_api::Error>, org: &str) -> Value {
    match op.and_then(|op| client.operation_request(&op, org)) {
        Ok(request) => {
            let tracking = request.header_value("TrackingId").unwrap().to_owned();
            assert!(tracking.starts_with("cckit_") && tracking.len() == "cckit_".len() + 36, "{tracking}");
            Value::from(request.describe().replace(&tracking, "cckit_<uuid>"))
        }
        Err(err) => json!({"refused": err.to_string()}),
    }
}

fn ms(v: &Value) -> EpochMillis {
    EpochMillis::new(v.as_i64().unwrap())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect()).unwrap_or_default()
}

fn build(client: &WxccClient, spec: &Value) -> Value {
    let org = "97cdbf45-ebe2-4687-8341-44d5c7abf101";
    let channels =
        || strings(&spec["channelTypes"]).iter().map(|c| ChannelType::parse(c)).collect::<Vec<_>>();
    match spec["call"].as_str().unwrap() {
        "tasks" => {
            let mut q = TaskQuery::new(ms(&spec["from"]), EpochMillis::new(0)).channels(channels());
            q.to = spec.get("to").map(ms);
            q.page_size = spec["pageSize"].as_u64().map(|n| n as u32);
            q.org_id = spec["orgId"].as_str().map(str::to_owned);
            described(client, q.operation(), org)
        }
        kind @ ("queue-statistics" | "agent-statistics") => {
            match Interval::from_minutes(spec["interval"].as_u64().unwrap() as u32) {
                Ok(interval) => {
                    let q = StatisticsQuery::new(ms(&spec["from"]), ms(&spec["to"]), interval)
                        .ids(strings(&spec["ids"]));
                    if kind == "queue-statistics" {
                        described(client, q.queues(), org)
                    } else {
                        described(client, q.agents(), org)
                    }
                }
                Err(err) => json!({"refused": err.to_string()}),
            }
        }
        "activities" => {
            let mut q =
                ActivityQuery::new(ms(&spec["from"]), ms(&spec["to"])).agents(strings(&spec["agentIds"]));
            q.channel_types = channels();
            q.page_size = spec["pageSize"].as_u64().map(|n| n as u32);
            described(client, q.operation(spec["page"].as_u64().unwrap() as u32), org)
        }
        "captures" => {
            let mut q = Captures::of(strings(&spec["taskIds"]));
            q.url_expiration = spec["urlExpiration"].as_u64().map(|n| n as u32);
            q.include_segments = spec["includeSegments"].as_bool();
            match q.operations(org) {
                Ok(ops) => Value::Array(ops.into_iter().map(|op| described(client, Ok(op), org)).collect()),
                Err(err) => json!({"refused": err.to_string()}),
            }
        }
        "create-site" => {
            let site: Site = serde_json::from_value(spec["site"].clone()).unwrap();
            described(client, WxccClient::create_site_operation(&site, org), org)
        }
        "update-site" => {
            let site: Site = serde_json::from_value(spec["site"].clone()).unwrap();
            described(client, WxccClient::update_site_operation(&site), org)
        }
        "search" => {
            let request: SearchRequest = serde_json::from_value(spec.clone()).unwrap();
            described(client, WxccClient::search_operation(&request), org)
        }
        other => panic!("unknown call {other}"),
    }
}

fn socket_frame(text: &str) -> Value {
    use wxcc_api::model::notification::{Frame, parse_frame};
    match parse_frame(text) {
        Ok(Frame::Keepalive) => json!("keepalive"),
        Ok(Frame::Message(m)) => json!({
            "message": m,
            "data_type": m.data_type().map(|t| t.to_string()),
            "agent_id": m.agent_id(),
            "interaction_id": m.interaction_id(),
            "failure": m.failure().map(|f| json!({"reason_code": f.reason_code, "reason": f.reason})),
        }),
        Err(err) => json!({"error": err.to_string(), "path": err.path}),
    }
}

fn report(kind: &str, bytes: &[u8]) -> Value {
    match kind {
        "tasks" => parsed::<TaskPage>(bytes),
        "event" => match wxcc_api::model::events::parse_event(bytes) {
            Ok(event) => {
                json!({"event": event, "subscription": event.subscription_id(), "time": event.time()})
            }
            Err(err) => json!({"error": err.to_string(), "path": err.path}),
        },
        // A list of frames of the notification socket, each read as the client reads it.
        "socket" => {
            let frames: Vec<Value> = serde_json::from_slice(bytes).unwrap();
            Value::Array(frames.iter().map(|frame| socket_frame(&frame.to_string())).collect())
        }
        "queue-statistics" => parsed::<QueueStatisticsPage>(bytes),
        "agent-statistics" => parsed::<AgentStatisticsPage>(bytes),
        "activities" => parsed::<AgentActivityPage>(bytes),
        "captures" => parsed::<CaptureList>(bytes),
        "capture-query" => parsed::<CaptureQueryBody>(bytes),
        "site" => {
            let site = parse_json::<Site>(bytes).unwrap();
            json!({"model": site, "validate": site.validate().err()})
        }
        "sites" => parsed::<Vec<Site>>(bytes),
        "sites-page" => match parse_json::<SitePage>(bytes) {
            Ok(page) => json!({"model": page, "has_next": page.meta.has_next()}),
            Err(e) => json!({"error": e.to_string()}),
        },
        "bulk-request" => parsed::<BulkRequest>(bytes),
        "bulk-response" => {
            let response = parse_json::<BulkResponse>(bytes).unwrap();
            let success: Vec<bool> = response.items.iter().map(|r| r.is_success()).collect();
            json!({"model": response, "success": success})
        }
        "bulk-export" => parsed::<BulkExport>(bytes),
        "search" => {
            let response = parse_json::<SearchResponse>(bytes).unwrap();
            let page_info: Option<PageInfo> = response.data.as_ref().and_then(|d| {
                d.as_object()?.values().find_map(|v| serde_json::from_value(v.get("pageInfo")?.clone()).ok())
            });
            let errors: Vec<String> = response.errors.iter().map(ToString::to_string).collect();
            json!({"model": response, "page_info": page_info, "errors_displayed": errors})
        }
        "search-request" => parsed::<SearchRequest>(bytes),
        "error" => {
            let bodies = match serde_json::from_slice::<Value>(bytes).unwrap() {
                Value::Array(many) => many,
                one => vec![one],
            };
            let out: Vec<Value> = bodies
                .iter()
                .map(|body| {
                    let raw = serde_json::to_vec(body).unwrap();
                    let vendor = wxcc_api::error::ERROR_DECODER.decode(400, &raw);
                    json!({
                        "typed": parsed::<ApiErrorBody>(&raw),
                        "decoded": {"code": vendor.code, "message": vendor.message, "tracking_id": vendor.tracking_id},
                    })
                })
                .collect();
            Value::Array(out)
        }
        "token" => {
            let token: Token = parse_json(bytes).unwrap();
            let access = token.access_token().expose_secret();
            json!({
                "access_token_chars": access.len(),
                "expires_in_s": token.expires_in().map(|d| d.as_secs()),
                "has_refresh_token": token.refresh_token().is_some(),
                "refresh_token_expires_in_s": token.refresh_token_expires_in().map(|d| d.as_secs()),
                "scope": token.scope(),
                "org_id_from_token": wxcc_api::auth::org_id_from_token(access),
                "debug_redacts": !format!("{token:?}").contains(access.as_str()),
            })
        }
        "sites-csv" => match wxcc_api::csv::sites_bulk_request(std::str::from_utf8(bytes).unwrap()) {
            Ok(bulk) => serde_json::to_value(bulk).unwrap(),
            Err(wxcc_api::Error::Csv(rows)) => {
                Value::Array(rows.iter().map(|r| json!({"line": r.line, "message": r.message})).collect())
            }
            Err(other) => json!({"error": other.to_string()}),
        },
        "requests" => {
            let specs: Vec<Value> = serde_json::from_slice(bytes).unwrap();
            let client = client();
            Value::Array(
                specs.iter().map(|spec| json!({"spec": spec, "built": build(&client, spec)})).collect(),
            )
        }
        other => panic!("no parser for fixture kind `{other}`"),
    }
}

#[test]
fn wxcc_fixtures() {
    insta::glob!("../../../fixtures", "wxcc/*.*", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "sources.txt" {
            return;
        }
        let kind = name.split('.').nth(1).unwrap_or_default().to_owned();
        let bytes = std::fs::read(path).unwrap();
        insta::assert_json_snapshot!(report(&kind, &bytes));
    });
}

#[test]
fn secrets_stay_out_of_debug() {
    let integration =
        wxcc_api::auth::Integration::new("C1", Secret::from("client-secret-value"), "https://a/b");
    assert!(!format!("{integration:?}").contains("client-secret-value"));
}
