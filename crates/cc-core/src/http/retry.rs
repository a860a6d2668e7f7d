//! The retry decision, as a pure function, and what feeds it: `Retry-After` parsing and the
//! retry budget.
//!
//! Rules, in order (see [`decide`]):
//! 1. A 2xx/3xx answer is returned.
//! 2. A 401 is answered by one re-authentication (when the credential can be renewed), then
//!    returned. Re-authentication does not count as an attempt.
//! 3. After [`RetryPolicy::max_attempts`] attempts, the last outcome is returned.
//! 4. Retried whatever the method: a connect failure (the request never left), 429, and 503
//!    with `Retry-After` (the vendor asked for a retry).
//! 5. Retried only when idempotent: a timeout or a connection lost after sending (the server
//!    may have acted), 408, 500, 502, 503 without `Retry-After`, 504.
//! 6. Everything else is returned.
//!
//! The delay is the server's `Retry-After` when it gave one (if that is longer than
//! [`RetryPolicy::max_retry_after`] the error is returned instead of waiting), otherwise full
//! jitter: a uniform draw in `0..=min(max_delay, base_delay * 2^(attempt-1))`.

use std::time::{Duration, SystemTime};

/// Retry limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Backoff base: the cap of the first retry's delay.
    pub base_delay: Duration,
    /// No backoff delay exceeds this.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for; the error is returned.
    pub max_retry_after: Duration,
    /// No retry waits less than this, `Retry-After` included (default zero). LivePerson, for
    /// one, asks for at least a second after a 429.
    pub min_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(120),
            min_delay: Duration::ZERO,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (re-authentication on 401 still happens).
    pub fn no_retries() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }
}

/// What happened to one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No connection was established: the request provably never reached the server.
    ConnectFailed,
    /// The attempt timed out after the request may have been sent.
    TimedOut,
    /// The connection broke after the request may have been sent (reset, broken pipe, a
    /// body cut short).
    ConnectionLost,
    /// The server answered.
    Status {
        /// HTTP status code.
        status: u16,
        /// Parsed `Retry-After`, if present and valid.
        retry_after: Option<Duration>,
    },
}

/// Where an attempt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// Whether repeating the request is harmless.
    pub idempotent: bool,
    /// Whether the credential can be renewed after a 401.
    pub can_reauthenticate: bool,
    /// Whether this call already re-authenticated once.
    pub reauthenticated: bool,
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Hand the outcome to the caller (success or error).
    Return,
    /// Renew the credential and send again (after a 401).
    Reauthenticate,
    /// Send again after this delay.
    Retry(Duration),
}

/// Decides what follows an attempt. `jitter` is a uniform draw from `[0, 1)`.
pub fn decide(policy: &RetryPolicy, attempt: Attempt, outcome: Outcome, jitter: f64) -> Decision {
    let (retryable, retry_after) = match outcome {
        Outcome::Status { status: 200..=399, .. } => return Decision::Return,
        Outcome::Status { status: 401, .. } => {
            return if attempt.can_reauthenticate && !attempt.reauthenticated {
                Decision::Reauthenticate
            } else {
                Decision::Return
            };
        }
        Outcome::ConnectFailed => (true, None),
        Outcome::TimedOut | Outcome::ConnectionLost => (attempt.idempotent, None),
        Outcome::Status { status: 429, retry_after } => (true, retry_after),
        Outcome::Status { status: 503, retry_after: Some(after) } => (true, Some(after)),
        Outcome::Status { status: 408 | 500 | 502 | 503 | 504, retry_after } => {
            (attempt.idempotent, retry_after)
        }
        Outcome::Status { .. } => (false, None),
    };
    if !retryable || attempt.number >= policy.max_attempts {
        return Decision::Return;
    }
    match retry_after {
        Some(after) if after > policy.max_retry_after => Decision::Return,
        Some(after) => Decision::Retry(after.max(policy.min_delay)),
        None => Decision::Retry(backoff(policy, attempt.number, jitter)),
    }
}

