//! The client (feature `client`): HMAC authentication, records by id, queries as streaming
//! CSV or JSON, and activity chains.

use std::sync::Arc;
use std::time::Duration;

use cc_core::auth::{StaticAuth, hmac_sha1_base64};
use cc_core::http::{Executor, Request, RetryPolicy, StreamingResponse};
use cc_core::{EpochMillis, Secret};
use serde_json::Value;

use crate::csv::CsvDecoder;
use crate::error::Error;
use crate::model::{CarId, Query, Record, RecordType};

/// The default host (the only one the seed names; others are configurable).
pub const DEFAULT_BASE_URL: &str = "https://rest.wxcc-us1.cisco.com";

/// What goes between the signature and `tenantId=` in `Authorization`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Separator {
    /// `<sig>; tenantId=<id>`: how Cisco's own client code sends it (default).
    #[default]
    SemicolonSpace,
    /// `<sig>;tenantId=<id>`: how the seed writes it.
    Semicolon,
}

impl Separator {
    fn as_str(self) -> &'static str {
        match self {
            Self::SemicolonSpace => "; ",
            Self::Semicolon => ";",
        }
    }
}

/// Client settings.
#[derive(Clone, Debug)]
pub struct LegacyConfig {
    /// Scheme and host, e.g. [`DEFAULT_BASE_URL`] or a simulator's URL.
    pub base_url: String,
    /// The user's API key (the HMAC key).
    pub api_key: Secret<String>,
    /// The user's login, sent as `From` and signed.
    pub from: String,
    /// The tenant id.
    pub tenant_id: String,
    /// Separator before `tenantId=`.
    pub separator: Separator,
    /// Time one attempt may take (default 60 s: reports can be slow).
    pub attempt_timeout: Duration,
    /// Retry limits (every call is a GET: retried on 429, 5xx, resets and timeouts).
    pub retry: RetryPolicy,
}

impl LegacyConfig {
    /// Settings for the default host.
    pub fn new(api_key: Secret<String>, from: impl Into<String>, tenant_id: impl Into<String>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            api_key,
            from: from.into(),
            tenant_id: tenant_id.into(),
            separator: Separator::default(),
            attempt_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }

    /// Uses another host.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The `Authorization` value: computed once, it never changes for a user.
    pub fn authorization(&self) -> Secret<String> {
        let signature = hmac_sha1_base64(self.api_key.expose_secret().as_bytes(), self.from.as_bytes());
        Secret::new(format!("{signature}{}tenantId={}", self.separator.as_str(), self.tenant_id))
    }
}

/// Activity event names to probe, lifecycle first: the seed's CAR events (`new`,
/// `ivr-connected`, `parked`, `connected`, `ended`) and the activity events a public Webex CC
/// reporting tool labels (sources in the crate guide). That CAR ids use the latter names is
/// an assumption (the seed's four match). The set is open: extend
/// [`ChainOptions::candidates`] with your tenant's.
pub const KNOWN_EVENTS: &[&str] = &[
    "ivr-connected",
    "flow-started",
    "flow-activity",
    "flow-handoff",
    "ivr-done",
    "treatment-activity",
    "queued",
    "dequeued",
    "parked",
    "connect",
    "connected",
    "on-hold",
    "hold-done",
    "WrapUp",
    "wrapup-completed",
    "Transferred",
    "blind-transfer",
    "vt-transfer",
    "con-to-agent-error",
    "primary-owner-left",
    "recording-started",
    "recording-available",
    "va-recording-available",
    "rtt-enabled",
    "bnr-started",
    "bnr-ended",
    "assistance-feature-usage",
    "monitoring-started",
    "monitoring-ended",
    "skill-updated",
    "ended",
];

