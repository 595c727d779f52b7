//! `/openapi.json`: an OpenAPI 3.1 description written from [`super::ROUTES`].

use axum::Json;
use serde_json::{Map, Value, json};

use super::ROUTES;

/// The description.
pub fn describe() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let mut ops = Map::new();
        for m in r.methods {
            let mut params: Vec<Value> = r
                .params
                .iter()
                .map(|(name, description, required)| {
                    json!({"name": name, "in": "query", "required": required,
                           "description": description, "schema": {"type": "string"}})
                })
                .collect();
            for name in path_params(r.path) {
                params.push(
                    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
                );
            }
            let mut op = json!({
                "summary": r.summary,
                "parameters": params,
                "responses": {
                    "200": {"description": "Done.", "content": {r.answer: {}}},
                    "default": {"description": "An error: {\"error\": \"…\"}, with 400 (which parameter and why), 401, 403, 404 (unknown info-hash), 409 (already added), 413 (body too large).",
                                "content": {"application/json": {}}}
                }
            });
            if let Some(body) = r.body {
                op["requestBody"] = json!({"required": true, "content": {body: {}}});
            }
            if !r.secured {
                op["security"] = json!([]);
            }
            ops.insert((*m).to_string(), op);
        }
        paths.insert(r.path.to_string(), Value::Object(ops));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "nexsuj daemon",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Seed 004's API (GoTorrentServer) and more. Amounts are KiB and rates KiB/s; limits are whole KiB/s, 0 = unlimited; times are UTC strings. State changes accept POST, and GET with the Authorization header only."
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

/// The `{name}` parameters of a path.
pub fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

/// `GET /openapi.json`.
pub async fn document() -> Json<Value> {
    Json(describe())
}
