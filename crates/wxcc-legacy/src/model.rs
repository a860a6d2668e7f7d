//! Records, record types, CAR ids and the query JSON of the legacy `/aws/api`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use cc_core::{EpochMillis, open_enum};
use serde::{Deserialize, Serialize};
use serde_json::Value;

open_enum! {
    /// A record type: the path segment after `/aws/api/`.
    pub enum RecordType {
        /// Contact session records.
        Csrs = "csrs",
        /// Contact activity records.
        Cars = "cars",
        /// Agent session records.
        Asrs = "asrs",
        /// Agent activity records.
        Aars = "aars",
    }
}

/// A record (CSR, CAR, ASR or AAR), from JSON or a CSV row. Every column is kept.
///
/// Field names follow a suffix convention for their type — `__s` string, `__l` long, `__i`
/// int, `__d` double, `__sa` string array — beside plain keys (`sid`, `cstts`, `cetts`,
/// `session`). The typed getters take the base name (`long("talkDuration")` reads
/// `talkDuration__l`) and accept numbers sent as text. Empty cells and the literal `null` read
/// as absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Record {
    fields: BTreeMap<String, Value>,
}

impl Record {
    /// A record from its fields.
    pub fn from_fields(fields: BTreeMap<String, Value>) -> Self {
        Self { fields }
    }

    /// All fields as received.
    pub fn fields(&self) -> &BTreeMap<String, Value> {
        &self.fields
    }

    /// A field by its exact name; `None` when absent, empty or `null`.
    pub fn raw(&self, name: &str) -> Option<&Value> {
        match self.fields.get(name)? {
            Value::Null => None,
            Value::String(s) if s.is_empty() || s == "null" => None,
            v => Some(v),
        }
    }

    /// Text of `name`, or of `name__s`.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.raw(name).or_else(|| self.raw(&format!("{name}__s"))).and_then(Value::as_str)
    }

    /// `name__l` as an integer.
    pub fn long(&self, name: &str) -> Option<i64> {
        self.raw(&format!("{name}__l")).and_then(as_i64)
    }

    /// `name__i` as an integer.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.raw(&format!("{name}__i")).and_then(as_i64)
    }

    /// `name__d` as a float.
    pub fn double(&self, name: &str) -> Option<f64> {
        match self.raw(&format!("{name}__d"))? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// `name__sa` as a list. A JSON array (as JSON records carry it, or as text in a CSV
    /// cell) gives its elements; any other text is one element (an assumption: the CSV
    /// form of arrays is not documented).
    pub fn string_array(&self, name: &str) -> Option<Vec<String>> {
        let scalar = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match self.raw(&format!("{name}__sa"))? {
            Value::Array(items) => Some(items.iter().map(scalar).collect()),
            Value::String(text) => match serde_json::from_str::<Vec<Value>>(text) {
                Ok(items) => Some(items.iter().map(scalar).collect()),
                Err(_) => Some(vec![text.clone()]),
            },
            other => Some(vec![scalar(other)]),
        }
    }

    /// `sid`: the record id.
    pub fn sid(&self) -> Option<&str> {
        self.raw("sid").and_then(Value::as_str)
    }

    /// `cstts`: contact (or activity) start, epoch ms.
    pub fn cstts(&self) -> Option<EpochMillis> {
        self.raw("cstts").and_then(as_i64).map(EpochMillis::new)
    }

    /// `cetts`: contact (or activity) end, epoch ms.
    pub fn cetts(&self) -> Option<EpochMillis> {
        self.raw("cetts").and_then(as_i64).map(EpochMillis::new)
    }

    /// `session`: on a CAR, the CSR it belongs to.
    pub fn session(&self) -> Option<&str> {
        self.raw("session").and_then(Value::as_str)
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        }
        _ => None,
    }
}

/// A contact activity record id: `{csrId}-{timestamp}-{event}`, e.g.
/// `74d98c29-39b4-4e1e-81fa-0ce0ae5aebb0-1612238769933-ivr-connected`.
///
/// The CSR id contains dashes and so may the event, so parsing looks for the timestamp: the
/// **rightmost** dash-separated segment of at least 10 digits that has a CSR id before it
/// and an event after it (event names are words, never long numbers).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CarId {
    /// The CSR (contact session) id.
    pub csr: String,
    /// The activity's start, epoch ms (the previous activity's `cetts`).
    pub timestamp: EpochMillis,
    /// The event name (`new`, `ivr-connected`, `parked`, `ended`…).
    pub event: String,
}

impl CarId {
    /// Builds an id.
    pub fn new(csr: impl Into<String>, timestamp: EpochMillis, event: impl Into<String>) -> Self {
        Self { csr: csr.into(), timestamp, event: event.into() }
    }
}

