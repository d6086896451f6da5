//! `{{ bin }} [-f etc/{{ stem }}.yaml]`: without `-f`, the config embedded at build time.

#[tokio::main]
async fn main() -> Result<(), {{ lib }}::BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let config = {{ lib }}::config::load(&args)?;
    let guard = config
        .{{ section }}
        .service
        .init_telemetry(env!("CARGO_PKG_VERSION"))?;
    // Serves until SIGTERM or Ctrl-C, then drains and flushes telemetry.
    {{ lib }}::server(config, guard).await?.serve().await?;
    Ok(())
}
