//! A bounded filter for redelivered webhook events.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::time::{Duration, Instant};

/// Remembers recently seen ids to drop redeliveries, bounded by `capacity` ids and `ttl` age:
/// the oldest ids are forgotten first. Vendors redeliver for hours (Alvaria up to four), so
/// size the TTL to the vendor's retry window.
///
/// Ids are not kept: each is remembered by a 128-bit fingerprint (two independently keyed
/// SipHash-1-3 hashes, keys random per filter), about 30 bytes per id whatever its length
/// (20 in the FIFO, the rest in the index). Two different ids are taken for the same only if
/// both 64-bit halves collide: with a million ids remembered, odds of about 1 in 10^27 — exact
/// for any practical purpose, and no id is ever dropped by a probabilistic guess.
///
/// Ages are kept in whole seconds: an id is remembered for at least `ttl` and at most one second
/// more. A forgotten id ([`DuplicateFilter::forget`]) keeps its place in the FIFO until it would
/// have expired or been pushed out.
///
/// ```
/// use std::time::Duration;
/// use cc_core::webhook::DuplicateFilter;
/// let mut seen = DuplicateFilter::new(10_000, Duration::from_secs(4 * 3600));
/// assert!(seen.first_time("evt-1".to_string()));
/// assert!(!seen.first_time("evt-1".to_string()));
/// ```
pub struct DuplicateFilter<K> {
    capacity: usize,
    ttl_secs: u64,
    hasher: Fingerprints,
    /// The first instant seen: ages count in seconds from it.
    origin: Option<Instant>,
    /// FIFO of fingerprints, oldest first, and when each was seen (`FORGOTTEN` once forgotten).
    fingerprints: VecDeque<[u64; 2]>,
    seen_at: VecDeque<u32>,
    /// The sequence number of the FIFO's front; entry `i` has `front + i`.
    front: u32,
    /// Open-addressing index (linear probing) from a fingerprint to its sequence number.
    index: Vec<u32>,
    live: usize,
    _key: PhantomData<fn(&K)>,
}

/// 128-bit fingerprints of keys: two SipHash-1-3 hashes under independent random keys (per
/// instance). Two different keys get the same fingerprint only if both halves collide: among
/// a million keys, odds of about 1 in 10^27. What [`DuplicateFilter`] and the LivePerson
/// sequencer remember instead of the keys themselves.
#[derive(Clone, Debug, Default)]
pub struct Fingerprints([std::collections::hash_map::RandomState; 2]);

impl Fingerprints {
    /// The fingerprint of `key`.
    pub fn of<K: Hash + ?Sized>(&self, key: &K) -> [u64; 2] {
        [self.0[0].hash_one(key), self.0[1].hash_one(key)]
    }
}

const EMPTY: u32 = u32::MAX;
const FORGOTTEN: u32 = u32::MAX;

impl<K> std::fmt::Debug for DuplicateFilter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuplicateFilter")
            .field("capacity", &self.capacity)
            .field("ttl_secs", &self.ttl_secs)
            .field("remembered", &self.live)
            .finish_non_exhaustive()
    }
}

