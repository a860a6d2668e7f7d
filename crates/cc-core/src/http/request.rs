//! Requests described without I/O. Vendor crates build them; the executor sends them.

use std::fmt::Write as _;

use serde::Serialize;

use crate::Secret;
use crate::secret::MaybeSecret;

/// HTTP method.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// RFC 9110 §9.2.2: GET, HEAD, PUT and DELETE are idempotent; POST and PATCH are not.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Self::Post | Self::Patch)
    }
}

/// A request body.
#[derive(Clone, Debug, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// `application/json` bytes.
    Json(Vec<u8>),
    /// `application/x-www-form-urlencoded` text (may hold secrets).
    Form(Secret<String>),
    /// `application/json` bytes that hold secrets (a token request): never shown.
    SecretJson(Secret<Vec<u8>>),
    /// Other bytes with their content type.
    Bytes {
        /// `Content-Type` value.
        content_type: String,
        /// The bytes.
        data: Vec<u8>,
    },
}

/// One HTTP call: what to send and how the executor may treat it.
///
/// ```
/// use cc_core::http::Request;
/// let req = Request::post("https://ece.example/system/ws/v19/clientapplications/messaging/sendmessage")
///     .operation("ece.send_message")
///     .json(&serde_json::json!({"conversation": {"id": "c1"}, "type": {"value": "text/plain"}, "content": "hi"}))
///     .unwrap();
/// assert!(!req.is_idempotent());
/// assert!(req.describe().starts_with("POST https://ece.example/"));
/// ```
/// `Debug` shows the URL without its query and the query's names without their values
/// (pre-signed URLs and query strings can hold credentials or customer data), and redacts
/// secret headers and bodies.
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, MaybeSecret)>,
    pub(crate) body: Body,
    pub(crate) idempotent: bool,
    pub(crate) authenticated: bool,
    pub(crate) sensitive_response: bool,
    pub(crate) operation: &'static str,
}

