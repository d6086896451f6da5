//! Why a gzip request body could not be read.

/// The body says `Content-Encoding: gzip` but is not a valid gzip stream (a bad header,
/// a corrupt block, a wrong checksum, or cut short).
#[derive(Debug, thiserror::Error)]
#[error(
    "the body is not valid gzip ({0}) although Content-Encoding says gzip; send a gzip \
     stream or drop the header"
)]
pub struct BadGzip(pub String);