/// Full-jitter exponential backoff for the retry after attempt `number` (1-based), never
/// below [`RetryPolicy::min_delay`].
pub fn backoff(policy: &RetryPolicy, number: u32, jitter: f64) -> Duration {
    let exp = number.saturating_sub(1).min(30);
    let ceiling = policy.base_delay.saturating_mul(1 << exp).min(policy.max_delay);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0)).max(policy.min_delay)
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
/// A date in the past gives zero; anything else unparseable gives `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A token bucket that limits retries across all calls of one executor, so that an outage
/// does not multiply the load on the vendor (the smithy-rs "standard" strategy).
///
/// Each retry withdraws [`RetryBudget::RETRY_COST`] (a timeout costs
/// [`RetryBudget::TIMEOUT_COST`]); each success deposits one token back, up to the capacity.
#[derive(Debug)]
pub struct RetryBudget {
    capacity: u32,
    tokens: std::sync::atomic::AtomicU32,
}

impl RetryBudget {
    /// Cost of a retry after an error answer or a connect failure.
    pub const RETRY_COST: u32 = 5;
    /// Cost of a retry after a timeout.
    pub const TIMEOUT_COST: u32 = 10;

    /// A full bucket of `capacity` tokens (default executors use 500: 100 retries).
    pub fn new(capacity: u32) -> Self {
        Self { capacity, tokens: std::sync::atomic::AtomicU32::new(capacity) }
    }

