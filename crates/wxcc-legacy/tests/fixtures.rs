//! Snapshot tests over `fixtures/wxcc-legacy/`: the seed's query and the URL built from it,
//! CAR ids, CSV results and single records with their typed fields. Run through
//! `cargo xtask test-fixtures`.

use serde_json::{Value, json};
use wxcc_legacy::csv::CsvDecoder;
use wxcc_legacy::model::{CarId, Query, Record};

/// The typed view of a record: what the getters read, beside every raw column.
fn typed(record: &Record) -> Value {
    json!({
        "sid": record.sid(),
        "cstts": record.cstts().map(|t| t.to_string()),
        "cetts": record.cetts().map(|t| t.to_string()),
        "session": record.session(),
        "ani": record.string("ani"),
        "agentName": record.string("agentName"),
        "queueName": record.string("queueName"),
        "talkDuration": record.long("talkDuration"),
        "holdCount": record.int("holdCount"),
        "csat": record.double("csat"),
        "skills": record.string_array("skills"),
        "currentState": record.string("currentState"),
        "notes": record.string("notes"),
        "raw": record.fields(),
    })
}

/// The query URL the client builds (default host).
#[cfg(feature = "client")]
fn built_url(query: &Query) -> String {
    client().query_url(&wxcc_legacy::model::RecordType::Csrs, query)
}

/// The CAR URL the client builds (default host).
#[cfg(feature = "client")]
fn car_url(id: &CarId) -> String {
    client().record_url(&wxcc_legacy::model::RecordType::Cars, &id.to_string())
}

#[cfg(feature = "client")]
fn client() -> wxcc_legacy::LegacyClient {
    let config = wxcc_legacy::LegacyConfig::new(cc_core::Secret::from("k"), "user@example.com", "1");
    wxcc_legacy::LegacyClient::new(config).unwrap()
}

#[cfg(not(feature = "client"))]
fn built_url(query: &Query) -> String {
    format!("https://rest.wxcc-us1.cisco.com/aws/api/csrs?q={}", query.encoded())
}

#[cfg(not(feature = "client"))]
fn car_url(id: &CarId) -> String {
    format!("https://rest.wxcc-us1.cisco.com/aws/api/cars/{id}")
}

#[test]
fn legacy_fixtures() {
    insta::glob!("../../../fixtures", "wxcc-legacy/*.*", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "sources.txt" {
            return;
        }
        let bytes = std::fs::read(path).unwrap();
        let report = if name.ends_with(".csv") {
            match CsvDecoder::decode_all(&bytes) {
                Ok(records) => json!({ "records": records.iter().map(typed).collect::<Vec<_>>() }),
                Err(err) => json!({ "error": err.to_string() }),
            }
        } else if name.ends_with(".txt") {
            let ids: Vec<Value> = String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|line| match line.parse::<CarId>() {
                    Ok(id) => json!({
                        "input": line, "csr": id.csr, "timestamp": id.timestamp.as_i64(), "event": id.event,
                        "display": id.to_string(), "url": car_url(&id),
                    }),
                    Err(err) => json!({"input": line, "error": err.to_string()}),
                })
                .collect();
            json!({ "car_ids": ids })
        } else if name.ends_with("query.json") {
            let query: Query = cc_core::de::parse_json(&bytes).unwrap();
            let original: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(serde_json::to_value(&query).unwrap(), original, "the typed query keeps every field");
            json!({ "query": query, "url": built_url(&query) })
        } else {
            let record: Record = cc_core::de::parse_json(&bytes).unwrap();
            typed(&record)
        };
        insta::assert_json_snapshot!(report);
    });
}
