//! Fault injection shared by the vendor simulators (feature `sim`): a queue of faults that
//! the next API calls meet — a status, a delay, or a connection broken mid-response.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A fault for the next API call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and the vendor's error body; `retry_after` seconds when given.
    Status {
        /// The status.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Answer normally after this delay.
    Delay(Duration),
    /// Process the call, then break the connection in the middle of the response.
    Reset,
}

impl Fault {
    /// The faults an idempotent call must come through (the fault matrix of
    /// docs/reliability.md): 429 with `Retry-After: 1`, 503, a reset after processing, and a
    /// delay of `read_timeout` (longer than the client's attempt timeout).
    pub fn survivable(read_timeout: Duration) -> [Fault; 4] {
        [
            Fault::Status { status: 429, retry_after: Some(1) },
            Fault::Status { status: 503, retry_after: None },
            Fault::Reset,
            Fault::Delay(read_timeout),
        ]
    }
}

/// What the next call must do after [`Faults::apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Injected {
    /// Proceed normally.
    None,
    /// Proceed, then answer with [`broken_response`].
    Reset,
    /// Answer with this status (add the vendor's error body) and [`with_retry_after`].
    Status {
        /// The status.
        status: StatusCode,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
}

/// The queue of pending faults.
#[derive(Debug, Default)]
pub struct Faults(Mutex<VecDeque<Fault>>);

impl Faults {
    /// Queues a fault for the next call.
    pub fn push(&self, fault: Fault) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push_back(fault);
    }

    /// Takes the next fault: a delay is waited out here; the rest is returned to the handler.
    pub async fn apply(&self) -> Injected {
        let next = self.0.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        match next {
            None => Injected::None,
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                Injected::None
            }
            Some(Fault::Reset) => Injected::Reset,
            Some(Fault::Status { status, retry_after }) => Injected::Status {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                retry_after,
            },
        }
    }
}

/// Adds `Retry-After` when given.
pub fn with_retry_after(mut response: Response, retry_after: Option<u64>) -> Response {
    if let Some(seconds) = retry_after {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    response
}

/// A 200 whose body fails after the headers went out: the client sees the connection break
/// after the server acted on the request.
pub fn broken_response() -> Response {
    (StatusCode::OK, Body::new(BrokenBody)).into_response()
}

struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected reset"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn faults_apply_in_order() {
        let faults = Faults::default();
        faults.push(Fault::Delay(Duration::from_secs(3)));
        faults.push(Fault::Status { status: 429, retry_after: Some(1) });
        faults.push(Fault::Reset);
        let before = tokio::time::Instant::now();
        assert_eq!(faults.apply().await, Injected::None);
        assert!(before.elapsed() >= Duration::from_secs(3));
        assert_eq!(
            faults.apply().await,
            Injected::Status { status: StatusCode::TOO_MANY_REQUESTS, retry_after: Some(1) }
        );
        assert_eq!(faults.apply().await, Injected::Reset);
        assert_eq!(faults.apply().await, Injected::None);
        let response = with_retry_after(StatusCode::TOO_MANY_REQUESTS.into_response(), Some(7));
        assert_eq!(response.headers()["retry-after"], "7");
    }
}
