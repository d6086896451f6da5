//! `{{ bin }} [-f etc/{{ stem }}.yaml]`: without `-f`, the config embedded at build time.

#[tokio::main]
async fn main() -> Result<(), {{ lib }}::BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let config = {{ lib }}::config::load(&args)?;
    let guard = config
        .{{ section }}
        .service
        .init_telemetry(env!("CARGO_PKG_VERSION"))?;
    let server = {{ lib }}::server(config, guard).await?.bind().await?;
    println!("Starting server at {}...", server.local_addr());
    // Serves until SIGTERM or Ctrl-C, then drains and flushes telemetry.
    server.serve(rzero::telemetry::shutdown_signal()).await?;
    Ok(())
}