    /// Takes `cost` tokens if available.
    pub fn try_withdraw(&self, cost: u32) -> bool {
        use std::sync::atomic::Ordering;
        self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost)).is_ok()
    }

    /// Returns one token after a success.
    pub fn deposit_success(&self) {
        use std::sync::atomic::Ordering;
        let cap = self.capacity;
        let _ = self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| (t < cap).then_some(t + 1));
    }

    /// Tokens left.
    pub fn available(&self) -> u32 {
        self.tokens.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The cost of retrying after `outcome`.
    pub fn cost_of(outcome: Outcome) -> u32 {
        match outcome {
            Outcome::TimedOut => Self::TIMEOUT_COST,
            _ => Self::RETRY_COST,
        }
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self::new(500)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn attempt(number: u32, idempotent: bool) -> Attempt {
        Attempt { number, idempotent, can_reauthenticate: true, reauthenticated: false }
    }

    fn status(status: u16, retry_after: Option<Duration>) -> Outcome {
        Outcome::Status { status, retry_after }
    }

    /// Every outcome class × idempotent/not, on a first attempt with jitter 0.5 and the
    /// default policy (first backoff ceiling 200 ms → 100 ms).
    #[test]
    fn decision_table() {
        let p = RetryPolicy::default();
        let b = Decision::Retry(Duration::from_millis(100));
        let r = Decision::Return;
        #[rustfmt::skip]
        let table: &[(Outcome, Decision, Decision)] = &[
            // outcome                                   idempotent              not idempotent
            (status(200, None),                          r,                      r),
            (status(204, None),                          r,                      r),
            (status(304, None),                          r,                      r),
            (status(400, None),                          r,                      r),
            (status(401, None),                          Decision::Reauthenticate, Decision::Reauthenticate),
            (status(403, None),                          r,                      r),
            (status(404, None),                          r,                      r),
            (status(409, None),                          r,                      r),
            (status(408, None),                          b,                      r),
            (status(429, None),                          b,                      b),
            (status(429, Some(3 * S)),                   Decision::Retry(3 * S), Decision::Retry(3 * S)),
            (status(429, Some(Duration::ZERO)),          Decision::Retry(Duration::ZERO), Decision::Retry(Duration::ZERO)),
            (status(429, Some(600 * S)),                 r,                      r),
            (status(500, None),                          b,                      r),
            (status(500, Some(2 * S)),                   Decision::Retry(2 * S), r),
            (status(501, None),                          r,                      r),
            (status(502, None),                          b,                      r),
            (status(503, None),                          b,                      r),
            (status(503, Some(2 * S)),                   Decision::Retry(2 * S), Decision::Retry(2 * S)),
            (status(503, Some(600 * S)),                 r,                      r),
            (status(504, None),                          b,                      r),
            (Outcome::ConnectFailed,                     b,                      b),
            (Outcome::TimedOut,                          b,                      r),
            (Outcome::ConnectionLost,                    b,                      r),
        ];
        for &(outcome, idem, non_idem) in table {
            assert_eq!(decide(&p, attempt(1, true), outcome, 0.5), idem, "{outcome:?} idempotent");
            assert_eq!(decide(&p, attempt(1, false), outcome, 0.5), non_idem, "{outcome:?} not idempotent");
        }
    }

    #[test]
    fn attempts_are_capped() {
        let p = RetryPolicy::default();
        for outcome in [status(503, None), status(429, Some(S)), Outcome::ConnectFailed] {
            assert!(matches!(decide(&p, attempt(3, true), outcome, 0.5), Decision::Retry(_)));
            assert_eq!(decide(&p, attempt(4, true), outcome, 0.5), Decision::Return);
        }
        let none = RetryPolicy::no_retries();
        assert_eq!(decide(&none, attempt(1, true), Outcome::ConnectFailed, 0.5), Decision::Return);
        // Re-authentication is independent of the attempt count.
        assert_eq!(decide(&none, attempt(1, true), status(401, None), 0.5), Decision::Reauthenticate);
    }

    #[test]
    fn reauthenticates_once_and_only_when_possible() {
        let p = RetryPolicy::default();
        let mut a = attempt(1, false);
        assert_eq!(decide(&p, a, status(401, None), 0.0), Decision::Reauthenticate);
        a.reauthenticated = true;
        assert_eq!(decide(&p, a, status(401, None), 0.0), Decision::Return);
        let fixed = Attempt { can_reauthenticate: false, ..attempt(1, true) };
        assert_eq!(decide(&p, fixed, status(401, None), 0.0), Decision::Return);
    }

    #[test]
    fn backoff_is_full_jitter_exponential_and_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let ms = |n, j| backoff(&p, n, j).as_millis();
        assert_eq!([ms(1, 1.0), ms(2, 1.0), ms(3, 1.0), ms(4, 1.0), ms(5, 1.0)], [100, 200, 400, 800, 1000]);
        assert_eq!(ms(60, 1.0), 1000);
        assert_eq!(ms(3, 0.0), 0);
        assert_eq!(ms(3, 0.25), 100);
        assert_eq!(ms(3, 7.0), 400, "jitter is clamped to 1");
        let floored = RetryPolicy { min_delay: Duration::from_millis(150), ..p };
        assert_eq!(backoff(&floored, 1, 0.0).as_millis(), 150, "the floor holds for a zero draw");
        assert_eq!(backoff(&floored, 3, 1.0).as_millis(), 400, "and does not lower a longer delay");
        let early = Outcome::Status { status: 429, retry_after: Some(Duration::ZERO) };
        assert_eq!(
            decide(&floored, attempt(1, false), early, 0.0),
            Decision::Retry(Duration::from_millis(150)),
            "a Retry-After shorter than the floor waits the floor"
        );
    }

    #[test]
    fn retry_after_seconds_dates_and_garbage() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(120 * S));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(30 * S));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        for garbage in ["", "soon", "-5", "1.5", "12 s", "Sunday", "99999999999999999999999"] {
            assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
        }
    }

    #[test]
    fn budget_withdraws_and_refills() {
        let b = RetryBudget::new(12);
        assert!(b.try_withdraw(RetryBudget::cost_of(Outcome::ConnectFailed)));
        assert!(!b.try_withdraw(RetryBudget::cost_of(Outcome::TimedOut)));
        assert_eq!(b.available(), 7);
        for _ in 0..10 {
            b.deposit_success();
        }
        assert_eq!(b.available(), 12, "never above capacity");
        assert!(b.try_withdraw(10));
    }
}
