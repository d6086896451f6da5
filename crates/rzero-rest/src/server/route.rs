//! Routes and groups as a `.api` file declares them: a method, a path with `:name`
//! segments, a handler, and per route or per group a timeout, a body limit, JWT and
//! middleware (go-zero's `rest.Route`, `WithPrefix`, `WithJwt`, `WithTimeout`,
//! `WithMaxBytes`, `WithMiddlewares`).
//!
//! `S` is the state the handlers share (the service context), as in axum's
//! `Router<S>`: a handler takes it with `State<S>`, and [`Server::with_state`] gives it.
//!
//! [`Server::with_state`]: super::Server::with_state

use std::sync::Arc;
use std::time::Duration;

use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use http::Method;

use super::endpoint::Endpoint;
use crate::jwt::JwtConf;

pub(crate) type Wrap = Arc<dyn Fn(MethodRouter) -> MethodRouter + Send + Sync>;

/// The route's handler given the server's state, as its stack's innermost service.
pub(crate) type MakeEndpoint<S> = Arc<dyn Fn(S) -> Endpoint + Send + Sync>;

/// One route: method, path, handler and its own limits.
pub struct Route<S = ()> {
    pub(crate) method: Method,
    pub(crate) path: String,
    /// The handler, made into the stack's innermost service once the state is known
    /// (see [`super::endpoint`]).
    pub(crate) endpoint: MakeEndpoint<S>,
    pub(crate) filter: MethodFilter,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_bytes: Option<u64>,
    /// Served as server-sent events, with this keep-alive interval.
    pub(crate) sse: Option<Duration>,
    /// Why the route cannot be served (an HTTP method axum cannot route), reported by
    /// the build.
    pub(crate) invalid: Option<String>,
}

impl<S> Clone for Route<S> {
    fn clone(&self) -> Self {
        Route {
            method: self.method.clone(),
            path: self.path.clone(),
            endpoint: self.endpoint.clone(),
            filter: self.filter,
            timeout: self.timeout,
            max_bytes: self.max_bytes,
            sse: self.sse,
            invalid: self.invalid.clone(),
        }
    }
}

impl<S> std::fmt::Debug for Route<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Route({} {})", self.method, self.path)
    }
}

macro_rules! method_fns {
    ($($name:ident => $method:ident),*) => {$(
        #[doc = concat!("A `", stringify!($method), "` route; `path` may have `:name` segments.")]
        pub fn $name<H, T>(path: &str, handler: H) -> Self
        where
            H: Handler<T, S>,
            T: 'static,
        {
            Route::new(Method::$method, path, handler)
        }
    )*};
}

impl<S: Clone + Send + Sync + 'static> Route<S> {
    /// A route for `method` at `path` (`/api/v1/orders/:order_id`).
    pub fn new<H, T>(method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let (filter, invalid) = match MethodFilter::try_from(method.clone()) {
            Ok(filter) => (filter, None),
            Err(_) => (
                MethodFilter::GET,
                Some(format!(
                    "{method} {path}: axum cannot route the method {method}"
                )),
            ),
        };
        let endpoint = Arc::new(move |state: S| Endpoint::new(handler.clone(), state));
        Route {
            method,
            path: path.to_owned(),
            endpoint,
            filter,
            timeout: None,
            max_bytes: None,
            sse: None,
            invalid,
        }
    }

    method_fns!(get => GET, post => POST, put => PUT, delete => DELETE, patch => PATCH, head => HEAD);

    /// This route's timeout instead of the server's (go-zero's `@server(timeout: 5s)`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// This route's body limit instead of `MaxBytes` (go-zero's `maxBytes`).
    pub fn max_bytes(mut self, limit: u64) -> Self {
        self.max_bytes = Some(limit);
        self
    }

    /// Serves this route as server-sent events (see [`crate::sse`]): no timeout, the
    /// span open until the stream ends, the stream ended on drain.
    pub fn sse(mut self) -> Self {
        self.sse = Some(crate::sse::DEFAULT_KEEP_ALIVE);
        self
    }
}

