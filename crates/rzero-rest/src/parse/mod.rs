//! Request parsing like go-zero's `httpx.Parse`: one extractor, [`Parsed<T>`], fills a
//! typed request from path parameters, the query string (and a form body), headers and
//! the JSON body, then runs the type's checks. A wrong or missing field answers 400 with a
//! JSON body naming the field and the problem; a body over the limit answers 413.
//!
//! go-zero reads struct tags (`path:"id"`, `form:"page,default=1"`, `header:"X-Token"`,
//! `json:"amount,range=(0:1000000]"`); rzero reads serde for names, types, `optional`
//! (`Option`) and `default=` (`#[serde(default)]`), and the [`Parse`] trait for where a
//! field comes from and for the `options=` and `range=` checks ([`check`]), which is what
//! rzeroctl generates from a `.api` file:
//!
//! ```
//! use rzero_rest::parse::{check, FieldError, Parse};
//!
//! #[derive(serde::Deserialize)]
//! struct GetOrdersReq {
//!     user_id: u64,                 // path:"user_id"
//!     #[serde(default = "one")]
//!     page: u32,                    // form:"page,default=1,range=[1:1000]"
//!     status: Option<String>,       // form:"status,optional,options=created|paid"
//! }
//! fn one() -> u32 { 1 }
//!
//! impl Parse for GetOrdersReq {
//!     const PATH: &'static [&'static str] = &["user_id"];
//!     const FORM: &'static [&'static str] = &["page", "status"];
//!     fn validate(&self) -> Result<(), FieldError> {
//!         check::range("page", self.page, "[1:1000]")?;
//!         if let Some(s) = &self.status {
//!             check::options("status", s, &["created", "paid"])?;
//!         }
//!         Ok(())
//!     }
//! }
//! ```
//!
//! Values from the path, the query and headers are text; they are converted to the
//! field's type (numbers, booleans, enums) the way go-zero converts them, and a field
//! named in `PATH`, `FORM` or `HEADER` is never taken from the body, so a client cannot
//! override the path's id with a body field.

pub mod check;
mod de;
mod extract;
mod json;

pub use check::FieldError;
pub use extract::Parsed;

use serde::de::DeserializeOwned;

/// A request type [`Parsed`] can fill: serde says what the fields are, this says where
/// they come from and what values are allowed.
pub trait Parse: DeserializeOwned {
    /// Fields taken from the route's `:name` segments, by the same name.
    const PATH: &'static [&'static str] = &[];
    /// Fields taken from the query string or a `application/x-www-form-urlencoded` body.
    const FORM: &'static [&'static str] = &[];
    /// `(field, header name)` pairs: fields taken from request headers.
    const HEADER: &'static [(&'static str, &'static str)] = &[];

    /// Checks beyond types (`range=`, `options=`); the first failure answers 400.
    fn validate(&self) -> Result<(), FieldError> {
        Ok(())
    }
}
