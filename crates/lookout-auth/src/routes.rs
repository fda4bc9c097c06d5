//! Which role each of Lookout's routes needs, for wrapping the whole router with one
//! [`RequireRole::by_route`](crate::RequireRole::by_route) layer: ingestion needs `write`, lifecycle and
//! destructive endpoints need `admin`, everything else (queries, metadata, status, UI, `/metrics`) needs `read`.

use http::Method;

use crate::role::Role;

/// Paths that ingest data.
const WRITE_PATHS: [&str; 5] = [
    "/api/v1/write",
    "/api/v1/import/prometheus",
    "/api/v1/otlp/v1/metrics",
    "/loki/api/v1/push",
    "/otlp/v1/logs",
];

/// Path prefixes of administrative endpoints.
const ADMIN_PREFIXES: [&str; 2] = ["/api/v1/admin/", "/loki/api/v1/delete"];

/// Lifecycle endpoints.
const ADMIN_PATHS: [&str; 2] = ["/-/reload", "/-/quit"];

/// The role a request for `path` (without the route prefix) with `method` needs.
pub fn lookout_route_role(method: &Method, path: &str) -> Role {
    if method == Method::DELETE
        || ADMIN_PATHS.contains(&path)
        || ADMIN_PREFIXES.iter().any(|p| path.starts_with(p))
    {
        Role::Admin
    } else if WRITE_PATHS.contains(&path) || path.starts_with("/api/v1/import/") {
        Role::Write
    } else {
        Role::Read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_of_lookout_routes() {
        let r = |m: Method, p: &str| lookout_route_role(&m, p);
        assert_eq!(r(Method::POST, "/api/v1/write"), Role::Write);
        assert_eq!(r(Method::POST, "/api/v1/import/prometheus"), Role::Write);
        assert_eq!(r(Method::POST, "/loki/api/v1/push"), Role::Write);
        assert_eq!(r(Method::POST, "/-/reload"), Role::Admin);
        assert_eq!(r(Method::PUT, "/-/quit"), Role::Admin);
        assert_eq!(
            r(Method::POST, "/api/v1/admin/tsdb/delete_series"),
            Role::Admin
        );
        assert_eq!(r(Method::DELETE, "/loki/api/v1/delete"), Role::Admin);
        assert_eq!(r(Method::GET, "/api/v1/query"), Role::Read);
        assert_eq!(r(Method::POST, "/api/v1/query_range"), Role::Read);
        assert_eq!(r(Method::GET, "/metrics"), Role::Read);
        assert_eq!(r(Method::GET, "/-/healthy"), Role::Read);
        assert_eq!(r(Method::GET, "/api/v1/status/config"), Role::Read);
        assert_eq!(r(Method::GET, "/"), Role::Read);
    }
}
