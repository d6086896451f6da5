//! JWT auth for the routes of a group that asks for it (`@server(jwt: Auth)` in a `.api`
//! file), as go-zero's `Authorize` handler: `Authorization: Bearer <token>`, HS256 signed
//! with `Auth.AccessSecret` (or `Auth.PrevSecret` while a secret is being rotated), `exp`
//! and `nbf` checked. A missing, malformed, expired or forged token answers 401 with a
//! JSON body that says which; a valid one's claims reach the handler as [`Claims`].

mod config;

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::IntoResponse;
use futures_util::future::{Either, Ready, ready};
use http::request::Parts;
use http::{Request, Response, header};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tower::{Layer, Service};

pub use config::{JwtConf, MIN_SECRET_LEN};

use crate::error::Error;

/// The claims of the request's verified token (go-zero puts each claim in the context).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// One claim, e.g. `claims.get("userId")`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Claims>().cloned().ok_or_else(|| {
            Error::internal("this route reads JWT claims but its group has no `jwt` set")
        })
    }
}

struct Keys {
    current: DecodingKey,
    previous: Option<DecodingKey>,
    validation: Validation,
}

/// Adds [`Jwt`] to services.
#[derive(Clone)]
pub struct JwtLayer {
    keys: Arc<Keys>,
}

impl std::fmt::Debug for JwtLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtLayer { .. }")
    }
}

impl JwtLayer {
    /// Verifies tokens with the secrets of `conf`; fails when `AccessSecret` is empty.
    pub fn new(conf: &JwtConf) -> Result<Self, String> {
        if conf.access_secret.expose().is_empty() {
            return Err(
                "Auth.AccessSecret is empty: set a secret of 32 or more random bytes".into(),
            );
        }
        config::check_secret(&conf.access_secret).map_err(|e| format!("Auth.AccessSecret: {e}"))?;
        config::check_secret(&conf.prev_secret).map_err(|e| format!("Auth.PrevSecret: {e}"))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        if conf.require_exp {
            validation.required_spec_claims.insert("exp".to_owned());
        }
        validation.validate_nbf = true;
        validation.leeway = 0;
        let previous = (!conf.prev_secret.expose().is_empty())
            .then(|| DecodingKey::from_secret(conf.prev_secret.expose().as_bytes()));
        Ok(JwtLayer {
            keys: Arc::new(Keys {
                current: DecodingKey::from_secret(conf.access_secret.expose().as_bytes()),
                previous,
                validation,
            }),
        })
    }

    fn verify(&self, token: &str) -> Result<Claims, Error> {
        let keys = &*self.keys;
        let decode = |key| jsonwebtoken::decode::<Map<String, Value>>(token, key, &keys.validation);
        let result = match (decode(&keys.current), &keys.previous) {
            (Err(e), Some(prev)) if matches!(e.kind(), ErrorKind::InvalidSignature) => decode(prev),
            (r, _) => r,
        };
        result.map(|data| Claims(data.claims)).map_err(|e| {
            Error::unauthorized(match e.kind() {
                ErrorKind::ExpiredSignature => "token expired: log in again",
                ErrorKind::ImmatureSignature => "token not valid yet (nbf)",
                ErrorKind::InvalidSignature => "token signature does not verify",
                ErrorKind::InvalidAlgorithm => "token must be signed with HS256",
                ErrorKind::MissingRequiredClaim(_) => {
                    "token has no `exp`: tokens must expire; log in again"
                }
                _ => "token is malformed: expected a JWT in `Authorization: Bearer <token>`",
            })
        })
    }
}

impl<S> Layer<S> for JwtLayer {
    type Service = Jwt<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Jwt {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service that needs a valid token; see [`JwtLayer`].
#[derive(Clone, Debug)]
pub struct Jwt<S> {
    inner: S,
    layer: JwtLayer,
}

impl<S, B> Service<Request<B>> for Jwt<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response<Body>, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        let verified = match token {
            None => Err(Error::unauthorized(
                "missing credentials: send `Authorization: Bearer <token>`",
            )),
            Some(token) => self.layer.verify(token.trim()),
        };
        match verified {
            Ok(claims) => {
                req.extensions_mut().insert(claims);
                Either::Right(self.inner.call(req))
            }
            Err(e) => Either::Left(ready(Ok(e.into_response()))),
        }
    }
}

#[cfg(test)]
mod tests;
