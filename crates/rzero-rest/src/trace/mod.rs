//! One SERVER span per request, with the W3C context of the caller as parent and the
//! stable HTTP semantic conventions, named `METHOD /route/{template}`.
//!
//! The span is made with the SDK tracer directly (no `tracing` bridge on the hot path) and
//! its context is current while the handler runs, so the handler's own spans, made with
//! the `opentelemetry` API or with `tracing`, land under it. The attributes a sampler may
//! look at (method, route, path, and the request headers chosen with
//! [`TraceLayer::capture_header`]) are set at span start. The response gets an
//! `X-Trace-Id` header and a `traceparent` header, as go-zero's trace handler answers.
//!
//! The caller's context is read with the installed propagators (rzero's strict W3C ones
//! unless `OTEL_PROPAGATORS` says otherwise, see `rzero_telemetry::propagation`), every repeated
//! header included, and then filtered by [`TrustConf`]: by default the caller's trace is
//! continued and its baggage dropped.

mod config;
mod future;

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use http::{HeaderName, Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{Link, SpanKind, TraceContextExt, Tracer};
use opentelemetry_sdk::trace::SdkTracer;
use opentelemetry_semantic_conventions::attribute as semconv;
use tower::{Layer, Service};

pub use config::TrustConf;

use crate::slots::Slots;
pub use future::ResponseFuture;

/// The response header carrying the trace id, as go-zero sends it.
pub const TRACE_ID_HEADER: HeaderName = HeaderName::from_static("x-trace-id");

/// Adds [`Trace`] to services.
#[derive(Clone, Debug)]
pub struct TraceLayer {
    tracer: SdkTracer,
    captured: Arc<[(HeaderName, String)]>,
    ignored: Arc<[String]>,
    trust: TrustConf,
    /// Attributes only on a sampled span (the sampler does not read them).
    lazy_attributes: bool,
}

impl TraceLayer {
    /// Traces with `tracer` (from `TelemetryGuard::tracer`).
    pub fn new(tracer: SdkTracer) -> Self {
        TraceLayer {
            tracer,
            captured: Arc::new([]),
            ignored: Arc::new([]),
            trust: TrustConf::default(),
            lazy_attributes: false,
        }
    }

    /// Builds a span's attributes only once it is sampled, after it starts, instead of
    /// for every request: right when the sampler does not read attributes, and worth it
    /// when it drops most spans (`TelemetryGuard::defer_span_attributes` says both).
    /// Off by default: a rule sampler decides on them.
    pub fn attributes_when_sampled(mut self, on: bool) -> Self {
        self.lazy_attributes = on;
        self
    }

    /// What to take from callers (default: their trace, not their baggage).
    pub fn trust(mut self, trust: &TrustConf) -> Self {
        self.trust = trust.clone();
        self
    }

    /// Requests to `path` get no span (go-zero's `TraceIgnorePaths`), e.g. a probe.
    pub fn ignore_path(mut self, path: &str) -> Self {
        let mut all: Vec<_> = self.ignored.iter().cloned().collect();
        all.push(path.to_owned());
        self.ignored = all.into();
        self
    }

    /// Records request header `name` as `http.request.header.<name>` at span start, so
    /// the rule sampler can keep, say, `x-priority: high` traffic at 100%.
    pub fn capture_header(mut self, name: HeaderName) -> Self {
        let key = format!("http.request.header.{}", name.as_str());
        let mut all: Vec<_> = self.captured.iter().cloned().collect();
        all.push((name, key));
        self.captured = all.into();
        self
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trace {
            inner,
            shared: Arc::new(Shared {
                layer: self.clone(),
                names: Slots::default(),
                hosts: Slots::default(),
                peers: Slots::default(),
            }),
        }
    }
}

/// A service whose requests each get a SERVER span.
#[derive(Clone)]
pub struct Trace<S> {
    inner: S,
    /// One `Arc`: the service is cloned for every request (axum clones its routes).
    shared: Arc<Shared>,
}

struct Shared {
    layer: TraceLayer,
    /// Span name and `http.route` value by method and route, made once: the server puts
    /// one route and method behind each service, so this is one slot in practice.
    names: Slots<(http::Method, Box<str>), SpanName>,
    /// `server.address` and `server.port` by `Host` header: a gateway is called by a few
    /// names, so a request shares the first ones' values (a reference count) instead of
    /// allocating its own. Once the slots are taken, other hosts allocate, as before.
    hosts: Slots<Box<str>, (opentelemetry::StringValue, Option<u16>)>,
    /// `client.address` by peer address, the same way: behind a load balancer a
    /// gateway sees a few peers; with more, the peers after the first few allocate.
    peers: Slots<std::net::IpAddr, opentelemetry::StringValue>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Trace<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace")
            .field("inner", &self.inner)
            .field("layer", &self.shared.layer)
            .finish()
    }
}

