//! What every handler shares (goctl's `internal/svc`): clients, pools, config.
//! Written once by rzeroctl; add your dependencies here.
use std::sync::Arc;
use crate::config::Config;
/// Cheap to clone: one per request.
#[derive(Clone, Debug)]
pub struct ServiceContext {
    /// The loaded config.
    pub config: Arc<Config>,
}
impl ServiceContext {
    /// Builds the shared state from the config.
    pub fn new(config: Config) -> Self {
        ServiceContext {
            config: Arc::new(config),
        }
    }
}
