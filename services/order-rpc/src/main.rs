//! order-rpc: `order-rpc [-f etc/order.yaml]`; see the library docs.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().collect();
    let config = order_rpc::config::load(&args)?;
    let guard = config
        .rpc
        .service
        .init_telemetry(env!("CARGO_PKG_VERSION"))?;
    order_rpc::server(config, guard)
        .await?
        .bind()
        .await?
        .serve(rzero_telemetry::shutdown_signal())
        .await?;
    Ok(())
}
