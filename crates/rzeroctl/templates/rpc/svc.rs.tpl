//! The service context (go-zero's `svc.ServiceContext`): what every logic function
//! shares. Add your database pools, caches and clients here and build them in
//! [`ServiceContext::new`]. rzeroctl wrote this file once and never touches it again.

use crate::config::Config;

/// Built once at start, shared by every call.
pub struct ServiceContext {
    /// The loaded config.
    pub config: Config,
}

impl ServiceContext {
    /// The context for `config`: open pools and connect clients here.
    pub async fn new(config: Config) -> Result<Self, crate::BoxError> {
        Ok(ServiceContext { config })
    }
}