/// How to walk an activity chain.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainOptions {
    /// Event names to try for the next activity, in order of preference (default
    /// [`KNOWN_EVENTS`]). The record API offers no way to learn the next event's name, so the
    /// client probes these at the next timestamp; the first in this order that exists wins.
    pub candidates: Vec<String>,
    /// Events that end a chain.
    pub end_events: Vec<String>,
    /// Probes in flight at once (default 8).
    pub concurrency: usize,
    /// Most activities fetched for one chain.
    pub max_steps: usize,
    /// Ask for the whole chain with one `cars` query first (see [`ChainQuery`]); probing
    /// continues from where its answer stops, and does everything when it fails.
    pub query: Option<ChainQuery>,
}

impl Default for ChainOptions {
    fn default() -> Self {
        Self {
            candidates: KNOWN_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
            end_events: vec!["ended".into()],
            concurrency: 8,
            max_steps: 64,
            query: None,
        }
    }
}

/// One `cars` query for a session's activities.
///
/// **Assumption:** the seed shows queries with empty `valueFilters` only; how to filter by
/// session is not documented. `session_filter` is added to the first filter group with `{csr}`
/// replaced by the session id — by default `{"field":"session","operator":"EQUALS","value":"{csr}"}`,
/// our guess; copy the real one from an Analyzer request. Whatever comes back is kept only if
/// its `session` is the contact session, so a filter the API ignores costs a larger answer, not
/// a wrong chain.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainQuery {
    /// The query to send (anchor id, time zone, …); its range is set to the session's.
    pub template: Query,
    /// The session filter, with `{csr}` where the id goes.
    pub session_filter: Value,
    /// How long after the session's start its activities are looked for (default 24 h).
    pub window: std::time::Duration,
}

impl ChainQuery {
    /// A chain query on report `anchor_id` with the assumed session filter.
    pub fn new(anchor_id: impl Into<String>) -> Self {
        Self {
            template: Query::new(anchor_id, EpochMillis::new(0), EpochMillis::new(0)),
            session_filter: serde_json::json!({"field": "session", "operator": "EQUALS", "value": "{csr}"}),
            window: std::time::Duration::from_secs(24 * 3600),
        }
    }

    fn for_session(&self, csr: &str, start: EpochMillis) -> Query {
        let window = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        let mut query = self.template.clone();
        query.date_begin = vec![start.as_i64()];
        query.date_end = vec![start.as_i64().saturating_add(window)];
        let filter = fill(&self.session_filter, csr);
        match query.aggregations.first_mut().and_then(|a| a.filter_groups.first_mut()) {
            Some(group) => group.value_filters.push(filter),
            None => {
                let mut column = crate::model::Aggregation::value(0, "sid");
                column.filter_groups[0].value_filters.push(filter);
                query.aggregations.insert(0, column);
            }
        }
        query
    }
}

/// `template` with every `{csr}` in its strings replaced.
fn fill(template: &Value, csr: &str) -> Value {
    match template {
        Value::String(s) => Value::String(s.replace("{csr}", csr)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, csr)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), fill(v, csr))).collect()),
        other => other.clone(),
    }
}

/// Why a chain stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainEnd {
    /// An end event was reached.
    Ended,
    /// No record exists for any candidate at this timestamp (or the first `new` is missing).
    Missing {
        /// The timestamp probed.
        timestamp: EpochMillis,
    },
    /// The last activity has no `cetts`, so the next cannot be addressed.
    NoEndTimestamp,
    /// [`ChainOptions::max_steps`] activities were fetched.
    StepLimit,
}

/// The activities of one contact session, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityChain {
    /// Each activity with its id.
    pub activities: Vec<(CarId, Record)>,
    /// Why the walk stopped.
    pub end: ChainEnd,
    /// How many of the activities came from the `cars` query (the rest were probed).
    pub from_query: usize,
    /// Why the `cars` query failed, when it did (probing did the whole walk).
    pub query_error: Option<String>,
}

/// The legacy reporting client. Cheap to clone.
#[derive(Clone)]
pub struct LegacyClient {
    http: Executor,
    base: Arc<str>,
    from: Arc<str>,
    tenant_id: Arc<str>,
    separator: Separator,
}

