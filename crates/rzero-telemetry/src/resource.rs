//! The resource: who is sending. Built once at start (the guide caches it in a `sync.Once`
//! for the same reason: host and process lookups are not free) and shared by all signals.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::attribute as semconv;

use crate::settings::Settings;

/// Service identity, the configured attributes, host and process.
pub(crate) fn build(settings: &Settings, version: &str) -> Resource {
    let mut attrs = vec![
        KeyValue::new("telemetry.sdk.name", "opentelemetry"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.distro.name", "rzero"),
        KeyValue::new("telemetry.distro.version", env!("CARGO_PKG_VERSION")),
        KeyValue::new(semconv::HOST_NAME, host_name()),
        KeyValue::new(semconv::HOST_ARCH, std::env::consts::ARCH),
        KeyValue::new(semconv::OS_TYPE, std::env::consts::OS),
        KeyValue::new(semconv::PROCESS_PID, i64::from(std::process::id())),
        KeyValue::new(semconv::PROCESS_RUNTIME_NAME, "rust"),
    ];
    if let Some(exe) = std::env::current_exe().ok().and_then(|p| {
        p.file_name()
            .map(|name| name.to_string_lossy().into_owned())
    }) {
        attrs.push(KeyValue::new(semconv::PROCESS_EXECUTABLE_NAME, exe));
    }
    let has = |attrs: &[KeyValue], key: &str| attrs.iter().any(|kv| kv.key.as_str() == key);
    if !version.is_empty() && !has(&settings.resource_attributes, semconv::SERVICE_VERSION) {
        attrs.push(KeyValue::new(semconv::SERVICE_VERSION, version.to_owned()));
    }
    attrs.extend(settings.resource_attributes.iter().cloned());
    Resource::builder_empty()
        .with_attributes(attrs)
        .with_service_name(settings.service_name.clone())
        .build()
}

/// The kernel's host name; `HOSTNAME` elsewhere; `unknown` when neither says.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
