//! What the load and peers benches share: the LivePerson notification they send, and gathering
//! the latencies of their connections.

use std::time::Duration;

use serde_json::json;

/// A one-change LivePerson messaging notification (a consumer's text) for `dialog`.
pub fn notification(dialog: &str, sequence: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "kind": "notification",
        "type": "ms.MessagingEventNotification",
        "body": {"changes": [{
            "sequence": sequence,
            "originatorId": "9a8392e5-33d1-4d34-a91e-a00bc9e111c0",
            "originatorMetadata": {"id": "9a8392e5-33d1-4d34-a91e-a00bc9e111c0", "role": "CONSUMER"},
            "serverTimestamp": 1_700_000_000_000u64,
            "event": {"type": "ContentEvent", "contentType": "text/plain", "message": "hello, is anyone there?"},
            "conversationId": dialog,
            "dialogId": dialog,
        }]},
    }))
    .unwrap()
}

/// Waits for every connection task and returns all their latencies, sorted.
pub async fn sorted_latencies(tasks: Vec<tokio::task::JoinHandle<Vec<Duration>>>) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a load connection panicked"));
    }
    latencies.sort();
    latencies
}

/// The 99th percentile of sorted latencies.
pub fn p99(sorted: &[Duration]) -> Duration {
    sorted[(sorted.len() * 99 / 100).min(sorted.len() - 1)]
}