impl std::fmt::Debug for LegacyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyClient")
            .field("base", &self.base)
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}

impl LegacyClient {
    /// A client; the signature is computed here, once.
    pub fn new(config: LegacyConfig) -> Result<Self, Error> {
        let auth = StaticAuth::new(vec![
            ("authorization".into(), config.authorization()),
            ("from".into(), Secret::new(config.from.clone())),
        ]);
        let http = Executor::builder()
            .error_decoder(std::sync::Arc::new(crate::error::ERROR_DECODER))
            .auth(Arc::new(auth))
            .attempt_timeout(config.attempt_timeout)
            .retry_policy(config.retry)
            .build()
            .map_err(Error::Http)?;
        Ok(Self {
            http,
            base: config.base_url.trim_end_matches('/').into(),
            from: config.from.into(),
            tenant_id: config.tenant_id.into(),
            separator: config.separator,
        })
    }

    /// `{base}/aws/api/{type}/{id}` (the id percent-encoded as a path segment).
    pub fn record_url(&self, record_type: &RecordType, id: &str) -> String {
        let id = percent_encoding::utf8_percent_encode(id, PATH_SEGMENT);
        format!("{}/aws/api/{}/{id}", self.base, record_type.as_str())
    }

    /// `{base}/aws/api/{type}?q=<query JSON, percent-encoded once>`.
    pub fn query_url(&self, record_type: &RecordType, query: &Query) -> String {
        format!("{}/aws/api/{}?q={}", self.base, record_type.as_str(), query.encoded())
    }

    /// One record by id as JSON; `None` when the API answers 404.
    pub async fn record(&self, record_type: &RecordType, id: &str) -> Result<Option<Record>, Error> {
        let request = Request::get(self.record_url(record_type, id))
            .operation("wxcc-legacy.record")
            .header("accept", "application/json");
        match self.http.send(&request).await {
            Ok(response) => {
                let value: Value = response.json().map_err(Error::Http)?;
                single_record(value, "wxcc-legacy.record").map(Some)
            }
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(self.map_error(e)),
        }
    }

    /// A CAR by id; `None` when it does not exist.
    pub async fn car(&self, id: &CarId) -> Result<Option<Record>, Error> {
        self.record(&RecordType::Cars, &id.to_string()).await
    }

    /// Runs a query with `Accept: text/csv` and streams the rows: memory holds one chunk and
    /// one record at a time, however many rows the result has.
    pub async fn query_csv(&self, record_type: &RecordType, query: &Query) -> Result<RecordStream, Error> {
        let request = Request::get(self.query_url(record_type, query))
            .operation("wxcc-legacy.query")
            .header("accept", "text/csv");
        let response = self.http.send_streaming(&request).await.map_err(|e| self.map_error(e))?;
        Ok(RecordStream { response, decoder: CsvDecoder::new(), done: false })
    }

    /// Runs a query with `Accept: application/json`. The JSON result's shape is not in the
    /// seed: a top-level array of records is read, or the first array of objects inside a
    /// top-level object (an assumption, see the crate guide).
    pub async fn query_json(&self, record_type: &RecordType, query: &Query) -> Result<Vec<Record>, Error> {
        let request = Request::get(self.query_url(record_type, query))
            .operation("wxcc-legacy.query")
            .header("accept", "application/json");
        let value: Value = self.http.send_json(&request).await.map_err(|e| self.map_error(e))?;
        record_list(value, "wxcc-legacy.query")
    }

