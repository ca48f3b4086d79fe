//! The route table's types. Every route is one [`Route`]: its method, path, summary, the
//! parameters it reads (for the OpenAPI document), who may call it and its handler. The
//! modules that hold handlers declare their routes beside them (`handlers::ROUTES` for the
//! JSON API, `views::ROUTES` for the pages, `pages::ROUTES` for login, logout and assets,
//! `agent_views::ROUTES` for the Agents pages, `host_views::ROUTES` for the Vulnerabilities
//! page, `agent_api::ROUTES` for the agent API);
//! [`all`] lists every table, and the router, the guard and `openapi.rs` read only that.

use std::sync::Arc;

use axum::routing::{MethodFilter, MethodRouter};

pub use vigil_store::people::Role;

use crate::AppState;

/// The router's state.
pub type Shared = Arc<AppState>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }

    pub(crate) fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the login form, the assets, the API description.
    Public,
    /// A caller whose role is at least this one (the shared token, an API key or a session);
    /// reads only.
    Read(Role),
    /// A caller whose role is at least this one, with a bearer credential or a session whose
    /// request carries its CSRF header (`X-CSRF-Token`): every route that changes state.
    Change(Role),
    /// The agent API's enrolment: no credential yet; the body proves who the host is (a
    /// signed instance identity document or an enrolment token), checked by the handler.
    Enrolment,
    /// An enrolled agent's own credential (`Authorization: Bearer <agent id>.<secret>`),
    /// checked against the store; console tokens and sessions do not open these routes, and
    /// an agent's credential opens nothing else. No cookie is read, so no CSRF header.
    Agent,
}

impl Access {
    /// The agent API's routes: served on the console's listener and alone on
    /// `--agent-listen`.
    pub fn is_agent_api(self) -> bool {
        matches!(self, Access::Enrolment | Access::Agent)
    }
}

/// Where a parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    /// A `{name}` segment of the path: an integer id.
    Path,
    /// A query-string value.
    Query,
}

/// What a parameter's value must be; [`crate::params`] checks every request against it
/// before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text without NUL bytes or other control characters.
    Text,
    /// A decimal 64-bit integer.
    Integer,
    /// One of these words (a page's view: `by=cve|package|host`).
    OneOf(&'static [&'static str]),
}

impl Kind {
    /// The JSON Schema type of the OpenAPI document.
    pub fn json_type(self) -> &'static str {
        match self {
            Kind::Text | Kind::OneOf(_) => "string",
            Kind::Integer => "integer",
        }
    }
}

/// One parameter a route reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub within: In,
    pub kind: Kind,
    pub description: &'static str,
}

/// A query-string parameter holding text.
pub const fn query(name: &'static str, description: &'static str) -> Param {
    Param { name, within: In::Query, kind: Kind::Text, description }
}

/// A query-string parameter holding an integer (an id, a cursor, a page size).
pub const fn query_int(name: &'static str, description: &'static str) -> Param {
    Param { name, within: In::Query, kind: Kind::Integer, description }
}

/// A query-string parameter holding one of `values` (empty: absent).
pub const fn query_one_of(name: &'static str, values: &'static [&'static str], description: &'static str) -> Param {
    Param { name, within: In::Query, kind: Kind::OneOf(values), description }
}

/// A `{name}` path segment holding an integer id.
pub const fn path_id(name: &'static str, description: &'static str) -> Param {
    Param { name, within: In::Path, kind: Kind::Integer, description }
}

/// One route of the console.
pub struct Route {
    pub method: Method,
    /// axum's syntax: `{name}` for a path parameter.
    pub path: &'static str,
    /// One sentence for the OpenAPI document.
    pub summary: &'static str,
    /// The parameters it reads, in groups that routes share (the finding filters, paging).
    pub params: &'static [&'static [Param]],
    pub access: Access,
    /// The handler, for this route's method (`|method| on(method, handler)`): the router
    /// passes [`Route::method`], so a handler cannot answer another method than its entry's.
    pub handler: fn(MethodFilter) -> MethodRouter<Shared>,
}

impl Route {
    /// Every parameter, in order.
    pub fn params(&self) -> impl Iterator<Item = &'static Param> + use<> {
        self.params.iter().copied().flatten()
    }
}

/// Every route of the console: the tables of the modules that hold handlers. A new module
/// with routes adds its table here.
pub fn all() -> impl Iterator<Item = &'static Route> {
    [
        crate::openapi::ROUTES,
        crate::pages::ROUTES,
        crate::oidc::ROUTES,
        crate::handlers::ROUTES,
        crate::views::ROUTES,
        crate::agent_views::ROUTES,
        crate::host_views::ROUTES,
        crate::agent_api::ROUTES,
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Each (method, path) once; each `{name}` in a path declared as a path parameter and
    /// every path parameter in the path; state changes only through `Change` routes (every
    /// POST but the login form and the agent API, no GET); the agent API under its prefix and
    /// only there.
    #[test]
    fn the_table_is_consistent_and_every_state_change_needs_csrf() {
        let mut seen = BTreeSet::new();
        for route in all() {
            assert!(seen.insert((route.method.as_str(), route.path)), "{} {} is declared twice", route.method.as_str(), route.path);
            let segments: BTreeSet<&str> = route.path.split('/').filter_map(|part| part.strip_prefix('{').and_then(|part| part.strip_suffix('}'))).collect();
            let declared: BTreeSet<&str> = route.params().filter(|param| param.within == In::Path).map(|param| param.name).collect();
            assert_eq!(segments, declared, "{}", route.path);
            let names: Vec<&str> = route.params().map(|param| param.name).collect();
            assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), names.len(), "{} declares a parameter twice", route.path);
            match (route.method, route.access) {
                (Method::Get, Access::Change(_)) => panic!("GET {} changes state", route.path),
                (Method::Post, Access::Read(_)) => panic!("POST {} must need the CSRF header", route.path),
                (Method::Post, Access::Public) => assert_eq!(route.path, "/login", "only the login form is a public POST"),
                (_, Access::Enrolment) => {
                    assert_eq!((route.method, route.path), (Method::Post, vigil_fleet::wire::ENROL), "only enrolment needs no agent credential")
                }
                _ => {}
            }
            assert_eq!(
                route.access.is_agent_api(),
                route.path.starts_with(vigil_fleet::wire::PREFIX),
                "{}: the agent API is exactly the routes under its prefix",
                route.path
            );
        }
    }
}
