//! An in-process fake of the legacy `/aws/api` on loopback (feature `sim`), for tests and
//! for integrations written in any language.
//!
//! It checks `Authorization` (`<Base64(HMAC-SHA1(key, From))>; tenantId=<id>`, with or
//! without the space) and `From` against its configuration and answers 401 otherwise. It
//! serves generated contact sessions: CSRs and the CARs of each session's activity chain
//! (`new → ivr-connected → parked → connected → ended` by default), by id as JSON, and queries
//! (`?q=` with the Analyzer query JSON) as CSV (`Accept: text/csv`) or JSON, honouring the
//! first date range, `numberOfRecords` and `lastNRecords`. Queued [`Fault`]s (status with
//! `Retry-After`, delay, a connection broken after the call was processed) apply to the next
//! calls, with the meaning every simulator gives them (`cc_core::sim`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cc_core::auth::hmac_sha1_base64;
use cc_core::{EpochMillis, Secret};
use serde_json::{Value, json};

use cc_core::sim::{Admitted, Faults, SimServer};
pub use cc_core::sim::{Fault, Simulator};

use crate::model::{CarId, Query, Record};

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The API key it accepts.
    pub api_key: Secret<String>,
    /// The From login it accepts.
    pub from: String,
    /// The tenant id it accepts.
    pub tenant_id: String,
    /// How many contact sessions to generate.
    pub contacts: usize,
    /// Start of the first session; each next one starts a minute later.
    pub start: EpochMillis,
    /// The events of every session's chain, in order.
    pub chain: Vec<String>,
}

impl SimConfig {
    /// Five sessions from 2021-02-02 (the seed's timestamps), default chain.
    pub fn new(api_key: Secret<String>, from: impl Into<String>, tenant_id: impl Into<String>) -> Self {
        Self {
            api_key,
            from: from.into(),
            tenant_id: tenant_id.into(),
            contacts: 5,
            start: EpochMillis::new(1_612_238_768_144),
            chain: ["new", "ivr-connected", "parked", "connected", "ended"].map(String::from).to_vec(),
        }
    }
}

struct Data {
    faults: Faults,
    requests: std::sync::atomic::AtomicU64,
    signature: String,
    from: String,
    tenant_id: String,
    csrs: Vec<Record>,
    cars: BTreeMap<String, Record>,
}

cc_core::simulator! {
    /// A running simulator; stops when dropped. Start it, reach it and inject faults through
    /// [`Simulator`] (re-exported here): `Sim::start(config)`, `sim.base_url()`, `sim.inject(fault)`.
    pub struct LegacySim { state: Data, config: SimConfig }
}

impl LegacySim {
    async fn launch(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let data = Arc::new(generate(&config));
        let app = Router::new()
            .route("/aws/api/{record_type}", get(query))
            .route("/aws/api/{record_type}/{id}", get(by_id))
            .with_state(data.clone());
        Ok(Self { server: SimServer::bind(addr, app).await?, shared: data })
    }

    /// The generated contact sessions.
    pub fn csrs(&self) -> &[Record] {
        &self.shared.csrs
    }

    /// API requests answered so far (records by id and queries).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn csr_id(i: usize) -> String {
    let n = i as u64 + 1;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        0x74d9_8c29u64 ^ n,
        n,
        n % 0xfff,
        (n * 7) % 0xfff,
        0x0ce0_ae5a_ebb0u64 + n
    )
}

fn generate(config: &SimConfig) -> Data {
    let mut csrs = Vec::new();
    let mut cars = BTreeMap::new();
    for i in 0..config.contacts {
        let sid = csr_id(i);
        let start = config.start.as_i64() + i as i64 * 60_000;
        let mut at = start;
        for (step, event) in config.chain.iter().enumerate() {
            let duration =
                if step + 1 == config.chain.len() { 0 } else { 1_000 * (step as i64 + 1) + i as i64 };
            let id = CarId::new(sid.clone(), EpochMillis::new(at), event.clone()).to_string();
            let record = json!({
                "sid": id, "session": sid, "cstts": at, "cetts": at + duration,
                "currentState__s": event, "duration__l": duration,
            });
            cars.insert(
                id,
                Record::from_fields(record.as_object().cloned().unwrap_or_default().into_iter().collect()),
            );
            at += duration;
        }
        let record = json!({
            "sid": sid, "cstts": start, "cetts": at,
            "ani__s": format!("+1555010{i:04}"), "dnis__s": "+18005550199",
            "agentName__s": format!("Agent {}", i + 1), "queueName__s": "Support, Tier 1",
            "talkDuration__l": (at - start) / 1000, "currentState__s": "ended",
            "wrapupCode__s": if i % 2 == 0 { Value::String("Résolu ✓".into()) } else { Value::Null },
            "skills__sa": ["billing", "fr"],
        });
        csrs.push(Record::from_fields(record.as_object().cloned().unwrap_or_default().into_iter().collect()));
    }
    Data {
        faults: Faults::default(),
        requests: std::sync::atomic::AtomicU64::new(0),
        signature: hmac_sha1_base64(config.api_key.expose_secret().as_bytes(), config.from.as_bytes()),
        from: config.from.clone(),
        tenant_id: config.tenant_id.clone(),
        csrs,
        cars,
    }
}

