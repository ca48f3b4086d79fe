//! The OpenAPI 3.1 document, generated from the route table ([`crate::routes::all`]) so it
//! cannot miss a route, a parameter or who may call it.

use axum::Json;
use axum::routing::on;
use serde_json::{Map, Value, json};

use crate::routes::{Access, In, Method, Route};

/// The document's own route.
pub const ROUTES: &[Route] = &[Route {
    method: Method::Get,
    path: "/api/openapi.json",
    summary: "This OpenAPI document.",
    params: &[],
    access: Access::Public,
    handler: |method| on(method, || async { Json(document()) }),
}];

fn parameters(route: &Route) -> Vec<Value> {
    route
        .params()
        .map(|param| match param.within {
            In::Path => json!({ "name": param.name, "in": "path", "required": true, "schema": { "type": "integer" }, "description": param.description }),
            In::Query => {
                let mut schema = json!({ "type": param.kind.json_type() });
                if let crate::routes::Kind::OneOf(values) = param.kind {
                    schema["enum"] = json!(values);
                }
                json!({ "name": param.name, "in": "query", "required": false, "schema": schema, "description": param.description })
            }
        })
        .collect()
}

/// The document served at `/api/openapi.json`.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in crate::routes::all() {
        let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        let security = match route.access {
            Access::Public | Access::Enrolment => json!([]),
            Access::Read(_) | Access::Change(_) => json!([{ "bearer": [] }, { "session": [] }]),
            Access::Agent => json!([{ "agent": [] }]),
        };
        let mut responses = json!({ "200": { "description": "OK" } });
        match route.access {
            Access::Public => {}
            Access::Read(role) => {
                responses["401"] = json!({ "description": "authentication required" });
                responses["403"] = json!({ "description": format!("the caller's role is below {}", role.as_str()) });
            }
            Access::Change(role) => {
                responses["401"] = json!({ "description": "authentication required" });
                responses["403"] = json!({ "description": format!("the caller's role is below {}, or with a session: the X-CSRF-Token header is missing or wrong", role.as_str()) });
            }
            Access::Enrolment => {
                responses["202"] = json!({ "description": "held pending (JSON `reason`, `error`, `retry_after_seconds`)" });
                responses["403"] = json!({ "description": "refused, with the reason (JSON `reason`, `error`)" });
            }
            Access::Agent => {
                responses["401"] = json!({ "description": "agent credential missing or wrong (JSON `reason`, `error`)" });
                responses["403"] = json!({ "description": "refused, with the reason (JSON `reason`, `error`)" });
            }
        }
        entry[route.method.as_str().to_ascii_lowercase()] = json!({
            "summary": route.summary,
            "parameters": parameters(route),
            "security": security,
            "responses": responses,
        });
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "vigil console API", "version": env!("CARGO_PKG_VERSION") },
        "components": { "securitySchemes": {
            "bearer": { "type": "http", "scheme": "bearer", "description": "the access token printed at first start" },
            "session": { "type": "apiKey", "in": "cookie", "name": "vigil_session", "description": "browser session; state-changing requests also need the X-CSRF-Token header" },
            "agent": { "type": "http", "scheme": "bearer", "description": "an agent's credential: `<agent id>.<secret>` from its enrolment" }
        } },
        "paths": paths
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_in_the_document_with_its_method_parameters_and_security() {
        let document = super::document();
        let mut routes = 0;
        for route in crate::routes::all() {
            routes += 1;
            let operation = &document["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
            assert!(operation.is_object(), "{} {} missing", route.method.as_str(), route.path);
            let names: Vec<&str> = operation["parameters"].as_array().unwrap().iter().map(|param| param["name"].as_str().unwrap()).collect();
            assert_eq!(names, route.params().map(|param| param.name).collect::<Vec<_>>(), "{}", route.path);
            let open = matches!(route.access, crate::routes::Access::Public | crate::routes::Access::Enrolment);
            assert_eq!(operation["security"].as_array().unwrap().is_empty(), open, "{}", route.path);
        }
        let described: usize = document["paths"].as_object().unwrap().values().map(|methods| methods.as_object().unwrap().len()).sum();
        assert_eq!(described, routes);
    }
}
