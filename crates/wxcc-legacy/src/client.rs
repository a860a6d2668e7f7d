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

/// How to walk an activity chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainOptions {
    /// Event names to try for the next activity, in order of preference. The API offers no
    /// way to learn the next event's name, so the client probes these at the next timestamp
    /// (an assumption documented in the crate guide; extend it with your tenant's events).
    pub candidates: Vec<String>,
    /// Events that end a chain.
    pub end_events: Vec<String>,
    /// Probes in flight at once.
    pub concurrency: usize,
    /// Most activities fetched for one chain.
    pub max_steps: usize,
}

impl Default for ChainOptions {
    fn default() -> Self {
        Self {
            candidates: ["ivr-connected", "parked", "connected", "ended"].map(String::from).to_vec(),
            end_events: vec!["ended".into()],
            concurrency: 4,
            max_steps: 64,
        }
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

    /// Walks the activities of contact session `csr` from its start `cstts`: `new` at the
    /// start, then each next activity at the previous one's `cetts`, probing
    /// [`ChainOptions::candidates`] (at most [`ChainOptions::concurrency`] at once) until an
    /// end event, a missing record or the step limit.
    pub async fn activity_chain(
        &self,
        csr: &str,
        start: EpochMillis,
        options: &ChainOptions,
    ) -> Result<ActivityChain, Error> {
        let mut activities = Vec::new();
        let first = CarId::new(csr, start, "new");
        let Some(record) = self.car(&first).await? else {
            return Ok(ActivityChain { activities, end: ChainEnd::Missing { timestamp: start } });
        };
        let mut current = (first, record);
        loop {
            let ended = options.end_events.contains(&current.0.event);
            let next_ts = current.1.cetts();
            activities.push(current);
            if ended {
                return Ok(ActivityChain { activities, end: ChainEnd::Ended });
            }
            let Some(timestamp) = next_ts else {
                return Ok(ActivityChain { activities, end: ChainEnd::NoEndTimestamp });
            };
            if activities.len() >= options.max_steps {
                return Ok(ActivityChain { activities, end: ChainEnd::StepLimit });
            }
            match self.probe(csr, timestamp, options).await? {
                Some(next) => current = next,
                None => return Ok(ActivityChain { activities, end: ChainEnd::Missing { timestamp } }),
            }
        }
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