/// Routes sharing a prefix, JWT, limits and middleware: one `@server(...)` block.
pub struct Group<S = ()> {
    pub(crate) prefix: String,
    pub(crate) jwt: Option<JwtConf>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) sse: Option<Duration>,
    pub(crate) wraps: Vec<Wrap>,
    pub(crate) routes: Vec<Route<S>>,
}

impl<S> Default for Group<S> {
    fn default() -> Self {
        Group {
            prefix: String::new(),
            jwt: None,
            timeout: None,
            max_bytes: None,
            sse: None,
            wraps: Vec::new(),
            routes: Vec::new(),
        }
    }
}

impl<S> Clone for Group<S> {
    fn clone(&self) -> Self {
        Group {
            prefix: self.prefix.clone(),
            jwt: self.jwt.clone(),
            timeout: self.timeout,
            max_bytes: self.max_bytes,
            sse: self.sse,
            wraps: self.wraps.clone(),
            routes: self.routes.clone(),
        }
    }
}

impl<S> std::fmt::Debug for Group<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("prefix", &self.prefix)
            .field("jwt", &self.jwt.is_some())
            .field("routes", &self.routes)
            .finish()
    }
}

impl<S> Group<S> {
    /// An empty group.
    pub fn new() -> Self {
        Group::default()
    }

    /// Paths of the group's routes start with `prefix` (`@server(prefix: /api/v1)`).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// The group's routes need a token signed with `conf`'s secret (`@server(jwt: Auth)`).
    pub fn jwt(mut self, conf: &JwtConf) -> Self {
        self.jwt = Some(conf.clone());
        self
    }

    /// Timeout of the group's routes that set none.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Body limit of the group's routes that set none.
    pub fn max_bytes(mut self, limit: u64) -> Self {
        self.max_bytes = Some(limit);
        self
    }

    /// The group's routes are server-sent events (`@server(sse: true)`, go-zero's
    /// `rest.WithSSE`); see [`crate::sse`].
    pub fn sse(self) -> Self {
        self.sse_keep_alive(crate::sse::DEFAULT_KEEP_ALIVE)
    }

    /// As [`sse`](Self::sse), with a keep-alive comment after `interval` of quiet
    /// (`ZERO`: none).
    pub fn sse_keep_alive(mut self, interval: Duration) -> Self {
        self.sse = Some(interval);
        self
    }

    /// A tower layer around each route of the group, inside rzero's middleware and JWT
    /// (`@server(middleware: Check)`); the first added runs first.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response:
            axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error:
            Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.wraps
            .push(Arc::new(move |r: MethodRouter| r.layer(layer.clone())));
        self
    }

    /// Adds a route.
    pub fn route(mut self, route: Route<S>) -> Self {
        self.routes.push(route);
        self
    }

    /// Adds routes.
    pub fn routes(mut self, routes: impl IntoIterator<Item = Route<S>>) -> Self {
        self.routes.extend(routes);
        self
    }
}

/// `/orders/:id` as axum writes it, `/orders/{id}`; an error names a bad segment.
pub(crate) fn axum_path(path: &str) -> Result<String, String> {
    if !path.starts_with('/') {
        return Err(format!("route path {path:?} must start with `/`"));
    }
    let mut out = String::with_capacity(path.len() + 4);
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if let Some(name) = seg.strip_prefix(':') {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "route path {path:?}: `:{name}` is not a valid parameter name"
                ));
            }
            out.push('{');
            out.push_str(name);
            out.push('}');
        } else if seg.contains(['{', '}', '*']) {
            return Err(format!("route path {path:?}: write parameters as `:name`"));
        } else {
            out.push_str(seg);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_become_axum_paths() {
        assert_eq!(
            axum_path("/api/v1/orders/:order_id").as_deref(),
            Ok("/api/v1/orders/{order_id}")
        );
        assert_eq!(axum_path("/").as_deref(), Ok("/"));
        assert!(axum_path("orders").is_err());
        assert!(axum_path("/a/:").is_err());
        assert!(axum_path("/a/{b}").is_err());
        assert!(axum_path("/a/:b-c").is_err());
    }
}
