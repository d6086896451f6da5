//! From routes and config to one axum `Router` with the middleware in go-zero's order.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, on_service};
use rzero_resilience::breaker::{BreakerLayer, SreBreaker};
use rzero_resilience::classify::{HttpServerErrors, HttpUnavailable};
use rzero_resilience::shedder::{CpuSampler, LoadShedLayer};
use rzero_service::per_thread::PerThread;
use tower::ServiceBuilder;

use super::Server;
use super::endpoint::Endpoint;
use super::route::{Route, axum_path};
use super::serve::ServeError;
use crate::accesslog::AccessLogLayer;
use crate::error::Error;
use crate::gunzip::GunzipLayer;
use crate::health;
use crate::jwt::JwtLayer;
use crate::limit::{MaxBytesLayer, MaxConnsLayer};
use crate::metrics::MetricsLayer;
use crate::ratelimit::Limits;
use crate::recover::RecoverLayer;
use crate::respond::{Refusals, RespondLayer};
use crate::sse::{SseDrain, SseLayer};
use crate::timeout::TimeoutLayer;
use crate::trace::TraceLayer;

/// What a built server needs besides its router.
pub(crate) struct Built {
    pub(crate) router: Router,
    /// Stopped when the server stops.
    pub(crate) sampler: Option<CpuSampler>,
    /// Where the accept loop counts the sockets it refuses.
    pub(crate) refusals: Refusals,
    /// Ends the open SSE streams when the server drains.
    pub(crate) sse_drain: SseDrain,
}

