//! order-api: `order-api [-f etc/order-api.yaml]`; see the library docs.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().collect();
    let config = order_api::config::load(&args)?;
    let guard = config
        .rest
        .service
        .init_telemetry(env!("CARGO_PKG_VERSION"))?;
    order_api::server(config, guard).await?.serve().await?;
    Ok(())
}
