//! Snapshot tests over `fixtures/lp-connector/`: every documented request parses into the
//! typed model and serializes back unchanged; every answer gives what the client reads from it
//! (the conversation id by `body.conversationId`, the sequence, the file URL, the error code).
//! Run through `cargo xtask test-fixtures`.

use std::time::{Duration, UNIX_EPOCH};

use cc_core::http::ErrorDecoder as _;
use lp_connector::auth::{ConsumerJws, app_jwt_lifetime};
use lp_connector::domains::Domains;
use lp_connector::error::ErrorDecoder;
use lp_connector::model::{
    AppJwtResponse, BaseUri, BaseUris, ConsumerJwsResponse, ConsumerRequestConversation, FileUrl,
    GenerateDownloadUrl, GenerateUploadUrl, PublishEvent, Req, Resp, UpdateConversationField, UserProfile,
    check_relative_path, conversation_id_of, jwt_claims, sequence_of,
};
use serde_json::{Value, json};

/// Parses `body` as `T` and reports it with whether it serializes back to the same JSON.
fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(body: &Value) -> Value {
    match serde_json::from_value::<T>(body.clone()) {
        Ok(parsed) => {
            let back = serde_json::to_value(&parsed).unwrap();
            json!({"typed": std::any::type_name::<T>().rsplit("::").next(), "lossless": back == *body, "value": back})
        }
        Err(e) => json!({"error": e.to_string()}),
    }
}

fn request(req: &Req) -> Value {
    match req.request_type.as_str() {
        "userprofile.SetUserProfile" => typed::<UserProfile>(&req.body),
        "cm.ConsumerRequestConversation" => typed::<ConsumerRequestConversation>(&req.body),
        "ms.PublishEvent" => typed::<PublishEvent>(&req.body),
        "cm.UpdateConversationField" => typed::<UpdateConversationField>(&req.body),
        "ms.GenerateURLForUploadFile" => typed::<GenerateUploadUrl>(&req.body),
        "ms.GenerateURLForDownloadFile" => typed::<GenerateDownloadUrl>(&req.body),
        other => json!({"untyped": other}),
    }
}

fn response(resp: &Resp) -> Value {
    let file = serde_json::from_value::<FileUrl>(resp.body.clone()).ok().map(|url| {
        json!({
            "relative_path": url.relative_path,
            "path_accepted": check_relative_path(&url.relative_path).is_ok(),
            "expires": url.query_params.temp_url_expires,
            "signature_shown_as": format!("{:?}", url.query_params.temp_url_sig),
        })
    });
    json!({
        "parsed": resp, "ok": resp.is_ok(), "sequence": sequence_of(resp), "message": resp.message(),
        "error_code": resp.error_code(), "file_url": file,
    })
}

fn report(name: &str, bytes: &[u8]) -> Value {
    let parse = || serde_json::from_slice::<Value>(bytes).map_err(|e| json!({"error": e.to_string()}));
    let now = UNIX_EPOCH + Duration::from_secs(1_524_642_700);
    let prefix = name.split('.').take(2).collect::<Vec<_>>().join(".");
    match prefix.as_str() {
        "csds.baseURI" => json!(serde_json::from_slice::<BaseUri>(bytes).map_err(|e| e.to_string())),
        "csds.baseURIs" => match serde_json::from_slice::<BaseUris>(bytes) {
            Ok(answer) => match Domains::from_base_uris("le81823118", answer) {
                Ok(domains) => json!({
                    "services": domains.services(),
                    "send_api": domains.url("asyncMessagingEnt").ok(),
                    "missing": domains.url("nosuchservice").err().map(|e| e.to_string()),
                }),
                Err(e) => json!({"error": e.to_string()}),
            },
            Err(e) => json!({"error": e.to_string()}),
        },
        "sentinel.token" => match serde_json::from_slice::<AppJwtResponse>(bytes) {
            Ok(answer) => json!({
                "shown_as": format!("{answer:?}"),
                "claims": jwt_claims(answer.access_token.expose_secret()),
                "lifetime_s": app_jwt_lifetime(&answer, now).as_secs(),
            }),
            Err(e) => json!({"error": e.to_string()}),
        },
        "idp.consumer" => match serde_json::from_slice::<ConsumerJwsResponse>(bytes) {
            Ok(answer) => {
                let jws = ConsumerJws::new(answer.token);
                json!({"shown_as": format!("{jws:?}"), "lp_consumer_id": jws.lp_consumer_id()})
            }
            Err(e) => json!({"error": e.to_string()}),
        },
        "conversation.request" => match parse()
            .and_then(|v| serde_json::from_value::<Vec<Req>>(v).map_err(|e| json!(e.to_string())))
        {
            Ok(batch) => json!(
                batch
                    .iter()
                    .map(|r| json!({"type": r.request_type, "id": r.id, "body": request(r)}))
                    .collect::<Vec<_>>()
            ),
            Err(e) => e,
        },
        "conversation.response" => match serde_json::from_slice::<Vec<Resp>>(bytes) {
            Ok(answers) => json!({
                "conversation_id": conversation_id_of(&answers),
                "all_ok": answers.iter().all(Resp::is_ok),
                "answers": answers,
            }),
            Err(e) => json!({"error": e.to_string()}),
        },
        "send.request" => match serde_json::from_slice::<Req>(bytes) {
            Ok(req) => json!({"type": req.request_type, "id": req.id, "body": request(&req)}),
            Err(e) => json!({"error": e.to_string()}),
        },
        "send.response" => match serde_json::from_slice::<Resp>(bytes) {
            Ok(resp) => response(&resp),
            Err(e) => json!({"error": e.to_string()}),
        },
        _ if name.starts_with("error.") => {
            let status: u16 = name.split('.').nth(1).and_then(|s| s.parse().ok()).expect("error.<status>.…");
            let decoded = ErrorDecoder.decode(status, bytes);
            json!({"status": status, "code": decoded.code, "message": decoded.message})
        }
        _ => panic!(
            "no report for fixture {name}: name it csds., sentinel., idp., conversation., send. or error."
        ),
    }
}

#[test]
fn connector_api() {
    insta::glob!("../../../fixtures", "lp-connector/*.{json,txt}", |path| {
        let name = path.file_name().unwrap().to_str().unwrap();
        if name == "sources.txt" {
            return;
        }
        let bytes = std::fs::read(path).unwrap();
        insta::assert_json_snapshot!(report(name, &bytes));
    });
}
