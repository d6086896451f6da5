//! Headless Chromium for the viewer's browser tests (`browser.rs`, `views.rs`): the DOM
//! after the page's scripts ran, or a screenshot under `target/artifacts/`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's Chromium; `cargo xtask test` installs it when missing.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

/// Set to skip the browser tests on a machine without Chromium, on purpose.
pub(crate) const SKIP_VAR: &str = "RZERO_SKIP_BROWSER_TESTS";

/// Whether the browser tests run: Chromium is there, or the test fails saying so. A
/// missing browser is not a pass: a test that returned early would report `ok` while
/// checking nothing. Only `RZERO_SKIP_BROWSER_TESTS=1` skips them (with a note).
pub(crate) fn available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var_os(SKIP_VAR).is_some_and(|v| v == "1") {
        eprintln!("SKIPPED ({SKIP_VAR}=1): {CHROMIUM} is missing");
        return false;
    }
    panic!(
        "{CHROMIUM} is missing: `cargo xtask test` installs Debian's chromium \
         (`apt-get install chromium`); {SKIP_VAR}=1 skips the browser tests instead"
    );
}

/// `target/artifacts/`, created if absent.
pub(crate) fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// Runs headless Chromium on `url`; returns the DOM after the page's scripts ran.
pub(crate) fn chromium(url: &str, screenshot: Option<&Path>) -> String {
    let profile = tempdir();
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=5000",
        "--window-size=1400,900",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    match screenshot {
        Some(path) => cmd.arg(format!("--screenshot={}", path.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd.arg(url).output().expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed ({}) on {url}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rzero-chromium-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("profile dir");
    dir
}

/// Values of `attr="..."` in document order.
pub(crate) fn attr_values(dom: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    dom.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &dom[i + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

/// A collector with its viewer on a free loopback port and no OTLP receivers: the
/// browser tests ingest into its store directly.
pub(crate) async fn ui_collector() -> rzero_collector::RunningCollector {
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("addr");
    rzero_collector::Collector::start(rzero_collector::CollectorConfig {
        otlp_grpc: None,
        otlp_http: None,
        ui: Some(any),
        ..rzero_collector::CollectorConfig::default()
    })
    .await
    .expect("start")
}
