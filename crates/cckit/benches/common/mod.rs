//! What the load and peers benches share: gathering the latencies of their connections.

use std::time::Duration;

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
