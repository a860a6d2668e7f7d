//! Client-side rate limiting: [`RateLimiter`] holds every attempt (retries included) to at
//! most `limit` requests in any sliding `window`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug)]
struct Slot {
    id: u64,
    /// When the attempt finished; `None` while it is in flight.
    done: Option<Instant>,
}

#[derive(Debug, Default)]
struct Slots {
    slots: VecDeque<Slot>,
    next_id: u64,
}

/// At most `limit` attempts in any window of `window`, as the **server** counts them.
///
/// The server counts an attempt when it arrives, which the client cannot see; it can only
/// see that the arrival lay between sending and the answer. So a slot is taken when an
/// attempt starts and counts until `window` after its answer (or failure): the server can
/// never see more than `limit` arrivals in any window, whatever the network latency. A
/// sliding log of at most `limit` slots: exact where a fixed window or a token bucket lets
/// up to twice the limit through around a window edge. Callers wait in arrival order.
/// Time is tokio's clock.
#[derive(Debug)]
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    slots: Arc<Mutex<Slots>>,
    released: Arc<Notify>,
    queue: tokio::sync::Mutex<()>,
}

/// A taken slot; dropping it (when the attempt finished) starts its window.
#[derive(Debug)]
pub struct RatePermit {
    id: u64,
    slots: Arc<Mutex<Slots>>,
    released: Arc<Notify>,
}

impl Drop for RatePermit {
    fn drop(&mut self) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.slots.iter_mut().find(|s| s.id == self.id) {
            slot.done = Some(Instant::now());
        }
        drop(slots);
        self.released.notify_waiters();
    }
}

impl RateLimiter {
    /// `limit` attempts per `window`. A `limit` of 0 is read as 1.
    pub fn new(limit: u32, window: Duration) -> Self {
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        Self {
            limit,
            window,
            slots: Arc::default(),
            released: Arc::new(Notify::new()),
            queue: tokio::sync::Mutex::new(()),
        }
    }

    /// The configured limit and window.
    pub fn limit(&self) -> (usize, Duration) {
        (self.limit, self.window)
    }

    /// Waits until one more attempt fits, and takes a slot for it. Hold the permit until the
    /// attempt's answer (or failure).
    pub async fn acquire(&self) -> RatePermit {
        // One waiter at a time, in arrival order.
        let _turn = self.queue.lock().await;
        loop {
            let released = self.released.notified();
            let mut released = std::pin::pin!(released);
            released.as_mut().enable();
            let wake_at = {
                let now = Instant::now();
                let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
                let window = self.window;
                slots.slots.retain(|s| s.done.is_none_or(|done| now.duration_since(done) < window));
                if slots.slots.len() < self.limit {
                    slots.next_id += 1;
                    let id = slots.next_id;
                    slots.slots.push_back(Slot { id, done: None });
                    return RatePermit { id, slots: self.slots.clone(), released: self.released.clone() };
                }
                slots.slots.iter().filter_map(|s| s.done).min().map(|done| done + window)
            };
            match wake_at {
                // Whichever comes first: the oldest window ends, or a slot is released.
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, released).await;
                }
                // Every slot is in flight: wait for one to finish.
                None => released.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_any_window() {
        let limiter = RateLimiter::new(5, Duration::from_secs(1));
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..12 {
            drop(limiter.acquire().await);
            starts.push(start.elapsed());
        }
        // The first five go at once, the next five one window later, and so on.
        assert_eq!(starts[4], Duration::ZERO);
        assert_eq!(starts[5], Duration::from_secs(1));
        assert_eq!(starts[10], Duration::from_secs(2));
        for (i, t) in starts.iter().enumerate() {
            let in_window = starts.iter().filter(|u| **u >= *t && **u < *t + Duration::from_secs(1)).count();
            assert!(in_window <= 5, "{in_window} starts in the window beginning at attempt {i}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_the_limit() {
        let limiter = std::sync::Arc::new(RateLimiter::new(3, Duration::from_secs(10)));
        let start = Instant::now();
        let tasks: Vec<_> = (0..7)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    drop(limiter.acquire().await);
                    start.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap());
        }
        times.sort();
        assert_eq!(times.iter().filter(|t| **t < Duration::from_secs(10)).count(), 3);
        assert_eq!(times.iter().filter(|t| **t < Duration::from_secs(20)).count(), 6);
        assert_eq!(times[6], Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_counts_until_a_window_after_its_answer() {
        let limiter = std::sync::Arc::new(RateLimiter::new(1, Duration::from_secs(1)));
        let start = Instant::now();
        let permit = limiter.acquire().await;
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                drop(limiter.acquire().await);
                start.elapsed()
            })
        };
        // The first attempt takes 3 s to answer: the next may start 1 s after that.
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(permit);
        assert_eq!(waiter.await.unwrap(), Duration::from_secs(4));
    }
}