/// What a route gives every span of it.
struct SpanName {
    /// `METHOD /route/{template}`: leaked once per route and method of a built server
    /// (a bounded set, made at the first request), so that a span's name, which the SDK
    /// takes as `Cow<'static, str>`, costs no allocation per request.
    name: &'static str,
    /// The route template, shared by every request's `http.route`.
    route: opentelemetry::StringValue,
}

impl<S, B, ResB> Service<Request<B>> for Trace<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if !self.shared.layer.ignored.is_empty()
            && self
                .shared
                .layer
                .ignored
                .iter()
                .any(|p| p == req.uri().path())
        {
            return ResponseFuture::new(self.inner.call(req), opentelemetry::Context::new());
        }
        let (parent, link) = self.incoming(req.headers());
        let method = method_name(req.method());
        let (name, route): (std::borrow::Cow<'static, str>, _) =
            match req.extensions().get::<MatchedPath>() {
                Some(m) => match self.span_name(req.method(), &method, m.as_str()) {
                    Some(n) => (n.name.into(), Some(n.route.clone())),
                    None => (
                        format!("{} {}", method.as_str(), m.as_str()).into(),
                        Some(m.as_str().to_owned().into()),
                    ),
                },
                None => (method.as_str().to_owned().into(), None),
            };
        let tracer = &self.shared.layer.tracer;
        let mut builder = tracer.span_builder(name).with_kind(SpanKind::Server);
        if let Some(link) = link {
            builder = builder.with_links(vec![link]);
        }
        let this = &*self;
        let span = rzero_telemetry::start_span(
            tracer,
            builder,
            &parent,
            this.shared.layer.lazy_attributes,
            || this.attributes(&req, method, route),
        );
        let cx = parent.with_span(span);
        let inner = {
            // Attached while the handler's future is created, and on every poll by the
            // response future: code that runs in either sees this span as current.
            let _guard = cx.clone().attach();
            self.inner.call(req)
        };
        ResponseFuture::new(inner, cx)
    }
}

