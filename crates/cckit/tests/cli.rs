//! The `cckit` binary end to end: demo, decode, trigger against a local receiver, sim.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use axum::Router;
use cc_core::Secret;
use tokio::net::TcpListener;

fn cckit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cckit")).args(args).stdin(Stdio::null()).output().expect("cckit runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture(path: &str) -> String {
    format!("{}/../../fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn demo_all_succeeds() {
    let out = cckit(&["demo", "all"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    for vendor in [
        "ece: ok",
        "alvaria: ok",
        "icc-website: ok",
        "icc-simprot: ok",
        "lp: ok",
        "wxcc: ok",
        "wxcc-legacy: ok",
    ] {
        assert!(text.contains(vendor), "{vendor} missing:\n{text}");
    }
    assert!(text.contains("← conversation ended"), "{text}");
    assert!(text.contains("[wxcc] ✓ site updated"), "{text}");
    assert_eq!(cckit(&["demo", "nope"]).status.code(), Some(2));
}

#[test]
fn decode_wxcc_kinds() {
    let tasks = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "tasks",
        &fixture("wxcc/constructed.tasks.lenient.json"),
        "--roundtrip",
    ]);
    assert!(tasks.status.success(), "{}", stderr(&tasks));
    let text = stdout(&tasks);
    assert!(text.contains("\"channelType\": \"whatsapp\""), "{text}");
    assert!(text.contains("newVendorField"), "the roundtrip names the dropped field:\n{text}");

    let missing = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "tasks",
        &fixture("wxcc/constructed.tasks.missing-created-time.json"),
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("data[1].attributes"), "{}", stderr(&missing));

    let sites = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "sites",
        &fixture("wxcc/reference.sites-page.meta-example.json"),
        "--roundtrip",
    ]);
    assert!(stdout(&sites).contains("lossless"), "{}", stdout(&sites));
    for kind_file in
        ["captures:reference.captures.schema-examples.json", "search:reference.search.response-example.json"]
    {
        let (kind, file) = kind_file.split_once(':').unwrap();
        let out = cckit(&["decode", "wxcc", "--kind", kind, &fixture(&format!("wxcc/{file}"))]);
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
    }
    let token = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "token",
        &fixture("wxcc/constructed.token.strings-and-org-suffix.json"),
    ]);
    assert!(token.status.success(), "{}", stderr(&token));
    assert!(!stdout(&token).contains("MDEyMzQ1"), "tokens are redacted:\n{}", stdout(&token));
    assert!(stdout(&token).contains("\"expires_in\": 43199"));
    assert!(stderr(&token).contains("97cdbf45-ebe2-4687-8341-44d5c7abf101"));
    assert!(stdout(&cckit(&["decode", "--list"])).contains("wxcc: tasks, captures, sites, search, token"));

    // An OpenID `id_token` and any other token-like field are credentials too.
    let file = std::env::temp_dir().join(format!("cckit-token-{}.json", std::process::id()));
    std::fs::write(
        &file,
        r#"{"access_token":"at-1","expires_in":60,"id_token":"eyJ.idtok.sig","x_session_key":"sk-2","scope":"cjp:config"}"#,
    )
    .unwrap();
    let token = cckit(&["decode", "wxcc", "--kind", "token", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert!(token.status.success(), "{}", stderr(&token));
    let text = format!("{}{}", stdout(&token), stderr(&token));
    for secret in ["at-1", "eyJ.idtok.sig", "sk-2"] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    assert!(stdout(&token).contains(r#""id_token": "[redacted]""#), "{}", stdout(&token));
    assert!(stdout(&token).contains(r#""scope": "cjp:config""#));
}

#[test]
fn decode_simprot_frames_with_events_and_a_cut_capture() {
    let capture = std::env::temp_dir().join(format!("cckit-simprot-{}.bin", std::process::id()));
    let frames: Vec<u8> = ["se_chat_status.answered.frame", "se_chat_confirm.frame"]
        .iter()
        .flat_map(|f| std::fs::read(fixture(&format!("icc-simprot/{f}"))).unwrap())
        .collect();
    std::fs::write(&capture, &frames).unwrap();
    let out = cckit(&["decode", "icc-simprot", capture.to_str().unwrap(), "--events", "--roundtrip"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "\"SE_CHAT_CONFIRM\"",
        "\"agent_joined\"",
        "\"receipt\"",
        "roundtrip: re-encoding gives the same bytes",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    std::fs::write(&capture, &frames[..frames.len() - 3]).unwrap();
    let cut = cckit(&["decode", "icc-simprot", capture.to_str().unwrap()]);
    std::fs::remove_file(&capture).unwrap();
    assert_eq!(cut.status.code(), Some(1));
    assert!(stderr(&cut).contains("frame 2: stream ended inside a frame"), "{}", stderr(&cut));
}

#[test]
fn decode_success_errors_and_roundtrip() {
    let ok = cckit(&[
        "decode",
        "lp",
        &fixture("lp/ms.MessagingEventNotification.ContentEvent.text.docs-consumer-seq0.json"),
        "--events",
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains("\"Hello from Consumer\"") && stdout(&ok).contains("\"event\": \"message\"")
    );

    let bad = cckit(&["decode", "lp", &fixture("lp/constructed.invalid.missing-dialogId.json")]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("body.changes[0]") && stderr(&bad).contains("dialogId"),
        "{}",
        stderr(&bad)
    );

    let lossless = cckit(&[
        "decode",
        "alvaria",
        "--kind",
        "callback",
        &fixture("alvaria/seed.callback.message.json"),
        "--roundtrip",
    ]);
    assert!(stdout(&lossless).contains("roundtrip: lossless"), "{}", stdout(&lossless));
    let lossy = cckit(&[
        "decode",
        "alvaria",
        &fixture("alvaria/constructed.callback.message-attachment-only-unknown-type.json"),
        "--roundtrip",
    ]);
    assert!(
        stdout(&lossy).contains("1 field(s) dropped") && stdout(&lossy).contains("  extraField"),
        "{}",
        stdout(&lossy)
    );

    let routing = cckit(&[
        "decode",
        "icc-website",
        &fixture("icc-website-rest/routing.chat-answered.json"),
        "--events",
    ]);
    assert!(stdout(&routing).contains("\"event\": \"agent_joined\""), "{}", stdout(&routing));
    assert_eq!(cckit(&["decode", "nope", "x"]).status.code(), Some(2));
    assert_eq!(cckit(&["decode", "ece", "--kind", "csv", "x"]).status.code(), Some(2));
    assert!(stdout(&cckit(&["decode", "--list"])).contains("wxcc-legacy: csv, record"));

    let signed = fixture("lp/ms.MessagingEventNotification.ChatStateEvent.PAUSE.consumer.signed.json");
    let verified = cckit(&[
        "decode",
        "lp",
        &signed,
        "--secret",
        "rl9hacst6kqilbofup64n11ga3",
        "--signature",
        "sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI=",
    ]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let refused = cckit(&[
        "decode",
        "lp",
        &signed,
        "--secret",
        "wrong",
        "--signature",
        "sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI=",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("signature does not match"));
}

async fn serve(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

async fn cckit_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cckit(&args)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn trigger_reaches_local_receivers() {
    // ECE, Basic.
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let hook =
        ece_messaging::EceWebhook::new(ece_messaging::webhook::WebhookAuth::basic("u", Secret::from("p")));
    let url = serve(Router::new().route("/hook", hook.into_route(tx))).await;
    for event in ["assigned", "message", "typing", "complete"] {
        let out = cckit_async(
            ["trigger", "ece", event, "--to", &url, "--user", "u", "--password", "p"]
                .map(String::from)
                .to_vec(),
        )
        .await;
        assert!(out.status.success(), "{event}: {}", stderr(&out));
        assert!(stdout(&out).contains("HTTP 200"));
    }
    assert!(rx.recv().await.is_some());
    let wrong = cckit_async(
        ["trigger", "ece", "message", "--to", &url, "--user", "u", "--password", "x"]
            .map(String::from)
            .to_vec(),
    )
    .await;
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stderr(&wrong).contains("HTTP 401"));

    // Alvaria, RS256 with the built-in test key.
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let verifier =
        alvaria_servermsg::AlvariaWebhook::from_public_keys([alvaria_servermsg::sim::PUBLIC_KEY_PEM])
            .unwrap();
    let url = serve(Router::new().route("/hook", verifier.into_route(tx))).await;
    for event in ["new-session", "agent-joined", "message", "session-end"] {
        let out = cckit_async(["trigger", "alvaria", event, "--to", &url].map(String::from).to_vec()).await;
        assert!(out.status.success(), "{event}: {}", stderr(&out));
    }
    assert!(rx.recv().await.is_some());
    assert!(stdout(&cckit(&["trigger", "alvaria", "--print-public-key"])).contains("BEGIN PUBLIC KEY"));

    // LivePerson, signed.
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let webhook = lp_notifications::webhook::LpWebhook::new(
        "42257269",
        "81fad476-88af-4d08-bc0e-20bc69439ed4",
        Secret::from("s3"),
    );
    let url = serve(Router::new().route("/hook", webhook.into_route(tx))).await;
    for event in ["content", "typing", "accept", "closed"] {
        let out =
            cckit_async(["trigger", "lp", event, "--to", &url, "--secret", "s3"].map(String::from).to_vec())
                .await;
        assert!(out.status.success(), "{event}: {}", stderr(&out));
    }
    assert!(rx.recv().await.is_some());
    assert_eq!(cckit(&["trigger", "lp", "content"]).status.code(), Some(2), "--to is required");

    // Webex CC, HMAC-SHA256 per subscription, V2 (timestamp) and V1.
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let secret = "my-32-plus-character-long-secret-value";
    let secrets = wxcc_api::webhook::Secrets::new().with("sub-1", Secret::from(secret));
    let webhook = wxcc_api::WxccWebhook::new(secrets).require_timestamp(true);
    let url = serve(Router::new().route("/hook", webhook.into_route(tx))).await;
    for event in ["agent:login", "task:new", "capture-available", "task-message:appended"] {
        let args = ["trigger", "wxcc", event, "--to", &url, "--secret", secret, "--subscription", "sub-1"];
        let out = cckit_async(args.map(String::from).to_vec()).await;
        assert!(out.status.success(), "{event}: {}", stderr(&out));
    }
    let first: wxcc_api::model::events::Event = rx.recv().await.unwrap();
    assert_eq!(first.event_type, wxcc_api::model::events::EventType::AgentLogin);
    let v1 =
        ["trigger", "wxcc", "task:new", "--to", &url, "--secret", secret, "--subscription", "sub-1", "--v1"];
    let refused = cckit_async(v1.map(String::from).to_vec()).await;
    assert!(stderr(&refused).contains("HTTP 401"), "a V1 delivery has no timestamp: {}", stderr(&refused));
    let unknown = cckit(&["trigger", "wxcc", "agent:dance", "--to", &url, "--secret", secret]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
}

#[test]
fn decode_wxcc_event_verifies_its_signature() {
    use cc_core::auth::{HmacAlgorithm, SignatureEncoding, hmac};
    let path = fixture("wxcc/doc.event.task-failed-work-item.json");
    let body = std::fs::read(&path).unwrap();
    let secret = "my-32-plus-character-long-secret-value";
    let signature = SignatureEncoding::Hex.encode(&hmac(HmacAlgorithm::Sha256, secret.as_bytes(), &body));
    let ok = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "event",
        "--secret",
        secret,
        "--signature",
        &signature,
        "--timestamp",
        "1779785508649",
        &path,
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("ENTRY_POINT_NOT_FOUND"), "{}", stdout(&ok));
    let upper = signature.to_uppercase();
    let bad = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "event",
        "--secret",
        "another-secret",
        "--signature",
        &upper,
        &path,
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("signature does not match"), "{}", stderr(&bad));
    let skewed = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "event",
        "--secret",
        secret,
        "--signature",
        &signature,
        "--timestamp",
        "1",
        &path,
    ]);
    assert!(stderr(&skewed).contains("comciscotimestamp"), "{}", stderr(&skewed));
}

#[tokio::test(flavor = "multi_thread")]
async fn sim_answers_on_its_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cckit"))
        .args(["sim", "wxcc-legacy", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let config =
        wxcc_legacy::LegacyConfig::new(Secret::from("myRandomApiKeY"), "userID@portal-controlhub.com", "387")
            .base_url(format!("http://127.0.0.1:{port}"));
    let client = wxcc_legacy::LegacyClient::new(config).unwrap();
    let mut answered = false;
    for _ in 0..100 {
        if let Ok(None) = client.record(&wxcc_legacy::model::RecordType::Csrs, "no-such-id").await {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(answered, "the simulator answered on port {port}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wxcc_sim_answers_on_its_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cckit"))
        .args(["sim", "wxcc", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Without a token the API answers 401 with the vendor's error body.
    let http = reqwest::Client::new();
    let mut status = None;
    for _ in 0..100 {
        if let Ok(resp) = http.get(format!("http://127.0.0.1:{port}/v1/tasks?from=0")).send().await {
            status = Some(resp.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, Some(401), "the simulator answered on port {port}");
    assert_eq!(cckit(&["sim", "wxcc", "--faults", "200"]).status.code(), Some(2));
    assert_eq!(cckit(&["sim", "icc-simprot", "--faults", "503"]).status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_apply_to_the_legacy_simulator_too() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cckit"))
        .args(["sim", "wxcc-legacy", "--port", &port.to_string(), "--faults", "503"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let call = || {
        http.get(format!("http://127.0.0.1:{port}/aws/api/csrs/no-such-id"))
            .header("authorization", "yDkJq/aXwm9YYs2xgyWRqRnqgfQ=; tenantId=387")
            .header("from", "userID@portal-controlhub.com")
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..100 {
        if let Ok(resp) = call().await {
            statuses.push(resp.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    statuses.push(call().await.map(|r| r.status().as_u16()).unwrap_or(0));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(statuses, [503, 404], "the queued fault, then the real answer");
}

#[tokio::test]
async fn simprot_sim_answers_on_its_port() {
    use icc_simprot::catalogue::{Message, MessageName, Payload};
    use icc_simprot::connection::Connection;
    use icc_simprot::model::ChatCommandInfo;

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cckit"))
        .args(["sim", "icc-simprot", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let resync = Message {
        name: MessageName::EsChatResync,
        payload: Payload::ChatCommandInfo(Box::new(ChatCommandInfo {
            peer: Some("gw".into()),
            ..Default::default()
        })),
    };
    let mut answer = None;
    for _ in 0..100 {
        if let Ok(mut connection) = Connection::connect(("127.0.0.1", port)).await {
            connection.send(&resync).await.unwrap();
            answer = tokio::time::timeout(Duration::from_secs(5), connection.recv()).await.ok();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let answer = answer.expect("connected and answered").unwrap().unwrap();
    assert_eq!(answer.name, MessageName::SeChatList);
}

#[test]
fn decode_simprot_message_requires_a_name() {
    let dir = std::env::temp_dir();
    let case = |tag: &str, body: &str| {
        let file = dir.join(format!("cckit-simprot-{tag}-{}.json", std::process::id()));
        std::fs::write(&file, body).unwrap();
        let out = cckit(&["decode", "icc-simprot", "--kind", "message", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);
        out
    };
    let missing = case("missing", r#"{"payload":{"ChatId":"6f9619ff-8b86-d011-b42d-00cf4fc964ff"}}"#);
    assert_eq!(missing.status.code(), Some(1), "{}", stdout(&missing));
    assert!(stderr(&missing).contains("missing field `name`"), "{}", stderr(&missing));
    let empty = case("empty", r#"{"name":"","payload":null}"#);
    assert_eq!(empty.status.code(), Some(1));
    assert!(stderr(&empty).contains("`name`"), "{}", stderr(&empty));
    let unknown = case("unknown", r#"{"name":"XX_NEW","payload":{"A":1}}"#);
    assert!(unknown.status.success(), "{}", stderr(&unknown));
}

#[test]
fn decode_any_wxcc_operation_by_method_and_path() {
    let list = cckit(&["decode", "--list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let operations = stdout(&list).lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(operations, 422, "every operation of the spec is listed");
    assert!(
        stdout(&list).contains("  GET /v1/tasks\n")
            && stdout(&list).contains("  POST /v1/tasks/{taskId}/transfer\n")
    );

    let tasks = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "GET /v1/tasks",
        &fixture("wxcc/reference.tasks.schema-examples.json"),
    ]);
    assert!(tasks.status.success(), "{}", stderr(&tasks));
    assert!(stdout(&tasks).contains("\"data\""), "{}", stdout(&tasks));

    let wrong = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "GET /v1/no-such-thing",
        &fixture("wxcc/reference.tasks.schema-examples.json"),
    ]);
    assert_eq!(wrong.status.code(), Some(2), "a usage error");
    assert!(stderr(&wrong).contains("no wxcc operation `GET /v1/no-such-thing`"), "{}", stderr(&wrong));

    let file = std::env::temp_dir().join(format!("cckit-wxcc-op-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"data": [{"id": [5], "attributes": {}}]}"#).unwrap();
    let mismatched = cckit(&["decode", "wxcc", "--kind", "GET /v1/tasks", file.to_str().unwrap()]);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(mismatched.status.code(), Some(1), "{}", stdout(&mismatched));
    assert!(stderr(&mismatched).contains("data[0].id"), "names the field: {}", stderr(&mismatched));
}

/// Every real LivePerson payload (reference samples, documentation examples, the seed) decodes
/// without dropping a field; constructed fixtures that carry invented fields on purpose are
/// left out.
#[test]
fn every_real_liveperson_fixture_round_trips_losslessly() {
    let dir = fixture("lp");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.starts_with("constructed.") {
            continue;
        }
        let out = cckit(&["decode", "lp", path.to_str().unwrap(), "--roundtrip"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("roundtrip: lossless"),
            "{name} dropped fields:\n{}",
            &text[text.find("roundtrip").unwrap_or(0)..]
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} real LivePerson fixtures found in {dir}");
}

/// A v2 sites page with one bad site names that site's path; it is not misread as one site.
#[test]
fn decode_a_bad_sites_page_names_the_bad_site() {
    let out = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "sites",
        &fixture("wxcc/constructed.sites-page.site-without-name.json"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("`data[1]`") && err.contains("missing field `name`"), "{err}");
    let search = cckit(&[
        "decode",
        "wxcc",
        "--kind",
        "search",
        &fixture("wxcc/constructed.search.response-extensions.json"),
        "--roundtrip",
    ]);
    assert!(stdout(&search).contains("roundtrip: lossless"), "{}", stdout(&search));
}

#[tokio::test(flavor = "multi_thread")]
async fn lp_sim_serves_a_connector_and_signs_its_notifications() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (account, client_id, secret) =
        ("42257269", "81fad476-88af-4d08-bc0e-20bc69439ed4", "rl9hacst6kqilbofup64n11ga3");
    let (tx, mut notifications) = tokio::sync::mpsc::channel(16);
    let app = axum::Router::new().route(
        "/lp",
        lp_notifications::LpWebhook::new(account, client_id, Secret::from(secret)).into_route(tx),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook = format!("http://{}/lp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut child = Command::new(env!("CARGO_BIN_EXE_cckit"))
        .args(["sim", "lp", "--port", &port.to_string(), "--webhook", &webhook])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut config = lp_connector::LpConfig::new(account, client_id, Secret::from(secret));
    config.csds_url = format!("http://127.0.0.1:{port}");
    let consumer = lp_connector::LpClient::new(config).unwrap().consumer("cli-1");
    let mut opened = None;
    for _ in 0..100 {
        if let Ok(id) = consumer.open(&lp_connector::model::OpenConversation::new()).await {
            opened = Some(id);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = tokio::time::timeout(Duration::from_secs(10), notifications.recv()).await;
    let _ = child.kill();
    let _ = child.wait();
    let conversation = opened.expect("the simulator answered the open");
    let notification = first.expect("a notification within 10 s").expect("receiver open");
    let json = serde_json::to_value(&notification).unwrap();
    assert_eq!(json["body"]["changes"][0]["result"]["convId"], conversation.as_str(), "{json}");
}
