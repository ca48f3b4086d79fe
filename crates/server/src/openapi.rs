//! The OpenAPI 3.1 document, generated from [`crate::ROUTES`] so it cannot miss a route.

use serde_json::{Map, Value, json};

fn parameters(path: &str) -> Vec<Value> {
    let query =
        |name: &str, description: &str| json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" }, "description": description });
    let mut list: Vec<Value> = path
        .split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|part| part.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "integer" } }))
        .collect();
    match path {
        "/api/findings" | "/findings" => {
            for name in ["severity", "status", "lifecycle", "check_id", "service", "account_id", "region", "resource_arn", "q"] {
                list.push(query(name, "filter"));
            }
            list.push(query("sort", "severity, check, resource or newest (keyset pages: `after` is the last row's id, as in every order)"));
            list.push(query("failing", "1: failing findings only (lifecycle new or open)"));
        }
        "/api/findings/groups" => {
            for name in ["severity", "status", "lifecycle", "check_id", "service", "account_id", "region"] {
                list.push(query(name, "filter"));
            }
            list.push(query("by", "check_id, service, severity, account_id, region, status or lifecycle"));
            list.push(query("failing", "1: failing findings only"));
        }
        "/api/finding" | "/finding" => list.push(query("id", "the finding's id")),
        "/api/compliance" | "/compliance" => list.push(query("framework", "cis, fsbp, pci, nist or a framework id")),
        "/api/alerts" | "/activity" => {
            list.push(query("level", "filter"));
            list.push(query("rule_id", "filter"));
            list.push(query("before", "cursor: the `next` of the previous page"));
            list.push(query("limit", "page size, 1 to 10000 (default 100)"));
        }
        "/api/resources" | "/resources" => {
            for name in ["resource_type", "account_id", "region", "state", "q"] {
                list.push(query(name, "filter"));
            }
            list.push(query("tag", "KEY or KEY=VALUE"));
        }
        "/api/resource" | "/resource" => list.push(query("arn", "the resource's ARN")),
        "/api/diff" | "/scans" => {
            list.push(query("from", "older scan id"));
            list.push(query("to", "newer scan id"));
        }
        _ => {}
    }
    if matches!(path, "/api/findings" | "/api/resources") {
        list.push(query("after", "cursor: the `next` of the previous page"));
        list.push(query("limit", "page size, 1 to 10000 (default 100)"));
    }
    list
}

/// The document served at `/api/openapi.json`.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, summary) in crate::ROUTES {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        let security = if crate::is_public(method, path) { json!([]) } else { json!([{ "bearer": [] }, { "session": [] }]) };
        entry[method.to_ascii_lowercase()] = json!({
            "summary": summary,
            "parameters": parameters(path),
            "security": security,
            "responses": { "200": { "description": "OK" }, "401": { "description": "authentication required" }, "403": { "description": "CSRF token missing or wrong" } }
        });
    }
    for (method, path, summary) in crate::agent_api::AGENT_ROUTES {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        let security = if *path == vigil_fleet::wire::ENROL { json!([]) } else { json!([{ "agent": [] }]) };
        entry[method.to_ascii_lowercase()] = json!({
            "summary": summary,
            "security": security,
            "responses": { "200": { "description": "OK" }, "401": { "description": "agent credential missing or wrong" }, "403": { "description": "refused, with the reason (JSON `reason`, `error`)" } }
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
    fn every_route_is_in_the_document_with_its_method() {
        let document = super::document();
        for (method, path, _) in crate::ROUTES {
            assert!(document["paths"][path][method.to_ascii_lowercase()].is_object(), "{method} {path} missing");
        }
        let described: usize = document["paths"].as_object().unwrap().values().map(|methods| methods.as_object().unwrap().len()).sum();
        assert_eq!(described, crate::ROUTES.len() + crate::agent_api::AGENT_ROUTES.len());
    }
}