impl<K: Hash> DuplicateFilter<K> {
    /// A filter holding at most `capacity` ids (at least 1, at most 2^31), each for at least
    /// `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity: capacity.clamp(1, 1 << 31),
            ttl_secs: ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0),
            hasher: Fingerprints::default(),
            origin: None,
            fingerprints: VecDeque::new(),
            seen_at: VecDeque::new(),
            front: 0,
            index: Vec::new(),
            live: 0,
            _key: PhantomData,
        }
    }

    /// Records `id`; returns `true` the first time it is seen (within capacity and TTL).
    pub fn first_time(&mut self, id: K) -> bool {
        self.first_time_at(id, Instant::now())
    }

    /// [`DuplicateFilter::first_time`] at a given instant (for tests and replays).
    pub fn first_time_at(&mut self, id: K, now: Instant) -> bool {
        let fingerprint = self.fingerprint(&id);
        self.first_time_fingerprint_at(fingerprint, now)
    }

    /// [`DuplicateFilter::first_time_at`] for a key already fingerprinted by this filter.
    pub(crate) fn first_time_fingerprint_at(&mut self, fingerprint: [u64; 2], now: Instant) -> bool {
        let now = self.seconds(now);
        self.expire(now);
        if self.find(fingerprint).is_some() {
            return false;
        }
        while self.fingerprints.len() >= self.capacity {
            self.pop_front();
        }
        if (self.live + 1) * 4 > self.index.len() * 3 {
            self.grow();
        }
        let sequence = self.front.wrapping_add(self.fingerprints.len() as u32);
        self.fingerprints.push_back(fingerprint);
        self.seen_at.push_back(now);
        self.insert(fingerprint, sequence);
        true
    }

    /// Whether `id` is currently remembered.
    pub fn contains(&self, id: &K) -> bool {
        self.contains_fingerprint(self.fingerprint(id))
    }

    /// [`DuplicateFilter::contains`] for a key already fingerprinted by this filter.
    pub(crate) fn contains_fingerprint(&self, fingerprint: [u64; 2]) -> bool {
        self.find(fingerprint).is_some()
    }

    /// Forgets `id` (e.g. when handling it failed and a redelivery must be processed).
    pub fn forget(&mut self, id: &K) {
        if let Some(slot) = self.find(self.fingerprint(id)) {
            let position = self.index[slot].wrapping_sub(self.front) as usize;
            self.seen_at[position] = FORGOTTEN;
            self.remove_slot(slot);
        }
    }

    /// Ids remembered now.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub(crate) fn fingerprint(&self, id: &K) -> [u64; 2] {
        self.hasher.of(id)
    }

    /// Whole seconds since the first instant seen (earlier instants count as zero).
    fn seconds(&mut self, now: Instant) -> u32 {
        let origin = *self.origin.get_or_insert(now);
        u32::try_from(now.saturating_duration_since(origin).as_secs()).unwrap_or(u32::MAX - 1)
    }

    fn expire(&mut self, now: u32) {
        while let Some(&at) = self.seen_at.front() {
            if at != FORGOTTEN && u64::from(now.saturating_sub(at)) <= self.ttl_secs {
                break;
            }
            self.pop_front();
        }
    }

    /// Drops the oldest FIFO entry, and its index entry if it is still remembered.
    fn pop_front(&mut self) {
        let (Some(fingerprint), Some(at)) = (self.fingerprints.pop_front(), self.seen_at.pop_front()) else {
            return;
        };
        let sequence = self.front;
        self.front = self.front.wrapping_add(1);
        if at == FORGOTTEN {
            return;
        }
        let mask = self.index.len() - 1;
        let mut slot = fingerprint[0] as usize & mask;
        while self.index[slot] != EMPTY {
            if self.index[slot] == sequence {
                self.remove_slot(slot);
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The index slot of `fingerprint`, if it is remembered.
    fn find(&self, fingerprint: [u64; 2]) -> Option<usize> {
        if self.index.is_empty() {
            return None;
        }
        let mask = self.index.len() - 1;
        let mut slot = fingerprint[0] as usize & mask;
        loop {
            let sequence = self.index[slot];
            if sequence == EMPTY {
                return None;
            }
            let position = sequence.wrapping_sub(self.front) as usize;
            if self.fingerprints.get(position) == Some(&fingerprint) {
                return Some(slot);
            }
            slot = (slot + 1) & mask;
        }
    }

    fn insert(&mut self, fingerprint: [u64; 2], sequence: u32) {
        let mask = self.index.len() - 1;
        let mut slot = fingerprint[0] as usize & mask;
        while self.index[slot] != EMPTY {
            slot = (slot + 1) & mask;
        }
        self.index[slot] = sequence;
        self.live += 1;
    }

    /// Empties `slot`, shifting later entries of its probe run back (no tombstones).
    fn remove_slot(&mut self, mut slot: usize) {
        let mask = self.index.len() - 1;
        self.index[slot] = EMPTY;
        self.live -= 1;
        let mut next = (slot + 1) & mask;
        while self.index[next] != EMPTY {
            let sequence = self.index[next];
            let position = sequence.wrapping_sub(self.front) as usize;
            let home = self.fingerprints[position][0] as usize & mask;
            // Move it back if its home is not within (slot, next].
            if (next.wrapping_sub(home) & mask) >= (next.wrapping_sub(slot) & mask) {
                self.index[slot] = sequence;
                self.index[next] = EMPTY;
                slot = next;
            }
            next = (next + 1) & mask;
        }
    }

    /// Doubles the index (at least 16 slots) and re-inserts every remembered id.
    fn grow(&mut self) {
        let size = (self.index.len() * 2).max(16);
        self.index = vec![EMPTY; size];
        self.live = 0;
        for position in 0..self.fingerprints.len() {
            if self.seen_at[position] != FORGOTTEN {
                let sequence = self.front.wrapping_add(position as u32);
                self.insert(self.fingerprints[position], sequence);
            }
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
        assert!(!f.first_time_at("a", t0 + Duration::from_secs(10)), "remembered for at least the TTL");
        // TTL: forgotten within a second after it.
        assert!(f.first_time_at("a", t0 + Duration::from_secs(11)));
        // Capacity: the oldest goes first.
        let t1 = t0 + Duration::from_secs(12);
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
        assert!(f.fingerprints.len() <= 2, "the FIFO grows: {}", f.fingerprints.len());
        for i in 0..10_000 {
            f.first_time_at(i, t0 + Duration::from_secs(4));
            f.forget(&i);
        }
        assert!(f.fingerprints.len() <= 2, "forget leaks FIFO entries: {}", f.fingerprints.len());
        assert!(f.index.len() <= 16, "the index grows: {}", f.index.len());
    }

    /// The filter against a plain model (a map of ids to when they were seen, evicted oldest
    /// first), over a long random stream of inserts, repeats, forgets and clock steps: the
    /// index's probing, back-shift deletion and growth must never lose or invent an id.
    #[test]
    fn agrees_with_a_plain_model_over_a_random_stream() {
        use std::collections::{HashMap, VecDeque as Fifo};
        let t0 = Instant::now();
        let (capacity, ttl) = (300, 50u64);
        let mut filter = DuplicateFilter::new(capacity, Duration::from_secs(ttl));
        let mut model: HashMap<u32, u64> = HashMap::new();
        let mut order: Fifo<(u32, u64, bool)> = Fifo::new();
        let mut rng = fastrand_free(0x5eed);
        let mut now = 0u64;
        for step in 0..200_000u32 {
            if step.is_multiple_of(97) {
                now += rng() % 3;
            }
            // Expire (the model keeps ids for ttl seconds inclusive) and hold capacity.
            while let Some(&(id, at, live)) = order.front() {
                if live && now - at <= ttl {
                    break;
                }
                order.pop_front();
                if live && model.get(&id) == Some(&at) {
                    model.remove(&id);
                }
            }
            let id = (rng() % 1_000) as u32;
            if rng().is_multiple_of(10) {
                filter.forget(&id);
                if model.remove(&id).is_some() {
                    for entry in order.iter_mut().filter(|e| e.0 == id && e.2) {
                        entry.2 = false;
                    }
                }
                continue;
            }
            let expected = !model.contains_key(&id);
            if expected {
                while order.len() >= capacity {
                    let (old, at, live) = order.pop_front().unwrap();
                    if live && model.get(&old) == Some(&at) {
                        model.remove(&old);
                    }
                }
                model.insert(id, now);
                order.push_back((id, now, true));
            }
            let got = filter.first_time_at(id, t0 + Duration::from_secs(now));
            assert_eq!(got, expected, "step {step}: id {id} at {now}s");
            assert_eq!(filter.len(), model.len(), "step {step}");
        }
    }

    /// A small deterministic generator (xorshift), so the test repeats exactly.
    fn fastrand_free(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }
}