impl<S> Trace<S> {
    /// The attributes of a request's span: what the HTTP semantic conventions ask for,
    /// and the captured headers.
    fn attributes<B>(
        &self,
        req: &Request<B>,
        method: opentelemetry::StringValue,
        route: Option<opentelemetry::StringValue>,
    ) -> Vec<KeyValue> {
        // Nine here, the status code and (on a 5xx) `error.type` at the end.
        let mut attributes = Vec::with_capacity(11 + self.shared.layer.captured.len());
        attributes.push(KeyValue::new(semconv::HTTP_REQUEST_METHOD, method.clone()));
        // A route without parameters is its own path: share the route's value.
        let path = req.uri().path();
        let path = match &route {
            Some(r) if r.as_str() == path => r.clone(),
            _ => path.to_owned().into(),
        };
        attributes.push(KeyValue::new(semconv::URL_PATH, path));
        attributes.push(KeyValue::new(
            semconv::URL_SCHEME,
            match req.uri().scheme_str() {
                None if req.extensions().get::<crate::tls::Https>().is_some() => {
                    opentelemetry::StringValue::from("https")
                }
                None | Some("http") => opentelemetry::StringValue::from("http"),
                Some("https") => opentelemetry::StringValue::from("https"),
                Some(other) => opentelemetry::StringValue::from(other.to_owned()),
            },
        ));
        attributes.push(KeyValue::new(
            semconv::NETWORK_PROTOCOL_VERSION,
            protocol_version(req.version()),
        ));
        if let Some(route) = route {
            attributes.push(KeyValue::new(semconv::HTTP_ROUTE, route));
        }
        if let Some(host) = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            let (address, port) = self.host(host);
            attributes.push(KeyValue::new(semconv::SERVER_ADDRESS, address));
            if let Some(port) = port {
                attributes.push(KeyValue::new(semconv::SERVER_PORT, i64::from(port)));
            }
        }
        if let Some(agent) = req
            .headers()
            .get(http::header::USER_AGENT)
            .and_then(|h| h.to_str().ok())
        {
            attributes.push(KeyValue::new(
                semconv::USER_AGENT_ORIGINAL,
                agent.to_owned(),
            ));
        }
        if let Some(peer) = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        {
            let ip = peer.0.ip();
            let address = match self
                .shared
                .peers
                .get_or_make(|k| *k == ip, || (ip, ip_value(ip)))
            {
                Some((_, v)) => v.clone(),
                None => ip_value(ip),
            };
            attributes.push(KeyValue::new(semconv::CLIENT_ADDRESS, address));
        }
        for (header, key) in self.shared.layer.captured.iter() {
            if let Some(v) = req.headers().get(header).and_then(|h| h.to_str().ok()) {
                attributes.push(KeyValue::new(key.clone(), v.to_owned()));
            }
        }
        attributes
    }

    /// `server.address` and `server.port` of a `Host` header, made once per host.
    fn host(&self, host: &str) -> (opentelemetry::StringValue, Option<u16>) {
        let make = || {
            let (address, port) = split_host(host);
            (
                opentelemetry::StringValue::from(Arc::<str>::from(address)),
                port,
            )
        };
        match self
            .shared
            .hosts
            .get_or_make(|k| **k == *host, || (host.into(), make()))
        {
            Some((_, (address, port))) => (address.clone(), *port),
            None => make(),
        }
    }

    /// The name and route value of `method` at `route`, made on the first request.
    fn span_name(
        &self,
        method: &http::Method,
        name: &opentelemetry::StringValue,
        route: &str,
    ) -> Option<&SpanName> {
        let found = self.shared.names.get_or_make(
            |(m, r)| m == method && &**r == route,
            || {
                let made = SpanName {
                    name: Box::leak(format!("{} {route}", name.as_str()).into_boxed_str()),
                    route: opentelemetry::StringValue::from(Arc::<str>::from(route)),
                };
                ((method.clone(), route.into()), made)
            },
        );
        found.map(|(_, n)| n)
    }

    /// The caller's context as far as it is trusted, and the caller's span as a link when
    /// its trace is not continued.
    fn incoming(&self, headers: &http::HeaderMap) -> (opentelemetry::Context, Option<Link>) {
        let extracted = rzero_telemetry::propagation::extract_from_headers(
            &opentelemetry::Context::new(),
            headers,
        );
        let trust = &self.shared.layer.trust;
        if trust.trace_context {
            let cx = if trust.baggage || extracted.baggage().is_empty() {
                extracted
            } else {
                extracted.with_cleared_baggage()
            };
            return (cx, None);
        }
        let caller = extracted.span().span_context().clone();
        let link = caller.is_valid().then(|| Link::with_context(caller));
        let cx = if trust.baggage && !extracted.baggage().is_empty() {
            let baggage: Vec<_> = extracted
                .baggage()
                .iter()
                .map(|(k, (v, m))| {
                    opentelemetry::baggage::KeyValueMetadata::new(k.clone(), v.clone(), m.clone())
                })
                .collect();
            opentelemetry::Context::new().with_baggage(baggage)
        } else {
            opentelemetry::Context::new()
        };
        (cx, link)
    }
}

/// The method as an attribute value: the standard ones without an allocation.
fn method_name(m: &http::Method) -> opentelemetry::StringValue {
    let known: Option<&'static str> = match *m {
        http::Method::GET => Some("GET"),
        http::Method::POST => Some("POST"),
        http::Method::PUT => Some("PUT"),
        http::Method::DELETE => Some("DELETE"),
        http::Method::PATCH => Some("PATCH"),
        http::Method::HEAD => Some("HEAD"),
        http::Method::OPTIONS => Some("OPTIONS"),
        _ => None,
    };
    match known {
        Some(name) => name.into(),
        None => m.as_str().to_owned().into(),
    }
}

/// The address as `Display` writes it, as an attribute value shared by reference count
/// (see `Shared::peers`). IPv4 (nearly every caller) is written into a stack array
/// without the formatting machinery, which costs more than the rest of the attribute,
/// and copied once into the value.
fn ip_value(ip: std::net::IpAddr) -> opentelemetry::StringValue {
    let std::net::IpAddr::V4(v4) = ip else {
        return opentelemetry::StringValue::from(Arc::<str>::from(ip.to_string()));
    };
    // "255.255.255.255" is the longest.
    let mut buf = [0u8; 15];
    let mut n = 0;
    let mut put = |b: u8| {
        if let Some(slot) = buf.get_mut(n) {
            *slot = b;
        }
        n += 1;
    };
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            put(b'.');
        }
        if octet >= 100 {
            put(b'0' + octet / 100);
        }
        if octet >= 10 {
            put(b'0' + octet / 10 % 10);
        }
        put(b'0' + octet % 10);
    }
    let text = std::str::from_utf8(buf.get(..n).unwrap_or_default()).unwrap_or_default();
    opentelemetry::StringValue::from(Arc::<str>::from(text))
}