    /// Walks the activities of contact session `csr` from its start `cstts`: with
    /// [`ChainOptions::query`], one `cars` query first; then `new` at the start (or the
    /// query's last activity), each next activity at the previous one's `cetts`, probing
    /// [`ChainOptions::candidates`] (at most [`ChainOptions::concurrency`] at once) until an
    /// end event, a missing record or the step limit.
    pub async fn activity_chain(
        &self,
        csr: &str,
        start: EpochMillis,
        options: &ChainOptions,
    ) -> Result<ActivityChain, Error> {
        // The query is an optimisation: when it fails, probing does everything.
        let (mut activities, query_error) = match &options.query {
            Some(query) => match self.queried_chain(csr, start, query, options).await {
                Ok(found) => (found, None),
                Err(error) => (Vec::new(), Some(error.to_string())),
            },
            None => (Vec::new(), None),
        };
        let from_query = activities.len();
        let mut current = match activities.pop() {
            Some(last) => last,
            None => {
                let first = CarId::new(csr, start, "new");
                let Some(record) = self.car(&first).await? else {
                    return Ok(ActivityChain {
                        activities,
                        end: ChainEnd::Missing { timestamp: start },
                        from_query,
                        query_error,
                    });
                };
                (first, record)
            }
        };
        let end = loop {
            let ended = options.end_events.contains(&current.0.event);
            let next_ts = current.1.cetts();
            activities.push(current);
            if ended {
                break ChainEnd::Ended;
            }
            let Some(timestamp) = next_ts else { break ChainEnd::NoEndTimestamp };
            if activities.len() >= options.max_steps {
                break ChainEnd::StepLimit;
            }
            match self.probe(csr, timestamp, options).await? {
                Some(next) => current = next,
                None => break ChainEnd::Missing { timestamp },
            }
        };
        Ok(ActivityChain { activities, end, from_query, query_error })
    }

    /// The session's activities from one `cars` query: those whose `session` is `csr` and
    /// whose `sid` is a CAR id, by start time, from `new` on and as long as each starts where
    /// the previous ended.
    async fn queried_chain(
        &self,
        csr: &str,
        start: EpochMillis,
        query: &ChainQuery,
        options: &ChainOptions,
    ) -> Result<Vec<(CarId, Record)>, Error> {
        let records = self.query_json(&RecordType::Cars, &query.for_session(csr, start)).await?;
        let mut found: Vec<(CarId, Record)> = records
            .into_iter()
            .filter(|r| r.session() == Some(csr))
            .filter_map(|r| Some((r.sid()?.parse::<CarId>().ok()?, r)))
            .collect();
        found.sort_by_key(|(_, r)| r.cstts());
        let mut chain: Vec<(CarId, Record)> = Vec::new();
        for (id, record) in found {
            let follows = match chain.last() {
                None => id.event == "new" && record.cstts() == Some(start),
                Some((_, previous)) => previous.cetts().is_some() && previous.cetts() == record.cstts(),
            };
            if !follows || chain.len() >= options.max_steps {
                break;
            }
            let ended = options.end_events.contains(&id.event);
            chain.push((id, record));
            if ended {
                break;
            }
        }
        Ok(chain)
    }

    /// Tries the candidates at `timestamp`, `concurrency` at a time; the first in candidate
    /// order that exists wins.
    async fn probe(
        &self,
        csr: &str,
        timestamp: EpochMillis,
        options: &ChainOptions,
    ) -> Result<Option<(CarId, Record)>, Error> {
        for batch in options.candidates.chunks(options.concurrency.max(1)) {
            let mut tasks = tokio::task::JoinSet::new();
            for (position, event) in batch.iter().enumerate() {
                let client = self.clone();
                let id = CarId::new(csr, timestamp, event.clone());
                tasks.spawn(async move { (position, client.car(&id).await.map(|r| r.map(|r| (id, r)))) });
            }
            let mut found: Vec<(usize, (CarId, Record))> = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                let (position, result) = joined.map_err(|e| Error::UnexpectedResponse {
                    operation: "wxcc-legacy.activity_chain",
                    message: format!("probe task failed: {e}"),
                })?;
                if let Some(hit) = result? {
                    found.push((position, hit));
                }
            }
            if let Some((_, hit)) = found.into_iter().min_by_key(|(position, _)| *position) {
                return Ok(Some(hit));
            }
        }
        Ok(None)
    }

    fn map_error(&self, error: cc_core::http::Error) -> Error {
        match error.as_api() {
            Some(api) if api.status == 401 => Error::Unauthorized {
                operation: api.operation,
                from: self.from.to_string(),
                tenant_id: self.tenant_id.to_string(),
                separator: self.separator.as_str(),
                body: api.body.chars().take(300).collect(),
            },
            _ => Error::Http(error),
        }
    }
}

