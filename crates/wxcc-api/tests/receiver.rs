//! The webhook route on a real loopback socket: what each kind of delivery is answered, that
//! the handler sees only verified, parsed, first deliveries, and that nothing is acknowledged
//! before the handler took it.
#![cfg(feature = "server")]

#[cfg(feature = "sim")]
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cc_core::auth::{HmacAlgorithm, SignatureEncoding, hmac};
use cc_core::webhook::server::{EventHandler, HandlerError};
use cc_core::{EpochMillis, Secret};
use wxcc_api::model::events::{Event, EventData, EventType};
use wxcc_api::webhook::{SIGNATURE_HEADER, Secrets, TIMESTAMP_HEADER, VERSION_HEADER, WxccWebhook};

const SECRET: &str = "my-32-plus-character-long-secret-value";

#[derive(Clone, Default)]
struct Recorder {
    events: Arc<Mutex<Vec<Event>>>,
    refuse: Arc<Mutex<bool>>,
}

#[async_trait]
impl EventHandler<Event> for Recorder {
    async fn accept(&self, event: Event) -> Result<(), HandlerError> {
        if *self.refuse.lock().unwrap() {
            return Err(HandlerError("queue full".into()));
        }
        self.events.lock().unwrap().push(event);
        Ok(())
    }
}

async fn serve(hook: WxccWebhook, recorder: Recorder) -> SocketAddr {
    let app = axum::Router::new().route("/", hook.into_route(recorder));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()));
    addr
}

fn event(id: &str, ts: i64) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","specversion":"1.0","type":"agent:login","source":"/com/cisco/wxcc/sub-1",
"comciscoorgid":"org-1","comciscotimestamp":"{ts}","datacontenttype":"application/json",
"data":{{"agentId":"a-1","destination":"5551234","createdTime":{ts}}}}}"#
    )
    .into_bytes()
}

fn sign(body: &[u8]) -> String {
    SignatureEncoding::Hex.encode(&hmac(HmacAlgorithm::Sha256, SECRET.as_bytes(), body))
}

