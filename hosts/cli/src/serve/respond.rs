//! HTTP answers: the status of an error-kind code, JSON bodies, and error results for requests
//! that never reach a worker (written by the engine, on the clerk instance).

use std::time::Instant;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use haforu_guest::kind;

use super::App;
use crate::runtime::Outcome;

/// The HTTP status of an error result of kind `code` (hosts/cli/README.md, *HTTP server*).
pub fn status_for(code: u32) -> StatusCode {
    match code {
        0 => StatusCode::OK,
        kind::BAD_JSON | kind::BAD_JOB => StatusCode::BAD_REQUEST,
        kind::FONT_NOT_FOUND => StatusCode::NOT_FOUND,
        kind::FONT_PARSE | kind::LIMIT_EXCEEDED | kind::RESOURCE_LIMIT => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        kind::OVERLOADED => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn json_response(code: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (code, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if code == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// A result as a JSON answer with the status of its kind (`code` overrides it).
pub fn outcome_response(o: Outcome, code: Option<StatusCode>) -> Response {
    let code = code.unwrap_or_else(|| status_for(o.kind));
    json_response(code, with_newline(o.json))
}

pub fn with_newline(mut v: Vec<u8>) -> Vec<u8> {
    v.push(b'\n');
    v
}

/// The engine's error result for a request-level failure; `job` (the request's job text, or
/// a stand-in such as `{"id":"request"}`) gives the id.
pub fn host_error(app: &App, job: &[u8], code: u32, reason: &str) -> Outcome {
    app.clerk(|w| w.error(Some(job), 0, code, reason, 0, Instant::now()))
}

pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// 413 for a body over `--max-body-mb`.
pub fn too_large(app: &App) -> Response {
    let reason = format!("the request body is larger than {} MiB", app.max_body >> 20);
    let o = host_error(app, br#"{"id":"request"}"#, kind::LIMIT_EXCEEDED, &reason);
    outcome_response(o, Some(StatusCode::PAYLOAD_TOO_LARGE))
}

/// 408 for a body that did not arrive within `--body-timeout-s`.
pub fn too_slow(app: &App) -> Response {
    let reason = format!(
        "the request body did not arrive within {} s",
        app.body_timeout.as_secs()
    );
    let o = host_error(app, br#"{"id":"request"}"#, kind::RESOURCE_LIMIT, &reason);
    outcome_response(o, Some(StatusCode::REQUEST_TIMEOUT))
}