/// Path segments keep unreserved characters only.
const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn single_record(value: Value, operation: &'static str) -> Result<Record, Error> {
    match value {
        Value::Object(map) => Ok(Record::from_fields(map.into_iter().collect())),
        Value::Array(mut items) if items.len() == 1 => single_record(items.remove(0), operation),
        other => Err(Error::UnexpectedResponse {
            operation,
            message: format!("expected a record object, got {}", kind(&other)),
        }),
    }
}

fn record_list(value: Value, operation: &'static str) -> Result<Vec<Record>, Error> {
    let items = match value {
        Value::Array(items) => items,
        Value::Object(map) => match map.into_iter().find_map(|(_, v)| match v {
            Value::Array(items) if items.iter().all(Value::is_object) => Some(items),
            _ => None,
        }) {
            Some(items) => items,
            None => {
                return Err(Error::UnexpectedResponse {
                    operation,
                    message: "an object without a list of records".into(),
                });
            }
        },
        other => {
            return Err(Error::UnexpectedResponse {
                operation,
                message: format!("expected records, got {}", kind(&other)),
            });
        }
    };
    items.into_iter().map(|v| single_record(v, operation)).collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Rows of a CSV query result, decoded as the bytes arrive.
#[derive(Debug)]
pub struct RecordStream {
    response: StreamingResponse,
    decoder: CsvDecoder,
    done: bool,
}

impl RecordStream {
    /// The next row; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Record, Error>> {
        loop {
            if let Some(record) = self.decoder.next_record() {
                return Some(Ok(record));
            }
            if self.done {
                return None;
            }
            let step = match self.response.chunk().await {
                Ok(Some(chunk)) => self.decoder.feed(&chunk),
                Ok(None) => {
                    self.done = true;
                    self.decoder.finish()
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(Error::Http(e)));
                }
            };
            if let Err(e) = step {
                self.done = true;
                return Some(Err(e.into()));
            }
        }
    }

    /// The column names, once the header arrived.
    pub fn columns(&self) -> Option<&[String]> {
        self.decoder.columns()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_query_is_the_template_with_the_session_range_and_filter() {
        let query = ChainQuery::new("11894").for_session("74d98c29-csr", EpochMillis::new(1_612_238_768_144));
        let json: Value = serde_json::from_str(&query.to_json()).unwrap();
        assert_eq!(json["anchorId"], "11894");
        assert_eq!(json["dateBegin"], serde_json::json!([1_612_238_768_144i64]));
        assert_eq!(json["dateEnd"], serde_json::json!([1_612_238_768_144i64 + 86_400_000]));
        assert_eq!(
            json["aggregations"][0]["filterGroups"][0]["valueFilters"],
            serde_json::json!([{"field": "session", "operator": "EQUALS", "value": "74d98c29-csr"}])
        );
        let mut custom = ChainQuery::new("1");
        custom.template.aggregations.clear();
        custom.session_filter = serde_json::json!({"name": "session", "values": ["{csr}", "x{csr}"]});
        let json: Value =
            serde_json::from_str(&custom.for_session("s-1", EpochMillis::new(0)).to_json()).unwrap();
        assert_eq!(
            json["aggregations"][0]["filterGroups"][0]["valueFilters"][0],
            serde_json::json!({"name": "session", "values": ["s-1", "xs-1"]}),
            "every {{csr}} in the template, and a column made when the template has none"
        );
    }
}
