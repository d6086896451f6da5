{{header}}
//! {{crate}}: `{{crate}} [-f etc/{{stem}}.yaml]`; without `-f`, the copy of that file
//! embedded at build time.

#[tokio::main]
async fn main() -> Result<(), {{lib}}::BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let config = {{lib}}::config::load(&args)?;
    let guard = config.rpc.init_telemetry(env!("CARGO_PKG_VERSION"))?;
    let server = {{lib}}::server(config, guard).await?.bind().await?;
    println!("Starting rpc server at {}...", server.local_addr());
    server.serve(rzero::telemetry::shutdown_signal()).await?;
    Ok(())
}
