//! TLS pieces every rzero crate shares: the one crypto provider of the process, and
//! bounded reading of PEM files.
//!
//! # One crypto provider, installed once
//!
//! rustls needs a process-wide [`CryptoProvider`] whenever a config is built without
//! naming one. It picks one by itself only when exactly one of its `ring` / `aws-lc-rs`
//! features is compiled in; a second TLS user in the dependency graph (reqwest 0.13's
//! `rustls` feature pulls aws-lc-rs) makes that choice ambiguous, and tonic's or
//! reqwest's TLS set-up then fails, far from its cause. rzero therefore compiles ring
//! only (tonic `tls-ring`, reqwest `rustls-no-provider`) and installs ring as the process
//! default explicitly, once: [`install_crypto_provider`], which telemetry's `init`, the
//! RPC server and the RPC client all call. A service that installed another provider
//! before keeps it: the first install wins, and rzero then uses that one.

use std::io::Read;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// PEM files larger than this are refused: certificates are a few KiB, and a huge file
/// is the wrong file.
pub const MAX_PEM_BYTES: u64 = 1 << 20;

/// Installs ring as the process's default crypto provider unless one is installed
/// already, and returns the default now in place. Cheap after the first call; safe to
/// call from any thread, any number of times.
pub fn install_crypto_provider() -> Arc<CryptoProvider> {
    if let Some(p) = CryptoProvider::get_default() {
        return p.clone();
    }
    // Another thread may win the race: its provider is then the default, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// Reads the PEM file at `path`, named by the config key `key` in errors. Refuses a
/// missing or unreadable file, one over [`MAX_PEM_BYTES`], and one with no PEM block (a
/// CA file without one would trust nothing, and every handshake would fail far from
/// its cause). The error says which key and what to fix; it never holds the contents.
pub fn read_pem(key: &str, path: &str) -> Result<Vec<u8>, String> {
    let fail = |why: String| format!("{key} `{path}`: {why}");
    if path.trim().is_empty() {
        return Err(format!("{key} is empty: give the path of a PEM file"));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(fail(format!(
            "larger than {MAX_PEM_BYTES} bytes: expected a PEM file"
        )));
    }
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(fail(
            "no PEM block in it (expected `-----BEGIN CERTIFICATE-----` or \
             `-----BEGIN PRIVATE KEY-----`)"
                .into(),
        ));
    }
    Ok(bytes)
}

/// `e` and its sources, `: `-separated: TLS failures hide their cause (an unknown
/// issuer, a name mismatch) a few sources down.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_is_installed_once_and_kept() {
        let first = install_crypto_provider();
        let again = install_crypto_provider();
        assert!(Arc::ptr_eq(&first, &again), "the default stays the same");
        // ring's random source and key loader are its `Ring` type; aws-lc-rs's are not.
        assert_eq!(format!("{:?}", first.secure_random), "Ring");
        assert_eq!(format!("{:?}", first.key_provider), "Ring");
        assert!(CryptoProvider::get_default().is_some());
    }

    #[test]
    fn bad_pem_files_are_named_and_refused() {
        let dir = std::env::temp_dir().join(format!("rzero-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "hello").expect("write");
        let err = read_pem("CACertFile", &not_pem.to_string_lossy()).expect_err("no PEM");
        assert!(
            err.contains("CACertFile") && err.contains("no PEM block"),
            "{err}"
        );
        let err = read_pem("CertFile", "/nonexistent/x.pem").expect_err("missing");
        assert!(
            err.contains("CertFile") && err.contains("cannot open"),
            "{err}"
        );
        let err = read_pem("KeyFile", " ").expect_err("empty");
        assert!(err.contains("KeyFile is empty"), "{err}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