async fn post(addr: SocketAddr, body: Vec<u8>, headers: &[(&str, String)]) -> (u16, String) {
    let mut request = reqwest::Client::new().post(format!("http://{addr}/")).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn v2(body: &[u8], ts: i64) -> Vec<(&'static str, String)> {
    vec![
        (SIGNATURE_HEADER, sign(body)),
        (TIMESTAMP_HEADER, ts.to_string()),
        (VERSION_HEADER, "agent:1.0.0".into()),
    ]
}

#[tokio::test]
async fn each_kind_of_delivery_gets_its_answer() {
    let recorder = Recorder::default();
    let hook = WxccWebhook::new(Secrets::new().with("sub-1", Secret::from(SECRET)));
    let addr = serve(hook, recorder.clone()).await;
    let now = EpochMillis::now().as_i64();

    let first = event("e-1", now);
    assert_eq!(post(addr, first.clone(), &v2(&first, now)).await.0, 200);
    // A redelivery: acknowledged, not handed over again.
    assert_eq!(post(addr, first.clone(), &v2(&first, now)).await.0, 200);
    {
        let events = recorder.events.lock().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, EventType::AgentLogin);
        let EventData::Agent(data) = &events[0].data else { panic!("{:?}", events[0].data) };
        assert_eq!(data.destination.as_deref(), Some("5551234"));
    }

    /// What is sent, what it must be answered, and what the answer must say.
    struct Case {
        what: &'static str,
        body: Vec<u8>,
        headers: Vec<(&'static str, String)>,
        status: u16,
        says: &'static str,
    }
    let stale = event("e-2", now - 600_000);
    let foreign = String::from_utf8(event("e-2", now)).unwrap().replace("sub-1", "sub-9").into_bytes();
    let cases = [
        Case {
            what: "tampered",
            body: event("e-2", now),
            headers: v2(&event("e-3", now), now),
            status: 401,
            says: "signature does not match",
        },
        Case {
            what: "unsigned",
            body: event("e-2", now),
            headers: vec![(TIMESTAMP_HEADER, now.to_string())],
            status: 401,
            says: SIGNATURE_HEADER,
        },
        Case { what: "stale", headers: v2(&stale, now - 600_000), body: stale, status: 401, says: "window" },
        Case {
            what: "mismatch",
            body: event("e-2", now),
            headers: v2(&event("e-2", now), now + 1),
            status: 401,
            says: "comciscotimestamp",
        },
        Case {
            what: "unknown subscription",
            headers: v2(&foreign, now),
            body: foreign,
            status: 401,
            says: "sub-9",
        },
        Case { what: "not JSON", body: b"hello".to_vec(), headers: vec![], status: 401, says: "source" },
        Case {
            what: "oversize",
            body: vec![b' '; 2 * 1024 * 1024],
            headers: vec![],
            status: 413,
            says: "exceeds",
        },
    ];
    for case in cases {
        let (got, text) = post(addr, case.body, &case.headers).await;
        assert_eq!(got, case.status, "{}: {text}", case.what);
        assert!(text.contains(case.says), "{}: {text}", case.what);
    }
    // Verified but malformed: 400 naming the member.
    let bad = format!(
        r#"{{"id":"e-4","type":"task:new","source":"/com/cisco/wxcc/sub-1","comciscotimestamp":{now},"data":{{"taskId":[1]}}}}"#
    )
    .into_bytes();
    let (status, text) = post(addr, bad.clone(), &v2(&bad, now)).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("data.taskId"), "{text}");
    assert_eq!(recorder.events.lock().unwrap().len(), 1, "no refused delivery reached the handler");

    // A handler that refuses: 503, and the redelivery is handled as new once it accepts.
    *recorder.refuse.lock().unwrap() = true;
    let later = event("e-5", now);
    assert_eq!(post(addr, later.clone(), &v2(&later, now)).await.0, 503);
    *recorder.refuse.lock().unwrap() = false;
    assert_eq!(post(addr, later.clone(), &v2(&later, now)).await.0, 200);
    assert_eq!(recorder.events.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn one_endpoint_serves_many_subscriptions_and_rotation_needs_no_restart() {
    let recorder = Recorder::default();
    let secrets = Secrets::new().with("sub-1", Secret::from(SECRET));
    let addr = serve(WxccWebhook::new(secrets.clone()), recorder.clone()).await;
    let v1 = |body: &[u8], secret: &str| {
        vec![(
            SIGNATURE_HEADER,
            SignatureEncoding::Hex.encode(&hmac(HmacAlgorithm::Sha256, secret.as_bytes(), body)),
        )]
    };
    let other_secret = "second-org-secret-of-thirty-two-characters";
    let body = br#"{"id":"x-1","type":"capture:available","source":"/com/cisco/wxcc/sub-2","data":{"taskId":"t-1","filePath":"/r/t-1.wav"}}"#.to_vec();
    assert_eq!(post(addr, body.clone(), &v1(&body, other_secret)).await.0, 401, "not known yet");
    secrets.add("sub-2", Secret::from(other_secret));
    assert_eq!(post(addr, body.clone(), &v1(&body, other_secret)).await.0, 200, "known now, same route");
    let events = recorder.events.lock().unwrap();
    let EventData::Capture(capture) = &events[0].data else { panic!() };
    assert_eq!(capture.file_path.as_deref(), Some("/r/t-1.wav"));
}

/// The simulator as the sender: a V2 subscription registered through the API, events
/// delivered signed, repeated, reversed and some dropped; the route hands each delivered
/// event over once, and the tracker ends on the newest state whatever the order.
#[cfg(feature = "sim")]
#[tokio::test]
async fn the_simulator_delivers_signed_events_to_a_subscription() {
    use wxcc_api::api::subscriptions::RegisterSubscriptionV2;
    use wxcc_api::sim::SimConfig;
    use wxcc_api::sim::events::Emission;

    let recorder = Recorder::default();
    let secrets = Secrets::new();
    let addr = serve(WxccWebhook::new(secrets.clone()).require_timestamp(true), recorder.clone()).await;
    let (sim, client) = common::setup(SimConfig::demo()).await;
    let body = serde_json::from_value(serde_json::json!({
        "name": "Agent events", "eventTypes": ["agent:login", "agent:logout", "capture:available"],
        "destinationUrl": format!("http://{addr}/"), "secret": SECRET, "resourceVersion": "agent:1.0.0"
    }))
    .unwrap();
    let created = client.call(&RegisterSubscriptionV2::new(body)).await.unwrap();
    let id = created.data.expect("the created subscription").id;
    secrets.add(id.clone(), Secret::from(SECRET));

    let kinds =
        [EventType::AgentLogin, EventType::AgentLogout, EventType::CaptureAvailable, EventType::TaskNew];
    let how = Emission { duplicates: true, reverse: true, drop_every: 3 };
    let deliveries = sim.emit(&kinds, how).await;
    assert_eq!(deliveries.len(), 3, "task:new is not subscribed: {deliveries:?}");
    let sent: Vec<_> = deliveries.iter().filter(|d| !d.dropped).collect();
    assert_eq!(sent.len(), 2, "every third is dropped");
    assert!(sent.iter().all(|d| d.status == Some(200) && d.subscription_id == id), "{deliveries:?}");
    let events = recorder.events.lock().unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let expected: Vec<&str> = sent.iter().map(|d| d.event_id.as_str()).collect();
    assert_eq!(ids, expected, "each delivered once, in the order sent");
}
