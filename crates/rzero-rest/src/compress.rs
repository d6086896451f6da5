//! Response compression by `Accept-Encoding` (gzip), tower-http's `CompressionLayer`
//! with rzero's config:
//!
//! ```yaml
//! Compress:
//!   Enabled: true   # default false
//!   MinBytes: 1024  # smaller answers go as they are (default 1024)
//! ```
//!
//! Off by default, as in go-zero (which has none): compressing costs CPU on every
//! answer, and a gateway behind a proxy that compresses would pay it twice. When on, an
//! answer is compressed only if the client accepts gzip, the answer is not already
//! encoded, is at least `MinBytes` long (or of unknown length), and is not gRPC, an image
//! or a server-sent event stream (compressing a stream would hold its events back).
//! Tiny answers cost more to compress than they save, hence the threshold.

use serde::{Deserialize, Serialize};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};

/// The `Compress` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CompressConf {
    /// Compress answers with gzip for clients that accept it (default false).
    #[serde(default)]
    pub enabled: bool,
    /// Answers shorter than this many bytes are sent uncompressed (default 1024).
    #[serde(default = "default_min_bytes")]
    pub min_bytes: u16,
}

impl Default for CompressConf {
    fn default() -> Self {
        CompressConf {
            enabled: false,
            min_bytes: default_min_bytes(),
        }
    }
}

fn default_min_bytes() -> u16 {
    1024
}

/// What decides whether an answer is compressed (see the module docs).
pub type CompressWhen = tower_http::compression::predicate::And<
    tower_http::compression::predicate::And<
        tower_http::compression::predicate::And<SizeAbove, NotForContentType>,
        NotForContentType,
    >,
    NotForContentType,
>;

impl CompressConf {
    /// The layer, `None` when compression is off.
    pub fn layer(&self) -> Option<CompressionLayer<CompressWhen>> {
        self.enabled.then(|| {
            let when = SizeAbove::new(self.min_bytes)
                .and(NotForContentType::GRPC)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::SSE);
            CompressionLayer::new().gzip(true).compress_when(when)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::{HeaderMap, Request, Response, header};
    use tower::{Layer, ServiceExt};

    async fn answer(conf: &CompressConf, len: usize, accept: Option<&str>) -> HeaderMap {
        let inner = tower::service_fn(move |_req: Request<Body>| async move {
            Ok::<_, std::convert::Infallible>(Response::new(Body::from("a".repeat(len))))
        });
        let mut req = Request::new(Body::empty());
        if let Some(a) = accept {
            req.headers_mut()
                .insert(header::ACCEPT_ENCODING, a.parse().expect("value"));
        }
        match conf.layer() {
            Some(layer) => layer
                .layer(inner)
                .oneshot(req)
                .await
                .expect("answers")
                .headers()
                .clone(),
            None => inner.oneshot(req).await.expect("answers").headers().clone(),
        }
    }

    fn on() -> CompressConf {
        CompressConf {
            enabled: true,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn compresses_large_answers_for_clients_that_accept_gzip() {
        let headers = answer(&on(), 4096, Some("gzip, br")).await;
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    }

    #[tokio::test]
    async fn leaves_tiny_answers_and_other_clients_alone() {
        for (conf, len, accept) in [
            (on(), 100, Some("gzip")),
            (on(), 4096, None),
            (on(), 4096, Some("br")),
            (CompressConf::default(), 4096, Some("gzip")),
        ] {
            let headers = answer(&conf, len, accept).await;
            assert!(
                headers.get(header::CONTENT_ENCODING).is_none(),
                "{len} {accept:?}"
            );
        }
    }
}