fn unauthorized(reason: &str) -> Response {
    (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "Unauthorized", "message": reason})))
        .into_response()
}

/// Checks the credentials, then takes the admission step (`cc_core::sim::Faults::admit`):
/// `Err` is the answer to send instead.
async fn admit(data: &Data, headers: &HeaderMap) -> Result<Admitted, Response> {
    data.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    check_auth(data, headers).map_err(unauthorized)?;
    let injected = |status: StatusCode| {
        let body = json!({"error": status.canonical_reason(), "message": "fault injected by the simulator"});
        (status, axum::Json(body)).into_response()
    };
    data.faults.admit(injected).await
}

/// Checks the credentials; the error is the reason given in the 401.
fn check_auth(data: &Data, headers: &HeaderMap) -> Result<(), &'static str> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = text(header::AUTHORIZATION).ok_or("missing Authorization")?;
    let (signature, rest) =
        authorization.split_once(';').ok_or("Authorization must be `<signature>; tenantId=<id>`")?;
    if rest.trim() != format!("tenantId={}", data.tenant_id) {
        return Err("unknown tenant");
    }
    if text(header::FROM) != Some(data.from.as_str()) {
        return Err("From does not match the API key's user");
    }
    if signature.trim() != data.signature {
        return Err("signature does not match");
    }
    Ok(())
}

async fn by_id(
    State(data): State<Arc<Data>>,
    headers: HeaderMap,
    Path((record_type, id)): Path<(String, String)>,
) -> Response {
    match admit(&data, &headers).await {
        Ok(admitted) => admitted.respond(record_by_id(&data, &record_type, &id)),
        Err(refused) => refused,
    }
}

fn record_by_id(data: &Data, record_type: &str, id: &str) -> Response {
    let found = match record_type {
        "csrs" => data.csrs.iter().find(|r| r.sid() == Some(id)),
        "cars" => data.cars.get(id),
        _ => None,
    };
    match found {
        Some(record) => axum::Json(record.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "Not Found", "message": format!("no {record_type} record {id}")})),
        )
            .into_response(),
    }
}

async fn query(
    State(data): State<Arc<Data>>,
    headers: HeaderMap,
    Path(record_type): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    match admit(&data, &headers).await {
        Ok(admitted) => admitted.respond(answer_query(&data, &headers, &record_type, raw.as_deref())),
        Err(refused) => refused,
    }
}

fn answer_query(data: &Data, headers: &HeaderMap, record_type: &str, raw: Option<&str>) -> Response {
    let q = raw.and_then(|raw| {
        form_urlencoded::parse(raw.as_bytes()).find(|(k, _)| k == "q").map(|(_, v)| v.into_owned())
    });
    let Some(q) = q else {
        return (StatusCode::BAD_REQUEST, "missing q").into_response();
    };
    let query: Query = match serde_json::from_str(&q) {
        Ok(query) => query,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("q is not a query: {e}")).into_response(),
    };
    let source: Vec<&Record> = match record_type {
        "csrs" => data.csrs.iter().collect(),
        "cars" => data.cars.values().collect(),
        _ => Vec::new(),
    };
    // The simulator's reading of a session filter (the seed documents none): any value filter
    // `{"field": "session", "value": <id>}` keeps that session's records.
    let sessions: Vec<&str> = query
        .aggregations
        .iter()
        .flat_map(|a| &a.filter_groups)
        .flat_map(|g| &g.value_filters)
        .filter(|f| f.get("field").and_then(Value::as_str) == Some("session"))
        .filter_map(|f| f.get("value").and_then(Value::as_str))
        .collect();
    let source: Vec<&Record> = source
        .into_iter()
        .filter(|r| sessions.is_empty() || r.session().is_some_and(|s| sessions.contains(&s)))
        .collect();
    let (begin, end) = query.range().unwrap_or((EpochMillis::new(i64::MIN), EpochMillis::new(i64::MAX)));
    let mut rows: Vec<&Record> =
        source.into_iter().filter(|r| r.cstts().is_some_and(|t| begin <= t && t < end)).collect();
    let limit = usize::try_from(query.number_of_records).unwrap_or(usize::MAX);
    if rows.len() > limit {
        rows = if query.last_n_records {
            rows.split_off(rows.len() - limit)
        } else {
            rows.into_iter().take(limit).collect()
        };
    }
    let wants_csv =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/csv"));
    if wants_csv {
        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], to_csv(&rows)).into_response()
    } else {
        axum::Json(rows).into_response()
    }
}

fn to_csv(rows: &[&Record]) -> String {
    let mut columns: Vec<&String> = rows.iter().flat_map(|r| r.fields().keys()).collect();
    columns.sort();
    columns.dedup();
    let cell = |v: Option<&Value>| -> String {
        let text = match v {
            None | Some(Value::Null) => "null".to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    };
    let mut out =
        columns.iter().map(|c| cell(Some(&Value::String((*c).clone())))).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&columns.iter().map(|c| cell(row.fields().get(*c))).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}
