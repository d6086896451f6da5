//! Cross-origin requests, from config: tower-http's `CorsLayer` (the crate the field
//! uses), set up from `Cors: {AllowOrigins, AllowHeaders, MaxAge}`. Off when no origin is
//! listed; `"*"` allows any origin (without credentials, as browsers require).

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// The `Cors` section of a gateway's config.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CorsConf {
    /// Origins allowed to call, e.g. `https://shop.example.com`; `*` for any. Empty: CORS off.
    #[serde(default)]
    pub allow_origins: Vec<String>,
    /// Request headers a browser may send besides the simple ones (default: any).
    #[serde(default)]
    pub allow_headers: Vec<String>,
    /// Seconds a browser may cache a preflight answer (default 0: not set).
    #[serde(default)]
    pub max_age: u64,
}

impl CorsConf {
    /// The layer, `None` when CORS is off; an error names a value that is not valid.
    pub fn layer(&self) -> Result<Option<CorsLayer>, String> {
        if self.allow_origins.is_empty() {
            return Ok(None);
        }
        let origin = if self.allow_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            let list = self
                .allow_origins
                .iter()
                .map(|o| {
                    HeaderValue::from_str(o)
                        .map_err(|_| format!("Cors.AllowOrigins: {o:?} is not a valid origin"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            AllowOrigin::list(list)
        };
        let mut layer = CorsLayer::new().allow_origin(origin).allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
        ]);
        layer = if self.allow_headers.is_empty() {
            layer.allow_headers(Any)
        } else {
            let list = self
                .allow_headers
                .iter()
                .map(|h| {
                    HeaderName::try_from(h.as_str())
                        .map_err(|_| format!("Cors.AllowHeaders: {h:?} is not a header name"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            layer.allow_headers(list)
        };
        layer = layer.expose_headers([
            crate::trace::TRACE_ID_HEADER,
            HeaderName::from_static("traceparent"),
        ]);
        if self.max_age > 0 {
            layer = layer.max_age(Duration::from_secs(self.max_age));
        }
        Ok(Some(layer))
    }
}
