//! Duplicate detection with explicit delivery states: [`DeliveryGate`].
//!
//! A key (a delivery or message id) is in one of three states:
//!
//! | state | how it gets there | a redelivery of the key… |
//! |---|---|---|
//! | *in flight* | a delivery claimed it; its handler runs | waits for the outcome (at most `wait`), then is treated by the new state; still in flight after `wait` → [`Busy`] (answer 503) |
//! | *committed* | the handler returned `Ok` and [`Claim::commit`] ran | is a duplicate (acknowledge without handling) |
//! | *released* (forgotten) | the handler failed, or its future was dropped (client gone, cancellation) | is handled as new |
//!
//! Releasing on drop is the point: a delivery whose handler never finished was never
//! acknowledged, so its redelivery must reach the handler. A redelivery never gets a success
//! answer while the first delivery's outcome is open.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::DuplicateFilter;

/// How long a redelivery waits for a delivery of the same key that is still in flight, by
/// default. Vendors give receivers about 5 s; past that the answer is 503 and they retry.
pub const DEFAULT_IN_FLIGHT_WAIT: Duration = Duration::from_secs(5);

/// Committed keys (bounded by a [`DuplicateFilter`]) and keys in flight, shared by the
/// deliveries of one receiver.
pub struct DeliveryGate<K> {
    state: Mutex<GateState<K>>,
    wait: Duration,
}

struct GateState<K> {
    committed: DuplicateFilter<K>,
    /// By the committed filter's fingerprint of each key: every key is hashed once per claim.
    in_flight: HashMap<[u64; 2], Arc<Notify>, BuildHasherDefault<FingerprintHasher>>,
}

/// Hashes a fingerprint by its own bits: they are already uniformly random (keyed SipHash).
#[derive(Default)]
struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(29) ^ u64::from_le_bytes(word);
        }
    }
}

/// A redelivery whose first delivery was still in flight after the wait: answer 503.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an earlier delivery of the same event is still being handled")]
pub struct Busy;

impl<K: Hash + Eq + Clone> DeliveryGate<K> {
    /// A gate remembering committed keys in `committed`; redeliveries wait at most
    /// [`DEFAULT_IN_FLIGHT_WAIT`] for a delivery in flight.
    pub fn new(committed: DuplicateFilter<K>) -> Arc<Self> {
        Self::with_wait(committed, DEFAULT_IN_FLIGHT_WAIT)
    }

    /// [`DeliveryGate::new`] with another wait for deliveries in flight.
    pub fn with_wait(committed: DuplicateFilter<K>, wait: Duration) -> Arc<Self> {
        Arc::new(Self { state: Mutex::new(GateState { committed, in_flight: HashMap::default() }), wait })
    }

    /// Claims every key of one delivery at once (all or nothing, so two batches that share
    /// keys in a different order cannot wait on each other). Keys already committed are
    /// reported as duplicates; the others are in flight for the returned [`Claim`] until it
    /// is committed or dropped.
    pub async fn claim(self: &Arc<Self>, keys: Vec<K>) -> Result<Claim<K>, Busy> {
        let deadline = tokio::time::Instant::now() + self.wait;
        let prints: Vec<[u64; 2]> = {
            let state = self.lock();
            keys.iter().map(|k| state.committed.fingerprint(k)).collect()
        };
        loop {
            let notified = {
                let mut state = self.lock();
                let busy = prints.iter().find_map(|p| state.in_flight.get(p).cloned());
                match busy {
                    None => {
                        let notify = Arc::new(Notify::new());
                        let (mut claimed, mut claimed_prints, mut duplicates) =
                            (Vec::with_capacity(keys.len()), Vec::with_capacity(keys.len()), Vec::new());
                        for (k, p) in keys.into_iter().zip(prints) {
                            if state.committed.contains_fingerprint(p) {
                                duplicates.push(k);
                            } else if let Entry::Vacant(slot) = state.in_flight.entry(p) {
                                // (Occupied: a key twice in one delivery is claimed once.)
                                slot.insert(Arc::clone(&notify));
                                claimed.push(k);
                                claimed_prints.push(p);
                            }
                        }
                        return Ok(Claim {
                            gate: Arc::clone(self),
                            keys: claimed,
                            prints: claimed_prints,
                            duplicates,
                            notify,
                        });
                    }
                    Some(notify) => notify,
                }
            };
            // `Notify::notify_waiters` reaches a `Notified` from the moment it is created, and
            // it was created from the map's entry: no outcome can slip between.
            let wake = notified.notified();
            if tokio::time::timeout_at(deadline, wake).await.is_err() {
                return Err(Busy);
            }
        }
    }

