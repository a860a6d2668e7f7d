//! Reconciliation against the simulator: events for all but a few tasks of a window were
//! received (in any order, some twice); the API's list of the window finds exactly the rest.
#![cfg(feature = "sim")]

mod common;

use cc_core::EpochMillis;
use futures_util::StreamExt as _;
use wxcc_api::model::events::{EventType, parse_event};
use wxcc_api::query::{DAY_MS, TaskQuery};
use wxcc_api::sim::SimConfig;
use wxcc_api::tracking::EventTracker;

#[tokio::test]
async fn reconciliation_finds_the_dropped_events() {
    let mut config = SimConfig::demo();
    config.tasks = 120;
    let (sim, client) = common::setup(config).await;
    let from = sim.config().start;
    let to = EpochMillis::new(from.as_i64() + 2 * DAY_MS);
    let tasks: Vec<_> = client.task_stream(TaskQuery::new(from, to)).map(|t| t.unwrap()).collect().await;
    assert_eq!(tasks.len(), 120);

    let dropped: Vec<String> = [7, 50, 119].iter().map(|&i| tasks[i].id.to_string()).collect();
    let mut tracker = EventTracker::new();
    // Delivered newest first, each twice: order and repeats do not matter.
    for task in tasks.iter().rev().filter(|t| !dropped.contains(&t.id.to_string())) {
        let at = task.attributes.created_time.as_i64();
        let body = format!(
            r#"{{"id":"ev-{id}","type":"task:new","source":"/com/cisco/wxcc/sub-1","data":{{"taskId":"{id}","createdTime":{at}}}}}"#,
            id = task.id
        );
        let event = parse_event(body.as_bytes()).unwrap();
        assert!(tracker.apply(&event).is_some_and(|o| o.is_latest()));
        tracker.apply(&event);
    }
    let missing: Vec<String> =
        tracker.missing_tasks(&client, from, to).map(|t| t.unwrap().id.to_string()).collect().await;
    assert_eq!(missing, dropped, "exactly the tasks no event named, in createdTime order");
    let (snapshot, _) = tracker.task(&tasks[0].id).unwrap();
    assert_eq!(snapshot.event_type, EventType::TaskNew);
}

/// End to end: a subscription, the verified route, the simulator's deliveries of one event per
/// task (repeated, newest first, some lost); reconciliation names exactly the lost ones.
#[cfg(feature = "events")]
#[tokio::test]
async fn reconciliation_after_real_deliveries_names_the_lost_ones() {
    use cc_core::Secret;
    use wxcc_api::WxccWebhook;
    use wxcc_api::api::models::SubscriptionRequestEnhanced;
    use wxcc_api::api::subscriptions::RegisterSubscriptionV2;
    use wxcc_api::sim::events::Emission;
    use wxcc_api::webhook::Secrets;

    let mut config = SimConfig::demo();
    config.tasks = 40;
    let (sim, client) = common::setup(config).await;
    let secrets = Secrets::new();
    let (queue, mut received) = tokio::sync::mpsc::channel(256);
    let route = WxccWebhook::new(secrets.clone()).require_timestamp(true).into_route(queue);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/hook", route);
    tokio::spawn(cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()));
    let secret = "my-32-plus-character-long-secret-value";
    let request = SubscriptionRequestEnhanced {
        name: "Task events".into(),
        event_types: vec!["task:new".into()],
        destination_url: url,
        secret: Some(secret.into()),
        resource_version: "task:1.0.0".into(),
        ..Default::default()
    };
    let id = client.call(&RegisterSubscriptionV2::new(request)).await.unwrap().data.unwrap().id;
    secrets.add(id, Secret::from(secret));

    let how = Emission { duplicates: true, reverse: true, drop_every: 9 };
    let deliveries = sim.emit_for_tasks(&EventType::TaskNew, 40, how).await;
    let mut lost: Vec<String> =
        deliveries.iter().filter(|d| d.dropped).filter_map(|d| d.task_id.clone()).collect();
    assert_eq!(lost.len(), 4);
    assert!(deliveries.iter().all(|d| d.dropped || d.status == Some(200)), "{deliveries:?}");
    let mut tracker = EventTracker::new();
    let mut handed_over = 0;
    while let Ok(event) = received.try_recv() {
        tracker.apply(&event);
        handed_over += 1;
    }
    assert_eq!(handed_over, 36, "each delivered event once, duplicates dropped");
    let from = sim.config().start;
    let to = EpochMillis::new(from.as_i64() + DAY_MS);
    let mut missing: Vec<String> =
        tracker.missing_tasks(&client, from, to).map(|t| t.unwrap().id.to_string()).collect().await;
    missing.sort();
    lost.sort();
    assert_eq!(missing, lost);
}
