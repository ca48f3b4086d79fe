//! The one error responder. A client's mistake (4xx) is answered with a message naming what
//! was wrong. A failure of the server or its store (5xx) is answered with a generic message
//! and a request id; the detail (a SQL statement, the store's location, a panic) goes to the
//! server's log under that id and never into the body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A client's error as JSON (`{"error": message}`) with its status. The message must name
/// what the client sent, never the server's internals: failures of the server go through
/// [`internal`].
pub fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

/// A failure of the server: logged with a fresh request id, answered 500 with that id only.
pub fn internal(detail: impl std::fmt::Display) -> Response {
    let request_id = crate::auth::random_hex(8).unwrap_or_else(|_| "unavailable".to_string());
    tracing::error!(request_id = %request_id, "console request failed: {detail}");
    let body = json!({ "error": "internal error: the server's log has the detail under this request id", "request_id": request_id });
    let mut response = (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// A store's error: what the client asked for is missing (404, the store's message, which
/// names only what was asked for), or the store failed (500 through [`internal`]).
pub fn store(failure: vigil_store::StoreError) -> Response {
    match failure {
        vigil_store::StoreError::NotFound(message) => error(StatusCode::NOT_FOUND, message),
        other => internal(other),
    }
}

/// A path outside the route table.
pub async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such page or API route")
}