    /// Whether `key` is committed.
    pub fn is_committed(&self, key: &K) -> bool {
        self.lock().committed.contains(key)
    }

    /// Keys in flight now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight.len()
    }

    fn finish(&self, prints: &[[u64; 2]], commit: bool, notify: &Notify) {
        {
            let mut state = self.lock();
            let now = std::time::Instant::now();
            for p in prints {
                state.in_flight.remove(p);
                if commit {
                    state.committed.first_time_fingerprint_at(*p, now);
                }
            }
        }
        notify.notify_waiters();
    }

    fn lock(&self) -> MutexGuard<'_, GateState<K>> {
        // Every critical section leaves the maps consistent, so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The keys one delivery holds in flight. [`Claim::commit`] after the handler accepted;
/// dropping it (handler error, cancelled future) releases the keys for the redelivery.
pub struct Claim<K: Hash + Eq + Clone> {
    gate: Arc<DeliveryGate<K>>,
    keys: Vec<K>,
    /// The committed filter's fingerprints of `keys`, in the same order.
    prints: Vec<[u64; 2]>,
    duplicates: Vec<K>,
    notify: Arc<Notify>,
}

impl<K: Hash + Eq + Clone> Claim<K> {
    /// Keys of this delivery that were committed before: skip them.
    pub fn duplicates(&self) -> &[K] {
        &self.duplicates
    }

    /// Keys this delivery holds: handle them.
    pub fn fresh(&self) -> &[K] {
        &self.keys
    }

    /// The handler accepted: the keys become committed and their redeliveries duplicates.
    pub fn commit(mut self) {
        let prints = std::mem::take(&mut self.prints);
        self.gate.finish(&prints, true, &self.notify);
    }
}

impl<K: Hash + Eq + Clone> Drop for Claim<K> {
    fn drop(&mut self) {
        if !self.prints.is_empty() {
            self.gate.finish(&self.prints, false, &self.notify);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(wait_ms: u64) -> Arc<DeliveryGate<&'static str>> {
        DeliveryGate::with_wait(
            DuplicateFilter::new(100, Duration::from_secs(60)),
            Duration::from_millis(wait_ms),
        )
    }

    #[tokio::test]
    async fn states_in_flight_committed_released() {
        let gate = gate(50);
        let first = gate.claim(vec!["a"]).await.unwrap();
        assert_eq!(first.fresh(), ["a"]);
        // In flight: a redelivery gets Busy after the wait, never "duplicate".
        assert_eq!(gate.claim(vec!["a"]).await.err(), Some(Busy));
        drop(first); // released (handler failed or was cancelled)
        let again = gate.claim(vec!["a"]).await.unwrap();
        assert_eq!(again.fresh(), ["a"], "a released key is handled again");
        again.commit();
        let dup = gate.claim(vec!["a"]).await.unwrap();
        assert_eq!((dup.fresh(), dup.duplicates()), (&[][..], &["a"][..]));
        assert_eq!(gate.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_waiting_redelivery_sees_the_outcome() {
        let gate = gate(5_000);
        let first = gate.claim(vec!["a", "b"]).await.unwrap();
        let waiter = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.claim(vec!["b", "c"]).await.map(|c| (c.fresh().to_vec(), c.duplicates().to_vec())) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "the redelivery waits for the outcome");
        first.commit();
        let (fresh, dups) = waiter.await.unwrap().unwrap();
        assert_eq!((fresh, dups), (vec!["c"], vec!["b"]));
    }

    #[tokio::test]
    async fn keys_repeated_within_one_delivery_are_claimed_once() {
        let gate = gate(10);
        let claim = gate.claim(vec!["a", "a"]).await.unwrap();
        assert_eq!(claim.fresh(), ["a"]);
        claim.commit();
        assert!(gate.is_committed(&"a"));
    }
}
