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
