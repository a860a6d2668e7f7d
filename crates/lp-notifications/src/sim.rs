//! A webhook sender that signs notifications as LivePerson does and POSTs them, with
//! LivePerson's retry rules (feature `sim`): test your endpoint without a LivePerson account.
//!
//! What LivePerson documents, and this sender does: one notification per POST; headers
//! `x-liveperson-account-id`, `x-liveperson-client-id`, `x-liveperson-signature`
//! (`sha1=` + Base64 HMAC-SHA1 of the exact body bytes with the client secret); only HTTP 200
//! and 201 count as delivered; failed deliveries are retried either a number of times (0–5) or
//! until a time-to-live passes (up to 3 days).
//!
//! **Assumption:** LivePerson does not publish the delay between retries. This sender waits
//! `first_delay` and doubles it after each failure, capped at `max_delay`; both are settings.

use std::time::Duration;

use cc_core::Secret;
use cc_core::auth::{HmacAlgorithm, SignatureEncoding, hmac};
use cc_core::http::{Body, Error as HttpError, Executor, Request, RetryPolicy};

use crate::webhook::{ACCOUNT_ID_HEADER, CLIENT_ID_HEADER, SIGNATURE_HEADER};

/// When to give up on a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryMode {
    /// Retry this many times (LivePerson allows 0 to 5).
    Count(u8),
    /// Retry until this much time passed since the first attempt (LivePerson allows up to
    /// 3 days).
    TimeToLive(Duration),
}

/// How the simulated LivePerson sender signs and retries.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// `x-liveperson-account-id`.
    pub account_id: String,
    /// `x-liveperson-client-id`.
    pub client_id: String,
    /// The app's client secret (signing key).
    pub secret: Secret<String>,
    /// HMAC algorithm (default SHA-1).
    pub algorithm: HmacAlgorithm,
    /// Signature encoding (default Base64).
    pub encoding: SignatureEncoding,
    /// Retry mode (default: 5 retries).
    pub retry: RetryMode,
    /// Delay before the first retry (assumption; default 1 s).
    pub first_delay: Duration,
    /// Longest delay between retries (assumption; default 60 s).
    pub max_delay: Duration,
    /// Time one attempt may take (LivePerson allows the endpoint 5 s; default 5 s).
    pub attempt_timeout: Duration,
}

impl SimConfig {
    /// Defaults for one app: SHA-1, Base64, 5 retries from 1 s, 5 s per attempt.
    pub fn new(account_id: impl Into<String>, client_id: impl Into<String>, secret: Secret<String>) -> Self {
        Self {
            account_id: account_id.into(),
            client_id: client_id.into(),
            secret,
            algorithm: HmacAlgorithm::Sha1,
            encoding: SignatureEncoding::Base64,
            retry: RetryMode::Count(5),
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

/// One delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint answered with this status.
    Status(u16),
    /// No answer (refused, reset, timed out): the error text.
    Failed(String),
}

/// The result of [`LpSim::send`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Every attempt, in order.
    pub attempts: Vec<AttemptOutcome>,
    /// Whether an attempt got 200 or 201.
    pub delivered: bool,
}

/// The simulated LivePerson: signs notifications and sends them with its retry rules.
#[derive(Clone, Debug)]
pub struct LpSim {
    config: SimConfig,
    http: Executor,
}

impl LpSim {
    /// A sender with `config`.
    pub fn new(config: SimConfig) -> Result<Self, HttpError> {
        let http = Executor::builder()
            .retry_policy(RetryPolicy::no_retries())
            .attempt_timeout(config.attempt_timeout)
            .user_agent("lp-notifications-sim")
            .build()?;
        Ok(Self { config, http })
    }

    /// The `x-liveperson-signature` value for `body`.
    pub fn signature(&self, body: &[u8]) -> String {
        let digest = hmac(self.config.algorithm, self.config.secret.expose_secret().as_bytes(), body);
        format!("{}={}", self.config.algorithm.prefix(), self.config.encoding.encode(&digest))
    }

    /// The three LivePerson headers for `body`.
    pub fn headers(&self, body: &[u8]) -> [(&'static str, String); 3] {
        [
            (ACCOUNT_ID_HEADER, self.config.account_id.clone()),
            (CLIENT_ID_HEADER, self.config.client_id.clone()),
            (SIGNATURE_HEADER, self.signature(body)),
        ]
    }

    /// POSTs `body` (sent byte for byte) to `url`, retrying as configured until 200 or 201.
    pub async fn send(&self, url: &str, body: &[u8]) -> DeliveryReport {
        let mut request = Request::post(url)
            .operation("liveperson-sim.notify")
            .without_auth()
            .body(Body::Bytes { content_type: "application/json".into(), data: body.to_vec() });
        for (name, value) in self.headers(body) {
            request = request.header(name, value);
        }
        let started = tokio::time::Instant::now();
        let mut attempts = Vec::new();
        let mut delay = self.config.first_delay;
        loop {
            let outcome = match self.http.send(&request).await {
                Ok(resp) => AttemptOutcome::Status(resp.status()),
                Err(err) => match err.status() {
                    Some(status) => AttemptOutcome::Status(status),
                    None => AttemptOutcome::Failed(err.to_string()),
                },
            };
            let delivered = matches!(outcome, AttemptOutcome::Status(200 | 201));
            attempts.push(outcome);
            let retries_done = attempts.len() - 1;
            let again = !delivered
                && match self.config.retry {
                    RetryMode::Count(n) => retries_done < usize::from(n),
                    RetryMode::TimeToLive(ttl) => started.elapsed() + delay <= ttl,
                };
            if !again {
                return DeliveryReport { attempts, delivered };
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.config.max_delay);
        }
    }
}
