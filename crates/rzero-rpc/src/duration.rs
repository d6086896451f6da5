//! What the server and client metrics and trace layers share: a call-duration histogram recorded
//! when the call's status is known, by service, method and code.
//!
//! The attribute sets are built once per method and code and kept (for at most
//! [`MAX_METHODS`] methods, which bounds the memory a caller inventing paths can take),
//! so recording a call allocates nothing.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use opentelemetry::metrics::{BoundHistogram, Histogram, Meter};
use opentelemetry::{KeyValue, Value};
use tonic::Code;

use crate::body::OnEnd;
use crate::names;
use crate::status::split_path;

/// Methods whose attribute sets are kept; calls to others build theirs each time.
pub(crate) const MAX_METHODS: usize = 1024;

/// Codes 0..=16.
const CODES: usize = 17;

/// Builds the duration histogram `name` on `meter`.
pub(crate) fn histogram(meter: &Meter, name: &'static str, what: &'static str) -> Histogram<f64> {
    meter
        .f64_histogram(name)
        .with_unit("s")
        .with_description(what)
        .with_boundaries(names::DURATION_BOUNDS.to_vec())
        .build()
}

/// The attribute sets of one method, one per code.
#[derive(Debug)]
pub(crate) struct MethodAttributes {
    by_code: Vec<Vec<KeyValue>>,
    /// The metrics layer's histogram bound to each code's set, on the code's first call:
    /// recording then skips the SDK's hashing of the set. Bound lazily, since a bound
    /// set is exported (as zeros) even when nothing was recorded. Only the metrics
    /// layer's cache binds: one cache, one histogram.
    bound: [OnceLock<BoundHistogram<f64>>; CODES],
    /// Whether these sets are kept in the cache: binding sets made for one call (past
    /// [`MAX_METHODS`]) would cost more than it saves.
    kept: bool,
    /// The span name, `package.Service/Method` (the path for non-gRPC paths).
    pub(crate) span_name: String,
    /// `rpc.system`, `rpc.service`, `rpc.method`: the span's attributes at start.
    pub(crate) base: Vec<KeyValue>,
}

impl MethodAttributes {
    fn new(path: &str, kept: bool) -> Self {
        let mut base = Vec::with_capacity(4);
        base.push(KeyValue::new(names::RPC_SYSTEM, names::GRPC));
        let span_name = match split_path(path) {
            Some(_) => path[1..].to_owned(),
            None => path.to_owned(),
        };
        if let Some((service, method)) = split_path(path) {
            base.push(KeyValue::new(
                names::RPC_SERVICE,
                Value::from(Arc::<str>::from(service)),
            ));
            base.push(KeyValue::new(
                names::RPC_METHOD,
                Value::from(Arc::<str>::from(method)),
            ));
        }
        let by_code = (0..CODES as i64)
            .map(|code| {
                let mut v = base.clone();
                v.push(KeyValue::new(names::RPC_GRPC_STATUS_CODE, code));
                v
            })
            .collect();
        MethodAttributes {
            by_code,
            bound: std::array::from_fn(|_| OnceLock::new()),
            kept,
            span_name,
            base,
        }
    }

    fn index(code: Code) -> usize {
        let i = code as usize;
        if i < CODES { i } else { Code::Unknown as usize }
    }

    fn of(&self, code: Code) -> &[KeyValue] {
        self.by_code
            .get(Self::index(code))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// `histogram` bound to `code`'s set; `histogram` must be the same on every call.
    fn bound(&self, histogram: &Histogram<f64>, code: Code) -> Option<&BoundHistogram<f64>> {
        if !self.kept {
            return None;
        }
        let slot = self.bound.get(Self::index(code))?;
        Some(slot.get_or_init(|| histogram.bind(self.of(code))))
    }
}

/// Attribute sets by method path, shared by a layer's services.
///
/// Hashed with foldhash, not the std SipHash: every call looks its path up (twice on a
/// server: the trace and the metrics layer), and SipHash over a 20-byte path was about
/// 200 instructions of it. foldhash is seeded per map at random, and the map holds at most
/// [`MAX_METHODS`] paths, so a caller inventing colliding paths gains little.
#[derive(Clone, Debug, Default)]
pub(crate) struct AttributeCache {
    methods: Arc<RwLock<Methods>>,
}

type Methods = HashMap<Box<str>, Arc<MethodAttributes>, foldhash::fast::RandomState>;

impl AttributeCache {
    pub(crate) fn get(&self, path: &str) -> Arc<MethodAttributes> {
        if let Some(a) = self
            .methods
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(path)
        {
            return a.clone();
        }
        let mut methods = self.methods.write().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = methods.get(path) {
            return a.clone();
        }
        if methods.len() >= MAX_METHODS {
            return Arc::new(MethodAttributes::new(path, false));
        }
        let attributes = Arc::new(MethodAttributes::new(path, true));
        methods.insert(path.into(), attributes.clone());
        attributes
    }
}

/// Records one call's duration when it ends; a cancelled call is recorded as CANCELLED.
pub struct Record {
    pub(crate) histogram: Histogram<f64>,
    pub(crate) start: Instant,
    pub(crate) attributes: Arc<MethodAttributes>,
}

impl OnEnd for Record {
    fn on_end(self, code: Option<Code>) {
        let code = code.unwrap_or(Code::Cancelled);
        let secs = self.start.elapsed().as_secs_f64();
        match self.attributes.bound(&self.histogram, code) {
            Some(bound) => bound.record(secs),
            None => self.histogram.record(secs, self.attributes.of(code)),
        }
    }
}