impl Request {
    /// A request to an absolute URL. Idempotency follows the method until
    /// [`Request::idempotent`] says otherwise.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
            idempotent: method.is_idempotent(),
            authenticated: true,
            sensitive_response: false,
            operation: "http",
        }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// `POST url`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// `PUT url`.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// `PATCH url`.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(Method::Patch, url)
    }

    /// `DELETE url`.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Names the operation in tracing spans and errors (`ece.start_conversation`).
    pub fn operation(mut self, name: &'static str) -> Self {
        self.operation = name;
        self
    }

    /// Appends a query parameter (encoded when sent).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header. A header whose name says it holds a credential
    /// ([`looks_secret`](crate::secret::looks_secret): `cookie`, `authorization`, `x-api-key`…)
    /// is kept as secret, as with [`Request::secret_header`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into().to_ascii_lowercase();
        let value = MaybeSecret::for_header(&name, value.into());
        self.headers.push((name, value));
        self
    }

    /// Adds a header whose value is secret: redacted in logs, `Debug` and [`Request::describe`].
    pub fn secret_header(mut self, name: impl Into<String>, value: Secret<String>) -> Self {
        self.headers.push((name.into().to_ascii_lowercase(), MaybeSecret::Secret(value)));
        self
    }

    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, serde_json::Error> {
        self.body = Body::Json(serde_json::to_vec(body)?);
        Ok(self)
    }

    /// Sets a JSON body that holds secrets: redacted in `Debug` and [`Request::describe`].
    pub fn secret_json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, serde_json::Error> {
        self.body = Body::SecretJson(Secret::new(serde_json::to_vec(body)?));
        Ok(self)
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Declares whether sending the request twice is harmless. A non-idempotent request is
    /// retried only when it provably never reached the server or the server asked for a
    /// retry (429, 503 with `Retry-After`).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Sends the request without the executor's credentials (token endpoints, pre-signed URLs).
    pub fn without_auth(mut self) -> Self {
        self.authenticated = false;
        self
    }

    /// The response may carry secrets (a token response): its body is never copied into
    /// errors.
    pub fn sensitive_response(mut self) -> Self {
        self.sensitive_response = true;
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Whether the executor may repeat it freely.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    /// The operation name.
    pub fn operation_name(&self) -> &'static str {
        self.operation
    }

    /// The body.
    pub fn body_ref(&self) -> &Body {
        &self.body
    }

    /// The value of a header (secret values included: this is for code, not logs).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.expose())
    }

    /// The URL with the query string appended, as it goes on the wire.
    pub fn full_url(&self) -> String {
        if self.query.is_empty() {
            return self.url.clone();
        }
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.query {
            query.append_pair(k, v);
        }
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{}", self.url, query.finish())
    }

    /// The request as text with secrets redacted: method and URL, headers sorted by name,
    /// then the body (JSON pretty-printed). Meant for snapshot tests of what a client builds.
    pub fn describe(&self) -> String {
        let mut out = format!("{} {}\n", self.method.as_str(), self.full_url());
        let mut headers: Vec<_> = self.headers.iter().collect();
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in headers {
            let _ = writeln!(out, "{name}: {}", value.shown());
        }
        let _ = writeln!(out, "idempotent: {}", self.idempotent);
        match &self.body {
            Body::Empty => {}
            Body::Json(bytes) => {
                let pretty = serde_json::from_slice::<serde_json::Value>(bytes)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned());
                let _ = write!(out, "content-type: application/json\n\n{pretty}\n");
            }
            Body::SecretJson(_) => out.push_str("content-type: application/json\n\n[redacted JSON]\n"),
            Body::Form(_) => {
                out.push_str("content-type: application/x-www-form-urlencoded\n\n[redacted form]\n")
            }
            Body::Bytes { content_type, data } => {
                let _ = write!(out, "content-type: {content_type}\n\n{}\n", String::from_utf8_lossy(data));
            }
        }
        out
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.url.split(['?', '#']).next().unwrap_or_default();
        let query: Vec<String> = self
            .url
            .split_once('?')
            .map(|(_, q)| q.split('#').next().unwrap_or_default())
            .into_iter()
            .flat_map(|q| q.split('&'))
            .chain(self.query.iter().map(|(k, _)| k.as_str()))
            .filter(|pair| !pair.is_empty())
            .map(|pair| format!("{}=[redacted]", pair.split('=').next().unwrap_or_default()))
            .collect();
        let headers: Vec<String> = self.headers.iter().map(|(n, v)| format!("{n}: {}", v.shown())).collect();
        let body = match &self.body {
            Body::Empty => "empty".to_owned(),
            Body::Json(bytes) => format!("JSON, {} bytes", bytes.len()),
            Body::SecretJson(_) => "[redacted JSON]".to_owned(),
            Body::Form(_) => "[redacted form]".to_owned(),
            Body::Bytes { content_type, data } => format!("{content_type}, {} bytes", data.len()),
        };
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("url", &url)
            .field("query", &query)
            .field("headers", &headers)
            .field("body", &body)
            .field("idempotent", &self.idempotent)
            .field("authenticated", &self.authenticated)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_redacts_secrets_and_encodes_query() {
        let req = Request::get("https://h/x")
            .query("q", r#"{"a":"b c"}"#)
            .query("n", "1")
            .header("Accept", "application/json")
            .secret_header("Authorization", Secret::from("Bearer abc"));
        assert_eq!(
            req.describe(),
            "GET https://h/x?q=%7B%22a%22%3A%22b+c%22%7D&n=1\naccept: application/json\nauthorization: [redacted]\nidempotent: true\n"
        );
        assert!(!format!("{req:?}").contains("abc"));
        assert_eq!(req.header_value("AUTHORIZATION"), Some("Bearer abc"));
    }

    #[test]
    fn debug_shows_no_query_values_cookies_or_secret_bodies() {
        let req = Request::get("https://h/download?X-Amz-Signature=sig123&id=7#frag")
            .query("access_token", "tok456")
            .header("Cookie", "icc3_TrackingId=visitor789")
            .header("x-api-key", "key000")
            .header("accept", "application/json")
            .body(Body::Form(Secret::from("client_secret=s3")));
        let shown = format!("{req:?}");
        for secret in ["sig123", "tok456", "visitor789", "key000", "s3", "id=7", "frag"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains(r#"url: "https://h/download""#), "{shown}");
        assert!(
            shown.contains("X-Amz-Signature=[redacted]") && shown.contains("accept: application/json"),
            "{shown}"
        );
        // The wire still gets the values.
        assert_eq!(req.header_value("cookie"), Some("icc3_TrackingId=visitor789"));
        assert!(req.describe().contains("cookie: [redacted]"));
    }

    #[test]
    fn idempotency_follows_method_unless_overridden() {
        assert!(Request::put("u").is_idempotent());
        assert!(Request::delete("u").is_idempotent());
        assert!(!Request::post("u").is_idempotent());
        assert!(!Request::patch("u").is_idempotent());
        assert!(Request::post("u").idempotent(true).is_idempotent());
        assert_eq!(Request::get("u?a=1").query("b", "2").full_url(), "u?a=1&b=2");
    }
}
