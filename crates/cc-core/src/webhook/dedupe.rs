//! A bounded filter for redelivered webhook events.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Remembers recently seen ids to drop redeliveries, bounded by `capacity` entries and
/// `ttl` age: the oldest ids are forgotten first. Vendors redeliver for hours (Alvaria up to
/// four), so size the TTL to the vendor's retry window.
///
/// ```
/// use std::time::Duration;
/// use cc_core::webhook::DuplicateFilter;
/// let mut seen = DuplicateFilter::new(10_000, Duration::from_secs(4 * 3600));
/// assert!(seen.first_time("evt-1".to_string()));
/// assert!(!seen.first_time("evt-1".to_string()));
/// ```
#[derive(Debug)]
pub struct DuplicateFilter<K> {
    capacity: usize,
    ttl: Duration,
    seen: HashMap<K, Instant>,
    order: VecDeque<(K, Instant)>,
}

impl<K: Hash + Eq + Clone> DuplicateFilter<K> {
    /// A filter holding at most `capacity` ids, each for at most `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self { capacity: capacity.max(1), ttl, seen: HashMap::new(), order: VecDeque::new() }
    }

    /// Records `id`; returns `true` the first time it is seen (within capacity and TTL).
    pub fn first_time(&mut self, id: K) -> bool {
        self.first_time_at(id, Instant::now())
    }

    /// [`DuplicateFilter::first_time`] at a given instant (for tests and replays).
    pub fn first_time_at(&mut self, id: K, now: Instant) -> bool {
        self.expire(now);
        if self.seen.contains_key(&id) {
            return false;
        }
        while self.seen.len() >= self.capacity {
            match self.order.pop_front() {
                Some((old, at)) => {
                    if self.seen.get(&old) == Some(&at) {
                        self.seen.remove(&old);
                    }
                }
                None => break,
            }
        }
        self.seen.insert(id.clone(), now);
        self.order.push_back((id, now));
        if self.order.len() > 2 * self.capacity {
            // `forget` leaves entries behind in `order`; drop them so memory stays bounded.
            let seen = &self.seen;
            self.order.retain(|(k, at)| seen.get(k) == Some(at));
        }
        true
    }

    /// Whether `id` is currently remembered.
    pub fn contains(&self, id: &K) -> bool {
        self.seen.contains_key(id)
    }

    /// Forgets `id` (e.g. when handling it failed and a redelivery must be processed).
    pub fn forget(&mut self, id: &K) {
        self.seen.remove(id);
    }

    /// Ids remembered now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn expire(&mut self, now: Instant) {
        while let Some((id, at)) = self.order.front() {
            if now.saturating_duration_since(*at) < self.ttl {
                break;
            }
            if self.seen.get(id) == Some(at) {
                self.seen.remove(id);
            }
            self.order.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_duplicates_within_ttl_and_capacity() {
        let t0 = Instant::now();
        let mut f = DuplicateFilter::new(3, Duration::from_secs(10));
        assert!(f.first_time_at("a", t0));
        assert!(!f.first_time_at("a", t0 + Duration::from_secs(9)));
        // TTL: forgotten after 10 s.
        assert!(f.first_time_at("a", t0 + Duration::from_secs(10)));
        // Capacity: the oldest goes first.
        let t1 = t0 + Duration::from_secs(11);
        assert!(f.first_time_at("b", t1));
        assert!(f.first_time_at("c", t1));
        assert!(f.first_time_at("d", t1));
        assert_eq!(f.len(), 3);
        assert!(!f.contains(&"a"));
        assert!(!f.first_time_at("d", t1));
        f.forget(&"d");
        assert!(f.first_time_at("d", t1));
    }

    #[test]
    fn forgotten_ids_do_not_leave_stale_order_entries() {
        let t0 = Instant::now();
        let mut f = DuplicateFilter::new(2, Duration::from_secs(60));
        assert!(f.first_time_at(1, t0));
        f.forget(&1);
        assert!(f.first_time_at(1, t0 + Duration::from_secs(1)));
        assert!(f.first_time_at(2, t0 + Duration::from_secs(1)));
        // Capacity pressure must evict, not loop forever, and keep both recent ids.
        assert!(f.first_time_at(3, t0 + Duration::from_secs(2)));
        assert_eq!(f.len(), 2);
        assert!(f.contains(&3));
        // Memory stays bounded under a stream of distinct ids.
        for i in 10..10_000 {
            f.first_time_at(i, t0 + Duration::from_secs(3));
        }
        assert_eq!(f.len(), 2);
        assert!(f.order.len() <= 4, "order queue grows: {}", f.order.len());
        for i in 0..10_000 {
            f.first_time_at(i, t0 + Duration::from_secs(4));
            f.forget(&i);
        }
        assert!(f.order.len() <= 4, "forget leaks order entries: {}", f.order.len());
    }
}
