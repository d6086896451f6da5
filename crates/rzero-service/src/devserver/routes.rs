//! What each path of the diagnostics port answers. Errors are JSON `{"code", "msg"}`,
//! the shape of every rzero error body.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use rzero_telemetry::PrometheusHandle;
use rzero_telemetry::metrics::PROMETHEUS_CONTENT_TYPE;

use super::config::DevServerConf;
use super::{MAX_PROFILE_SECONDS, PPROF_PREFIX, Stopping};
use crate::readiness::Readiness;

/// The CPU profile, pprof protobuf.
const PROFILE: &str = "/debug/pprof/profile";
/// The CPU profile, flamegraph.
const FLAMEGRAPH: &str = "/debug/pprof/flamegraph";
/// Go's default profile length.
const DEFAULT_SECONDS: u64 = 30;

type Answer = Response<Full<Bytes>>;

/// The routes of one dev server.
#[derive(Debug)]
pub(super) struct Routes {
    health_path: String,
    health_response: Bytes,
    readiness: Readiness,
    /// `MetricsPath` and its renderer (`None` renderer: the server has no telemetry).
    metrics: Option<(String, Option<PrometheusHandle>)>,
    pprof: bool,
}

/// A route that needs a profile kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Pprof,
    Flamegraph,
}

// === impl Routes ===

impl Routes {
    pub(super) fn new(
        conf: &DevServerConf,
        metrics: Option<PrometheusHandle>,
        readiness: Readiness,
    ) -> Self {
        Routes {
            health_path: conf.health_path.clone(),
            health_response: Bytes::from(conf.health_response.clone()),
            readiness,
            metrics: conf
                .enable_metrics
                .then(|| (conf.metrics_path.clone(), metrics)),
            pprof: conf.enable_pprof,
        }
    }

    /// The paths served, as `/` lists them.
    pub(super) fn list(&self) -> Vec<&str> {
        let mut list = vec!["/", self.health_path.as_str()];
        if let Some((path, _)) = &self.metrics {
            list.push(path);
        }
        if self.pprof {
            list.extend([PROFILE, FLAMEGRAPH]);
        }
        list
    }

    pub(super) async fn answer<B>(&self, req: Request<B>, stopping: Stopping) -> Answer {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return error(StatusCode::METHOD_NOT_ALLOWED, "use GET");
        }
        let path = req.uri().path();
        if path == "/" {
            let list = serde_json::to_vec(&self.list()).unwrap_or_default();
            return ok("application/json", list);
        }
        if path == self.health_path {
            return if self.readiness.is_ready() {
                ok("text/plain; charset=utf-8", self.health_response.clone())
            } else {
                error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
            };
        }
        if let Some((metrics_path, handle)) = &self.metrics
            && path == metrics_path
        {
            return match handle {
                Some(h) => ok(PROMETHEUS_CONTENT_TYPE, h.render()),
                None => error(
                    StatusCode::NOT_FOUND,
                    "this server was started without telemetry, so it has no metrics: \
                     give it the guard of ServiceConf::init_telemetry",
                ),
            };
        }
        let kind = match path {
            PROFILE => Kind::Pprof,
            FLAMEGRAPH => Kind::Flamegraph,
            _ => return self.not_found(path),
        };
        if !self.pprof {
            return self.not_found(path);
        }
        let seconds = match seconds(req.uri().query()) {
            Ok(s) => s,
            Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
        };
        profile(kind, seconds, stopping).await
    }

    fn not_found(&self, path: &str) -> Answer {
        let shown: String = path.chars().take(64).collect();
        let msg = format!(
            "no route {shown:?}; this port serves {}",
            self.list().join(", ")
        );
        if path.starts_with(PPROF_PREFIX) && !self.pprof {
            return error(
                StatusCode::NOT_FOUND,
                "profiles are off: DevServer.EnablePprof is false",
            );
        }
        error(StatusCode::NOT_FOUND, &msg)
    }
}

/// `seconds` from the query: absent is [`DEFAULT_SECONDS`], else 1 to
/// [`MAX_PROFILE_SECONDS`].
fn seconds(query: Option<&str>) -> Result<u64, String> {
    let value = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("seconds="));
    let Some(value) = value else {
        return Ok(DEFAULT_SECONDS);
    };
    match value.parse::<u64>() {
        Ok(s) if (1..=MAX_PROFILE_SECONDS).contains(&s) => Ok(s),
        _ => {
            let shown: String = value.chars().take(20).collect();
            Err(format!(
                "seconds must be a whole number from 1 to {MAX_PROFILE_SECONDS}, got {shown:?}"
            ))
        }
    }
}

#[cfg(all(feature = "pprof", unix))]
async fn profile(kind: Kind, seconds: u64, stopping: Stopping) -> Answer {
    use super::profile::{Output, ProfileError};

    let output = match kind {
        Kind::Pprof => Output::Pprof,
        Kind::Flamegraph => Output::Flamegraph,
    };
    match super::profile::profile(seconds, output, stopping).await {
        Ok(body) if kind == Kind::Pprof => {
            let mut answer = ok("application/octet-stream", body);
            answer.headers_mut().insert(
                http::header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"profile\""),
            );
            answer
        }
        Ok(body) => ok("image/svg+xml", body),
        Err(e @ ProfileError::Busy) => error(StatusCode::CONFLICT, &e.to_string()),
        Err(e @ ProfileError::Stopping) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(e @ ProfileError::Failed(_)) => {
            tracing::warn!(error = %e, "DevServer: CPU profile failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
        }
    }
}

#[cfg(not(all(feature = "pprof", unix)))]
async fn profile(_: Kind, _: u64, _: Stopping) -> Answer {
    error(
        StatusCode::NOT_IMPLEMENTED,
        "this binary was built without CPU profiling: enable rzero's `pprof` feature (Unix only)",
    )
}

fn ok(content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut answer = Response::new(Full::new(body.into()));
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    answer
}

fn error(status: StatusCode, msg: &str) -> Answer {
    let body = serde_json::json!({ "code": status.as_u16(), "msg": msg }).to_string();
    let mut answer = ok("application/json", body);
    *answer.status_mut() = status;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_default_to_thirty_and_stay_in_range() {
        assert_eq!(seconds(None), Ok(30));
        assert_eq!(seconds(Some("debug=1")), Ok(30));
        assert_eq!(seconds(Some("a=b&seconds=2")), Ok(2));
        assert_eq!(seconds(Some("seconds=60")), Ok(60));
        for bad in [
            "seconds=0",
            "seconds=61",
            "seconds=-1",
            "seconds=abc",
            "seconds=",
        ] {
            let err = seconds(Some(bad)).expect_err(bad);
            assert!(err.contains("from 1 to 60"), "{err}");
        }
    }

    #[test]
    fn a_long_bad_value_is_not_echoed_whole() {
        let long = format!("seconds={}", "9".repeat(500));
        let err = seconds(Some(&long)).expect_err("too long");
        assert!(err.len() < 120, "{err}");
    }
}
