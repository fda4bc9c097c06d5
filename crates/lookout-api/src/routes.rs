//! Route registration with a declared role: every route is added through [`Routes::add`], which records the role
//! it needs and wraps it in [`RequireRole`], so no route can be registered without one. [`route_table`] lists
//! the declarations (the same ones the router is built from) for tests and documentation.

use axum::Router;
use axum::routing::MethodRouter;
use lookout_auth::{Authenticator, RequireRole, Role};

use crate::ApiState;

/// One registered route and the role it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredRoute {
    /// The path pattern as registered (`{name}` and `{*rest}` are axum's captures).
    pub path: &'static str,
    /// The role a request needs.
    pub role: Role,
}

/// A router under construction whose every route declares its role.
pub(crate) struct Routes {
    router: Router<ApiState>,
    declared: Vec<DeclaredRoute>,
    guard: Option<(Authenticator, String)>,
}

impl Routes {
    /// Routes checked by `auth` (paths may carry `route_prefix`); `None` only records (for [`route_table`]).
    pub(crate) fn new(guard: Option<(Authenticator, String)>) -> Self {
        Routes {
            router: Router::new(),
            declared: Vec::new(),
            guard,
        }
    }

    /// Adds `path` needing `role`.
    pub(crate) fn add(
        mut self,
        path: &'static str,
        role: Role,
        methods: MethodRouter<ApiState>,
    ) -> Self {
        self.declared.push(DeclaredRoute { path, role });
        // `layer`, not `route_layer`: `any()` routes have only a fallback, and a wrong method should not tell an
        // unauthenticated client which methods exist either.
        let methods = match &self.guard {
            Some((auth, prefix)) => {
                methods.layer(RequireRole::new(auth.clone(), role).with_route_prefix(prefix))
            }
            None => methods,
        };
        self.router = self.router.route(path, methods);
        self
    }

    /// The router.
    pub(crate) fn into_router(self) -> Router<ApiState> {
        self.router
    }

    /// The declarations.
    pub(crate) fn into_declared(self) -> Vec<DeclaredRoute> {
        self.declared
    }
}

/// Every route of the server (`agent: false`) or of agent mode, with its role, in registration order.
pub fn route_table(agent: bool) -> Vec<DeclaredRoute> {
    let routes = Routes::new(None);
    if agent {
        crate::agent_routes(routes).into_declared()
    } else {
        crate::server_routes(routes).into_declared()
    }
}