impl fmt::Display for CarId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.csr, self.timestamp.as_i64(), self.event)
    }
}

/// A string that is not a CAR id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a CAR id of the form {{csrId}}-{{epochMillis}}-{{event}}")]
pub struct InvalidCarId(pub String);

impl FromStr for CarId {
    type Err = InvalidCarId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidCarId(s.to_owned());
        let segments: Vec<&str> = s.split('-').collect();
        let index = (1..segments.len().saturating_sub(1))
            .rev()
            .find(|&i| segments[i].len() >= 10 && segments[i].bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(invalid)?;
        let csr = segments[..index].join("-");
        let event = segments[index + 1..].join("-");
        if csr.is_empty() || event.is_empty() || segments[index + 1..].iter().any(|p| p.is_empty()) {
            return Err(invalid());
        }
        let timestamp = segments[index].parse::<i64>().map_err(|_| invalid())?;
        Ok(Self { csr, timestamp: EpochMillis::new(timestamp), event })
    }
}

/// The query sent as `?q=`: the JSON the Analyzer UI sends as `query`, every field of the
/// seed's example. Build it with [`Query::new`] and the setters; defaults are the seed's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    /// The Analyzer anchor (report) id.
    pub anchor_id: String,
    /// Range starts, epoch ms.
    pub date_begin: Vec<i64>,
    /// Range ends, epoch ms.
    pub date_end: Vec<i64>,
    /// IANA time zone of the report.
    pub timezone: String,
    /// Most records returned.
    pub number_of_records: u64,
    /// Take the last N records instead of the first.
    pub last_n_records: bool,
    /// `INTERACTION`, …
    pub activity_type: String,
    /// How the report computes.
    pub aggregate_query_properties: AggregateQueryProperties,
    /// Columns and filters.
    pub aggregations: Vec<Aggregation>,
}

/// `aggregateQueryProperties`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregateQueryProperties {
    /// `computeInterval`.
    pub compute_interval: i64,
    /// `computeIntervalUnit` (`NONE`, …).
    pub compute_interval_unit: String,
    /// `lookbackCount`.
    pub lookback_count: i64,
    /// `frequency`.
    pub frequency: i64,
    /// `movingWindow`.
    pub moving_window: bool,
    /// `cumulative`.
    pub cumulative: bool,
    /// `rowSegmentSet` (its element shape is not documented: kept as JSON).
    pub row_segment_set: Vec<Value>,
    /// `columnSegmentSet` (kept as JSON).
    pub column_segment_set: Vec<Value>,
    /// `queryType` (`TEMPORAL`, …).
    pub query_type: String,
    /// `requestType` (`PROFILE`, …).
    pub request_type: String,
    /// `intervalAxis` (`ROW`, …).
    pub interval_axis: String,
    /// `computeSummaries`.
    pub compute_summaries: bool,
}

impl Default for AggregateQueryProperties {
    /// The seed's values.
    fn default() -> Self {
        Self {
            compute_interval: 0,
            compute_interval_unit: "NONE".into(),
            lookback_count: 0,
            frequency: 0,
            moving_window: false,
            cumulative: false,
            row_segment_set: Vec::new(),
            column_segment_set: Vec::new(),
            query_type: "TEMPORAL".into(),
            request_type: "PROFILE".into(),
            interval_axis: "ROW".into(),
            compute_summaries: true,
        }
    }
}

/// One column of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Aggregation {
    /// Position.
    pub id: u32,
    /// Filters, combined by their operator.
    pub filter_groups: Vec<FilterGroup>,
    /// `VALUE`, `COUNT`, …
    pub aggregation_type: String,
    /// The column.
    pub compute_column_name: String,
}

impl Aggregation {
    /// A plain `VALUE` column with one empty `AND` filter group, as the seed has it.
    pub fn value(id: u32, column: impl Into<String>) -> Self {
        Self {
            id,
            filter_groups: vec![FilterGroup { operator: "AND".into(), value_filters: Vec::new() }],
            aggregation_type: "VALUE".into(),
            compute_column_name: column.into(),
        }
    }
}

/// A group of value filters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterGroup {
    /// `AND` / `OR`.
    pub operator: String,
    /// The filters. Their shape is not in the seed (it shows only an empty list): kept as JSON,
    /// copy them from an Analyzer request.
    pub value_filters: Vec<Value>,
}

impl Query {
    /// A query on `anchor_id` for `[begin, end)` with the seed's defaults: time zone UTC,
    /// 1,000,000 records, first N, activity `INTERACTION`, one `sid` column.
    pub fn new(anchor_id: impl Into<String>, begin: EpochMillis, end: EpochMillis) -> Self {
        Self {
            anchor_id: anchor_id.into(),
            date_begin: vec![begin.as_i64()],
            date_end: vec![end.as_i64()],
            timezone: "UTC".into(),
            number_of_records: 1_000_000,
            last_n_records: false,
            activity_type: "INTERACTION".into(),
            aggregate_query_properties: AggregateQueryProperties::default(),
            aggregations: vec![Aggregation::value(0, "sid")],
        }
    }