impl<S: Clone + Send + Sync + 'static> Server<S> {
    /// The router with every route and middleware, ready to serve; also what tests and
    /// benchmarks drive directly.
    pub fn into_router(mut self) -> Result<Router, ServeError> {
        let built = self.build()?;
        if let Some(s) = built.sampler {
            // Nobody would stop it: the caller only has the router. Shedding then runs on
            // the last reading, which is why serve() is the way to run a server.
            s.stop();
        }
        Ok(built.router)
    }

    pub(crate) fn build(&mut self) -> Result<Built, ServeError> {
        let conf = &self.conf;
        let on = &conf.middlewares;
        let refusals = self.meter.as_ref().map(Refusals::new).unwrap_or_default();

        // The server-wide middleware, made once and shared by every route (the shedder,
        // the MaxConns permits and the instruments live behind `Arc`s in the layers).
        let shedding = if on.shedding {
            rzero_service::shedding::start(conf.cpu_threshold, self.cpu.clone())
                .map_err(|e| ServeError::Config(e.to_string()))?
        } else {
            None
        };
        let (shed, sampler) = match shedding {
            Some(s) => (
                Some(LoadShedLayer::new(s.shedder, HttpUnavailable)),
                s.sampler,
            ),
            None => (None, None),
        };
        let max_conns = (on.max_conns && conf.max_conns > 0)
            .then(|| MaxConnsLayer::new(conf.max_conns, refusals.clone()));
        let metrics = match (on.metrics && on.prometheus, &self.meter) {
            (true, Some(meter)) => Some(MetricsLayer::new(meter)),
            _ => None,
        };
        let log = on.log.then(|| AccessLogLayer::new(conf.verbose));
        let trace = match (on.trace, &self.tracer) {
            (true, Some(tracer)) => {
                let mut layer = TraceLayer::new(tracer.clone())
                    .trust(&conf.trust_incoming)
                    .attributes_when_sampled(self.defer_span_attributes);
                for p in &conf.trace_ignore_paths {
                    layer = layer.ignore_path(p);
                }
                Some(layer)
            }
            _ => None,
        };
        let cors = conf.cors.layer().map_err(ServeError::Config)?;
        let sse = SseLayer::new();
        let mut limits = Limits::new(&conf.rate_limit, self.limit_store.clone(), refusals.clone())
            .map_err(ServeError::Config)?;

        // Reject overlapping routes with a message, before axum would panic on them.
        let mut check = matchit::Router::new();
        let mut by_path: Vec<(String, MethodRouter, Vec<http::Method>)> = Vec::new();
        for group in std::mem::take(&mut self.groups) {
            let jwt = match &group.jwt {
                Some(c) => Some(JwtLayer::new(c).map_err(ServeError::Config)?),
                None => None,
            };
            for route in group.routes {
                let Route {
                    method,
                    path,
                    endpoint,
                    filter,
                    timeout,
                    max_bytes,
                    sse: route_sse,
                    invalid,
                } = route;
                if let Some(why) = invalid {
                    return Err(ServeError::Route(why));
                }
                let full =
                    axum_path(&format!("{}{}", group.prefix, path)).map_err(ServeError::Route)?;
                // The probes are rzero's: a user route there would make axum panic, and
                // silently taking the probe over would hide the drain from the balancer.
                if [health::HEALTH_PATH, health::READY_PATH].contains(&full.as_str()) {
                    return Err(ServeError::Route(format!(
                        "{method} {full}: {full} is rzero's own probe route (liveness and \
                         readiness, outside every middleware); serve this route at another path"
                    )));
                }
                let limit = max_bytes.or(group.max_bytes).unwrap_or(conf.max_bytes);
                let timeout = timeout.or(group.timeout).unwrap_or(conf.timeout);
                // An SSE route has no timeout: its stream is meant to outlive any.
                let sse = route_sse
                    .or(group.sse)
                    .map(|interval| sse.clone().keep_alive(interval));
                let rate_limit = limits
                    .for_route(&method, &full, jwt.is_some())
                    .map_err(ServeError::Config)?;
                // A limit keyed by a JWT claim needs the checked claims: it runs inside
                // the JWT layer; every other limit runs before the work of checking one.
                let (rate_limit, limit_by_claim) = match rate_limit {
                    Some(l) if l.after_auth() => (None, Some(l)),
                    other => (other, None),
                };
                let breaker = on.breaker.then(|| {
                    BreakerLayer::new(SreBreaker::new(self.breaker.clone()), HttpServerErrors)
                });
                // One stack, applied once: each `.layer()` on a route boxes it again, and
                // axum clones the boxed route for every request.
                let stack = ServiceBuilder::new()
                    .option_layer(trace.clone())
                    .option_layer(log)
                    .option_layer(metrics.clone())
                    .option_layer(max_conns.clone())
                    .option_layer(rate_limit)
                    .option_layer(shed.clone().map(|shed| {
                        ServiceBuilder::new()
                            .layer(RespondLayer::new(refusals.clone()))
                            .layer(shed)
                    }))
                    .option_layer(breaker.map(|breaker| {
                        ServiceBuilder::new()
                            .layer(RespondLayer::new(refusals.clone()))
                            .layer(breaker)
                    }))
                    .option_layer(
                        (on.timeout && timeout > Duration::ZERO && sse.is_none())
                            .then(|| TimeoutLayer::new(timeout, refusals.clone())),
                    )
                    // Each layer's future holds the one below it and moves it when made, so
                    // the nested futures are copied over and over; one box halfway down
                    // stops that (callgrind: memcpy -740, malloc +100 instructions a request).
                    .map_future(|f| Box::pin(f) as futures_util::future::BoxFuture<'static, _>)
                    .option_layer(sse)
                    .option_layer(on.recover.then_some(RecoverLayer))
                    .option_layer(on.max_bytes.then(|| MaxBytesLayer::new(limit)))
                    .option_layer(on.gunzip.then(GunzipLayer::new))
                    .option_layer(jwt.clone())
                    .option_layer(limit_by_claim);
                // Without group layers the stack wraps the handler itself; a group's own
                // layers are typed on axum's `Route`, so they get one around it.
                let mut endpoint = endpoint(self.state.clone());
                if !group.wraps.is_empty() {
                    let mut handler: MethodRouter = on_service(filter, endpoint);
                    for wrap in group.wraps.iter().rev() {
                        handler = wrap(handler);
                    }
                    endpoint = Endpoint::from_router(handler);
                }
                // axum clones a route's service for every request: `PerThread` makes
                // that one count, not a clone of every layer.
                let handler: MethodRouter =
                    on_service(filter, PerThread::new(stack.service(endpoint)));
                match by_path.iter_mut().find(|(p, _, _)| *p == full) {
                    Some((_, merged, methods)) => {
                        if methods.contains(&method) {
                            return Err(ServeError::Route(format!(
                                "{method} {path} is declared twice"
                            )));
                        }
                        methods.push(method);
                        *merged = std::mem::take(merged).merge(handler);
                    }
                    None => {
                        check.insert(full.clone(), ()).map_err(|e| {
                            ServeError::Route(format!("route {full} conflicts with another: {e}"))
                        })?;
                        by_path.push((full, handler, vec![method]));
                    }
                }
            }
        }

        limits.check_all_used().map_err(ServeError::Config)?;

        // 404 and 405 are requests like any other to tracing, the access log and metrics
        // (without `http.route`: no route matched), but not to a route's breaker, limits
        // or JWT.
        let unrouted = ServiceBuilder::new()
            .map_request(|mut req: axum::extract::Request| {
                req.extensions_mut().remove::<axum::extract::MatchedPath>();
                req
            })
            .option_layer(trace)
            .option_layer(log)
            .option_layer(metrics);
        let mut router = Router::new();
        for (path, handler, _) in by_path {
            let not_allowed = unrouted.clone().service_fn(method_not_allowed);
            router = router.route(&path, handler.fallback_service(not_allowed));
        }
        router = router.fallback_service(unrouted.service_fn(not_found));
        if let Some(compress) = conf.compress.layer() {
            router = router.layer(compress);
        }
        // CORS outside routing: a preflight `OPTIONS` must be answered for routes that
        // serve only `POST`, before the 405 fallback.
        if let Some(cors) = cors {
            router = router.layer(cors);
        }
        router = router.merge(health::routes(self.readiness.clone()));
        Ok(Built {
            router,
            sampler,
            refusals,
            sse_drain: sse.drain_handle(),
        })
    }
}

async fn not_found(req: axum::extract::Request) -> Result<axum::response::Response, Infallible> {
    Ok(Error::not_found(format!("no route for {}", req.uri().path())).into_response())
}

async fn method_not_allowed(
    req: axum::extract::Request,
) -> Result<axum::response::Response, Infallible> {
    Ok(Error::new(
        http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not served at {}", req.method(), req.uri().path()),
    )
    .into_response())
}