fn protocol_version(v: http::Version) -> &'static str {
    match v {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// `host:port`, `[v6]:port` or a bare host.
fn split_host(host: &str) -> (&str, Option<u16>) {
    if let Some(rest) = host.strip_prefix('[') {
        let (addr, tail) = rest.split_once(']').unwrap_or((rest, ""));
        return (addr, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match host.rsplit_once(':') {
        Some((addr, port)) => match port.parse() {
            Ok(port) => (addr, Some(port)),
            Err(_) => (host, None),
        },
        None => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_display_writes_them() {
        for ip in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "10.20.100.9",
            "::1",
            "fe80::1",
        ] {
            let parsed: std::net::IpAddr = ip.parse().expect("an address");
            assert_eq!(ip_value(parsed).as_str(), parsed.to_string());
        }
    }

    #[test]
    fn hosts_split_into_address_and_port() {
        assert_eq!(split_host("example.com:8888"), ("example.com", Some(8888)));
        assert_eq!(split_host("example.com"), ("example.com", None));
        assert_eq!(split_host("[::1]:80"), ("::1", Some(80)));
        assert_eq!(split_host("[::1]"), ("::1", None));
        assert_eq!(split_host("host:notaport"), ("host:notaport", None));
    }
}

#[cfg(test)]
mod lazy_tests {
    use std::convert::Infallible;

    use axum::body::Body;
    use futures_util::FutureExt;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider};
    use tower::{Layer, Service, ServiceExt, service_fn};

    use super::*;

    /// One request through a layer with `sampler`; the exported spans' attributes (sorted)
    /// and the response's trace headers.
    fn through(lazy: bool, sampler: Sampler) -> (Vec<Vec<String>>, Vec<String>) {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_simple_exporter(exporter.clone())
            .build();
        let layer = TraceLayer::new(provider.tracer("t")).attributes_when_sampled(lazy);
        let mut svc = layer.layer(service_fn(|_req: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::empty()))
        }));
        let mut req = Request::get("/a?x=1")
            .header("host", "example.com:8080")
            .header("user-agent", "t/1")
            .body(Body::empty())
            .expect("request");
        req.extensions_mut().insert(axum::extract::ConnectInfo(
            "10.1.2.3:5000"
                .parse::<std::net::SocketAddr>()
                .expect("addr"),
        ));
        let resp = svc
            .ready()
            .now_or_never()
            .expect("ready")
            .expect("ready")
            .call(req)
            .now_or_never()
            .expect("answers")
            .expect("answer");
        let _ = provider.force_flush();
        let spans = exporter.get_finished_spans().expect("spans");
        let attrs = spans
            .iter()
            .map(|s| {
                let mut a: Vec<String> = s
                    .attributes
                    .iter()
                    .map(|kv| format!("{}={}", kv.key, kv.value))
                    .collect();
                a.sort();
                a
            })
            .collect();
        let headers = ["x-trace-id", "traceparent"]
            .iter()
            .map(|h| format!("{h}:{}", resp.headers().contains_key(*h)))
            .collect();
        (attrs, headers)
    }

    #[test]
    fn attributes_made_after_sampling_are_the_ones_made_before() {
        let (eager, eager_headers) = through(false, Sampler::AlwaysOn);
        let (lazy, lazy_headers) = through(true, Sampler::AlwaysOn);
        assert_eq!(eager.len(), 1);
        assert!(
            eager[0].iter().any(|a| a == "client.address=10.1.2.3"),
            "{eager:?}"
        );
        assert!(
            eager[0].iter().any(|a| a == "server.port=8080"),
            "{eager:?}"
        );
        assert_eq!(eager, lazy);
        assert_eq!(eager_headers, lazy_headers);
        // Unsampled: nothing exported either way, the same headers answered.
        let (eager, eager_headers) = through(false, Sampler::AlwaysOff);
        let (lazy, lazy_headers) = through(true, Sampler::AlwaysOff);
        assert!(eager.is_empty() && lazy.is_empty());
        assert_eq!(eager_headers, lazy_headers);
    }
}
