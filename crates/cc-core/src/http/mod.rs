//! The HTTP executor (feature `client`): vendor crates describe calls as [`Request`]s; the
//! [`Executor`] sends them with auth, per-attempt timeouts, retries and tracing.

mod error;
mod executor;
mod oauth;
mod ratelimit;
mod request;
pub mod retry;

pub use self::error::{
    ApiError, Error, ErrorBody, ErrorDecoder, GenericErrorDecoder, JsonErrorDecoder, TransportKind,
    XmlErrorElements,
};
pub use self::executor::{
    DEFAULT_TRACKING_HEADERS, Executor, ExecutorBuilder, Redirects, Response, StreamingResponse,
};
pub use self::oauth::OAuth2Source;
pub use self::ratelimit::{RateLimiter, RatePermit};
pub use self::request::{Body, Method, Request};
pub use self::retry::{RetryBudget, RetryPolicy};
