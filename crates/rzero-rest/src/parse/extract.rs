//! The [`Parsed`] extractor: gathers the fields, deserializes, validates.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use http::{StatusCode, header};
use serde::de::value::MapDeserializer;

use super::Parse;
use super::de::Field;
use crate::error::Error;
use crate::limit::read::ReadProgress;

/// A request of type `T`, filled from the path, query, headers and body; see the
/// [module docs](super). Rejections are 400 (bad field), 413 (body too large) or 415
/// (a body that is neither JSON nor a form).
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed<T>(pub T);

/// The fields gathered so far, with a set of their names so that each push is O(1):
/// a scan of the list per push made a body of many keys quadratic.
#[derive(Default)]
struct Fields {
    list: Vec<(String, Field)>,
    seen: HashSet<String>,
}

impl Fields {
    /// The first value of a name wins: `?page=1&page=2` is page 1, as in go-zero.
    fn push(&mut self, name: &str, value: Field) {
        if !self.seen.contains(name) {
            self.seen.insert(name.to_owned());
            self.list.push((name.to_owned(), value));
        }
    }
}

fn named_elsewhere<T: Parse>(name: &str) -> bool {
    T::PATH.contains(&name) || T::FORM.contains(&name) || T::HEADER.iter().any(|(f, _)| *f == name)
}

impl<S: Send + Sync, T: Parse + Send> FromRequest<S> for Parsed<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        parse::<T, S>(req, state).await.inspect_err(record)
    }
}

/// A request that does not parse is the request's failure, recorded where it happened:
/// on the current (server) span, with status Error and `error.type` `validation`.
fn record(e: &Error) {
    use opentelemetry::trace::{Status, TraceContextExt};
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    span.set_attribute(opentelemetry::KeyValue::new(
        opentelemetry_semantic_conventions::attribute::ERROR_TYPE,
        "validation",
    ));
    span.set_status(Status::error(e.msg().to_owned()));
}

async fn parse<T: Parse, S: Send + Sync>(req: Request, state: &S) -> Result<Parsed<T>, Error> {
    let (mut parts, body) = req.into_parts();
    let mut fields = Fields::default();
    if !T::PATH.is_empty() {
        let params = RawPathParams::from_request_parts(&mut parts, state)
            .await
            .map_err(|e| Error::bad_request(format!("path: {}", e.body_text())))?;
        for (name, value) in params.iter() {
            if T::PATH.contains(&name) {
                fields.push(name, Field::Text(value.to_owned()));
            }
        }
    }
    if let (false, Some(query)) = (T::FORM.is_empty(), parts.uri.query()) {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if T::FORM.contains(&name.as_ref()) {
                fields.push(&name, Field::Text(value.into_owned()));
            }
        }
    }
    for (field, header_name) in T::HEADER {
        if let Some(v) = parts.headers.get(*header_name) {
            let v = v.to_str().map_err(|_| {
                Error::bad_request(format!("header `{header_name}` is not visible ASCII"))
            })?;
            fields.push(field, Field::Text(v.to_owned()));
        }
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let progress = parts.extensions.get::<ReadProgress>().cloned();
    let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|e| match e.status() {
            // The client's slowness, told apart so that it is a 4xx, never a breaker's 5xx.
            _ if progress.as_ref().is_some_and(ReadProgress::timed_out) => Error::new(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time (ReadTimeout); send it faster",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => Error::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body is larger than this route accepts; send less",
            ),
            _ => Error::bad_request(format!("could not read the body: {}", e.body_text())),
        })?;
    let mut hint = "";
    if !bytes.is_empty() {
        if content_type.starts_with("application/x-www-form-urlencoded") {
            if bytes.first() == Some(&b'{') {
                hint = " (the body looks like JSON but was read as a form: \
                            send Content-Type: application/json)";
            }
            for (name, value) in form_urlencoded::parse(&bytes) {
                if T::FORM.contains(&name.as_ref()) {
                    fields.push(&name, Field::Text(value.into_owned()));
                }
            }
        } else if content_type.is_empty() || content_type.contains("json") {
            let map = super::json::object_fields(&bytes).map_err(|e| {
                Error::bad_request(if e.starts_with("body must") {
                    e
                } else {
                    format!("body is not valid JSON: {e}")
                })
            })?;
            for (name, value) in map {
                if !named_elsewhere::<T>(&name) {
                    fields.push(&name, Field::Json(value));
                }
            }
        } else {
            return Err(Error::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content-type {content_type:?} is not accepted: send application/json"),
            ));
        }
    }
    let de = MapDeserializer::<_, serde_json::Error>::new(fields.list.into_iter());
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Error::bad_request(if path == "." || path.is_empty() {
            format!("{inner}{hint}")
        } else {
            format!("field `{path}`: {inner}{hint}")
        })
    })?;
    value.validate()?;
    Ok(Parsed(value))
}
