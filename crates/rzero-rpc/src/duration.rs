//! What the server and client metrics and trace layers share: a call-duration histogram recorded
//! when the call's status is known, by service, method and code.
//!
//! The attribute sets are built once per method and code and kept (for at most
//! [`MAX_METHODS`] methods, which bounds the memory a caller inventing paths can take),
//! so recording a call allocates nothing.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use opentelemetry::metrics::{Histogram, Meter};
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
    /// The span name, `package.Service/Method` (the path for non-gRPC paths).
    pub(crate) span_name: String,
    /// `rpc.system`, `rpc.service`, `rpc.method`: the span's attributes at start.
    pub(crate) base: Vec<KeyValue>,
}

impl MethodAttributes {
    fn new(path: &str) -> Self {
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
            span_name,
            base,
        }
    }

    fn of(&self, code: Code) -> &[KeyValue] {
        self.by_code
            .get(code as usize)
            .or_else(|| self.by_code.get(Code::Unknown as usize))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// Attribute sets by method path, shared by a layer's services.
#[derive(Clone, Debug, Default)]
pub(crate) struct AttributeCache {
    methods: Arc<RwLock<HashMap<Box<str>, Arc<MethodAttributes>>>>,
}

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
        let attributes = Arc::new(MethodAttributes::new(path));
        let mut methods = self.methods.write().unwrap_or_else(|p| p.into_inner());
        if methods.len() < MAX_METHODS {
            methods.insert(path.into(), attributes.clone());
        }
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
        self.histogram
            .record(self.start.elapsed().as_secs_f64(), self.attributes.of(code));
    }
}
