//! One tracing span per request, with structured fields: the method and the route that
//! matched (`/announce/{passkey}`, never the path itself nor its query, which carry passkeys
//! and tokens). Disabled below `debug`, where it costs a level check.

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use tracing::Instrument as _;

/// `app` with a `http_request` span around each request (fields `method` and `route`) and a
/// debug event `answered` with the `status` in it.
pub fn trace_requests(app: Router) -> Router {
    app.layer(from_fn(request_span))
}

async fn request_span(req: Request, next: Next) -> Response {
    let span = tracing::debug_span!(
        "http_request",
        method = %req.method(),
        route = req.extensions().get::<MatchedPath>().map_or("(unmatched)", |p| p.as_str()),
    );
    async move {
        let response = next.run(req).await;
        tracing::debug!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn requests_pass_through_the_span_layer() {
        let app = trace_requests(Router::new().route("/a/{key}", axum::routing::get(|| async { "ok" })));
        let req = axum::http::Request::get("/a/secret?token=x")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.clone().oneshot(req).await.unwrap();
        assert_eq!(response.status(), 200);
        let req = axum::http::Request::get("/elsewhere")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(app.oneshot(req).await.unwrap().status(), 404);
    }
}
