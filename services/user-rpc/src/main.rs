//! user-rpc: `user-rpc [-f etc/user.yaml]`; see the library docs.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().collect();
    let config = user_rpc::config::load(&args)?;
    let guard = config
        .rpc
        .service
        .init_telemetry(env!("CARGO_PKG_VERSION"))?;
    user_rpc::server(config, guard)
        .await?
        .bind()
        .await?
        .serve(rzero_telemetry::shutdown_signal())
        .await?;
    Ok(())
}
