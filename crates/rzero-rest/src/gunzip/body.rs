//! The decoding body: async-compression's gzip decoder between the request's data and
//! the reader, pulled one chunk at a time.

use std::io;

use async_compression::tokio::bufread::GzipDecoder;
use axum::body::Body;
use futures_util::TryStreamExt;
use tokio_util::io::{ReaderStream, StreamReader};
use tower::BoxError;

use super::BadGzip;

/// Decoded bytes produced per read: what a bomb can make the server hold beyond
/// `MaxBytes`.
pub const CHUNK: usize = 16 * 1024;

/// `body`, gzip-decoded as it is read.
pub(super) fn gunzip(body: Body) -> Body {
    let wire = StreamReader::new(body.into_data_stream().map_err(io::Error::other));
    let mut decoder = GzipDecoder::new(wire);
    // `cat a.gz b.gz` is one valid gzip stream (RFC 1952 §2.2), as Go's reader reads it.
    decoder.multiple_members(true);
    Body::from_stream(ReaderStream::with_capacity(decoder, CHUNK).map_err(classify))
}

/// The body's own failure (a `ReadTimeout`, a reset) passes through as it was, so that
/// it is answered as such; anything else is the decoder's: [`BadGzip`].
fn classify(e: io::Error) -> BoxError {
    let text = e.to_string();
    match e.into_inner() {
        Some(inner) if inner.is::<axum::Error>() => inner,
        _ => Box::new(BadGzip(text)),
    }
}