    /// Sets the time zone.
    pub fn timezone(mut self, tz: impl Into<String>) -> Self {
        self.timezone = tz.into();
        self
    }

    /// Sets the record limit; `last` takes the last N instead of the first.
    pub fn records(mut self, n: u64, last: bool) -> Self {
        self.number_of_records = n;
        self.last_n_records = last;
        self
    }

    /// Sets the activity type.
    pub fn activity_type(mut self, activity: impl Into<String>) -> Self {
        self.activity_type = activity.into();
        self
    }

    /// Replaces the aggregate properties.
    pub fn properties(mut self, properties: AggregateQueryProperties) -> Self {
        self.aggregate_query_properties = properties;
        self
    }

    /// Replaces the columns.
    pub fn aggregations(mut self, aggregations: Vec<Aggregation>) -> Self {
        self.aggregations = aggregations;
        self
    }

    /// Adds a `VALUE` column (its id is the next position).
    pub fn column(mut self, name: impl Into<String>) -> Self {
        let id = self.aggregations.len() as u32;
        self.aggregations.push(Aggregation::value(id, name));
        self
    }

    /// The first date range, when there is one.
    pub fn range(&self) -> Option<(EpochMillis, EpochMillis)> {
        Some((EpochMillis::new(*self.date_begin.first()?), EpochMillis::new(*self.date_end.first()?)))
    }

    /// The compact JSON that goes (percent-encoded once) into `?q=`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a query always serializes")
    }

    /// The `q` parameter value: the JSON, percent-encoded once (every byte but
    /// `A–Z a–z 0–9 - . _ ~`).
    pub fn encoded(&self) -> String {
        percent_encoding::utf8_percent_encode(&self.to_json(), QUERY_VALUE).to_string()
    }
}

/// RFC 3986 unreserved characters stay; everything else is encoded.
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn car_ids_round_trip() {
        for (text, csr, ts, event) in [
            (
                "74d98c29-39b4-4e1e-81fa-0ce0ae5aebb0-1612238768144-new",
                "74d98c29-39b4-4e1e-81fa-0ce0ae5aebb0",
                1612238768144,
                "new",
            ),
            (
                "74d98c29-39b4-4e1e-81fa-0ce0ae5aebb0-1612238769933-ivr-connected",
                "74d98c29-39b4-4e1e-81fa-0ce0ae5aebb0",
                1612238769933,
                "ivr-connected",
            ),
            // A UUID whose last group is all digits is not mistaken for the timestamp.
            (
                "12345678-1234-1234-1234-123456789012-1612238790724-parked",
                "12345678-1234-1234-1234-123456789012",
                1612238790724,
                "parked",
            ),
        ] {
            let id: CarId = text.parse().unwrap();
            assert_eq!((id.csr.as_str(), id.timestamp.as_i64(), id.event.as_str()), (csr, ts, event));
            assert_eq!(id.to_string(), text);
        }
        for bad in [
            "",
            "new",
            "abc-123-new",
            "1612238768144-new",
            "csr-1612238768144-",
            "csr-1612238768144",
            "a-1612238768144--x",
        ] {
            assert!(bad.parse::<CarId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn typed_access_by_suffix() {
        let r: Record = serde_json::from_value(serde_json::json!({
            "sid": "s1", "cstts": "1612238768144", "cetts": 1612238769933i64,
            "ani__s": "+15550100", "talkDuration__l": "42", "holds__i": 3, "score__d": "4.5",
            "skills__sa": ["a", "b"], "tags__sa": "[\"x\"]", "note__s": "null", "empty__s": "", "extra": true
        }))
        .unwrap();
        assert_eq!(r.sid(), Some("s1"));
        assert_eq!(r.cstts().map(EpochMillis::as_i64), Some(1612238768144));
        assert_eq!(r.cetts().map(EpochMillis::as_i64), Some(1612238769933));
        assert_eq!(r.string("ani"), Some("+15550100"));
        assert_eq!(r.long("talkDuration"), Some(42));
        assert_eq!(r.int("holds"), Some(3));
        assert_eq!(r.double("score"), Some(4.5));
        assert_eq!(r.string_array("skills"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(r.string_array("tags"), Some(vec!["x".into()]));
        assert_eq!(r.string("note"), None, "literal null");
        assert_eq!(r.string("empty"), None);
        assert_eq!(r.long("missing"), None);
        assert_eq!(r.raw("extra"), Some(&Value::Bool(true)), "unknown columns are kept");
    }
}
